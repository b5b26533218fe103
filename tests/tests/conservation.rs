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
    ]
}

fn ceil_bps(x: u64, bps: u64) -> u64 {
    ((x as u128 * bps as u128).div_ceil(10_000)) as u64
}

struct Run {
    w: World,
    jobs: Vec<JobKeys>,
    verifier: solana_sdk::signature::Keypair,
    verifier_token: solana_sdk::pubkey::Pubkey,
}

impl Run {
    /// A world whose market samples `rate_bps` of jobs, with a second provider as verifier.
    fn new(mut w: World, rate_bps: u16) -> Self {
        let a = w.admin.pubkey();
        let market = w.market;
        let mut mp = cinder_tests::world::default_market_params(a);
        mp.verify_rate_bps = cinder::state::Bps(rate_bps);
        w.send(&[ix::update_market(&a, &market, mp, false)], &[])
            .unwrap();
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
        Self {
            w,
            jobs: Vec::new(),
            verifier,
            verifier_token,
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

fn apply(run: &mut Run, op: &Op) -> Result<(), TestCaseError> {
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
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_token_is_accounted_for(
        ops in prop::collection::vec(op(), 1..40),
        rate in prop_oneof![Just(0u16), Just(5_000u16), Just(10_000u16)],
    ) {
        let mut run = Run::new(World::sbf(), rate);
        for op in &ops {
            apply(&mut run, op)?;
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
            let mut run = Run::new(World::native(), 5_000);
            for op in &ops {
                apply(&mut run, op)?;
            }
            Ok(())
        })
        .unwrap();
}
