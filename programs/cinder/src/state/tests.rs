//! Unit tests of the account methods, one boundary at a time (issue 14, point 14: every
//! mutant `cargo-mutants` makes of `state/` must fail one of them or be explained in
//! TESTING.md). Expected values are worked out by hand here, never by calling the method
//! under test again.
use super::*;
use crate::{constants::*, errors::CinderError};
use anchor_lang::prelude::*;
use bytemuck::Zeroable;

/// The error code of a refusal (panics on `Ok`).
fn code<T: core::fmt::Debug>(r: Result<T>) -> u32 {
    match r.expect_err("expected a refusal") {
        anchor_lang::error::Error::AnchorError(e) => e.error_code_number,
        other => panic!("not a program error: {other:?}"),
    }
}

fn named(e: CinderError) -> u32 {
    u32::from(e)
}

#[test]
fn account_sizes_and_filter_offsets_are_the_published_layout() {
    // Clients allocate and filter by these numbers (the TS client, the worker's memcmp
    // filters): any change is a protocol change. Each is the 8-byte discriminator + struct.
    assert_eq!(Config::SPACE, 232);
    assert_eq!(Market::SPACE, 328);
    assert_eq!(Provider::SPACE, 336);
    assert_eq!(Job::SPACE, 752);
    assert_eq!(StakePool::SPACE, 256);
    assert_eq!(StakePosition::SPACE, 136);
    assert_eq!(
        (
            Job::MARKET_OFFSET,
            Job::CLIENT_OFFSET,
            Job::PROVIDER_OFFSET,
            Job::STATE_OFFSET
        ),
        (8, 40, 72, 104)
    );
}

// ---- fixed-size ASCII, Bps, Flag ----------------------------------------------------------

#[test]
fn fixed_ascii_takes_1_to_n_printable_bytes_zero_padded() {
    assert_eq!(fixed_ascii::<4>(b"ab"), Some(*b"ab\0\0"));
    assert_eq!(fixed_ascii::<4>(b"abcd"), Some(*b"abcd"), "exactly N bytes");
    assert_eq!(fixed_ascii::<4>(b"abcde"), None, "N + 1 bytes");
    assert_eq!(fixed_ascii::<4>(b""), None, "empty");
    assert_eq!(
        fixed_ascii::<4>(b" ~"),
        Some(*b" ~\0\0"),
        "0x20 and 0x7e are printable"
    );
    assert_eq!(fixed_ascii::<4>(b"a\x1f"), None, "0x1f is a control byte");
    assert_eq!(fixed_ascii::<4>(b"a\x7f"), None, "0x7f is DEL");
}

#[test]
fn bps_check_names_its_own_error_above_max_and_bps_out_of_range_above_100_percent() {
    assert!(Bps(2_000).check(2_000, CinderError::FeeTooHigh).is_ok());
    assert_eq!(
        code(Bps(2_001).check(2_000, CinderError::FeeTooHigh)),
        named(CinderError::FeeTooHigh)
    );
    assert!(Bps(10_000).check(10_000, CinderError::FeeTooHigh).is_ok());
    assert_eq!(
        code(Bps(10_001).check(u16::MAX, CinderError::FeeTooHigh)),
        named(CinderError::BpsOutOfRange),
        "above 100 % even when max allows it"
    );
}

#[test]
fn flag_is_false_only_for_zero() {
    assert_eq!(Flag::new(true), Flag(1));
    assert_eq!(Flag::new(false), Flag(0));
    assert!(Flag(1).get() && Flag(2).get());
    assert!(!Flag(0).get());
}

// ---- Job ----------------------------------------------------------------------------------

fn job(state: JobState) -> Job {
    let mut j = Job::zeroed();
    j.state = state;
    if state != JobState::Open {
        j.provider = Pubkey::new_unique();
        j.claimed_at = 100;
        j.deadline = 200;
        j.max_duration_secs = 100;
        j.billed_secs = 100;
    }
    j
}

#[test]
fn job_invariant_per_state() {
    let bad = named(CinderError::InvariantViolated);
    assert!(job(JobState::Open).invariant().is_ok());
    let mut j = job(JobState::Open);
    j.provider = Pubkey::new_unique();
    assert_eq!(code(j.invariant()), bad, "an open job has no provider");
    let mut j = job(JobState::Open);
    j.claimed_at = 1;
    assert_eq!(code(j.invariant()), bad, "an open job was never claimed");
    let mut j = job(JobState::Open);
    j.submitted_at = 1;
    assert_eq!(code(j.invariant()), bad, "an open job was never submitted");

    let mut j = job(JobState::Running);
    assert!(j.invariant().is_ok());
    j.deadline = j.claimed_at;
    assert!(j.invariant().is_ok(), "deadline equal to the claim");
    j.deadline = j.claimed_at - 1;
    assert_eq!(code(j.invariant()), bad, "deadline before the claim");
    let mut j = job(JobState::Running);
    j.provider = Pubkey::default();
    assert_eq!(code(j.invariant()), bad, "a running job has a provider");

    for state in [JobState::Submitted, JobState::Verified, JobState::Escalated] {
        let mut j = job(state);
        assert!(j.invariant().is_ok(), "billed == max");
        j.billed_secs = j.max_duration_secs + 1;
        assert_eq!(code(j.invariant()), bad, "billed above max");
        let mut j = job(state);
        j.provider = Pubkey::default();
        assert_eq!(code(j.invariant()), bad, "no provider");
    }

    let mut j = job(JobState::Open);
    j.spec_uri_len = URI_LEN as u8;
    assert!(j.invariant().is_ok());
    j.spec_uri_len = URI_LEN as u8 + 1;
    assert_eq!(code(j.invariant()), bad, "uri longer than its buffer");
}

#[test]
fn reopen_keeps_who_ran_it_and_when_and_nothing_else_of_the_run() {
    let mut j = job(JobState::Running);
    let provider = j.provider;
    j.stake_locked = 77;
    j.reopen(5_000);
    assert_eq!(j.state, JobState::Open);
    assert_eq!(j.last_provider, provider);
    assert_eq!(j.reopened_at, 5_000);
    assert_eq!(j.provider, Pubkey::default());
    assert_eq!((j.claimed_at, j.deadline, j.stake_locked), (0, 0, 0));
    assert!(j.invariant().is_ok());
}

#[test]
fn must_verify_after_a_draw_or_after_the_reveal_window_of_a_sampling_market() {
    let mut j = job(JobState::Submitted);
    j.submitted_slot = 1_000;
    let end = 1_000 + REVEAL_WINDOW_SLOTS;
    j.sample_status = SampleStatus::Sampled;
    assert!(j.must_verify(0));
    j.sample_status = SampleStatus::NotSampled;
    assert!(!j.must_verify(u64::MAX));
    j.sample_status = SampleStatus::Unrevealed;
    j.verify_rate_bps = 1;
    assert!(!j.must_verify(end), "the last slot of the reveal window");
    assert!(j.must_verify(end + 1), "the first slot after it");
    j.verify_rate_bps = 0;
    assert!(!j.must_verify(u64::MAX), "a market that never samples");
    j.verify_rate_bps = 1;
    j.submitted_slot = u64::MAX - 1;
    assert!(
        !j.must_verify(u64::MAX),
        "the window saturates, never wraps"
    );
}

#[test]
fn races_follow_each_other_from_the_origin() {
    const R: u64 = VERIFIER_RACE_SLOTS;
    let mut j = job(JobState::Verifying);
    j.submitted_slot = 1_000;
    assert_eq!(
        j.race_origin(),
        1_000 + SAMPLE_DELAY_SLOTS,
        "default: the draw slot"
    );
    j.submitted_slot = u64::MAX - 1;
    assert_eq!(j.race_origin(), u64::MAX, "saturates");
    j.race_origin = 5_000u64.to_le_bytes();
    assert_eq!(j.race_origin(), 5_000, "a set origin wins");

    assert_eq!(j.race_at(4_999), None);
    assert_eq!(
        j.race_at(5_000),
        None,
        "the origin's own hash is not known yet"
    );
    assert_eq!(j.race_at(5_001), Some((5_000, 5_000 + R)));
    assert_eq!(
        j.race_at(5_000 + R),
        Some((5_000, 5_000 + R)),
        "a race's last slot"
    );
    assert_eq!(j.race_at(5_001 + R), Some((5_000 + R, 5_000 + 2 * R)));
    assert_eq!(
        j.race_at(5_000 + 2 * R + 1),
        Some((5_000 + 2 * R, 5_000 + 3 * R))
    );

    j.race_origin = (u64::MAX - 10).to_le_bytes();
    assert_eq!(
        j.race_at(u64::MAX),
        None,
        "a race that would end past u64::MAX"
    );
}

#[test]
fn little_endian_fields_read_back_and_clear() {
    let mut j = job(JobState::Escalated);
    j.race_closes = 0x0102_0304_0506_0708u64.to_le_bytes();
    j.verifier_ticket = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128.to_le_bytes();
    j.first_verifier_stake = 0x1112_1314_1516_1718u64.to_le_bytes();
    j.client_bond = 0x2122_2324_2526_2728u64.to_le_bytes();
    assert_eq!(j.race_closes(), 0x0102_0304_0506_0708);
    assert_eq!(
        j.verifier_ticket(),
        0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10
    );
    assert_eq!(j.first_verifier_stake(), 0x1112_1314_1516_1718);
    assert_eq!(j.client_bond(), 0x2122_2324_2526_2728);
    j.clear_race();
    assert_eq!((j.race_closes(), j.verifier_ticket()), (0, 0));
    assert_eq!(
        j.first_verifier_stake(),
        0x1112_1314_1516_1718,
        "not part of a race"
    );
}

#[test]
fn escalation_lapses_at_the_verification_timeout_of_the_first_mismatch() {
    let mut j = job(JobState::Escalated);
    assert!(!j.escalated(), "no first verifier yet");
    j.first_verifier = Pubkey::new_unique();
    assert!(j.escalated());
    j.disputed_at = 10_000;
    j.verification_timeout_secs = 600;
    assert!(!j.escalation_lapsed(10_599));
    assert!(j.escalation_lapsed(10_600));
    assert_eq!(
        j.referred_at(),
        10_600,
        "the arbiter's clock starts at the lapse"
    );
    j.state = JobState::Disputed;
    assert!(
        !j.escalation_lapsed(i64::MAX),
        "only an escalated job lapses"
    );
    assert_eq!(
        j.referred_at(),
        10_000,
        "a dispute: from the second verdict"
    );
    j.state = JobState::Escalated;
    j.disputed_at = i64::MAX - 1;
    assert_eq!(j.referred_at(), i64::MAX, "saturates");
    assert!(!j.escalation_lapsed(i64::MAX - 1));
}

#[test]
fn verification_lapses_only_without_a_verifier_after_window_and_timeout() {
    let mut j = job(JobState::Verifying);
    j.submitted_at = 1_000;
    j.challenge_window_secs = 300;
    j.verification_timeout_secs = 600;
    assert!(!j.verification_lapsed(1_899));
    assert!(j.verification_lapsed(1_900));
    j.verifier = Pubkey::new_unique();
    assert!(!j.verification_lapsed(i64::MAX), "a verifier holds it");
}

// ---- StakePool / StakePosition ------------------------------------------------------------

const E18: u128 = 1_000_000_000_000_000_000;

fn pool(decimals: u8, total_weight: u64) -> StakePool {
    let mut p = StakePool::zeroed();
    p.decimals = decimals;
    p.total_weight = total_weight;
    p
}

#[test]
fn pod_u128_round_trips_little_endian() {
    let mut v = PodU128::default();
    v.set(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    assert_eq!(v.0[0], 0x10);
    assert_eq!(v.get(), 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
}

#[test]
fn min_stake_is_one_whole_token() {
    assert_eq!(pool(0, 0).min_stake(), 1);
    assert_eq!(pool(6, 0).min_stake(), 1_000_000);
    assert_eq!(pool(9, 0).min_stake(), 1_000_000_000);
}

#[test]
fn rewards_go_to_the_treasury_below_one_token_of_weight_and_to_stakers_from_it() {
    let mut p = pool(6, 999_999);
    assert!(!p.accrue_rewards(500).unwrap());
    assert_eq!(p.total_rewards_to_treasury, 500);
    assert_eq!(
        (p.acc_reward_per_weight.get(), p.total_rewards_deposited),
        (0, 0)
    );

    let mut p = pool(6, 1_000_000);
    p.acc_reward_per_weight.set(7);
    assert!(p.accrue_rewards(3).unwrap());
    assert_eq!(p.acc_reward_per_weight.get(), 7 + 3 * E18 / 1_000_000);
    assert_eq!(p.total_rewards_deposited, 3);
    assert_eq!(p.total_rewards_to_treasury, 0);
    assert!(p.accrue_rewards(4).unwrap());
    assert_eq!(p.total_rewards_deposited, 7, "deposits add up");
}

fn position(amount: u64, unbonding: u64) -> StakePosition {
    let mut s = StakePosition::zeroed();
    s.amount = amount;
    s.weight = amount;
    s.unbonding = unbonding;
    s
}

#[test]
fn settle_rewards_adds_what_the_accumulator_grew_since_the_last_debt() {
    let mut p = pool(0, 1_000);
    p.acc_reward_per_weight.set(5 * E18 / 2); // 2.5 per unit of weight
    let mut s = position(1_000, 0);
    s.reward_debt.set(1_000); // settled at 1.0 per weight
    s.pending_rewards = 7;
    s.settle_rewards(&p).unwrap();
    assert_eq!(s.pending_rewards, 7 + 1_500);
    assert_eq!(s.reward_debt.get(), 2_500);
}

#[test]
fn reweight_keeps_the_pool_total_in_step_and_resets_the_debt() {
    let mut p = pool(0, 10_000);
    p.acc_reward_per_weight.set(2 * E18);
    let mut s = position(1_000, 0);
    s.weight = 500; // stale: the amount grew
    s.lock_secs = 365 * DAY_SECS; // weight × 4
    s.reweight(&mut p).unwrap();
    assert_eq!(s.weight, 4_000);
    assert_eq!(p.total_weight, 10_000 - 500 + 4_000);
    assert_eq!(s.reward_debt.get(), 8_000);
}

#[test]
fn take_draws_active_stake_first_then_unbonding_and_never_more_than_there_is() {
    let mut p = pool(0, 100);
    p.total_staked = 1_000;
    let mut s = position(100, 50);
    assert_eq!(s.take(&mut p, 30).unwrap(), 30);
    assert_eq!((s.amount, s.unbonding, s.weight), (70, 50, 70));
    assert_eq!((p.total_weight, p.total_staked), (70, 970));
    assert_eq!(s.take(&mut p, 100).unwrap(), 100);
    assert_eq!((s.amount, s.unbonding, s.weight), (0, 20, 0));
    assert_eq!((p.total_weight, p.total_staked), (0, 870));
    assert_eq!(s.take(&mut p, 1_000).unwrap(), 20, "only what is left");
    assert_eq!((s.amount, s.unbonding), (0, 0));
    assert_eq!(p.total_staked, 850);
}

#[test]
fn take_settles_rewards_at_the_old_weight_first() {
    let mut p = pool(0, 100);
    p.total_staked = 100;
    p.acc_reward_per_weight.set(3 * E18);
    let mut s = position(100, 0);
    s.take(&mut p, 40).unwrap();
    assert_eq!(s.pending_rewards, 300, "earned on all 100 before the slash");
    assert_eq!(s.reward_debt.get(), 180);
}

#[test]
fn slash_takes_bps_of_active_plus_unbonding_rounded_down() {
    let mut p = pool(0, 101);
    p.total_staked = 1_000;
    let mut s = position(101, 50);
    assert_eq!(
        s.slash(&mut p, 5_000).unwrap(),
        75,
        "151 × 50 % = 75.5, floored"
    );
    assert_eq!((s.amount, s.unbonding), (26, 50));
    assert_eq!(s.slash(&mut p, 10_000).unwrap(), 76);
    assert_eq!((s.amount, s.unbonding), (0, 0));
}

#[test]
fn stake_invariant_ties_weight_to_amount() {
    let bad = named(CinderError::InvariantViolated);
    assert!(position(0, 0).invariant().is_ok());
    assert!(position(10, 0).invariant().is_ok(), "weight == amount");
    let mut s = position(0, 0);
    s.weight = 1;
    assert_eq!(code(s.invariant()), bad, "weight without stake");
    let mut s = position(1, 0);
    s.weight = 0;
    assert_eq!(code(s.invariant()), bad, "stake without weight");
    let mut s = position(10, 0);
    s.weight = 9;
    assert_eq!(code(s.invariant()), bad, "weight below the amount");
}

// ---- Provider -----------------------------------------------------------------------------

fn provider() -> Provider {
    let mut p = Provider::zeroed();
    p.gpu_count = 8;
    p.vram_gib = 80;
    p.gpu_model[..4].copy_from_slice(b"H100");
    p
}

#[test]
fn provider_invariant() {
    let bad = named(CinderError::InvariantViolated);
    let mut p = provider();
    p.endpoint_len = URI_LEN as u8;
    assert!(p.invariant().is_ok());
    p.endpoint_len = URI_LEN as u8 + 1;
    assert_eq!(code(p.invariant()), bad);
    let mut p = provider();
    p.gpu_count = 0;
    assert_eq!(code(p.invariant()), bad);
}

#[test]
fn release_job_frees_one_job_and_its_stake_and_refuses_to_underflow() {
    let bad = named(CinderError::InvariantViolated);
    let mut p = provider();
    p.active_jobs = 2;
    p.locked_stake = 100;
    p.release_job(40).unwrap();
    assert_eq!((p.active_jobs, p.locked_stake), (1, 60));
    p.release_job(60).unwrap();
    assert_eq!((p.active_jobs, p.locked_stake), (0, 0));
    assert_eq!(code(p.release_job(0)), bad, "no job running");
    p.active_jobs = 1;
    assert_eq!(code(p.release_job(1)), bad, "more stake than is locked");
}

#[test]
fn a_provider_satisfies_a_market_with_the_same_model_and_at_least_its_memory_and_gpus() {
    let mut m = valid_market_params();
    m.gpu_model = provider().gpu_model;
    m.min_vram_gib = 80;
    m.min_gpus_per_job = 8;
    assert!(provider().satisfies(&m), "exactly the minimum");
    let mut p = provider();
    p.vram_gib = 79;
    assert!(!p.satisfies(&m));
    let mut p = provider();
    p.gpu_count = 7;
    assert!(!p.satisfies(&m));
    let mut p = provider();
    p.gpu_model[4] = b'X';
    assert!(!p.satisfies(&m));
}

// ---- MarketParams / Market ----------------------------------------------------------------

fn valid_market_params() -> MarketParams {
    let mut gpu_model = [0u8; GPU_MODEL_LEN];
    gpu_model[..4].copy_from_slice(b"H100");
    MarketParams {
        min_price_per_sec: 1,
        min_provider_stake: 1,
        stake_per_job: 1,
        max_duration_secs: 1,
        expire_grace_secs: 0,
        challenge_window_secs: MIN_CHALLENGE_WINDOW_SECS,
        verification_timeout_secs: MIN_CHALLENGE_WINDOW_SECS,
        min_vram_gib: 0,
        min_gpus_per_job: 1,
        _reserved: [0],
        verify_rate_bps: Bps(0),
        verification_fee_bps: Bps(0),
        fraud_slash_bps: Bps(0),
        timeout_slash_bps: Bps(0),
        slash_reward_bps: Bps(0),
        quit_penalty_bps: Bps(0),
        gpu_model,
        arbiter: Pubkey::default(),
    }
}

/// `valid_market_params` with one change: Ok or the named error.
fn market_with(change: impl FnOnce(&mut MarketParams)) -> core::result::Result<(), u32> {
    let mut m = valid_market_params();
    change(&mut m);
    m.validate().map_err(|e| code::<()>(Err(e)))
}

#[test]
fn market_params_accept_every_bound_and_refuse_one_past_it_by_name() {
    use CinderError as E;
    let err = |e: E| Err(named(e));
    assert_eq!(market_with(|_| {}), Ok(()));
    assert_eq!(
        market_with(|m| m.min_price_per_sec = 0),
        err(E::InvalidMarketParams)
    );
    assert_eq!(
        market_with(|m| m.max_duration_secs = 0),
        err(E::InvalidMarketParams)
    );
    let max = MAX_JOB_DURATION_SECS;
    assert_eq!(market_with(|m| m.max_duration_secs = max), Ok(()));
    assert_eq!(
        market_with(|m| m.max_duration_secs = max + 1),
        err(E::InvalidMarketParams)
    );
    assert_eq!(
        market_with(|m| m.min_gpus_per_job = 0),
        err(E::InvalidMarketParams)
    );
    assert_eq!(
        market_with(|m| m._reserved = [1]),
        err(E::InvalidMarketParams)
    );
    assert_eq!(
        market_with(|m| m.min_provider_stake = 0),
        err(E::ZeroStakeTerms)
    );
    assert_eq!(market_with(|m| m.stake_per_job = 0), err(E::ZeroStakeTerms));
    let grace = MAX_EXPIRE_GRACE_SECS;
    assert_eq!(market_with(|m| m.expire_grace_secs = grace), Ok(()));
    assert_eq!(
        market_with(|m| m.expire_grace_secs = grace + 1),
        err(E::GraceTooLong)
    );
    let (lo, hi) = (MIN_CHALLENGE_WINDOW_SECS, MAX_CHALLENGE_WINDOW_SECS);
    for window in [
        (|m: &mut MarketParams, v| m.challenge_window_secs = v) as fn(&mut MarketParams, u32),
        |m, v| m.verification_timeout_secs = v,
    ] {
        assert_eq!(market_with(|m| window(m, hi)), Ok(()));
        assert_eq!(
            market_with(|m| window(m, lo - 1)),
            err(E::ChallengeWindowOutOfRange)
        );
        assert_eq!(
            market_with(|m| window(m, hi + 1)),
            err(E::ChallengeWindowOutOfRange)
        );
    }
    type SetBps = fn(&mut MarketParams, Bps);
    let rows: [(SetBps, u16, E); 6] = [
        (|m, b| m.verify_rate_bps = b, 10_000, E::BpsOutOfRange),
        (
            |m, b| m.verification_fee_bps = b,
            MAX_VERIFICATION_FEE_BPS,
            E::FeeTooHigh,
        ),
        (|m, b| m.fraud_slash_bps = b, 10_000, E::BpsOutOfRange),
        (
            |m, b| m.timeout_slash_bps = b,
            MAX_TIMEOUT_SLASH_BPS,
            E::TimeoutSlashTooHigh,
        ),
        (|m, b| m.slash_reward_bps = b, 10_000, E::BpsOutOfRange),
        (
            |m, b| m.quit_penalty_bps = b,
            MAX_TIMEOUT_SLASH_BPS,
            E::TimeoutSlashTooHigh,
        ),
    ];
    for (set, max, error) in rows {
        assert_eq!(market_with(|m| set(m, Bps(max))), Ok(()));
        assert_eq!(market_with(|m| set(m, Bps(max + 1))), err(error));
    }
    assert_eq!(
        market_with(|m| m.gpu_model = [0; GPU_MODEL_LEN]),
        err(E::InvalidGpuModel)
    );
}

#[test]
fn a_market_is_valid_when_its_params_are() {
    let mut market = Market::zeroed();
    market.params = valid_market_params();
    assert!(market.invariant().is_ok());
    market.params.stake_per_job = 0;
    assert_eq!(code(market.invariant()), named(CinderError::ZeroStakeTerms));
}

#[test]
fn gpu_model_is_1_to_32_printable_bytes_then_zeros() {
    let model = |text: &[u8]| {
        let mut m = [0u8; GPU_MODEL_LEN];
        m[..text.len()].copy_from_slice(text);
        check_gpu_model(&m)
    };
    let bad = named(CinderError::InvalidGpuModel);
    assert!(model(b"A").is_ok());
    assert!(model(b" ~").is_ok(), "0x20 and 0x7e");
    assert!(model(&[b'x'; GPU_MODEL_LEN]).is_ok(), "all 32 bytes");
    assert_eq!(code(model(b"")), bad);
    assert_eq!(code(model(b"A\x1f")), bad);
    assert_eq!(code(model(b"A\x7f")), bad);
    assert_eq!(code(model(b"A\0B")), bad, "text after the padding");
}

// ---- ConfigParams / Config ----------------------------------------------------------------

fn valid_config_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: Bps(0),
        burn_bps: Bps(5_000),
        stakers_bps: Bps(3_000),
        treasury_bps: Bps(2_000),
        min_lock_secs: MIN_LOCK_SECS,
        max_lock_secs: MAX_LOCK_SECS,
        treasury: Pubkey::default(),
    }
}

fn config_with(change: impl FnOnce(&mut ConfigParams)) -> core::result::Result<(), u32> {
    let mut c = valid_config_params();
    change(&mut c);
    c.validate().map_err(|e| code::<()>(Err(e)))
}

#[test]
fn config_params_accept_every_bound_and_refuse_one_past_it_by_name() {
    use CinderError as E;
    let err = |e: E| Err(named(e));
    assert_eq!(config_with(|_| {}), Ok(()));
    let fee = MAX_PROTOCOL_FEE_BPS;
    assert_eq!(config_with(|c| c.protocol_fee_bps = Bps(fee)), Ok(()));
    assert_eq!(
        config_with(|c| c.protocol_fee_bps = Bps(fee + 1)),
        err(E::FeeTooHigh)
    );
    assert_eq!(
        config_with(|c| c.treasury_bps = Bps(1_999)),
        err(E::FeeSplitNot100Percent)
    );
    assert_eq!(
        config_with(|c| c.treasury_bps = Bps(2_001)),
        err(E::FeeSplitNot100Percent)
    );
    for set in [
        (|c: &mut ConfigParams, b| c.burn_bps = b) as fn(&mut ConfigParams, Bps),
        |c, b| c.stakers_bps = b,
        |c, b| c.treasury_bps = b,
    ] {
        assert_eq!(
            config_with(|c| {
                (c.burn_bps, c.stakers_bps, c.treasury_bps) = (Bps(0), Bps(0), Bps(0));
                set(c, Bps(10_000));
            }),
            Ok(()),
            "all of it to one share"
        );
        assert_eq!(config_with(|c| set(c, Bps(10_001))), err(E::BpsOutOfRange));
    }
    assert_eq!(
        config_with(|c| c.min_lock_secs = MIN_LOCK_SECS - 1),
        err(E::LockBoundsOutOfRange)
    );
    assert_eq!(
        config_with(|c| c.max_lock_secs = MAX_LOCK_SECS + 1),
        err(E::LockBoundsOutOfRange)
    );
    assert_eq!(
        config_with(|c| c.max_lock_secs = MIN_LOCK_SECS),
        Ok(()),
        "min == max"
    );
    assert_eq!(
        config_with(|c| (c.min_lock_secs, c.max_lock_secs) = (MIN_LOCK_SECS + 1, MIN_LOCK_SECS)),
        err(E::LockBoundsOutOfRange),
        "min above max"
    );
}

#[test]
fn a_config_needs_an_admin_and_valid_params() {
    let mut config = Config::zeroed();
    config.params = valid_config_params();
    assert_eq!(
        code(config.invariant()),
        named(CinderError::InvariantViolated)
    );
    config.admin = Pubkey::new_unique();
    assert!(config.invariant().is_ok());
    config.params.treasury_bps = Bps(0);
    assert_eq!(
        code(config.invariant()),
        named(CinderError::FeeSplitNot100Percent)
    );
}

// ---- AuctionParams / Auction --------------------------------------------------------------

fn valid_auction_params() -> AuctionParams {
    AuctionParams {
        init_price: 1_000,
        floor_price: 10,
        epoch_period_secs: MIN_EPOCH_PERIOD_SECS,
        price_multiplier_bps: MIN_PRICE_MULTIPLIER_BPS,
        min_init_price: 100,
    }
}

fn auction_with(change: impl FnOnce(&mut AuctionParams)) -> core::result::Result<(), u32> {
    let mut a = valid_auction_params();
    change(&mut a);
    a.validate().map_err(|e| code::<()>(Err(e)))
}

#[test]
fn auction_params_accept_every_bound_and_refuse_one_past_it_by_name() {
    use CinderError as E;
    let err = |e: E| Err(named(e));
    assert_eq!(auction_with(|_| {}), Ok(()));
    assert_eq!(
        auction_with(|a| a.floor_price = 100),
        Ok(()),
        "floor == min init"
    );
    assert_eq!(
        auction_with(|a| a.floor_price = 101),
        err(E::InvalidAuctionParams)
    );
    assert_eq!(
        auction_with(|a| a.init_price = 100),
        Ok(()),
        "init == min init"
    );
    assert_eq!(
        auction_with(|a| a.init_price = 99),
        err(E::InvalidAuctionParams)
    );
    assert_eq!(
        auction_with(|a| (a.min_init_price, a.floor_price) = (0, 0)),
        err(E::InvalidAuctionParams)
    );
    assert_eq!(auction_with(|a| a.floor_price = 0), err(E::ZeroFloorPrice));
    let (lo, hi) = (MIN_EPOCH_PERIOD_SECS, MAX_EPOCH_PERIOD_SECS);
    assert_eq!(auction_with(|a| a.epoch_period_secs = hi), Ok(()));
    assert_eq!(
        auction_with(|a| a.epoch_period_secs = lo - 1),
        err(E::InvalidAuctionParams)
    );
    assert_eq!(
        auction_with(|a| a.epoch_period_secs = hi + 1),
        err(E::InvalidAuctionParams)
    );
    let (lo, hi) = (MIN_PRICE_MULTIPLIER_BPS, MAX_PRICE_MULTIPLIER_BPS);
    assert_eq!(auction_with(|a| a.price_multiplier_bps = hi), Ok(()));
    assert_eq!(
        auction_with(|a| a.price_multiplier_bps = lo - 1),
        err(E::InvalidAuctionParams)
    );
    assert_eq!(
        auction_with(|a| a.price_multiplier_bps = hi + 1),
        err(E::InvalidAuctionParams)
    );
}

fn auction(params: AuctionParams) -> Auction {
    Auction {
        payment_mint: Pubkey::default(),
        payment_token_program: Pubkey::default(),
        fee_vault: Pubkey::default(),
        params,
        epoch: 0,
        epoch_start: 0,
        epoch_init_price: params.init_price,
        total_paid: 0,
        total_sold: 0,
        last_price: 0,
        bump: 0,
        fee_vault_bump: 0,
        _reserved: [0; 40],
    }
}

#[test]
fn an_auction_epoch_never_starts_below_the_floor() {
    let mut a = auction(valid_auction_params());
    assert!(a.invariant().is_ok());
    a.epoch_init_price = a.params.floor_price;
    assert!(a.invariant().is_ok(), "at the floor");
    a.epoch_init_price = a.params.floor_price - 1;
    assert_eq!(code(a.invariant()), named(CinderError::InvariantViolated));
    let mut a = auction(valid_auction_params());
    a.params.floor_price = 0;
    assert_eq!(code(a.invariant()), named(CinderError::ZeroFloorPrice));
}

#[test]
fn next_init_price_scales_by_the_multiplier_in_bps() {
    let a = auction(valid_auction_params()); // 1.1×, min 100
    assert_eq!(a.next_init_price(1_000), 1_100);
    assert_eq!(a.next_init_price(1_009), 1_109, "rounded down");
    assert_eq!(a.next_init_price(90), 100, "the minimum");
}

/// An auction of the whole vault from `init` down to `floor` over `period`, its epoch starting
/// at 1 000 (a 2× multiplier).
fn falling(init: u64, floor: u64, period: u32) -> Auction {
    let mut a = auction(AuctionParams {
        init_price: init,
        floor_price: floor,
        epoch_period_secs: period,
        price_multiplier_bps: 20_000,
        min_init_price: floor.max(1),
    });
    a.epoch_start = 1_000;
    a
}

#[test]
fn price_falls_linearly_to_the_floor() {
    let a = falling(1_000_000, 1_000, 3_600);
    assert_eq!(a.price_at(1_000).unwrap(), 1_000_000);
    assert_eq!(
        a.price_at(0).unwrap(),
        1_000_000,
        "before the start: init price"
    );
    assert_eq!(a.price_at(1_000 + 1_800).unwrap(), 500_500);
    assert_eq!(a.price_at(1_000 + 3_599).unwrap(), 1_000 + 278); // ceil(999000 / 3600)
    assert_eq!(a.price_at(1_000 + 3_600).unwrap(), 1_000);
    assert_eq!(a.price_at(i64::MAX).unwrap(), 1_000);
}

#[test]
fn next_epoch_starts_at_multiplier_times_paid_or_the_minimum() {
    let a = falling(1_000_000, 1_000, 3_600);
    assert_eq!(a.next_init_price(400_000), 800_000);
    assert_eq!(a.next_init_price(100), 1_000);
    assert_eq!(a.next_init_price(u64::MAX), u64::MAX);
}

proptest::proptest! {
    #[test]
    fn price_is_monotone_and_bounded(
        init in 1u64..=u64::MAX,
        floor_frac in 0u64..=100,
        period in MIN_EPOCH_PERIOD_SECS..=MAX_EPOCH_PERIOD_SECS,
        t1 in 0i64..40_000_000,
        dt in 0i64..40_000_000,
    ) {
        let floor = (init as u128 * floor_frac as u128 / 100) as u64;
        let a = falling(init, floor, period);
        let p1 = a.price_at(1_000 + t1).unwrap();
        let p2 = a.price_at(1_000 + t1 + dt).unwrap();
        proptest::prop_assert!(p2 <= p1);
        proptest::prop_assert!(floor <= p2 && p1 <= init);
    }
}
