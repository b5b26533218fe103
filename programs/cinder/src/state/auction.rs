use crate::{constants::*, errors::CinderError, math};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionParams {
    /// Price (protocol-token base units, for the whole vault) at the first epoch's start.
    pub init_price: u64,
    /// Price at and after the end of an epoch.
    pub floor_price: u64,
    /// How long the price takes to fall from an epoch's init price to the floor. 1 h – 365 d.
    pub epoch_period_secs: u32,
    /// Next init price = max(paid × multiplier / 10000, min_init_price). 1.1× – 100×.
    pub price_multiplier_bps: u32,
    pub min_init_price: u64,
}

impl AuctionParams {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.min_init_price > 0
                && self.floor_price <= self.min_init_price
                && self.min_init_price <= self.init_price
                && (MIN_EPOCH_PERIOD_SECS..=MAX_EPOCH_PERIOD_SECS)
                    .contains(&self.epoch_period_secs)
                && (MIN_PRICE_MULTIPLIER_BPS..=MAX_PRICE_MULTIPLIER_BPS)
                    .contains(&self.price_multiplier_bps),
            CinderError::InvalidAuctionParams
        );
        require!(self.floor_price > 0, CinderError::ZeroFloorPrice);
        Ok(())
    }
}

/// Fees of one payment mint accrue in `fee_vault` and are sold for protocol tokens by a
/// continuous Dutch auction (`buy`): the price of the whole vault falls linearly from the
/// epoch's init price to the floor over `epoch_period_secs`; a buy takes the vault and starts
/// the next epoch at max(price paid × multiplier, min_init_price). The protocol mint's own fee
/// vault is not sold: `distribute_fees` splits it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Auction {
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub fee_vault: Pubkey,
    pub params: AuctionParams,
    pub epoch: u64,
    pub epoch_start: i64,
    pub epoch_init_price: u64,
    /// Protocol tokens paid by all buys, and payment tokens they took.
    pub total_paid: u64,
    pub total_sold: u64,
    pub last_price: u64,
    pub bump: u8,
    pub fee_vault_bump: u8,
    pub _reserved: [u8; 40],
}

impl Auction {
    /// The price of the whole fee vault at `now`: linear from the epoch's init price down to
    /// the floor over the epoch period, the floor afterwards. Rounded up (the protocol sells).
    pub fn price_at(&self, now: i64) -> Result<u64> {
        let floor = self.params.floor_price;
        let period = self.params.epoch_period_secs as u64;
        let elapsed = u64::try_from(now.saturating_sub(self.epoch_start)).unwrap_or(0);
        if elapsed >= period {
            return Ok(floor);
        }
        let span = math::sub(self.epoch_init_price, floor)?;
        let above_floor = math::mul_div_ceil(span, math::sub(period, elapsed)?, period)?;
        math::add(floor, above_floor)
    }

    /// The init price of the epoch after a buy at `paid`.
    pub fn next_init_price(&self, paid: u64) -> u64 {
        let scaled = (paid as u128)
            .saturating_mul(self.params.price_multiplier_bps as u128)
            .checked_div(BPS_DENOMINATOR as u128)
            .unwrap_or(u128::MAX);
        u64::try_from(scaled)
            .unwrap_or(u64::MAX)
            .max(self.params.min_init_price)
    }

    pub fn invariant(&self) -> Result<()> {
        self.params.validate()?;
        require!(
            self.epoch_init_price >= self.params.floor_price,
            CinderError::InvariantViolated
        );
        Ok(())
    }
}
