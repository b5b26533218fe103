//! Staking: locks and weights, unbonding and withdrawal, stake locked by running jobs,
//! rewards by weight and time, slashing of active and unbonding stake.

use cinder::{errors::CinderError, math::weight_for, state::Bps};
use cinder_tests::{
    assert_cinder_error, ix, on_both,
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
    // A market asking for more stake per job than is free.
    let market = w.market;
    let mut mp = default_market_params(a);
    mp.stake_per_job = free + 1;
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
    assert_cinder_error(w.try_claim(&k2), CinderError::InsufficientFreeStake);
    mp.stake_per_job = 0;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Several stakers, random stake / unstake / restake / withdraw / deposit / claim / slash: nobody
    /// is paid more than its exact share, the reward vault is never short, stake is conserved.
    #[test]
    fn rewards_never_exceed_deposits_and_shares(ops in prop::collection::vec(op(), 1..40)) {
        let mut w = World::sbf();
        let p = w.protocol();
        let treasury = w.treasury_ptoken;
        let provider = w.provider.insecure_clone();
        let (d, dt) = w.staker(u64::MAX / 4);
        let stakers: Vec<_> = (0..3).map(|_| w.staker(100 * TOKENS)).collect();
        // The model: exact (rational) share of every deposit per staker, as floor and ceil sums.
        let mut floor_share = [0u128; 3];
        let mut ceil_share = [0u128; 3];
        let mut claimed = [0u64; 3];
        let mut deposits = 0u64;
        for op in &ops {
            match op.clone() {
                Op::Stake(i, a) => { let _ = stake(&mut w, &stakers[i].0, &stakers[i].1, a, 30 * DAY); }
                Op::Unstake(i, a) => { let _ = w.send(&[ix::request_unstake(&stakers[i].0.pubkey(), a)], &[&stakers[i].0]); }
                Op::Restake(i) => { let _ = w.send(&[ix::restake(&stakers[i].0.pubkey())], &[&stakers[i].0]); }
                Op::Withdraw(i) => { let _ = w.send(&[ix::withdraw_stake(&stakers[i].0.pubkey(), &stakers[i].1, &p)], &[&stakers[i].0]); }
                Op::Warp(s) => w.warp(s as i64),
                Op::SlashProvider => {
                    let k = w.post(10, 1);
                    if w.try_claim(&k).is_ok() {
                        w.warp(302);
                        let staked = w.stake_pool().total_staked;
                        let before = w.position(&provider.pubkey());
                        w.try_expire(&k, &Keypair::new()).unwrap();
                        let after = w.position(&provider.pubkey());
                        let slashed = (before.amount + before.unbonding) - (after.amount + after.unbonding);
                        prop_assert_eq!(slashed, (before.amount + before.unbonding) / 100);
                        prop_assert_eq!(staked - w.stake_pool().total_staked, slashed);
                    }
                }
                Op::Deposit(a) => {
                    let total = w.stake_pool().total_weight as u128;
                    let weights: Vec<u128> = stakers.iter().map(|(k, _)| {
                        if w.exists(&ix::stake_pda(&k.pubkey())) { w.position(&k.pubkey()).weight as u128 } else { 0 }
                    }).collect();
                    if w.send(&[ix::deposit_rewards(&d.pubkey(), &dt, &treasury, &p, a)], &[&d]).is_ok() && total > 0 {
                        deposits += 1;
                        for i in 0..3 {
                            floor_share[i] += a as u128 * weights[i] / total;
                            ceil_share[i] += (a as u128 * weights[i]).div_ceil(total);
                        }
                    }
                }
                Op::Claim(i) => {
                    let before = w.balance(&stakers[i].1);
                    if w.send(&[ix::claim_rewards(&stakers[i].0.pubkey(), &stakers[i].1, &p)], &[&stakers[i].0]).is_ok() {
                        claimed[i] += w.balance(&stakers[i].1) - before;
                    }
                }
            }
            let pool = w.stake_pool();
            prop_assert_eq!(w.balance(&ix::stake_vault_pda()), pool.total_staked);
            prop_assert!(pool.total_rewards_claimed <= pool.total_rewards_deposited);
            prop_assert_eq!(w.balance(&ix::reward_vault_pda()), pool.total_rewards_deposited - pool.total_rewards_claimed);
        }
        // Each staker: earned (claimed + pending) within its exact share, rounded down by at most
        // one unit per deposit plus one.
        let pool = w.stake_pool();
        let mut owed = 0u64;
        for (i, (k, _)) in stakers.iter().enumerate() {
            let earned = if w.exists(&ix::stake_pda(&k.pubkey())) {
                let pos = w.position(&k.pubkey());
                let acc = pool.acc_reward_per_weight.get();
                pos.pending_rewards + cinder::math::earned(pos.weight, acc, pos.reward_debt.get()).unwrap()
            } else { 0 };
            owed += earned;
            let total = (claimed[i] + earned) as u128;
            prop_assert!(total <= ceil_share[i], "staker {} earned {} > share {}", i, total, ceil_share[i]);
            prop_assert!(total + deposits as u128 + 1 >= floor_share[i], "staker {} earned {} << share {}", i, total, floor_share[i]);
        }
        // The vault covers everything still owed (the provider is a staker too).
        let pk = provider.pubkey();
        let ppos = w.position(&pk);
        owed += ppos.pending_rewards + cinder::math::earned(ppos.weight, pool.acc_reward_per_weight.get(), ppos.reward_debt.get()).unwrap();
        prop_assert!(w.balance(&ix::reward_vault_pda()) >= owed);
    }
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

/// Every slash is announced: `Slashed { who, amount, reward, burned, reason }` (host build;
/// see `TxMeta::events`).
#[test]
fn slashes_emit_their_amounts_and_reason() {
    use cinder::events::{Slashed, StakeWithdrawn, Staked, SLASH_REASON_TIMEOUT};
    let mut w = World::native();
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
}

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
