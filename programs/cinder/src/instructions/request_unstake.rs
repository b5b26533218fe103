use crate::{
    constants::*,
    errors::CinderError,
    events::UnstakeRequested,
    math,
    state::{Provider, StakePool, StakePosition},
};
use anchor_lang::prelude::*;

/// Owner: moves `amount` of active stake to unbonding: it stops earning at once, unlocks
/// after the position's lock, and stays slashable until withdrawn. Stake locked by the
/// owner's running jobs (as a provider) cannot be unstaked.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = position.load()?.bump)]
    pub position: AccountLoader<'info, StakePosition>,
    /// CHECK: the owner's provider account `["provider", owner]`, which may not exist (a plain
    /// staker); read only for the stake its running jobs lock. Checked in `held_by_jobs`:
    /// a registered provider by its stored owner (no PDA search), an unregistered address by
    /// its derivation.
    pub provider: UncheckedAccount<'info>,
}

/// What `owner`'s jobs hold of its stake: the stake they lock and how many jobs (run or
/// verified) are still unsettled, (0, 0) if it is not a provider.
pub fn held_by_jobs(provider: &AccountInfo, owner: &Pubkey) -> Result<(u64, u32)> {
    if provider.owner == &crate::ID && !provider.data_is_empty() {
        // Provider accounts are only ever created at `["provider", owner]`, so one that
        // names this owner is that address.
        let p = crate::utils::load_zero_copy_mut::<Provider>(provider)?;
        require_keys_eq!(p.owner, *owner, CinderError::NotProviderOwner);
        return Ok((p.locked_stake, p.active_jobs));
    }
    // Not registered: the address must still be the owner's, or a provider with running jobs
    // could pass any empty account and unstake the stake they lock.
    let (expected, _) = Pubkey::find_program_address(&[PROVIDER_SEED, owner.as_ref()], &crate::ID);
    require_keys_eq!(
        provider.key(),
        expected,
        anchor_lang::error::ErrorCode::ConstraintSeeds
    );
    Ok((0, 0))
}

pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
    let a = &ctx.accounts;
    require!(amount > 0, CinderError::ZeroAmount);
    let (locked, _) = held_by_jobs(&a.provider, &a.owner.key())?;
    let now = Clock::get()?.unix_timestamp;
    let mut pool = a.stake_pool.load_mut()?;
    let mut pos = a.position.load_mut()?;
    let free = pos.amount.saturating_sub(locked);
    require!(amount <= free, CinderError::StakeLockedByJobs);
    pos.settle_rewards(&pool)?;
    pos.amount = math::sub(pos.amount, amount)?;
    require!(
        pos.amount == 0 || pos.amount >= pool.min_stake(),
        CinderError::StakeBelowMinimum
    );
    pos.unbonding = math::add(pos.unbonding, amount)?;
    pos.unlock_at = math::add_i64(now, pos.lock_secs as i64)?;
    pos.reweight(&mut pool)?;
    let unlock_at = pos.unlock_at;
    drop((pool, pos));
    emit_cpi!(UnstakeRequested {
        owner: a.owner.key(),
        amount,
        unlock_at,
    });
    Ok(())
}
