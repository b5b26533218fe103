use crate::{
    constants::*,
    errors::CinderError,
    events::StakeWithdrawn,
    math,
    state::{StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Owner: takes unbonded stake out once its lock has passed.
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
}

pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
    let a = &ctx.accounts;
    let owner = a.owner.key();
    utils::check_token_owner(&a.owner_token, &a.token_program.key(), &owner)?;
    let now = Clock::get()?.unix_timestamp;
    let (amount, bump, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let mut pos = a.position.load_mut()?;
        let amount = pos.unbonding;
        require!(amount > 0, CinderError::NothingToWithdraw);
        require!(now >= pos.unlock_at, CinderError::StakeStillLocked);
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
