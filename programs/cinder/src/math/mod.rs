//! Pure, checked arithmetic. Rounding direction is in every name; nothing here panics.

mod revenue;
mod rewards;
mod settlement;
mod sortition;
#[cfg(test)]
mod tests;

pub use revenue::*;
pub use rewards::*;
pub use settlement::*;
pub use sortition::*;

use crate::{constants::BPS_DENOMINATOR, errors::CinderError};
use anchor_lang::prelude::*;

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

pub fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

pub fn add_i64(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

pub fn sub_i64(a: i64, b: i64) -> Result<i64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

pub(crate) fn to_u64(v: u128) -> Result<u64> {
    u64::try_from(v).map_err(|_| error!(CinderError::MathOverflow))
}

/// floor(a × b / d), with a u128 intermediate.
pub fn mul_div_floor(a: u64, b: u64, d: u64) -> Result<u64> {
    if d == 0 {
        return err!(CinderError::DivisionByZero);
    }
    let q = (a as u128)
        .checked_mul(b as u128)
        .ok_or_else(|| error!(CinderError::MathOverflow))?
        .checked_div(d as u128)
        .ok_or_else(|| error!(CinderError::DivisionByZero))?;
    to_u64(q)
}

/// ceil(a × b / d), with a u128 intermediate.
pub fn mul_div_ceil(a: u64, b: u64, d: u64) -> Result<u64> {
    if d == 0 {
        return err!(CinderError::DivisionByZero);
    }
    let n = (a as u128)
        .checked_mul(b as u128)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    let d = d as u128;
    let q = n
        .checked_div(d)
        .ok_or_else(|| error!(CinderError::DivisionByZero))?;
    let rounded = if n.checked_rem(d).unwrap_or(0) == 0 {
        q
    } else {
        q.checked_add(1)
            .ok_or_else(|| error!(CinderError::MathOverflow))?
    };
    to_u64(rounded)
}

/// The protocol's share of `amount`: rounds up (fees favour the protocol).
pub fn bps_of_ceil(amount: u64, bps: u16) -> Result<u64> {
    mul_div_ceil(amount, bps as u64, BPS_DENOMINATOR as u64)
}

/// A participant's share of `amount`: rounds down (payouts never exceed what is owed).
pub fn bps_of_floor(amount: u64, bps: u16) -> Result<u64> {
    mul_div_floor(amount, bps as u64, BPS_DENOMINATOR as u64)
}
