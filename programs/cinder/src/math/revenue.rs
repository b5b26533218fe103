//! How protocol-token revenue (auction proceeds, protocol-mint fees) is split.

use super::{bps_of_floor, sub};
use crate::state::ConfigParams;
use anchor_lang::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevenueSplit {
    pub burn: u64,
    pub stakers: u64,
    pub treasury: u64,
}

/// Splits `amount` by the config's bps: the stakers' and the treasury's shares round down and
/// the burn takes the rest, so the three always sum to `amount` and dust is burned.
pub fn split_revenue(amount: u64, params: &ConfigParams) -> Result<RevenueSplit> {
    let stakers = bps_of_floor(amount, params.stakers_bps.0)?;
    let treasury = bps_of_floor(amount, params.treasury_bps.0)?;
    let burn = sub(sub(amount, stakers)?, treasury)?;
    Ok(RevenueSplit {
        burn,
        stakers,
        treasury,
    })
}
