use crate::{
    errors::CinderError,
    events::RewardsDeposited,
    state::{Config, StakePool},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone (the protocol's fee split, a buyer, a sponsor): adds protocol tokens to the stakers'
/// rewards, shared by weight from now on. With nobody staked they go to the treasury.
#[event_cpi]
#[derive(Accounts)]
pub struct DepositRewards<'info> {
    pub depositor: Signer<'info>,
    pub config: AccountLoader<'info, Config>,
    #[account(mut, has_one = reward_vault @ CinderError::VaultMismatch, has_one = protocol_mint @ CinderError::MintMismatch)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    /// CHECK: debited by `transfer_checked`, which needs the depositor's signature.
    #[account(mut)]
    pub depositor_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.reward_vault` (has_one).
    #[account(mut)]
    pub reward_vault: UncheckedAccount<'info>,
    /// CHECK: a token account of `config.params.treasury` (checked in the handler).
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn deposit_rewards(ctx: Context<DepositRewards>, amount: u64) -> Result<()> {
    let a = &ctx.accounts;
    require!(amount > 0, CinderError::ZeroAmount);
    let (to_treasury, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        // Below one whole token of weight (nobody staked, or only slashed remnants) rewards
        // go to the treasury: see `StakePool::min_stake`.
        let to_stakers = pool.accrue_rewards(amount)?;
        if !to_stakers {
            let treasury = a.config.load()?.params.treasury;
            utils::check_token_owner(&a.treasury_token, &a.token_program.key(), &treasury)
                .map_err(|_| error!(CinderError::NotTreasury))?;
        }
        (!to_stakers, pool.decimals)
    };
    let destination = if to_treasury {
        &a.treasury_token
    } else {
        &a.reward_vault
    };
    utils::transfer_checked(
        &a.token_program,
        &a.depositor_token,
        &a.protocol_mint,
        destination,
        &a.depositor,
        amount,
        decimals,
        &[],
    )?;
    emit_cpi!(RewardsDeposited {
        depositor: a.depositor.key(),
        amount,
        to_treasury,
    });
    Ok(())
}
