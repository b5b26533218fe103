use crate::{errors::CinderError, events::AuctionUpdated, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateAuction<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub auction: Account<'info, Auction>,
}

/// Admin: sets the auction's parameters (within bounds). The running epoch keeps its start and
/// init price (raised to the new floor if below it); `init_price` is only used by the first
/// epoch, `min_init_price` and the multiplier from the next buy on.
#[access_control(params.validate())]
pub fn update_auction(ctx: Context<UpdateAuction>, params: AuctionParams) -> Result<()> {
    let auction = &mut ctx.accounts.auction;
    let old = auction.params;
    auction.params = params;
    auction.epoch_init_price = auction.epoch_init_price.max(params.floor_price);
    auction.invariant()?;
    emit_cpi!(AuctionUpdated {
        auction: auction.key(),
        old,
        new: params,
    });
    Ok(())
}
