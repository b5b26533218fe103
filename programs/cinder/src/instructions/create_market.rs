use crate::{constants::*, errors::CinderError, events::MarketCreated, state::*, utils};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

#[event_cpi]
#[derive(Accounts)]
#[instruction(market_id: u64)]
pub struct CreateMarket<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `["market", market_id]`; seeds verified by the constraint.
    #[account(mut, seeds = [MARKET_SEED, &market_id.to_le_bytes()], bump)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: checked by `utils::check_payment_mint` in `validate`.
    pub payment_mint: UncheckedAccount<'info>,
    /// The fee vault of the payment mint must exist before markets use it.
    #[account(constraint = auction.payment_mint == payment_mint.key() @ CinderError::FeeVaultMismatch)]
    pub auction: Account<'info, Auction>,
    /// CHECK: token account created here at `["verify_pool", market]`, owned by the market PDA.
    #[account(mut, seeds = [VERIFY_POOL_SEED, market.key().as_ref()], bump)]
    pub verify_pool: UncheckedAccount<'info>,
    #[account(constraint = token_program.key() == *payment_mint.owner @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateMarket<'_> {
    fn validate(&self, params: &MarketParams, allow_freeze_authority: bool) -> Result<u8> {
        require!(
            self.market.data_is_empty(),
            CinderError::AccountAlreadyExists
        );
        params.validate()?;
        utils::check_payment_mint(&self.payment_mint, allow_freeze_authority)
    }
}

pub fn create_market(
    ctx: Context<CreateMarket>,
    market_id: u64,
    params: MarketParams,
    allow_freeze_authority: bool,
) -> Result<()> {
    let decimals = ctx.accounts.validate(&params, allow_freeze_authority)?;
    let accounts = &ctx.accounts;
    let market_key = accounts.market.key();
    utils::create_pda_token_account(
        &accounts.admin,
        &accounts.verify_pool,
        &accounts.payment_mint,
        &market_key,
        &accounts.token_program,
        &accounts.system_program,
        &[
            VERIFY_POOL_SEED,
            market_key.as_ref(),
            &[ctx.bumps.verify_pool],
        ],
    )?;
    let market = Market {
        market_id,
        payment_mint: accounts.payment_mint.key(),
        payment_token_program: accounts.token_program.key(),
        fee_vault: accounts.auction.fee_vault,
        verify_pool: accounts.verify_pool.key(),
        params,
        protocol_fees_accrued: 0,
        payment_decimals: decimals,
        paused: Flag::new(false),
        bump: ctx.bumps.market,
        verify_pool_bump: ctx.bumps.verify_pool,
        _reserved: [0; 52],
    };
    market.invariant()?;
    utils::init_zero_copy_account(
        &accounts.admin,
        &accounts.market,
        &accounts.system_program,
        &[MARKET_SEED, &market_id.to_le_bytes(), &[ctx.bumps.market]],
        &market,
    )?;
    emit_cpi!(MarketCreated {
        market: market_key,
        market_id,
        payment_mint: market.payment_mint,
        params,
    });
    Ok(())
}
