use crate::{
    constants::*,
    errors::CinderError,
    events::{AuctionBought, Burned, RevenueDistributed, BURN_REASON_BUYBACK},
    instructions::revenue::{self, RevenueAccounts},
    math,
    state::{Auction, Config, StakePool},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone: buys the whole fee vault of a payment mint at the auction's current price in
/// protocol tokens. The price is split by the config (burned / stakers / treasury) at once.
#[event_cpi]
#[derive(Accounts)]
pub struct Buy<'info> {
    pub buyer: Signer<'info>,
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        mut,
        seeds = [AUCTION_SEED, payment_mint.key().as_ref()],
        bump = auction.bump,
        has_one = fee_vault @ CinderError::FeeVaultMismatch,
    )]
    pub auction: Account<'info, Auction>,
    /// CHECK: equal to `auction.fee_vault` (has_one); its authority is the auction PDA.
    #[account(mut)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: the auction's seeds bind it to this mint; `transfer_checked` checks the vault's.
    pub payment_mint: UncheckedAccount<'info>,
    /// CHECK: receives the fee vault; any account of the payment mint the buyer chooses.
    #[account(mut)]
    pub buyer_payment_token: UncheckedAccount<'info>,
    /// CHECK: pays the price; debited by `transfer_checked` with the buyer's signature.
    #[account(mut)]
    pub buyer_protocol_token: UncheckedAccount<'info>,
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
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one); mutable for the burn.
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = auction.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub payment_token_program: Interface<'info, TokenInterface>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub protocol_token_program: Interface<'info, TokenInterface>,
}

impl Buy<'_> {
    /// Returns (price, amount_out).
    fn validate(&self, max_price: u64, min_amount_out: u64, now: i64) -> Result<(u64, u64)> {
        require!(
            self.auction.payment_mint != self.protocol_mint.key(),
            CinderError::ProtocolMintNotAuctioned
        );
        let price = self.auction.price_at(now)?;
        require!(price <= max_price, CinderError::PriceAboveMax);
        let amount_out = utils::token_amount(&self.fee_vault)?;
        require!(amount_out >= min_amount_out, CinderError::AmountBelowMin);
        require!(amount_out > 0, CinderError::NothingToBuy);
        Ok((price, amount_out))
    }
}

/// `max_price` and `min_amount_out` bound what the buyer pays and gets, so a buy that lands
/// after another one (or after fees were swept out) fails instead of overpaying.
pub fn buy(ctx: Context<Buy>, max_price: u64, min_amount_out: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (price, amount_out) = ctx.accounts.validate(max_price, min_amount_out, now)?;
    let a = &ctx.accounts;
    let (pool_bump, protocol_decimals) = {
        let pool = a.stake_pool.load()?;
        (pool.bump, pool.decimals)
    };
    // The price goes to the (program-owned) reward vault, where the stakers' share stays;
    // `distribute` burns and pays the treasury from there.
    utils::transfer_checked(
        &a.protocol_token_program,
        &a.buyer_protocol_token,
        &a.protocol_mint,
        &a.reward_vault,
        &a.buyer,
        price,
        protocol_decimals,
        &[],
    )?;
    let payment_decimals = utils::mint_decimals(&a.payment_mint)?;
    let mint_key = a.payment_mint.key();
    let auction_seeds: &[&[u8]] = &[AUCTION_SEED, mint_key.as_ref(), &[a.auction.bump]];
    utils::transfer_checked(
        &a.payment_token_program,
        &a.fee_vault,
        &a.payment_mint,
        &a.buyer_payment_token,
        &a.auction.to_account_info(),
        amount_out,
        payment_decimals,
        &[auction_seeds],
    )?;

    let pool_seeds: &[&[u8]] = &[STAKE_POOL_SEED, &[pool_bump]];
    let pool_info = a.stake_pool.to_account_info();
    let done = revenue::distribute(
        RevenueAccounts {
            config: &a.config,
            stake_pool: &a.stake_pool,
            reward_vault: &a.reward_vault,
            treasury_token: &a.treasury_token,
            protocol_mint: &a.protocol_mint,
            token_program: &a.protocol_token_program,
        },
        &a.reward_vault,
        &pool_info,
        pool_seeds,
        price,
    )?;

    let auction = &mut ctx.accounts.auction;
    let epoch = auction.epoch;
    let next_init_price = auction.next_init_price(price);
    auction.epoch = math::add(epoch, 1)?;
    auction.epoch_start = now;
    auction.epoch_init_price = next_init_price;
    auction.total_paid = math::add(auction.total_paid, price)?;
    auction.total_sold = math::add(auction.total_sold, amount_out)?;
    auction.last_price = price;
    auction.invariant()?;
    let auction_key = auction.key();
    emit_cpi!(AuctionBought {
        auction: auction_key,
        buyer: ctx.accounts.buyer.key(),
        epoch,
        price,
        amount_out,
        next_init_price,
    });
    emit_cpi!(RevenueDistributed {
        auction: auction_key,
        amount: price,
        burned: done.split.burn,
        to_stakers: done.to_stakers,
        to_treasury: done.to_treasury,
    });
    if done.split.burn > 0 {
        emit_cpi!(Burned {
            amount: done.split.burn,
            total_burned: done.total_burned,
            reason: BURN_REASON_BUYBACK,
        });
    }
    Ok(())
}
