use crate::{constants::MARKET_SEED, errors::CinderError, events::FeesSwept, state::Market, utils};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Moves the protocol fees a market's settlements left in its pool to the auction fee vault
/// of the payment mint. Permissionless: it can only move `protocol_fees_accrued`, only between
/// these two accounts.
#[event_cpi]
#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(
        mut,
        has_one = payment_mint @ CinderError::MintMismatch,
        has_one = fee_vault @ CinderError::FeeVaultMismatch,
        has_one = verify_pool @ CinderError::FeeVaultMismatch,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equal to `market.verify_pool` (has_one); its authority is the market PDA.
    #[account(mut)]
    pub verify_pool: UncheckedAccount<'info>,
    /// CHECK: equal to `market.fee_vault` (has_one).
    #[account(mut)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
    let accounts = &ctx.accounts;
    let (amount, market_id, bump, decimals) = {
        let mut market = accounts.market.load_mut()?;
        let amount = market.protocol_fees_accrued;
        market.protocol_fees_accrued = 0;
        (
            amount,
            market.market_id,
            market.bump,
            market.payment_decimals,
        )
    };
    require!(amount > 0, CinderError::NothingToSweep);
    let id = market_id.to_le_bytes();
    let seeds: &[&[u8]] = &[MARKET_SEED, &id, &[bump]];
    utils::transfer_checked(
        &accounts.token_program,
        &accounts.verify_pool,
        &accounts.payment_mint,
        &accounts.fee_vault,
        &accounts.market.to_account_info(),
        amount,
        decimals,
        &[seeds],
    )?;
    emit_cpi!(FeesSwept {
        market: accounts.market.key(),
        fee_vault: accounts.fee_vault.key(),
        amount,
    });
    Ok(())
}
