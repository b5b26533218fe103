use crate::{constants::BPS_DENOMINATOR, errors::CinderError};
use anchor_lang::prelude::*;

/// Basis points (1/100 of a percent), bounded by 10000.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct Bps(pub u16);

/// A `bool` stored as one byte in zero-copy accounts (0 = false, anything else = true;
/// the program only ever writes 0 or 1).
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct Flag(pub u8);

impl Flag {
    pub const fn new(value: bool) -> Self {
        Self(value as u8)
    }

    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

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
