use crate::{errors::CinderError, events::MarketUpdated, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

/// Sets every market parameter at once (within bounds) and the pause flag.
/// Funded jobs keep the fee terms and challenge window they were posted with.
#[access_control(params.validate())]
pub fn update_market(ctx: Context<UpdateMarket>, params: MarketParams, paused: bool) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    let old = market.params;
    let old_paused = market.paused.get();
    market.params = params;
    market.paused = Flag::new(paused);
    market.invariant()?;
    drop(market);
    emit_cpi!(MarketUpdated {
        market: ctx.accounts.market.key(),
        old,
        new: params,
        old_paused,
        new_paused: paused,
    });
    Ok(())
}
