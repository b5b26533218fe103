use crate::errors::CinderError;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionParams {
    /// Price (protocol-token base units, for the whole vault) at an epoch's start.
    pub init_price: u64,
    /// Price at and after the end of an epoch.
    pub floor_price: u64,
    pub epoch_period_secs: u32,
    /// Next init price = max(paid × multiplier / 10000, min_init_price).
    pub price_multiplier_bps: u32,
    pub min_init_price: u64,
}

impl AuctionParams {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.floor_price <= self.min_init_price
                && self.min_init_price <= self.init_price
                && self.epoch_period_secs > 0
                && self.price_multiplier_bps >= 10_000,
            CinderError::InvalidAuctionParams
        );
        Ok(())
    }
}

/// Fees of one payment mint accrue in `fee_vault` and are sold for protocol
/// tokens by a continuous Dutch auction (`buy`).
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
    pub bump: u8,
    pub fee_vault_bump: u8,
    pub _reserved: [u8; 64],
}

impl Auction {
    pub fn invariant(&self) -> Result<()> {
        self.params.validate()?;
        require!(
            self.epoch_init_price >= self.params.floor_price,
            CinderError::InvariantViolated
        );
        Ok(())
    }
}
