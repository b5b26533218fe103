//! Verifier sortition as an exponential race (issue 15, point 1).
//!
//! Every eligible key draws a ticket `-log2(U) / weight`, with `U` uniform in (0, 1] taken from
//! `sha256(seed ‖ job ‖ key)`; the lowest ticket wins. Each ticket is exponentially distributed
//! with rate proportional to its weight, so a key wins with probability weight / Σ weight, and
//! an owner who splits its stake over many keys has the minimum of their tickets, which is again
//! exponential with the summed rate: splitting changes nothing. No per-market aggregate is
//! needed: each claimant proves only its own ticket, and a lower one displaces a higher one
//! while the race is open.

use solana_sha256_hasher::hashv;

/// Fractional bits of the fixed-point logarithm. The ticket's error is below 2^-27 of a unit
/// of -log2(U): a bias far under any stake share an owner could hold.
const FRAC_BITS: u32 = 32;

/// `log2(x)` in Q32 fixed point for `x ≥ 1`, rounded down (integer part from the leading bit,
/// then one fractional bit per squaring of the normalised mantissa). The mantissa is kept in
/// Q31 so every square fits a `u64` (native on SBF, where `u128` products are library calls);
/// the result is within 2^-27 of the exact logarithm.
// Bounds: `int` ≤ 127; the mantissa stays in [2^31, 2^32) so its square is below 2^64.
#[allow(clippy::arithmetic_side_effects)]
pub fn log2_q32(x: u128) -> u64 {
    if x == 0 {
        return 0;
    }
    let int = 127 - x.leading_zeros();
    let mut m: u64 = if int >= 31 {
        (x >> (int - 31)) as u64
    } else {
        (x << (31 - int)) as u64
    };
    let mut frac: u64 = 0;
    for bit in (0..FRAC_BITS).rev() {
        m = (m * m) >> 31;
        if m >= 1 << 32 {
            m >>= 1;
            frac |= 1 << bit;
        }
    }
    ((int as u64) << FRAC_BITS) | frac
}

/// The uniform of `key` for `job` under `seed`: the first 8 bytes of sha256(seed ‖ job ‖ key).
pub fn race_uniform(seed: &[u8; 32], job: &[u8; 32], key: &[u8; 32]) -> u64 {
    let h = hashv(&[seed, job, key]).to_bytes();
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    u64::from_le_bytes(b)
}

/// The ticket of a key whose uniform is `u` (read as (u + 1) / 2^64) and whose weight is
/// `weight` (> 0): `-log2((u + 1) / 2^64) / weight` in Q32, scaled by 2^64 so that small
/// differences between heavy keys survive the integer division. Lower wins. `None` for a
/// zero weight (such a key cannot race).
// Bounds: log2(u + 1) ≤ 64 × 2^32, so `neg_log` < 2^39 and the shifted value < 2^103.
#[allow(clippy::arithmetic_side_effects)]
pub fn race_ticket(u: u64, weight: u64) -> Option<u128> {
    if weight == 0 {
        return None;
    }
    // -log2((u+1)/2^64) = 64 - log2(u+1), in Q32: at most 64 × 2^32 = 2^38.
    let neg_log = (64u64 << FRAC_BITS) - log2_q32(u as u128 + 1);
    Some(((neg_log as u128) << 64) / weight as u128)
}
