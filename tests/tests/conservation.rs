//! Property: whatever sequence of job instructions runs (including ones the program refuses),
//! every token is accounted for to the base unit, a refused instruction changes nothing, and
//! each settlement pays exactly `math::settlement_for`. Runs on the SBF build (Mollusk), where
//! a case costs milliseconds; the native build runs the same instructions in `escrow.rs`.

use cinder::state::JobState;
use cinder_tests::{ix, ix::JobKeys, World};
use proptest::prelude::*;
use solana_sdk::signer::Signer;

#[derive(Clone, Debug)]
enum Op {
    Post { price: u64, duration: u32 },
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
    ]
}

fn ceil_bps(x: u64, bps: u64) -> u64 {
    ((x as u128 * bps as u128).div_ceil(10_000)) as u64
}

struct Run {
    w: World,
    jobs: Vec<JobKeys>,
}

impl Run {
    /// client, provider, fee vault, market pool, then every job vault.
    fn balances(&mut self) -> Vec<u64> {
        let mut keys = vec![
            self.w.client_token,
            self.w.provider_token,
            self.w.fee_vault(),
            self.w.verify_pool(),
        ];
        keys.extend(self.jobs.iter().map(|k| k.vault));
        keys.iter().map(|k| self.w.balance(k)).collect()
    }
}

fn job_at(jobs: &[JobKeys], i: usize) -> Option<JobKeys> {
    (!jobs.is_empty()).then(|| jobs[i % jobs.len()])
}

fn apply(run: &mut Run, op: &Op) -> Result<(), TestCaseError> {
    let before = run.balances();
    let accrued_before = run.w.market_account().protocol_fees_accrued;
    let w = &mut run.w;
    let client = w.client.insecure_clone();
    let provider = w.provider.insecure_clone();
    let ct = w.client_token;
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
                    | Op::Extend(i, _) => i,
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
    if let Some((_, job)) = settled {
        let pay = job.price_per_sec * job.billed_secs as u64;
        let fee = ceil_bps(pay, job.protocol_fee_bps as u64);
        let verification = ceil_bps(pay, job.verification_fee_bps as u64);
        prop_assert_eq!(after[1] - before[1], pay - fee, "provider paid");
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
                job.escrow_compute + job.escrow_verification
            );
            prop_assert!(job.state != JobState::Open || job.provider == Default::default());
        } else {
            prop_assert!(!run.w.exists(&k.vault), "vault outlived its job");
        }
    }
    let pool = run.w.balance(&run.w.verify_pool());
    prop_assert!(run.w.market_account().protocol_fees_accrued <= pool);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_token_is_accounted_for(ops in prop::collection::vec(op(), 1..40)) {
        let mut run = Run { w: World::sbf(), jobs: Vec::new() };
        for op in &ops {
            apply(&mut run, op)?;
        }
        // Active-job counter matches the jobs the provider holds.
        let mut held = 0;
        for k in run.jobs.clone() {
            if run.w.exists(&k.job) && matches!(run.w.job(&k.job).state, JobState::Running | JobState::Submitted) {
                held += 1;
            }
        }
        prop_assert_eq!(run.w.provider_account().active_jobs as usize, held);
    }
}

/// The same property, a few cases, on the host build (program-test), so a host-only
/// divergence in the money paths cannot hide.
#[test]
fn every_token_is_accounted_for_native() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 4,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..25), |ops| {
            let mut run = Run {
                w: World::native(),
                jobs: Vec::new(),
            };
            for op in &ops {
                apply(&mut run, op)?;
            }
            Ok(())
        })
        .unwrap();
}
