use super::*;
use proptest::prelude::*;

#[test]
fn mul_div_rounds_in_the_named_direction() {
    assert_eq!(mul_div_floor(10, 3, 4).unwrap(), 7);
    assert_eq!(mul_div_ceil(10, 3, 4).unwrap(), 8);
    assert_eq!(mul_div_ceil(8, 3, 4).unwrap(), 6);
    assert_eq!(
        mul_div_floor(u64::MAX, u64::MAX, u64::MAX).unwrap(),
        u64::MAX
    );
    assert_eq!(
        mul_div_ceil(u64::MAX, u64::MAX, u64::MAX).unwrap(),
        u64::MAX
    );
    assert!(mul_div_floor(u64::MAX, 2, 1).is_err());
    assert!(mul_div_ceil(1, 1, 0).is_err());
}

#[test]
fn one_base_unit_fee_rounds_up_to_one() {
    assert_eq!(bps_of_ceil(1, 500).unwrap(), 1);
    assert_eq!(bps_of_floor(1, 500).unwrap(), 0);
    assert_eq!(bps_of_ceil(0, 500).unwrap(), 0);
}

#[test]
fn settlement_of_a_full_run_pays_everything_but_unused_verification_fee() {
    let e = escrow_for(1_000, 3_600, 600).unwrap();
    assert_eq!(e.compute, 3_600_000);
    assert_eq!(e.verification_fee, 216_000);
    let s = settlement_for(e.total().unwrap(), 1_000, 3_600, 500, 600).unwrap();
    assert_eq!(s.protocol_fee, 180_000);
    assert_eq!(s.provider, 3_420_000);
    assert_eq!(s.verification_fee, 216_000);
    assert_eq!(s.refund, 0);
}

#[test]
fn escrow_overflow_is_an_error_not_a_wrap() {
    assert!(escrow_for(u64::MAX, 2, 0).is_err());
    assert!(escrow_for(u64::MAX, 1, 1).unwrap().total().is_err());
    assert!(escrow_for(u64::MAX, 1, 0).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// Conservation and rounding: for any price, duration, billed time, fees
    /// and donations, the payouts sum to the vault, the fee is never below its
    /// exact share and the provider never above its exact share.
    #[test]
    fn settlement_conserves_every_base_unit(
        price in prop_oneof![1u64..=1_000, 1u64..=u64::MAX],
        duration in 1u32..=u32::MAX,
        billed_frac in 0u32..=u32::MAX,
        fee_bps in 0u16..=2_000,
        vfee_bps in 0u16..=2_000,
        donation in prop_oneof![Just(0u64), 0u64..=1_000_000],
    ) {
        let billed = (billed_frac as u64 * duration as u64 / u32::MAX as u64) as u32;
        let Ok(escrow) = escrow_for(price, duration, vfee_bps) else { return Ok(()); };
        let Ok(total) = escrow.total() else { return Ok(()); };
        let Some(vault) = total.checked_add(donation) else { return Ok(()); };
        let s = settlement_for(vault, price, billed, fee_bps, vfee_bps).unwrap();
        let out = s.provider as u128 + s.protocol_fee as u128 + s.verification_fee as u128 + s.refund as u128;
        prop_assert_eq!(out, vault as u128);
        let pay = price as u128 * billed as u128;
        // fee rounds up, provider rounds down
        prop_assert!(s.protocol_fee as u128 * 10_000 >= pay * fee_bps as u128);
        prop_assert!((s.protocol_fee as u128) * 10_000 < pay * fee_bps as u128 + 10_000);
        prop_assert_eq!(s.provider as u128 + s.protocol_fee as u128, pay);
        // the pool never takes more than the client escrowed for it
        prop_assert!(s.verification_fee <= escrow.verification_fee);
        prop_assert!(s.refund >= donation);
    }
}

fn split_params(burn: u16, stakers: u16, treasury: u16) -> crate::state::ConfigParams {
    use crate::state::Bps;
    crate::state::ConfigParams {
        protocol_fee_bps: Bps(500),
        burn_bps: Bps(burn),
        stakers_bps: Bps(stakers),
        treasury_bps: Bps(treasury),
        min_lock_secs: crate::constants::MIN_LOCK_SECS,
        max_lock_secs: crate::constants::MAX_LOCK_SECS,
        treasury: Pubkey::default(),
    }
}

#[test]
fn revenue_split_burns_the_dust() {
    let s = split_revenue(999, &split_params(5_000, 4_000, 1_000)).unwrap();
    assert_eq!((s.burn, s.stakers, s.treasury), (501, 399, 99));
    let s = split_revenue(1, &split_params(5_000, 4_000, 1_000)).unwrap();
    assert_eq!((s.burn, s.stakers, s.treasury), (1, 0, 0));
    let s = split_revenue(10_000, &split_params(0, 10_000, 0)).unwrap();
    assert_eq!((s.burn, s.stakers, s.treasury), (0, 10_000, 0));
}

proptest! {
    #[test]
    fn revenue_split_sums_to_the_amount(
        amount in any::<u64>(),
        burn in 0u16..=10_000,
        stakers_frac in 0u16..=10_000,
    ) {
        let stakers = ((10_000 - burn) as u32 * stakers_frac as u32 / 10_000) as u16;
        let treasury = 10_000 - burn - stakers;
        let p = split_params(burn, stakers, treasury);
        let s = split_revenue(amount, &p).unwrap();
        prop_assert_eq!(s.burn as u128 + s.stakers as u128 + s.treasury as u128, amount as u128);
        prop_assert!(s.stakers as u128 * 10_000 <= amount as u128 * stakers as u128);
        prop_assert!(s.treasury as u128 * 10_000 <= amount as u128 * treasury as u128);
        // The burn gets its share, rounded down, plus at most two base units of dust.
        prop_assert!(s.burn as u128 * 10_000 >= amount as u128 * burn as u128);
        prop_assert!(s.burn as u128 <= amount as u128 * burn as u128 / 10_000 + 2);
    }
}

// --- signed time arithmetic and the staking math (cargo-mutants found these unchecked by
// the unit tests; the integration tests covered them only through the chain) ---------------

#[test]
fn signed_time_arithmetic_adds_subtracts_and_refuses_overflow() {
    assert_eq!(add_i64(1_700_000_000, 86_400).unwrap(), 1_700_086_400);
    assert_eq!(add_i64(-5, 3).unwrap(), -2);
    assert_eq!(sub_i64(1_700_086_400, 86_400).unwrap(), 1_700_000_000);
    assert_eq!(sub_i64(3, 5).unwrap(), -2);
    assert!(add_i64(i64::MAX, 1).is_err());
    assert!(sub_i64(i64::MIN, 1).is_err());
}

const SCALE: u128 = crate::constants::REWARD_SCALE;
const YEAR: u32 = crate::constants::YEAR_SECS;

#[test]
fn a_stake_weighs_one_plus_three_times_its_lock_in_years_rounded_down() {
    assert_eq!(weight_for(1_000, 0).unwrap(), 1_000);
    assert_eq!(weight_for(1_000, YEAR).unwrap(), 4_000);
    // 1000 × 3 × 30 / 365 = 246.57…: rounded down.
    assert_eq!(weight_for(1_000, 30 * 86_400).unwrap(), 1_246);
    assert_eq!(weight_for(0, YEAR).unwrap(), 0);
    assert!(weight_for(u64::MAX, YEAR).is_err());
}

#[test]
fn the_accumulator_and_accruals_round_down_and_the_debt_up() {
    // 10 units over weight 3: 3.333… per unit of weight, scaled by 1e18, rounded down.
    let acc = acc_increment(10, 3).unwrap();
    assert_eq!(acc, 10 * SCALE / 3);
    assert!(acc_increment(10, 0).is_err());
    // Weight 2 accrued 6.666…: 6 down, 7 up.
    assert_eq!(accrued(2, acc).unwrap(), 6);
    assert_eq!(reward_debt(2, acc).unwrap(), 7);
    // Whole and fractional parts both count: 2.5 per weight × 4 = 10 exactly.
    let acc = 5 * SCALE / 2;
    assert_eq!(accrued(4, acc).unwrap(), 10);
    assert_eq!(reward_debt(4, acc).unwrap(), 10);
    assert_eq!(accrued(3, acc).unwrap(), 7);
    assert_eq!(reward_debt(3, acc).unwrap(), 8);
    // Earned since the debt was set: accrued − debt, never negative.
    assert_eq!(earned(3, acc, 5).unwrap(), 2);
    assert_eq!(earned(3, acc, 8).unwrap(), 0);
    assert_eq!(earned(3, 4 * SCALE, 7).unwrap(), 5);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// accrued = ⌊w·acc / 1e18⌋ and reward_debt = ⌈w·acc / 1e18⌉ against a wide exact product
    /// (u128 halves), for any u64 weight and any accumulator whose whole part fits a u64.
    #[test]
    fn accrual_and_debt_are_the_exact_quotient_rounded(w in any::<u64>(), whole in 0u64..1 << 40, frac in 0u128..SCALE) {
        let acc = whole as u128 * SCALE + frac;
        // w × acc = w × whole × 1e18 + w × frac: the first term divides exactly.
        let exact_whole = w as u128 * whole as u128;
        let n = w as u128 * frac;
        let (q, r) = (n / SCALE, n % SCALE);
        prop_assert_eq!(accrued(w, acc).unwrap(), exact_whole + q);
        prop_assert_eq!(reward_debt(w, acc).unwrap(), exact_whole + q + u128::from(r != 0));
    }
}

#[test]
fn log2_q32_is_exact_on_powers_of_two_and_close_elsewhere() {
    for k in 0..=64u32 {
        assert_eq!(log2_q32(1u128 << k), (k as u64) << 32);
    }
    for x in [
        3u128,
        5,
        7,
        10,
        1_000,
        123_456_789,
        u64::MAX as u128,
        1u128 << 64,
    ] {
        let exact = (x as f64).log2();
        let got = log2_q32(x) as f64 / 4_294_967_296.0;
        assert!(
            (exact - got).abs() < 1e-8,
            "log2({x}) = {got}, want {exact}"
        );
        assert!(got <= exact + 1e-12, "rounds down");
    }
}

#[test]
fn log2_q32_stays_within_its_error_bound_across_the_range() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        // xorshift: spread over every magnitude by shifting a random amount.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = (x >> (x % 64)).max(1) as u128;
        let exact = (v as f64).log2();
        let got = log2_q32(v) as f64 / 4_294_967_296.0;
        assert!(
            (exact - got).abs() < 2f64.powi(-27),
            "log2({v}) = {got}, want {exact}"
        );
    }
}

#[test]
fn a_ticket_is_lower_for_more_weight_and_for_a_larger_uniform() {
    assert_eq!(race_ticket(7, 0), None);
    let t = |u, w| race_ticket(u, w).unwrap();
    assert!(t(1 << 40, 2_000) < t(1 << 40, 1_000));
    assert!(t(1 << 50, 1_000) < t(1 << 40, 1_000));
    // U = 1 (the largest uniform) gives the zero ticket, at any weight.
    assert_eq!(t(u64::MAX, 1), 0);
    // U = 2^-64: -log2 = 64, the largest ticket, still finite at weight 1.
    assert_eq!(t(0, 1), (64u128 << 32) << 64);
}

/// Who wins each race: `keys` are (owner, weight); the winner's owner.
fn race_winner(seed: u64, keys: &[(usize, u64)]) -> usize {
    let seed = solana_sha256_hasher::hashv(&[&seed.to_le_bytes()]).to_bytes();
    let job = [9u8; 32];
    keys.iter()
        .enumerate()
        .map(|(i, &(owner, w))| {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            (
                race_ticket(race_uniform(&seed, &job, &key), w).unwrap(),
                owner,
            )
        })
        .min()
        .unwrap()
        .1
}

/// The property the sortition exists for, checked statistically against the stake shares:
/// an owner's chance of verifying equals its share of the racing stake, and splitting the same
/// stake over many keys gains nothing. 20 000 races; 4.5 standard deviations of slack.
#[test]
fn an_owners_chance_is_its_stake_share_however_it_splits_its_stake() {
    const RACES: u64 = 20_000;
    let share_of = |keys: &[(usize, u64)]| {
        let wins = (0..RACES).filter(|&s| race_winner(s, keys) == 1).count();
        wins as f64 / RACES as f64
    };
    // Honest stake 7 000 over three keys; the coalition (owner 1) holds 3 000 = 30 %.
    let honest = [(0usize, 4_000u64), (0, 2_000), (0, 1_000)];
    let one_key: Vec<_> = honest.iter().copied().chain([(1, 3_000)]).collect();
    let ten_keys: Vec<_> = honest.iter().copied().chain([(1, 300); 10]).collect();
    let uneven: Vec<_> = honest
        .iter()
        .copied()
        .chain([(1, 2_990), (1, 5), (1, 5)])
        .collect();
    let sd = (0.3f64 * 0.7 / RACES as f64).sqrt();
    for (name, keys) in [
        ("one key", &one_key),
        ("ten keys", &ten_keys),
        ("uneven", &uneven),
    ] {
        let p = share_of(keys);
        assert!(
            (p - 0.3).abs() < 4.5 * sd,
            "{name}: coalition won {p}, stake share 0.3"
        );
    }
    // At 1 % the same holds (the race does not favour small stakes either).
    let small: Vec<_> = [(0usize, 9_900u64), (1, 50), (1, 50)].into();
    let p = share_of(&small);
    let sd = (0.01f64 * 0.99 / RACES as f64).sqrt();
    assert!((p - 0.01).abs() < 4.5 * sd, "1 % stake won {p}");
}
