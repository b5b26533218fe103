use crate::{
    constants::*,
    errors::CinderError,
    events::{Burned, RevenueDistributed, BURN_REASON_PROTOCOL_FEES},
    instructions::revenue::{self, RevenueAccounts},
    state::{Auction, Config, StakePool},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone: splits the fees that markets paying in the protocol token swept into its fee
/// vault (burned / stakers / treasury, as a buy's price is). Other mints' vaults are sold by
/// `buy` instead.
#[event_cpi]
#[derive(Accounts)]
pub struct DistributeFees<'info> {
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        seeds = [AUCTION_SEED, protocol_mint.key().as_ref()],
        bump = auction.bump,
        has_one = fee_vault @ CinderError::FeeVaultMismatch,
    )]
    pub auction: Account<'info, Auction>,
    /// CHECK: equal to `auction.fee_vault` (has_one); its authority is the auction PDA.
    #[account(mut)]
    pub fee_vault: UncheckedAccount<'info>,
    #[account(
        mut,
        has_one = reward_vault @ CinderError::VaultMismatch,
        has_one = protocol_mint @ CinderError::MintMismatch,
    )]
    pub stake_pool: AccountLoader<'info, StakePool>,
    /// CHECK: equal to `stake_pool.reward_vault` (has_one).
    #[account(mut)]
    pub reward_vault: UncheckedAccount<'info>,
    /// CHECK: a protocol-token account of `config.params.treasury` (checked when paid).
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one); the auction's seeds use it.
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn distribute_fees(ctx: Context<DistributeFees>) -> Result<()> {
    let a = &ctx.accounts;
    let amount = utils::token_amount(&a.fee_vault)?;
    require!(amount > 0, CinderError::NothingToBuy);
    let mint_key = a.protocol_mint.key();
    let seeds: &[&[u8]] = &[AUCTION_SEED, mint_key.as_ref(), &[a.auction.bump]];
    let done = revenue::distribute(
        RevenueAccounts {
            config: &a.config,
            stake_pool: &a.stake_pool,
            reward_vault: &a.reward_vault,
            treasury_token: &a.treasury_token,
            protocol_mint: &a.protocol_mint,
            token_program: &a.token_program,
        },
        &a.fee_vault,
        &a.auction.to_account_info(),
        seeds,
        amount,
    )?;
    let auction = a.auction.key();
    emit_cpi!(RevenueDistributed {
        auction,
        amount,
        burned: done.split.burn,
        to_stakers: done.to_stakers,
        to_treasury: done.to_treasury,
    });
    if done.split.burn > 0 {
        emit_cpi!(Burned {
            amount: done.split.burn,
            total_burned: done.total_burned,
            reason: BURN_REASON_PROTOCOL_FEES,
        });
    }
    Ok(())
}
