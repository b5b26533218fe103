use crate::{constants::BPS_DENOMINATOR, errors::CinderError};
use anchor_lang::prelude::*;

/// Basis points (1/100 of a percent), bounded by 10000.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct Bps(pub u16);

impl Bps {
    /// Ok if at most `max` (and never above 100%).
    pub fn check(self, max: u16, error: CinderError) -> Result<()> {
        require!(self.0 <= BPS_DENOMINATOR, CinderError::BpsOutOfRange);
        if self.0 > max {
            return Err(error.into());
        }
        Ok(())
    }
}
