//! Stake weights and the reward-per-weight accumulator, as pure functions.

use super::{add, mul_div_floor, to_u64};
use crate::{
    constants::{REWARD_SCALE, YEAR_SECS},
    errors::CinderError,
};
use anchor_lang::prelude::*;

/// amount × (1 + 3 × lock / 365 d), rounded down: a one-year lock counts 4×.
pub fn weight_for(amount: u64, lock_secs: u32) -> Result<u64> {
    add(
        amount,
        mul_div_floor(amount, super::mul(3, lock_secs as u64)?, YEAR_SECS as u64)?,
    )
}

/// What a deposit adds to the accumulator: amount × 1e18 / total_weight, rounded down
/// (the remainder stays in the vault as dust, never paid twice).
pub fn acc_increment(amount: u64, total_weight: u64) -> Result<u128> {
    require!(total_weight > 0, CinderError::DivisionByZero);
    (amount as u128)
        .checked_mul(REWARD_SCALE)
        .and_then(|n| n.checked_div(total_weight as u128))
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

/// weight × acc / 1e18, rounded down, without overflowing u128 for any u64 weight as long
/// as acc / 1e18 fits in a u64 (it would take more rewards than a u64 supply holds).
pub fn accrued(weight: u64, acc: u128) -> Result<u128> {
    accrued_rounded(weight, acc, false)
}

/// weight × acc / 1e18 rounded up: a position's reward debt. Debt up and accrual down make
/// earned = accrued − debt never exceed weight × (acc − acc_then) / 1e18, so the stakers
/// together can never be owed more than was deposited (at most one unit per update is left
/// in the vault as dust).
pub fn reward_debt(weight: u64, acc: u128) -> Result<u128> {
    accrued_rounded(weight, acc, true)
}

fn accrued_rounded(weight: u64, acc: u128, up: bool) -> Result<u128> {
    let whole = to_u64(acc / REWARD_SCALE)? as u128;
    let frac = acc % REWARD_SCALE;
    let a = (weight as u128)
        .checked_mul(whole)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    // weight < 2^64 and frac < 1e18 < 2^60: the product fits.
    let n = (weight as u128)
        .checked_mul(frac)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    let b = if up {
        n.div_ceil(REWARD_SCALE)
    } else {
        n / REWARD_SCALE
    };
    a.checked_add(b)
        .ok_or_else(|| error!(CinderError::MathOverflow))
}

/// Rewards a position earned since its last update: accrued(weight, acc) − debt, never
/// negative (right after an update the rounded-up debt can exceed the accrual by one).
pub fn earned(weight: u64, acc: u128, debt: u128) -> Result<u64> {
    to_u64(accrued(weight, acc)?.saturating_sub(debt))
}
