//! Staking: locks and weights, unbonding and withdrawal, stake locked by running jobs,
//! rewards by weight and time, slashing of active and unbonding stake.

use cinder::{errors::CinderError, math::weight_for, state::Bps};
use cinder_tests::{
    assert_cinder_error, ix, on_both, reference,
    world::{default_market_params, LOCK_30D, PROVIDER_STAKE},
    World,
};
use proptest::prelude::*;
use solana_sdk::{signature::Keypair, signer::Signer};

const DAY: u32 = 86_400;
const TOKENS: u64 = 1_000_000_000_000;

fn stake(
    w: &mut World,
    who: &Keypair,
    token: &solana_sdk::pubkey::Pubkey,
    amount: u64,
    lock: u32,
) -> Result<cinder_tests::TxMeta, solana_sdk::transaction::TransactionError> {
    let p = w.protocol();
    w.send(&[ix::stake(&who.pubkey(), token, &p, amount, lock)], &[who])
}

on_both!(locks_are_bounded_and_never_shortened, |w| {
    let (s, t) = w.staker(TOKENS);
    assert_cinder_error(stake(&mut w, &s, &t, 0, LOCK_30D), CinderError::ZeroAmount);
    assert_cinder_error(
        stake(&mut w, &s, &t, 1_000, 14 * DAY - 1),
        CinderError::LockOutOfRange,
    );
    assert_cinder_error(
        stake(&mut w, &s, &t, 1_000, 365 * DAY + 1),
        CinderError::LockOutOfRange,
    );
    stake(&mut w, &s, &t, 10_000_000_000, 365 * DAY).expect("one-year lock");
    assert_eq!(
        w.position(&s.pubkey()).weight,
        40_000_000_000,
        "a year counts 4x"
    );
    assert_cinder_error(
        stake(&mut w, &s, &t, 1_000, LOCK_30D),
        CinderError::LockCannotShorten,
    );
    let (s2, t2) = w.staker(TOKENS);
    stake(&mut w, &s2, &t2, 3_650_000_000, 14 * DAY).expect("two weeks");
    assert_eq!(
        w.position(&s2.pubkey()).weight,
        3_650_000_000 + 3_650_000_000 * 3 * 14 / 365
    );
    // Tokens moved into the stake vault, and the pool's totals follow.
    let pool = w.stake_pool();
    assert_eq!(w.balance(&ix::stake_vault_pda()), pool.total_staked);
    assert_eq!(
        pool.total_staked,
        PROVIDER_STAKE + 10_000_000_000 + 3_650_000_000
    );
    let provider_weight = weight_for(PROVIDER_STAKE, LOCK_30D).unwrap();
    assert_eq!(
        pool.total_weight,
        provider_weight + 40_000_000_000 + 3_650_000_000 + 420_000_000
    );
});

on_both!(rewards_follow_weight_and_time_staked, |w| {
    let p = w.protocol();
    let treasury = w.treasury_ptoken;
    let provider = w.provider.pubkey();
    let provider_weight = weight_for(PROVIDER_STAKE, LOCK_30D).unwrap();
    let (d, dt) = w.staker(10 * TOKENS);
    let deposit = |w: &mut World, amount: u64| {
        w.send(
            &[ix::deposit_rewards(&d.pubkey(), &dt, &treasury, &p, amount)],
            &[&d],
        )
    };
    deposit(&mut w, 1_000_000_000).expect("deposit 1");
    // A newcomer staking right after the deposit earns nothing from it.
    let (s, t) = w.staker(10 * TOKENS);
    stake(&mut w, &s, &t, PROVIDER_STAKE, LOCK_30D).unwrap();
    let claim = ix::claim_rewards(&s.pubkey(), &t, &p);
    assert_cinder_error(
        w.send(std::slice::from_ref(&claim), &[&s]),
        CinderError::NothingToClaim,
    );
    // Now both hold the same weight: the next deposit is shared half and half.
    deposit(&mut w, 1_000_000_000).expect("deposit 2");
    let before = w.balance(&t);
    w.send(std::slice::from_ref(&claim), &[&s]).expect("claim");
    let got = w.balance(&t) - before;
    assert!((499_999_999..=500_000_000).contains(&got), "{got}");
    // Unstaking right after: no share of later deposits.
    w.send(&[ix::request_unstake(&s.pubkey(), PROVIDER_STAKE)], &[&s])
        .unwrap();
    assert_eq!(w.position(&s.pubkey()).weight, 0);
    assert_eq!(w.stake_pool().total_weight, provider_weight);
    deposit(&mut w, 1_000_000_000).expect("deposit 3");
    assert_cinder_error(
        w.send(std::slice::from_ref(&claim), &[&s]),
        CinderError::NothingToClaim,
    );
    // The provider got all of deposit 1, half of 2, all of 3.
    let pt = w.provider_ptoken;
    let before = w.balance(&pt);
    let pv = w.provider.insecure_clone();
    w.send(&[ix::claim_rewards(&provider, &pt, &p)], &[&pv])
        .expect("provider claims");
    let got = w.balance(&pt) - before;
    assert!((2_499_999_998..=2_500_000_000).contains(&got), "{got}");
    // Never more out of the reward vault than went in.
    let pool = w.stake_pool();
    assert!(pool.total_rewards_claimed <= pool.total_rewards_deposited);
    assert_eq!(
        w.balance(&ix::reward_vault_pda()),
        pool.total_rewards_deposited - pool.total_rewards_claimed
    );
});

on_both!(with_nobody_staked_rewards_go_to_the_treasury, |w| {
    let p = w.protocol();
    let provider = w.provider.insecure_clone();
    w.send(
        &[ix::request_unstake(&provider.pubkey(), PROVIDER_STAKE)],
        &[&provider],
    )
    .unwrap();
    assert_eq!(w.stake_pool().total_weight, 0);
    let (d, dt) = w.staker(TOKENS);
    let wrong = w.protocol_account(&d.pubkey());
    let dep = ix::deposit_rewards(&d.pubkey(), &dt, &wrong, &p, 1_000);
    assert_cinder_error(w.send(&[dep], &[&d]), CinderError::NotTreasury);
    let treasury = w.treasury_ptoken;
    let dep = ix::deposit_rewards(&d.pubkey(), &dt, &treasury, &p, 1_000);
    w.send(&[dep], &[&d]).expect("to treasury");
    assert_eq!(w.balance(&treasury), 1_000);
    assert_eq!(w.stake_pool().total_rewards_to_treasury, 1_000);
});

on_both!(unbonding_unlocks_after_the_lock_and_can_be_cancelled, |w| {
    let p = w.protocol();
    let (s, t) = w.staker(TOKENS);
    stake(&mut w, &s, &t, 10_000_000_000, LOCK_30D).unwrap();
    let sk = s.pubkey();
    let withdraw = ix::withdraw_stake(&sk, &t, &p);
    assert_cinder_error(
        w.send(std::slice::from_ref(&withdraw), &[&s]),
        CinderError::NothingToWithdraw,
    );
    assert_cinder_error(
        w.send(&[ix::request_unstake(&sk, 10_000_000_001)], &[&s]),
        CinderError::StakeLockedByJobs,
    );
    w.send(&[ix::request_unstake(&sk, 4_000_000_000)], &[&s])
        .unwrap();
    let pos = w.position(&sk);
    assert_eq!((pos.amount, pos.unbonding), (6_000_000_000, 4_000_000_000));
    assert_eq!(pos.weight, weight_for(6_000_000_000, LOCK_30D).unwrap());
    // Cancel and request again: the unlock time restarts.
    w.send(&[ix::restake(&sk)], &[&s]).unwrap();
    assert_eq!(
        w.position(&sk).weight,
        weight_for(10_000_000_000, LOCK_30D).unwrap()
    );
    assert_cinder_error(
        w.send(&[ix::restake(&sk)], &[&s]),
        CinderError::NothingToWithdraw,
    );
    w.send(&[ix::request_unstake(&sk, 4_000_000_000)], &[&s])
        .unwrap();
    w.warp(LOCK_30D as i64 - 1);
    assert_cinder_error(
        w.send(std::slice::from_ref(&withdraw), &[&s]),
        CinderError::StakeStillLocked,
    );
    w.warp(1);
    let before = w.balance(&t);
    w.send(std::slice::from_ref(&withdraw), &[&s])
        .expect("withdraw");
    assert_eq!(w.balance(&t) - before, 4_000_000_000);
    assert_eq!(
        w.balance(&ix::stake_vault_pda()),
        w.stake_pool().total_staked
    );
    // Someone else's token account cannot receive it.
    w.send(&[ix::request_unstake(&sk, 1_000_000_000)], &[&s])
        .unwrap();
    w.warp(LOCK_30D as i64);
    let other = w.provider_ptoken;
    assert_cinder_error(
        w.send(&[ix::withdraw_stake(&sk, &other, &p)], &[&s]),
        CinderError::TokenOwnerMismatch,
    );
});

on_both!(claims_need_enough_free_stake_and_no_unbonding, |w| {
    let a = w.admin.pubkey();
    let provider = w.provider.insecure_clone();
    let pk = provider.pubkey();
    let k = w.post(10, 3_600);
    w.claim(&k);
    assert_eq!(w.provider_account().locked_stake, 10_000_000_000);
    // Stake locked by the running job cannot be unstaked...
    let free = PROVIDER_STAKE - 10_000_000_000;
    assert_cinder_error(
        w.send(&[ix::request_unstake(&pk, free + 1)], &[&provider]),
        CinderError::StakeLockedByJobs,
    );
    // ...the rest can, but then no new claims until it is restaked or withdrawn.
    w.send(&[ix::request_unstake(&pk, 1)], &[&provider])
        .unwrap();
    let k2 = w.post(10, 3_600);
    assert_cinder_error(w.try_claim(&k2), CinderError::ProviderUnbonding);
    w.send(&[ix::restake(&pk)], &[&provider]).unwrap();
    // A job posted while the market asks for more stake per job than is free (a job's stake
    // per claim is its own, fixed at post: k2 still asks for the old amount).
    let market = w.market;
    let mut mp = default_market_params(a);
    mp.stake_per_job = free + 1;
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
    let k3 = w.post(10, 3_600);
    assert_cinder_error(w.try_claim(&k3), CinderError::InsufficientFreeStake);
    // The market's minimum stake is an admission rule, read at claim.
    mp.stake_per_job = 1;
    mp.min_provider_stake = PROVIDER_STAKE + 1;
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
    assert_cinder_error(w.try_claim(&k2), CinderError::StakeBelowMarketMinimum);
    // The first job's lock is released when it settles, whatever the market says now.
    w.warp(10);
    w.submit(&k, 10);
    w.warp(600);
    w.settle(&k);
    assert_eq!(w.provider_account().locked_stake, 0);
});

on_both!(unbonding_stake_stays_slashable, |w| {
    let a = w.admin.pubkey();
    let market = w.market;
    let mut mp = default_market_params(a);
    mp.timeout_slash_bps = Bps(2_000);
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
    let provider = w.provider.insecure_clone();
    let pk = provider.pubkey();
    let k = w.post(10, 100);
    w.claim(&k);
    // The provider tries to run with its stake: everything not locked goes unbonding.
    let locked = 10_000_000_000;
    w.send(
        &[ix::request_unstake(&pk, PROVIDER_STAKE - locked)],
        &[&provider],
    )
    .unwrap();
    w.warp(401);
    let caller = Keypair::new();
    w.try_expire(&k, &caller).expect("expire");
    // 20% of everything (active + unbonding), active first.
    let slashed = PROVIDER_STAKE / 5;
    let pos = w.position(&pk);
    assert_eq!(pos.amount, 0);
    assert_eq!(pos.unbonding, PROVIDER_STAKE - slashed);
    assert_eq!(
        w.balance(&ix::stake_vault_pda()),
        w.stake_pool().total_staked
    );
    assert_eq!(w.stake_pool().total_weight, 0);
});

// --- property ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Stake(usize, u64),
    Unstake(usize, u64),
    Restake(usize),
    Withdraw(usize),
    Deposit(u64),
    Claim(usize),
    Warp(u32),
    /// The provider (also a staker) claims a one-second job and goes silent: expire slashes it.
    SlashProvider,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3, 1u64..1_000_000_000_000).prop_map(|(i, a)| Op::Stake(i, a)),
        2 => (0usize..3, 1u64..1_000_000_000_000).prop_map(|(i, a)| Op::Unstake(i, a)),
        1 => (0usize..3).prop_map(Op::Restake),
        1 => (0usize..3).prop_map(Op::Withdraw),
        3 => (1u64..10_000_000_000).prop_map(Op::Deposit),
        2 => (0usize..3).prop_map(Op::Claim),
        1 => (1u32..40 * DAY).prop_map(Op::Warp),
        1 => Just(Op::SlashProvider),
    ]
}

/// What claiming would pay a position now: its pending rewards plus what its weight accrued
/// since its debt was set, never negative.
fn claimable(p: &cinder::state::StakePosition, acc: u128) -> u64 {
    let accrued = reference::accrued(p.weight, acc, false).saturating_sub(p.reward_debt.get());
    p.pending_rewards + u64::try_from(accrued).unwrap()
}

/// The owner's stake position, if it has one.
fn position(w: &mut World, k: &Keypair) -> Option<cinder::state::StakePosition> {
    w.position_of(&k.pubkey())
}

/// The world every case starts from, with a depositor and three stakers (set up once per
/// thread, then restored: a case costs milliseconds).
struct Base {
    w: World,
    depositor: (Keypair, solana_sdk::pubkey::Pubkey),
    stakers: Vec<(Keypair, solana_sdk::pubkey::Pubkey)>,
}

thread_local! {
    static BASE: std::cell::RefCell<Option<Base>> = const { std::cell::RefCell::new(None) };
}

fn staking_cases() -> u32 {
    std::env::var("CINDER_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(1_000, |n: u32| n.min(1_000))
}

/// Several stakers, random stake / unstake / restake / withdraw / deposit / claim / slash.
/// Every successful step's outcome is checked against its rule, computed here: the tokens it
/// moves, the position's amount, unbonding and weight (amount × (1 + 3 × lock / 365 d), rounded
/// down). At the end, each staker's earnings E (claimed + claimable) against its exact share S
/// of every deposit (Σ deposit × weight / total weight at that moment, a rational):
///   S − 2 × (u + 1) − 1 < E ≤ S,
/// where u is the number of updates of its position (stake, unstake, restake, claim). Why:
/// between two updates a position earns floor(w·acc₁/1e18) − ceil(w·acc₀/1e18), less than the
/// exact w·Δacc/1e18 by under 2 units; each deposit's accumulator step is rounded down, which
/// costs the position under w/1e18 < 10⁻³ units per deposit here (w < 4·10¹⁴); nothing rounds up.
#[test]
fn rewards_never_exceed_deposits_and_shares() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: staking_cases(),
        // A failing case is saved in tests/tests/staking.proptest-regressions (committed) and
        // replayed first on every later run.
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            BASE.with(|cell| {
                let mut slot = cell.borrow_mut();
                let base = slot.get_or_insert_with(|| {
                    let mut w = World::sbf();
                    let depositor = w.staker(u64::MAX / 4);
                    let stakers = (0..3).map(|_| w.staker(100 * TOKENS)).collect();
                    assert!(w.chain.save());
                    Base {
                        w,
                        depositor,
                        stakers,
                    }
                });
                base.w.chain.restore();
                staking_case(base, &ops)
            })
        })
        .unwrap();
}

fn staking_case(base: &mut Base, ops: &[Op]) -> Result<(), TestCaseError> {
    let Base {
        w,
        depositor: (d, dt),
        stakers,
    } = base;
    let p = w.protocol();
    let treasury = w.treasury_ptoken;
    let provider = w.provider.insecure_clone();
    // Each staker's exact share: the sum of whole units, and of the fractions (remainder / W,
    // each below 1, summed in f64: error far below the one-unit margins compared).
    let mut share_whole = [0u128; 3];
    let mut share_frac = [0f64; 3];
    let mut updates = [0u32; 3];
    let mut claimed = [0u64; 3];
    for op in ops {
        match op.clone() {
            Op::Stake(i, a) => {
                let (k, t) = (stakers[i].0.insecure_clone(), stakers[i].1);
                let (before, tokens) = (position(w, &k), w.balance(&t));
                if stake(w, &k, &t, a, 30 * DAY).is_ok() {
                    updates[i] += 1;
                    let after = w.position(&k.pubkey());
                    let amount = before.map_or(0, |b| b.amount) + a;
                    prop_assert_eq!(tokens - w.balance(&t), a);
                    prop_assert_eq!(after.amount, amount);
                    prop_assert_eq!(after.weight, reference::weight_for(amount, 30 * DAY));
                }
            }
            Op::Unstake(i, a) => {
                let k = stakers[i].0.insecure_clone();
                let before = position(w, &k);
                if w.send(&[ix::request_unstake(&k.pubkey(), a)], &[&k])
                    .is_ok()
                {
                    updates[i] += 1;
                    let (b, after) = (before.unwrap(), w.position(&k.pubkey()));
                    prop_assert_eq!(
                        (after.amount, after.unbonding),
                        (b.amount - a, b.unbonding + a)
                    );
                }
            }
            Op::Restake(i) => {
                let k = stakers[i].0.insecure_clone();
                let before = position(w, &k);
                if w.send(&[ix::restake(&k.pubkey())], &[&k]).is_ok() {
                    updates[i] += 1;
                    let (b, after) = (before.unwrap(), w.position(&k.pubkey()));
                    prop_assert_eq!((after.amount, after.unbonding), (b.amount + b.unbonding, 0));
                }
            }
            Op::Withdraw(i) => {
                let (k, t) = (stakers[i].0.insecure_clone(), stakers[i].1);
                let (before, tokens) = (position(w, &k), w.balance(&t));
                if w.send(&[ix::withdraw_stake(&k.pubkey(), &t, &p)], &[&k])
                    .is_ok()
                {
                    let b = before.unwrap();
                    prop_assert_eq!(w.balance(&t) - tokens, b.unbonding);
                    prop_assert_eq!(w.position(&k.pubkey()).unbonding, 0);
                }
            }
            Op::Warp(s) => w.warp(s as i64),
            Op::SlashProvider => {
                let k = w.post(10, 1);
                if w.try_claim(&k).is_ok() {
                    w.warp(302);
                    let staked = w.stake_pool().total_staked;
                    let before = w.position(&provider.pubkey());
                    w.try_expire(&k, &Keypair::new()).unwrap();
                    let after = w.position(&provider.pubkey());
                    let slashed =
                        (before.amount + before.unbonding) - (after.amount + after.unbonding);
                    prop_assert_eq!(slashed, (before.amount + before.unbonding) / 100);
                    prop_assert_eq!(staked - w.stake_pool().total_staked, slashed);
                }
            }
            Op::Deposit(a) => {
                let total = w.stake_pool().total_weight as u128;
                let weights: Vec<u128> = stakers
                    .iter()
                    .map(|(k, _)| position(w, k).map_or(0, |p| p.weight as u128))
                    .collect();
                let (vault, tr) = (w.balance(&ix::reward_vault_pda()), w.balance(&treasury));
                let deposit = ix::deposit_rewards(&d.pubkey(), dt, &treasury, &p, a);
                if w.send(&[deposit], &[&*d]).is_ok() {
                    if total == 0 {
                        // Nobody to pay: the treasury takes it.
                        prop_assert_eq!(w.balance(&treasury) - tr, a);
                    } else {
                        prop_assert_eq!(w.balance(&ix::reward_vault_pda()) - vault, a);
                        for (i, weight) in weights.iter().enumerate() {
                            let n = a as u128 * weight;
                            share_whole[i] += n.checked_div(total).unwrap();
                            share_frac[i] += n.checked_rem(total).unwrap() as f64 / total as f64;
                        }
                    }
                }
            }
            Op::Claim(i) => {
                let (k, t) = (stakers[i].0.insecure_clone(), stakers[i].1);
                let acc = w.stake_pool().acc_reward_per_weight.get();
                let (before, tokens) = (position(w, &k), w.balance(&t));
                if w.send(&[ix::claim_rewards(&k.pubkey(), &t, &p)], &[&k])
                    .is_ok()
                {
                    updates[i] += 1;
                    let paid = w.balance(&t) - tokens;
                    prop_assert_eq!(paid, claimable(&before.unwrap(), acc));
                    claimed[i] += paid;
                }
            }
        }
        let pool = w.stake_pool();
        prop_assert_eq!(w.balance(&ix::stake_vault_pda()), pool.total_staked);
        prop_assert!(pool.total_rewards_claimed <= pool.total_rewards_deposited);
        prop_assert_eq!(
            w.balance(&ix::reward_vault_pda()),
            pool.total_rewards_deposited - pool.total_rewards_claimed
        );
    }
    let acc = w.stake_pool().acc_reward_per_weight.get();
    let mut owed = 0u64;
    for (i, (k, _)) in stakers.iter().enumerate() {
        let open = position(w, k).map_or(0, |p| claimable(&p, acc));
        owed += open;
        let earned = (claimed[i] + open) as u128;
        let exact = share_whole[i] as f64 + share_frac[i];
        prop_assert!(
            earned <= share_whole[i] + (share_frac[i] + 1e-6) as u128,
            "staker {} earned {} > its exact share {}",
            i,
            earned,
            exact
        );
        prop_assert!(
            earned as f64 + f64::from(2 * (updates[i] + 1) + 1) > exact,
            "staker {} earned {}, its exact share is {} ({} updates)",
            i,
            earned,
            exact,
            updates[i]
        );
    }
    // The vault covers everything still owed (the provider is a staker too).
    owed += claimable(&w.position(&provider.pubkey()), acc);
    prop_assert!(w.balance(&ix::reward_vault_pda()) >= owed);
    Ok(())
}

on_both!(
    quitting_burns_the_markets_quit_penalty_of_the_locked_stake,
    |w| {
        let a = w.admin.pubkey();
        let market = w.market;
        let mut mp = default_market_params(a);
        mp.quit_penalty_bps = Bps(1_000);
        w.send(&[ix::update_market(&a, &market, mp, false)], &[])
            .unwrap();
        let k = w.post(10, 3_600);
        w.claim(&k);
        let provider = w.provider.insecure_clone();
        let supply = w.protocol_supply();
        let p = w.protocol();
        w.send(&[ix::quit_job(&k, &provider.pubkey(), &p)], &[&provider])
            .expect("quit");
        // 10% of the 10 000 000 000 the job locked.
        assert_eq!(supply - w.protocol_supply(), 1_000_000_000);
        assert_eq!(
            w.position(&provider.pubkey()).amount,
            PROVIDER_STAKE - 1_000_000_000
        );
        assert_eq!(
            w.balance(&ix::stake_vault_pda()),
            w.stake_pool().total_staked
        );
        let pa = w.provider_account();
        assert_eq!((pa.locked_stake, pa.jobs_quit), (0, 1));
    }
);

// Every slash is announced: `Slashed { who, amount, reward, burned, reason }` (both builds;
// see `TxMeta::events`).
on_both!(slashes_emit_their_amounts_and_reason, |w| {
    use cinder::events::{Slashed, StakeWithdrawn, Staked, SLASH_REASON_TIMEOUT};
    assert!(w.chain.record_events(true));
    let k = w.post(10, 100);
    w.claim(&k);
    w.warp(401);
    let meta = w.try_expire(&k, &Keypair::new()).expect("expire");
    let s = &cinder_tests::events_of::<Slashed>(&meta)[0];
    let slashed = PROVIDER_STAKE / 100;
    assert_eq!(
        (s.who, s.amount, s.reward, s.burned, s.reason),
        (
            w.provider.pubkey(),
            slashed,
            slashed / 2,
            slashed - slashed / 2,
            SLASH_REASON_TIMEOUT
        )
    );
    assert_eq!(s.job, k.job);
    let (st, t) = w.staker(TOKENS);
    let meta = stake(&mut w, &st, &t, 5_000_000_000, LOCK_30D).unwrap();
    assert_eq!(
        cinder_tests::events_of::<Staked>(&meta)[0].amount,
        5_000_000_000
    );
    w.send(&[ix::request_unstake(&st.pubkey(), 5_000_000_000)], &[&st])
        .unwrap();
    w.warp(LOCK_30D as i64);
    let p = w.protocol();
    let meta = w
        .send(&[ix::withdraw_stake(&st.pubkey(), &t, &p)], &[&st])
        .unwrap();
    assert_eq!(
        cinder_tests::events_of::<StakeWithdrawn>(&meta)[0].amount,
        5_000_000_000
    );
});

on_both!(positions_hold_at_least_one_whole_token, |w| {
    let (s, t) = w.staker(TOKENS);
    let one = 1_000_000_000; // the protocol mint has 9 decimals
    assert_cinder_error(
        stake(&mut w, &s, &t, one - 1, LOCK_30D),
        CinderError::StakeBelowMinimum,
    );
    stake(&mut w, &s, &t, 3 * one, LOCK_30D).unwrap();
    let sk = s.pubkey();
    assert_cinder_error(
        w.send(&[ix::request_unstake(&sk, 2 * one + 1)], &[&s]),
        CinderError::StakeBelowMinimum,
    );
    w.send(&[ix::request_unstake(&sk, 3 * one)], &[&s])
        .expect("unstake all");
    // With less than one token of weight staked, a deposit goes to the treasury, so a dust
    // stake cannot blow up the reward accumulator.
    let provider = w.provider.insecure_clone();
    w.send(
        &[ix::request_unstake(&provider.pubkey(), PROVIDER_STAKE)],
        &[&provider],
    )
    .unwrap();
    let (d, dt) = w.staker(TOKENS);
    let (p, treasury) = (w.protocol(), w.treasury_ptoken);
    w.send(
        &[ix::deposit_rewards(&d.pubkey(), &dt, &treasury, &p, 5)],
        &[&d],
    )
    .unwrap();
    assert_eq!(w.balance(&treasury), 5);
    assert_eq!(w.stake_pool().acc_reward_per_weight.get(), 0);
});
