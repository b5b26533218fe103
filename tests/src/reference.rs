//! The program's money rules written again, independently, for the tests to compare with:
//! plain u128 arithmetic from the documented rules (fees round up, payouts down), never a call
//! into the program. Shared by the conservation model, the staking property and the economics
//! tests, so each rule is written once.

/// Fixed-point scale of the reward-per-weight accumulator.
pub const REWARD_SCALE: u128 = 1_000_000_000_000_000_000;
const YEAR_SECS: u128 = 365 * 86_400;

/// weight × acc / 1e18 (acc split into whole and fraction so nothing overflows), the
/// fraction's part rounded down (what a position has accrued) or up (its reward debt).
pub fn accrued(weight: u64, acc: u128, up: bool) -> u128 {
    let (whole, frac) = (acc / REWARD_SCALE, acc % REWARD_SCALE);
    let part = weight as u128 * frac;
    let part = if up {
        part.div_ceil(REWARD_SCALE)
    } else {
        part / REWARD_SCALE
    };
    weight as u128 * whole + part
}

/// A stake's weight: amount × (1 + 3 × lock / 365 d), rounded down.
pub fn weight_for(amount: u64, lock_secs: u32) -> u64 {
    let bonus = amount as u128 * 3 * lock_secs as u128 / YEAR_SECS;
    u64::try_from(amount as u128 + bonus).expect("weight fits")
}

/// The Dutch auction's price of the whole fee vault at `now`: linear from the epoch's init
/// price to the floor over the period, rounded up; the floor afterwards.
pub fn auction_price(a: &cinder::state::Auction, now: i64) -> u128 {
    let (floor, period) = (
        a.params.floor_price as u128,
        a.params.epoch_period_secs as u128,
    );
    let elapsed = now.saturating_sub(a.epoch_start).max(0) as u128;
    if elapsed >= period {
        return floor;
    }
    floor + ((a.epoch_init_price as u128 - floor) * (period - elapsed)).div_ceil(period)
}
