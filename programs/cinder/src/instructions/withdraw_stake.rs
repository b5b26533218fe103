use crate::{
    constants::*,
    errors::CinderError,
    events::StakeWithdrawn,
    instructions::request_unstake::held_by_jobs,
    math,
    state::{StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Owner: takes unbonded stake out once its lock has passed and no job it runs or verifies is
/// unsettled. Unbonding stake stays slashable (`StakePosition::slash`), so this is the moment
/// it stops backing jobs: a fraud ruling, a verifier's timeout or a job's expiry always finds
/// the whole stake there (issue 15e: a 14-day unbonding is shorter than a 30-day job's
/// windows).
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = stake_vault @ CinderError::VaultMismatch, has_one = protocol_mint @ CinderError::MintMismatch)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = position.load()?.bump)]
    pub position: AccountLoader<'info, StakePosition>,
    /// CHECK: must be a token account of the owner (checked in the handler).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.stake_vault` (has_one).
    #[account(mut)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    /// CHECK: the owner's provider account `["provider", owner]`, which may not exist (a plain
    /// staker); read only for its unsettled jobs (checked in `held_by_jobs`).
    pub provider: UncheckedAccount<'info>,
}

pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
    let a = &ctx.accounts;
    let owner = a.owner.key();
    utils::check_token_owner(&a.owner_token, &a.token_program.key(), &owner)?;
    let now = Clock::get()?.unix_timestamp;
    let (_, unsettled) = held_by_jobs(&a.provider, &owner)?;
    let (amount, bump, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let mut pos = a.position.load_mut()?;
        let amount = pos.unbonding;
        require!(amount > 0, CinderError::NothingToWithdraw);
        require!(now >= pos.unlock_at, CinderError::StakeStillLocked);
        require!(unsettled == 0, CinderError::StakeBackingJobs);
        pos.unbonding = 0;
        pos.unlock_at = 0;
        pool.total_staked = math::sub(pool.total_staked, amount)?;
        (amount, pool.bump, pool.decimals)
    };
    utils::transfer_checked(
        &a.token_program,
        &a.stake_vault,
        &a.protocol_mint,
        &a.owner_token,
        &a.stake_pool.to_account_info(),
        amount,
        decimals,
        &[&[STAKE_POOL_SEED, &[bump]]],
    )?;
    emit_cpi!(StakeWithdrawn { owner, amount });
    Ok(())
}
