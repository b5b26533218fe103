//! Property: whatever sequence of instructions runs — jobs, attestation, staking, rewards,
//! slashing, buyback and burn — including ones the program refuses:
//! - every payment token is accounted for to the base unit, and every protocol token is either
//!   in an account or counted as burned (supply + total_burned is constant);
//! - a refused instruction changes nothing; each settlement pays exactly the settlement math;
//! - no vault holds less than it owes: job vaults hold their escrow, the stake vault holds
//!   every position's stake, the reward vault covers every position's unclaimed rewards, the
//!   market pool covers unswept fees; no staker is paid more than was deposited.
//!
//! Runs on the SBF build (Mollusk): the world is set up once and restored for each case, so a
//! case costs milliseconds. `CINDER_PROPTEST_CASES` sets the number of cases (CI: 10 000; a
//! longer run: `CINDER_PROPTEST_CASES=200000 cargo test -p cinder-tests --test conservation
//! every_token_is_accounted_for`, see SECURITY.md).

use cinder::state::{Config, JobState, StakePool, StakePosition};
use cinder_tests::{
    ix,
    ix::JobKeys,
    tokens,
    world::{default_auction_params, LOCK_30D},
    World,
};
use proptest::prelude::*;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::cell::RefCell;

#[derive(Clone, Debug)]
enum Op {
    Post {
        price: u64,
        duration: u32,
    },
    Claim(usize),
    Submit(usize, u32),
    Warp(i64),
    Settle(usize),
    Accept(usize),
    Cancel(usize),
    Quit(usize),
    Expire(usize),
    Extend(usize, u32),
    Sweep,
    Reveal(usize),
    ClaimVerification(usize),
    /// Submit the provider's true hash (match) or another one (mismatch).
    SubmitVerification(usize, bool, u32),
    ExpireVerification(usize),
    Resolve(usize, u8),
    Dispute(usize),
    // staking: staker 0..2 (the provider and the verifier are positions 2 and 3)
    Stake(usize, u64, bool),
    Unstake(usize, u64),
    Restake(usize),
    Withdraw(usize),
    ClaimRewards(usize),
    Deposit(u64),
    // buyback and burn
    Buy(bool),
    ProtocolFees(u64),
    Distribute,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (10u64..5_000, 1u32..20_000).prop_map(|(price, duration)| Op::Post { price, duration }),
        3 => (0usize..6).prop_map(Op::Claim),
        3 => (0usize..6, 0u32..25_000).prop_map(|(i, b)| Op::Submit(i, b)),
        2 => (1i64..2_000).prop_map(Op::Warp),
        2 => (0usize..6).prop_map(Op::Settle),
        1 => (0usize..6).prop_map(Op::Accept),
        1 => (0usize..6).prop_map(Op::Cancel),
        1 => (0usize..6).prop_map(Op::Quit),
        1 => (0usize..6).prop_map(Op::Expire),
        1 => (0usize..6, 1u32..5_000).prop_map(|(i, s)| Op::Extend(i, s)),
        1 => Just(Op::Sweep),
        2 => (0usize..6).prop_map(Op::Reveal),
        2 => (0usize..6).prop_map(Op::ClaimVerification),
        2 => (0usize..6, any::<bool>(), 0u32..3_000).prop_map(|(i, m, b)| Op::SubmitVerification(i, m, b)),
        1 => (0usize..6).prop_map(Op::ExpireVerification),
        1 => (0usize..6, 1u8..=3).prop_map(|(i, d)| Op::Resolve(i, d)),
        1 => (0usize..6).prop_map(Op::Dispute),
        1 => (0usize..2, 1u64..3_000_000_000_000, any::<bool>()).prop_map(|(i, a, l)| Op::Stake(i, a, l)),
        1 => (0usize..4, 1u64..3_000_000_000_000).prop_map(|(i, a)| Op::Unstake(i, a)),
        1 => (0usize..4).prop_map(Op::Restake),
        1 => (0usize..4).prop_map(Op::Withdraw),
        1 => (0usize..4).prop_map(Op::ClaimRewards),
        1 => (1u64..50_000_000_000).prop_map(Op::Deposit),
        1 => any::<bool>().prop_map(Op::Buy),
        1 => (1u64..50_000_000_000).prop_map(Op::ProtocolFees),
        1 => Just(Op::Distribute),
    ]
}

fn ceil_bps(x: u64, bps: u64) -> u64 {
    ((x as u128 * bps as u128).div_ceil(10_000)) as u64
}

fn set_rate(w: &mut World, rate_bps: u16) {
    let (a, market) = (w.admin.pubkey(), w.market);
    let mut mp = cinder_tests::world::default_market_params(a);
    mp.verify_rate_bps = cinder::state::Bps(rate_bps);
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
}

struct Run {
    w: World,
    jobs: Vec<JobKeys>,
    verifier: Keypair,
    verifier_token: Pubkey,
    /// Two stakers, then the provider and the verifier: (wallet, protocol-token account).
    stakers: Vec<(Keypair, Pubkey)>,
    /// Buys fee vaults, deposits rewards, pays protocol-mint fees.
    whale: (Keypair, Pubkey, Pubkey),
}

impl Run {
    /// A world whose market samples `rate_bps` of jobs, with a second provider as verifier.
    fn new(mut w: World, rate_bps: u16) -> Self {
        let a = w.admin.pubkey();
        set_rate(&mut w, rate_bps);
        let verifier = solana_sdk::signature::Keypair::new();
        w.fund(&verifier.pubkey());
        w.make_provider(&verifier);
        let (admin, mint, tp) = (w.admin.insecure_clone(), w.mint, w.token_program);
        let verifier_token = cinder_tests::tokens::create_token_account(
            w.chain.as_mut(),
            &admin,
            &mint,
            &verifier.pubkey(),
            &tp,
        );
        let p = w.protocol();
        let pm = p.mint;
        let init = ix::init_auction(&a, &pm, &tokens::LEGACY, default_auction_params(), false);
        w.send(&[init], &[]).unwrap();
        let mut stakers: Vec<(Keypair, Pubkey)> =
            (0..2).map(|_| w.staker(10_000_000_000_000)).collect();
        let provider = w.provider.insecure_clone();
        let provider_ptoken = w.provider_ptoken;
        stakers.push((provider, provider_ptoken));
        let vptoken = w.protocol_account(&verifier.pubkey());
        stakers.push((verifier.insecure_clone(), vptoken));
        let (whale, whale_ptoken) = w.staker(1_000_000_000_000_000);
        let whale_pay =
            tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &whale.pubkey(), &tp);
        Self {
            w,
            jobs: Vec::new(),
            verifier,
            verifier_token,
            stakers,
            whale: (whale, whale_ptoken, whale_pay),
        }
    }
}

impl Run {
    /// client, provider, fee vault, market pool, verifier, then every job vault.
    fn balances(&mut self) -> Vec<u64> {
        let mut keys = vec![
            self.w.client_token,
            self.w.provider_token,
            self.w.fee_vault(),
            self.w.verify_pool(),
            self.verifier_token,
        ];
        keys.extend(self.jobs.iter().map(|k| k.vault));
        keys.iter().map(|k| self.w.balance(k)).collect()
    }
}

fn job_at(jobs: &[JobKeys], i: usize) -> Option<JobKeys> {
    (!jobs.is_empty()).then(|| jobs[i % jobs.len()])
}

/// The staking and buyback ops; None for job ops.
fn apply_economics(run: &mut Run, op: &Op) -> Option<bool> {
    let p = run.w.protocol();
    let tr = run.w.treasury_ptoken;
    let (whale, wpt, wpay) = (run.whale.0.insecure_clone(), run.whale.1, run.whale.2);
    let staker = |i: usize| (run.stakers[i].0.insecure_clone(), run.stakers[i].1);
    let (payment_mint, payment_tp) = (run.w.mint, run.w.token_program);
    let (ixn, signer) = match *op {
        Op::Stake(i, amount, long) => {
            let (k, t) = staker(i);
            let lock = if long { 365 * 86_400 } else { LOCK_30D };
            (ix::stake(&k.pubkey(), &t, &p, amount, lock), k)
        }
        Op::Unstake(i, amount) => {
            let (k, _) = staker(i);
            (ix::request_unstake(&k.pubkey(), amount), k)
        }
        Op::Restake(i) => {
            let (k, _) = staker(i);
            (ix::restake(&k.pubkey()), k)
        }
        Op::Withdraw(i) => {
            let (k, t) = staker(i);
            (ix::withdraw_stake(&k.pubkey(), &t, &p), k)
        }
        Op::ClaimRewards(i) => {
            let (k, t) = staker(i);
            (ix::claim_rewards(&k.pubkey(), &t, &p), k)
        }
        Op::Deposit(amount) => (
            ix::deposit_rewards(&whale.pubkey(), &wpt, &tr, &p, amount),
            whale,
        ),
        Op::Buy(take_all) => {
            let vault = run.w.fee_vault();
            let min_out = if take_all {
                0
            } else {
                run.w.balance(&vault) + 1
            };
            let side = ix::PaymentSide {
                payment_mint,
                payment_token_program: payment_tp,
            };
            (
                ix::buy(
                    &whale.pubkey(),
                    &side,
                    &wpay,
                    &wpt,
                    &tr,
                    &p,
                    u64::MAX,
                    min_out,
                ),
                whale,
            )
        }
        Op::ProtocolFees(amount) => (
            spl_token_interface::instruction::transfer_checked(
                &tokens::LEGACY,
                &wpt,
                &p.mint,
                &ix::fee_vault_pda(&p.mint),
                &whale.pubkey(),
                &[],
                amount,
                9,
            )
            .unwrap(),
            whale,
        ),
        Op::Distribute => {
            return Some(run.w.send(&[ix::distribute_fees(&tr, &p)], &[]).is_ok());
        }
        _ => return None,
    };
    Some(run.w.send(&[ixn], &[&signer]).is_ok())
}

/// Every token account's balance, and the stake positions, read off the whole chain.
struct Books {
    balances: std::collections::BTreeMap<Pubkey, u64>,
    payment_total: u128,
    protocol_total: u128,
    supply: u64,
    burned: u64,
    positions: Vec<StakePosition>,
}

fn books(w: &mut World) -> Books {
    let (payment, protocol) = (w.mint, w.protocol_mint);
    let mut b = Books {
        balances: Default::default(),
        payment_total: 0,
        protocol_total: 0,
        supply: w.protocol_supply(),
        burned: w.read::<Config>(&ix::config_pda()).total_burned,
        positions: Vec::new(),
    };
    for (key, a) in w
        .chain
        .all_accounts()
        .expect("the SBF chain lists its accounts")
    {
        let d = &a.data;
        let token_account = (a.owner == tokens::LEGACY && d.len() == 165)
            || (a.owner == tokens::TOKEN_2022 && d.len() > 165 && d[165] == 2);
        if token_account {
            let mint = Pubkey::try_from(&d[..32]).unwrap();
            let amount = u64::from_le_bytes(d[64..72].try_into().unwrap());
            if mint == payment {
                b.payment_total += amount as u128;
            } else if mint == protocol {
                b.protocol_total += amount as u128;
            }
            b.balances.insert(key, amount);
        } else if a.owner == cinder::ID
            && d.starts_with(<StakePosition as anchor_lang::Discriminator>::DISCRIMINATOR)
        {
            let pos: StakePosition = w.read(&key);
            b.positions.push(pos);
        }
    }
    b
}

/// Invariants over the whole chain after every op; `start` is the case's first snapshot.
fn check_books(
    run: &mut Run,
    start: &Books,
    before: &Books,
    ok: bool,
    op: &Op,
) -> Result<(), TestCaseError> {
    let now = books(&mut run.w);
    prop_assert_eq!(
        now.payment_total,
        start.payment_total,
        "payment tokens after {:?}",
        op
    );
    prop_assert_eq!(
        now.protocol_total,
        now.supply as u128,
        "protocol tokens outside accounts after {:?}",
        op
    );
    prop_assert_eq!(
        now.supply as u128 + now.burned as u128,
        start.supply as u128 + start.burned as u128,
        "supply + burned after {:?}",
        op
    );
    prop_assert!(now.burned >= before.burned);
    if !ok {
        // (A test step may have opened a new, empty account before sending.)
        for (key, amount) in &now.balances {
            let was = before.balances.get(key).copied().unwrap_or(0);
            prop_assert_eq!(*amount, was, "refused {:?} moved tokens of {}", op, key);
        }
        prop_assert!(before.balances.keys().all(|k| now.balances.contains_key(k)));
    }
    let pool: StakePool = run.w.read(&ix::stake_pool_pda());
    let stake_vault = run.w.balance(&ix::stake_vault_pda());
    let staked: u64 = now.positions.iter().map(|p| p.amount + p.unbonding).sum();
    let weight: u64 = now.positions.iter().map(|p| p.weight).sum();
    prop_assert_eq!(stake_vault, pool.total_staked, "stake vault after {:?}", op);
    prop_assert_eq!(staked, pool.total_staked);
    prop_assert_eq!(weight, pool.total_weight);
    let acc = pool.acc_reward_per_weight.get();
    let mut owed = 0u128;
    for p in &now.positions {
        let earned = cinder::math::earned(p.weight, acc, p.reward_debt.get())
            .map_err(|e| TestCaseError::fail(format!("earned: {e:?}")))?;
        owed += p.pending_rewards as u128 + earned as u128;
    }
    let reward_vault = run.w.balance(&ix::reward_vault_pda());
    prop_assert!(
        owed <= reward_vault as u128,
        "reward vault {} owes {} after {:?}",
        reward_vault,
        owed,
        op
    );
    prop_assert!(pool.total_rewards_claimed <= pool.total_rewards_deposited);
    Ok(())
}

/// Applies `op` and checks the job invariants, and with `start` (the SBF chain, which can
/// list every account) the whole-chain invariants too.
fn apply(run: &mut Run, start: Option<&Books>, op: &Op) -> Result<(), TestCaseError> {
    let global_before = start.map(|_| books(&mut run.w));
    let check = |run: &mut Run, ok: bool| match (start, &global_before) {
        (Some(start), Some(before)) => check_books(run, start, before, ok, op),
        _ => Ok(()),
    };
    if let Some(ok) = apply_economics(run, op) {
        return check(run, ok);
    }
    let before = run.balances();
    let accrued_before = run.w.market_account().protocol_fees_accrued;
    let w = &mut run.w;
    let client = w.client.insecure_clone();
    let provider = w.provider.insecure_clone();
    let ct = w.client_token;
    let v = run.verifier.insecure_clone();
    let vt = run.verifier_token;
    let mut settled: Option<(JobKeys, cinder::state::Job)> = None;
    let ok = match op.clone() {
        Op::Post { price, duration } => match w.try_post(price, duration) {
            Ok(k) => {
                run.jobs.push(k);
                true
            }
            Err(_) => false,
        },
        Op::Warp(s) => {
            w.warp(s);
            true
        }
        Op::Sweep => w.try_sweep().is_ok(),
        other => {
            let Some(k) = job_at(
                &run.jobs,
                match other {
                    Op::Claim(i)
                    | Op::Submit(i, _)
                    | Op::Settle(i)
                    | Op::Accept(i)
                    | Op::Cancel(i)
                    | Op::Quit(i)
                    | Op::Expire(i)
                    | Op::Extend(i, _)
                    | Op::Reveal(i)
                    | Op::ClaimVerification(i)
                    | Op::SubmitVerification(i, _, _)
                    | Op::ExpireVerification(i)
                    | Op::Resolve(i, _)
                    | Op::Dispute(i) => i,
                    _ => unreachable!(),
                },
            ) else {
                return Ok(());
            };
            if !w.exists(&k.job) {
                return Ok(());
            }
            let job = w.job(&k.job);
            let res = match other {
                Op::Claim(_) => w.try_claim(&k),
                Op::Submit(_, b) => w.try_submit(&k, b),
                Op::Settle(_) => w.try_settle(&k),
                Op::Accept(_) => w.send(&[ix::accept_result(&k, &w.payees())], &[&client]),
                Op::Cancel(_) => w.send(&[ix::cancel_job(&k, &client.pubkey(), &ct)], &[&client]),
                Op::Quit(_) => w.send(
                    &[ix::quit_job(&k, &provider.pubkey(), &w.protocol())],
                    &[&provider],
                ),
                Op::Expire(_) => w.try_expire(&k, &provider),
                Op::Extend(_, s) => w.send(&[ix::extend_job(&k, &ct, s)], &[&client]),
                Op::Reveal(_) => w.send(&[ix::reveal_sample(&k)], &[]),
                Op::Dispute(_) => w.send(&[ix::dispute_job(&k, &ct)], &[&client]),
                Op::ClaimVerification(_) => {
                    w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
                }
                Op::SubmitVerification(_, matched, b) => {
                    let hash = if matched { [42; 32] } else { [7; 32] };
                    w.send(
                        &[ix::submit_verification(
                            &k,
                            &v.pubkey(),
                            &vt,
                            &{ w.provider_token },
                            hash,
                            b,
                        )],
                        &[&v],
                    )
                }
                Op::ExpireVerification(_) => {
                    let ct2 = w.protocol_account(&provider.pubkey());
                    let p = w.protocol();
                    w.send(
                        &[ix::expire_verification(
                            &k,
                            &provider.pubkey(),
                            &v.pubkey(),
                            &ct2,
                            &p,
                        )],
                        &[&provider],
                    )
                }
                Op::Resolve(_, d) => {
                    let a = w.admin.pubkey();
                    let winner = w.protocol_account(&if d == 1 {
                        provider.pubkey()
                    } else {
                        v.pubkey()
                    });
                    let p = w.protocol();
                    w.send(
                        &[ix::resolve_dispute(
                            &k,
                            &a,
                            &provider.pubkey(),
                            &v.pubkey(),
                            &winner,
                            &p,
                            d,
                        )],
                        &[],
                    )
                }
                _ => unreachable!(),
            };
            if res.is_ok() && matches!(other, Op::Settle(_) | Op::Accept(_)) {
                settled = Some((k, job));
            }
            res.is_ok()
        }
    };
    let after = run.balances();
    let (sum_before, sum_after): (u64, u64) = (before.iter().sum(), after.iter().sum());
    prop_assert_eq!(sum_before, sum_after, "tokens not conserved by {:?}", op);
    if !ok {
        prop_assert_eq!(&before, &after, "refused {:?} moved tokens", op);
    }
    if let Some((_, job)) = settled.filter(|(_, j)| j.state == JobState::Refunded) {
        prop_assert_eq!(after[1], before[1], "refunded: provider not paid");
        prop_assert_eq!(after[3], before[3], "refunded: no fees");
        prop_assert_eq!(
            after[0] - before[0],
            job.escrow_compute + job.escrow_verification + job.client_bond()
        );
    } else if let Some((_, job)) = settled {
        let pay = job.price_per_sec * job.billed_secs as u64;
        let fee = ceil_bps(pay, job.protocol_fee_bps as u64);
        let verification = ceil_bps(pay, job.verification_fee_bps as u64);
        let bond = if job.state == JobState::Verified {
            job.client_bond()
        } else {
            0
        };
        prop_assert_eq!(after[1] - before[1], pay - fee + bond, "provider paid");
        prop_assert_eq!(after[3] - before[3], fee + verification, "pool paid");
        prop_assert_eq!(
            run.w.market_account().protocol_fees_accrued,
            accrued_before + fee
        );
    }
    // Live jobs hold exactly their escrow; the pool always covers the unswept protocol fees.
    for k in run.jobs.clone() {
        if run.w.exists(&k.job) {
            let job = run.w.job(&k.job);
            prop_assert_eq!(
                run.w.balance(&k.vault),
                job.escrow_compute + job.escrow_verification + job.client_bond()
            );
            prop_assert!(job.state != JobState::Open || job.provider == Default::default());
        } else {
            prop_assert!(!run.w.exists(&k.vault), "vault outlived its job");
        }
    }
    let pool = run.w.balance(&run.w.verify_pool());
    prop_assert!(run.w.market_account().protocol_fees_accrued <= pool);
    check(run, ok)
}

fn cases() -> u32 {
    std::env::var("CINDER_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

thread_local! {
    /// The world every case starts from, set up once per test thread (≈ 40 transactions).
    static BASE: RefCell<Option<Run>> = const { RefCell::new(None) };
}

/// Runs `f` on the saved world, restored, with the market sampling `rate_bps` of jobs.
fn with_base_run<R>(rate_bps: u16, f: impl FnOnce(&mut Run) -> R) -> R {
    BASE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let run = slot.get_or_insert_with(|| {
            let mut run = Run::new(World::sbf(), 0);
            assert!(run.w.chain.save());
            run
        });
        run.w.chain.restore();
        run.jobs.clear();
        set_rate(&mut run.w, rate_bps);
        f(run)
    })
}

fn run_ops(run: &mut Run, ops: &[Op]) -> Result<(), TestCaseError> {
    let start = books(&mut run.w);
    for op in ops {
        apply(run, Some(&start), op)?;
    }
    // Active-job counters match the jobs each provider holds: the provider every claimed
    // job until it settles, the verifier the ones it is verifying or disputing.
    let (mut held, mut verifying) = (0, 0);
    for k in run.jobs.clone() {
        if !run.w.exists(&k.job) {
            continue;
        }
        let job = run.w.job(&k.job);
        if job.state != JobState::Open {
            held += 1;
        }
        if matches!(job.state, JobState::Verifying | JobState::Disputed) {
            verifying += 1;
        }
    }
    prop_assert_eq!(run.w.provider_account().active_jobs as usize, held);
    let vp: cinder::state::Provider = run.w.read(&ix::provider_pda(&run.verifier.pubkey()));
    prop_assert_eq!(vp.active_jobs as usize, verifying);
    Ok(())
}

#[test]
fn every_token_is_accounted_for() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        prop::collection::vec(op(), 1..40),
        prop_oneof![Just(0u16), Just(5_000u16), Just(10_000u16)],
    );
    runner
        .run(&strategy, |(ops, rate)| {
            with_base_run(rate, |run| run_ops(run, &ops))
        })
        .unwrap();
}

/// The job part of the property, a few cases, on the host build (program-test), so a
/// host-only divergence in the money paths cannot hide.
#[test]
fn job_tokens_are_accounted_for_native() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 4,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..25), |ops| {
            let mut run = Run::new(World::native(), 5_000);
            for op in &ops {
                apply(&mut run, None, op)?;
            }
            Ok(())
        })
        .unwrap();
}
