use crate::{
    constants::*,
    errors::CinderError,
    events::Staked,
    math,
    state::{Config, PodU128, StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone: stakes protocol tokens into their position `["stake", owner]` (created on first
/// stake) with a lock of `lock_secs`, which can only grow.
#[event_cpi]
#[derive(Accounts)]
pub struct Stake<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    pub config: AccountLoader<'info, Config>,
    #[account(mut, has_one = stake_vault @ CinderError::VaultMismatch, has_one = protocol_mint @ CinderError::MintMismatch)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    /// CHECK: the owner's position `["stake", owner]`: created here if empty (its address
    /// derived then, once), else loaded as `StakePosition` and checked by its stored owner
    /// (positions are only created at that address), so a top-up searches no PDA.
    #[account(mut)]
    pub position: UncheckedAccount<'info>,
    /// CHECK: debited by `transfer_checked`, which needs the owner's signature.
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.stake_vault` (has_one).
    #[account(mut)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn stake(ctx: Context<Stake>, amount: u64, lock_secs: u32) -> Result<()> {
    let a = &ctx.accounts;
    require!(amount > 0, CinderError::ZeroAmount);
    {
        let config = a.config.load()?;
        require!(
            (config.params.min_lock_secs..=config.params.max_lock_secs).contains(&lock_secs),
            CinderError::LockOutOfRange
        );
    }
    let owner = a.owner.key();
    if a.position.data_is_empty() {
        let (expected, bump) =
            Pubkey::find_program_address(&[STAKE_SEED, owner.as_ref()], &crate::ID);
        require_keys_eq!(
            a.position.key(),
            expected,
            anchor_lang::error::ErrorCode::ConstraintSeeds
        );
        let fresh = StakePosition {
            owner,
            amount: 0,
            weight: 0,
            unbonding: 0,
            unlock_at: 0,
            pending_rewards: 0,
            reward_debt: PodU128::default(),
            lock_secs,
            bump,
            _pad: [0; 3],
            grew_slot: 0,
            _reserved: [0; 24],
        };
        utils::init_zero_copy_account(
            &a.owner,
            &a.position,
            &a.system_program,
            &[STAKE_SEED, owner.as_ref(), &[bump]],
            &fresh,
        )?;
    }
    let (new_amount, new_weight, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let mut pos = utils::load_zero_copy_mut::<StakePosition>(&a.position)?;
        require!(pos.owner == owner, CinderError::StakeMismatch);
        require!(lock_secs >= pos.lock_secs, CinderError::LockCannotShorten);
        pos.settle_rewards(&pool)?;
        pos.amount = math::add(pos.amount, amount)?;
        pos.grew_slot = Clock::get()?.slot;
        require!(
            pos.amount >= pool.min_stake(),
            CinderError::StakeBelowMinimum
        );
        pos.lock_secs = lock_secs;
        pos.reweight(&mut pool)?;
        pool.total_staked = math::add(pool.total_staked, amount)?;
        (pos.amount, pos.weight, pool.decimals)
    };
    utils::transfer_checked(
        &a.token_program,
        &a.owner_token,
        &a.protocol_mint,
        &a.stake_vault,
        &a.owner,
        amount,
        decimals,
        &[],
    )?;
    emit_cpi!(Staked {
        owner,
        amount,
        lock_secs,
        new_amount,
        new_weight,
    });
    Ok(())
}
