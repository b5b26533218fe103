use crate::{
    constants::*,
    errors::CinderError,
    events::RewardsClaimed,
    math,
    state::{StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Owner: takes the rewards its position has earned (rounded down).
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimRewards<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = reward_vault @ CinderError::VaultMismatch, has_one = protocol_mint @ CinderError::MintMismatch)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = position.load()?.bump)]
    pub position: AccountLoader<'info, StakePosition>,
    /// CHECK: must be a token account of the owner (checked in the handler).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.reward_vault` (has_one).
    #[account(mut)]
    pub reward_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
    let a = &ctx.accounts;
    let owner = a.owner.key();
    utils::check_token_owner(&a.owner_token, &a.token_program.key(), &owner)?;
    let (amount, bump, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let mut pos = a.position.load_mut()?;
        pos.settle_rewards(&pool)?;
        let amount = pos.pending_rewards;
        require!(amount > 0, CinderError::NothingToClaim);
        pos.pending_rewards = 0;
        pool.total_rewards_claimed = math::add(pool.total_rewards_claimed, amount)?;
        (amount, pool.bump, pool.decimals)
    };
    utils::transfer_checked(
        &a.token_program,
        &a.reward_vault,
        &a.protocol_mint,
        &a.owner_token,
        &a.stake_pool.to_account_info(),
        amount,
        decimals,
        &[&[STAKE_POOL_SEED, &[bump]]],
    )?;
    emit_cpi!(RewardsClaimed { owner, amount });
    Ok(())
}
