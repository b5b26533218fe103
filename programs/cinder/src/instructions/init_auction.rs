use crate::{constants::*, errors::CinderError, events::AuctionInitialized, state::*, utils};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

#[event_cpi]
#[derive(Accounts)]
pub struct InitAuction<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `["auction", mint]`; seeds verified by the constraint.
    #[account(mut, seeds = [AUCTION_SEED, payment_mint.key().as_ref()], bump)]
    pub auction: UncheckedAccount<'info>,
    /// CHECK: token account created here at `["fee_vault", mint]`, owned by the auction PDA.
    #[account(mut, seeds = [FEE_VAULT_SEED, payment_mint.key().as_ref()], bump)]
    pub fee_vault: UncheckedAccount<'info>,
    /// CHECK: checked by `utils::check_payment_mint` in `validate`.
    pub payment_mint: UncheckedAccount<'info>,
    #[account(constraint = token_program.key() == *payment_mint.owner @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitAuction<'_> {
    fn validate(&self, params: &AuctionParams, allow_freeze_authority: bool) -> Result<()> {
        require!(
            self.auction.data_is_empty(),
            CinderError::AccountAlreadyExists
        );
        utils::check_payment_mint(&self.payment_mint, allow_freeze_authority)?;
        params.validate()
    }
}

/// Creates the fee vault of one payment mint and the Dutch auction that sells it.
#[access_control(ctx.accounts.validate(&params, allow_freeze_authority))]
pub fn init_auction(
    ctx: Context<InitAuction>,
    params: AuctionParams,
    allow_freeze_authority: bool,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let mint_key = accounts.payment_mint.key();
    utils::create_pda_token_account(
        &accounts.admin,
        &accounts.fee_vault,
        &accounts.payment_mint,
        &accounts.auction.key(),
        &accounts.token_program,
        &accounts.system_program,
        &[FEE_VAULT_SEED, mint_key.as_ref(), &[ctx.bumps.fee_vault]],
    )?;
    let auction = Auction {
        payment_mint: mint_key,
        payment_token_program: accounts.token_program.key(),
        fee_vault: accounts.fee_vault.key(),
        params,
        epoch: 0,
        epoch_start: Clock::get()?.unix_timestamp,
        epoch_init_price: params.init_price,
        total_paid: 0,
        total_sold: 0,
        last_price: 0,
        bump: ctx.bumps.auction,
        fee_vault_bump: ctx.bumps.fee_vault,
        _reserved: [0; 40],
    };
    auction.invariant()?;
    utils::init_program_account(
        &accounts.admin,
        &accounts.auction,
        &accounts.system_program,
        8 + Auction::INIT_SPACE,
        &[AUCTION_SEED, mint_key.as_ref(), &[ctx.bumps.auction]],
        &auction,
    )?;
    emit_cpi!(AuctionInitialized {
        auction: ctx.accounts.auction.key(),
        payment_mint: mint_key,
        fee_vault: auction.fee_vault,
        params,
    });
    Ok(())
}
