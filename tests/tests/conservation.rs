//! Property: whatever sequence of instructions runs — jobs, attestation, staking, rewards,
//! slashing, buyback and burn — including ones the program refuses:
//! - every balance equals a plain-Rust reference model (`conservation_model`) that each
//!   successful instruction updates by its own rule, compared exactly after every step: each
//!   job vault, the market pool, both fee vaults, the stake and reward vaults, the treasury,
//!   every participant's token accounts, the protocol supply and total burned, the unswept
//!   protocol fees, the stake pool and every stake position;
//! - a refused instruction changes nothing; every payment token is accounted for to the base
//!   unit, and every protocol token is either in an account or counted as burned;
//! - no vault holds less than it owes: job vaults hold their escrow, the stake vault holds
//!   every position's stake, the reward vault covers every position's unclaimed rewards, the
//!   market pool covers unswept fees; no staker is paid more than was deposited;
//! - every instruction kind succeeds often enough to matter: the run prints each kind's
//!   successes and requires at least 50 per 10 000 cases.
//!
//! Runs on the SBF build (Mollusk): the world is set up once and restored for each case, so a
//! case costs milliseconds. `CINDER_PROPTEST_CASES` sets the number of cases (CI: 10 000; a
//! longer run: `CINDER_PROPTEST_CASES=200000 cargo test -p cinder-tests --test conservation
//! every_token_is_accounted_for`, see SECURITY.md). A failing case's seed is saved in
//! `conservation.proptest-regressions` and replayed first by later runs.

mod conservation_model;

use cinder::state::{Config, JobState, SampleStatus, StakePool, StakePosition};
use cinder_tests::reference::auction_price;
use cinder_tests::{
    ix,
    ix::JobKeys,
    tokens,
    world::{default_auction_params, LOCK_30D},
    World,
};
use conservation_model::{Effect, Keys, Model};
use proptest::{prelude::*, test_runner::FileFailurePersistence};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::{cell::RefCell, collections::BTreeMap};

/// An instruction (or a warp of the clock). Job indices count back from the newest job.
#[derive(Clone, Debug)]
enum Op {
    Post {
        price: u64,
        duration: u32,
        /// `verify_mode`: exact (0), tolerance (1: its first match is open to the client's
        /// challenge) or none (2: no verification fee, never drawn, not disputable).
        mode: u8,
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
    /// The client challenges a tolerance job's match (`dispute_job` on a Verified job).
    Challenge(usize),
    // a second verifier key (the coalition's, or anyone's): claims and submits like the
    // first; a job it verifies first escalates to the first key, and the reverse
    ClaimVerification2(usize),
    SubmitVerification2(usize, bool, u32),
    /// resolve_dispute by anyone (not the arbiter): a proven fraud at once, or the
    /// arbiter's silence after 7 days
    ResolveAnyone(usize),
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

/// Every kind but `Warp`, each of which must succeed often enough.
const KINDS: [&str; 29] = [
    "Post",
    "Claim",
    "Submit",
    "Settle",
    "Accept",
    "Cancel",
    "Quit",
    "Expire",
    "Extend",
    "Sweep",
    "Reveal",
    "ClaimVerification",
    "SubmitVerification",
    "ExpireVerification",
    "Resolve",
    "Dispute",
    "Challenge",
    "ClaimVerification2",
    "SubmitVerification2",
    "ResolveAnyone",
    "Stake",
    "Unstake",
    "Restake",
    "Withdraw",
    "ClaimRewards",
    "Deposit",
    "Buy",
    "ProtocolFees",
    "Distribute",
];

/// The variant's name.
fn kind(op: &Op) -> String {
    let s = format!("{op:?}");
    s.split(['(', ' ']).next().unwrap_or_default().to_string()
}

/// One random instruction, as likely to be refused as not.
fn single() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (10u64..5_000, 1u32..20_000, 0u8..5).prop_map(|(price, duration, u)| Op::Post { price, duration, mode: [2, 1, 0, 0, 0][u as usize] }),
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
        1 => (0usize..6).prop_map(Op::Challenge),
        1 => (0usize..6).prop_map(Op::ClaimVerification2),
        1 => (0usize..6, any::<bool>(), 0u32..3_000).prop_map(|(i, m, b)| Op::SubmitVerification2(i, m, b)),
        1 => (0usize..6).prop_map(Op::ResolveAnyone),
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

/// A job's numbers: seconds worked and billed by its provider and its verifier stay within
/// the job's duration, so the story's steps can succeed.
#[derive(Clone, Copy, Debug)]
struct Draw {
    price: u64,
    duration: u32,
    work: u32,
    billed: u32,
    verifier_work: u32,
    verifier_billed: u32,
    extend: u32,
}

fn draw() -> impl Strategy<Value = Draw> {
    let pct = || 0u32..=100;
    let extend = prop_oneof![3 => Just(0u32), 1 => 1u32..2_000];
    (
        10u64..5_000,
        60u32..3_000,
        pct(),
        pct(),
        pct(),
        pct(),
        extend,
    )
        .prop_map(|(price, duration, w, b, vw, vb, extend)| {
            let work = 1 + (duration - 1) * w / 100;
            let verifier_work = 1 + (duration - 1) * vw / 100;
            Draw {
                price,
                duration,
                work,
                billed: work * b / 100,
                verifier_work,
                verifier_billed: verifier_work * vb / 100,
                extend,
            }
        })
}

/// How a sampled re-execution is forced.
#[derive(Clone, Copy, Debug)]
enum Sampling {
    /// The client disputes (a bond, always sampled).
    Dispute,
    /// The draw is revealed (sampled at the market's rate).
    Reveal,
    /// Nobody reveals within the window (must be verified where the market samples).
    Silence,
}

#[derive(Clone, Copy, Debug)]
enum Verdict {
    /// The verifier matches; then accept (true) or settle.
    Match(bool),
    /// The verifier does not match; the arbiter decides; then accept (true) or settle.
    Mismatch(u8, bool),
    /// The verifier is silent and expired; the job settles once verification lapses.
    Timeout,
    /// The verifier mismatches and a second key re-runs the job: it matches (true, a split)
    /// or mismatches too; `resolve` 1..=3 is the arbiter's ruling, 0 leaves it to anyone (a
    /// proven fraud at once, a split after the arbiter's 7 days of silence); then accept
    /// (true) or settle.
    Escalate(bool, u8, bool),
    /// A `tolerance` job: the verifier matches, the client challenges the match, and a second
    /// key re-runs it: nobody (0: the match stands, anyone resolves), a match (1: settled), or
    /// a mismatch (2: a split, `resolve` as in `Escalate`); then accept (true) or settle.
    Challenge(u8, u8, bool),
}

/// How a job's story ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Cancel,
    Quit,
    Expire,
    Accept,
    /// Settled after the challenge window (refused where the job must be verified).
    Settle,
    RevealSettle,
    /// Settled once verification lapsed.
    Lapse,
    Verify(Sampling, Verdict),
}

fn ending() -> impl Strategy<Value = Ending> {
    let sampling = prop_oneof![
        Just(Sampling::Dispute),
        Just(Sampling::Reveal),
        Just(Sampling::Silence)
    ];
    let verdict = prop_oneof![
        any::<bool>().prop_map(Verdict::Match),
        (1u8..=3, any::<bool>()).prop_map(|(d, a)| Verdict::Mismatch(d, a)),
        Just(Verdict::Timeout),
        (any::<bool>(), 0u8..=3, any::<bool>()).prop_map(|(m, r, a)| Verdict::Escalate(m, r, a)),
        (0u8..=2, 0u8..=3, any::<bool>()).prop_map(|(n, r, a)| Verdict::Challenge(n, r, a)),
    ];
    prop_oneof![
        1 => Just(Ending::Cancel),
        1 => Just(Ending::Quit),
        1 => Just(Ending::Expire),
        1 => Just(Ending::Accept),
        1 => Just(Ending::Settle),
        1 => Just(Ending::RevealSettle),
        1 => Just(Ending::Lapse),
        5 => (sampling, verdict).prop_map(|(s, v)| Ending::Verify(s, v)),
    ]
}

/// Seconds past which an unverified job's verification lapses (window + timeout + 1).
const LAPSE_SECS: i64 = 600 + 86_400 + 1;
/// Seconds past which an escalation with no second verifier lapses (the timeout).
const ESCALATION_SECS: i64 = 86_400;
/// The arbiter's time to rule (`RESOLVE_TIMEOUT_SECS`).
const RESOLVE_SECS: i64 = cinder::constants::RESOLVE_TIMEOUT_SECS;

/// One job from posting to `end`, every step on the newest job (index 0); then, if `sell`,
/// its fees swept and bought.
fn job_story(d: Draw, end: Ending, sell: bool) -> Vec<Op> {
    let challenged = matches!(end, Ending::Verify(_, Verdict::Challenge(..)));
    let mut ops = vec![Op::Post {
        price: d.price,
        duration: d.duration,
        mode: u8::from(challenged),
    }];
    if d.extend > 0 {
        ops.push(Op::Extend(0, d.extend));
    }
    let past_deadline = (d.duration + d.extend) as i64 + 301;
    let settle = |accept: bool| if accept { Op::Accept(0) } else { Op::Settle(0) };
    match end {
        Ending::Cancel => ops.push(Op::Cancel(0)),
        Ending::Quit => ops.extend([Op::Claim(0), Op::Quit(0)]),
        Ending::Expire => ops.extend([Op::Claim(0), Op::Warp(past_deadline), Op::Expire(0)]),
        _ => ops.extend([
            Op::Claim(0),
            Op::Warp(d.work as i64),
            Op::Submit(0, d.billed),
        ]),
    }
    match end {
        Ending::Accept => ops.push(Op::Accept(0)),
        Ending::Settle => ops.extend([Op::Warp(601), Op::Settle(0)]),
        Ending::RevealSettle => {
            ops.extend([Op::Warp(10), Op::Reveal(0), Op::Warp(600), Op::Settle(0)])
        }
        Ending::Lapse => ops.extend([Op::Warp(LAPSE_SECS), Op::Settle(0)]),
        Ending::Verify(sampling, verdict) => {
            match sampling {
                // An undrawn job's races start 4 slots after the dispute.
                Sampling::Dispute => ops.extend([Op::Dispute(0), Op::Warp(2)]),
                Sampling::Reveal => ops.extend([Op::Warp(10), Op::Reveal(0)]),
                Sampling::Silence => ops.push(Op::Warp(250)),
            }
            ops.extend([Op::ClaimVerification(0), Op::Warp(d.verifier_work as i64)]);
            match verdict {
                Verdict::Match(accept) => ops.extend([
                    Op::SubmitVerification(0, true, d.verifier_billed),
                    settle(accept),
                ]),
                // One verifier key: nobody verifies a second time, the escalation lapses and
                // the arbiter decides on the one verdict.
                Verdict::Mismatch(decision, accept) => ops.extend([
                    Op::SubmitVerification(0, false, d.verifier_billed),
                    Op::Warp(ESCALATION_SECS),
                    Op::Resolve(0, decision),
                    settle(accept),
                ]),
                Verdict::Escalate(second_matches, resolve, accept) => {
                    ops.extend([
                        Op::SubmitVerification(0, false, d.verifier_billed),
                        // The second race opens 4 slots after the mismatch and runs 75.
                        Op::Warp(2),
                        Op::ClaimVerification2(0),
                        Op::Warp(d.verifier_work.max(31) as i64),
                        Op::SubmitVerification2(0, second_matches, d.verifier_billed),
                    ]);
                    match resolve {
                        0 if second_matches => {
                            ops.extend([Op::Warp(RESOLVE_SECS), Op::ResolveAnyone(0)])
                        }
                        0 => ops.push(Op::ResolveAnyone(0)),
                        d => ops.push(Op::Resolve(0, d)),
                    }
                    ops.push(settle(accept));
                }
                Verdict::Challenge(second, resolve, accept) => {
                    ops.extend([
                        Op::SubmitVerification(0, true, d.verifier_billed),
                        Op::Challenge(0),
                        // The second race opens 4 slots after the challenge.
                        Op::Warp(2),
                    ]);
                    if second == 0 {
                        ops.extend([Op::Warp(ESCALATION_SECS), Op::ResolveAnyone(0)]);
                    } else {
                        ops.extend([
                            Op::ClaimVerification2(0),
                            Op::Warp(d.verifier_work.max(31) as i64),
                            Op::SubmitVerification2(0, second == 1, d.verifier_billed),
                        ]);
                        match (second, resolve) {
                            (1, _) => {}
                            (_, 0) => ops.extend([Op::Warp(RESOLVE_SECS), Op::ResolveAnyone(0)]),
                            (_, d) => ops.push(Op::Resolve(0, d)),
                        }
                    }
                    ops.push(settle(accept));
                }
                Verdict::Timeout => ops.extend([
                    Op::Warp(past_deadline),
                    Op::ExpireVerification(0),
                    Op::Warp(LAPSE_SECS),
                    Op::Settle(0),
                ]),
            }
        }
        _ => {}
    }
    if sell {
        ops.extend([Op::Sweep, Op::Buy(true)]);
    }
    ops
}

/// A staker stakes, earns from a deposit, claims, unstakes all it staked, then restakes or
/// waits out its lock and withdraws.
fn stake_story() -> impl Strategy<Value = Vec<Op>> {
    (
        0usize..2,
        1_000_000_000u64..3_000_000_000_000,
        any::<bool>(),
        1_000_000_000u64..50_000_000_000,
        any::<bool>(),
    )
        .prop_map(|(i, amount, long, deposit, withdraw)| {
            let mut ops = vec![
                Op::Stake(i, amount, long),
                Op::Deposit(deposit),
                Op::ClaimRewards(i),
                Op::Unstake(i, amount),
            ];
            if withdraw {
                let lock = if long { 365 * 86_400 } else { LOCK_30D };
                ops.extend([Op::Warp(lock as i64 + 1), Op::Withdraw(i)]);
            } else {
                ops.push(Op::Restake(i));
            }
            ops
        })
}

/// Protocol-mint fees paid and distributed, or a market's fees swept and bought.
fn revenue_story() -> impl Strategy<Value = Vec<Op>> {
    prop_oneof![
        (1u64..50_000_000_000).prop_map(|a| vec![Op::ProtocolFees(a), Op::Distribute]),
        Just(vec![Op::Sweep, Op::Buy(true)]),
    ]
}

/// A case: up to `segments` random instructions and stories, flattened.
fn ops(segments: usize) -> impl Strategy<Value = Vec<Op>> {
    let segment = prop_oneof![
        4 => single().prop_map(|op| vec![op]),
        3 => (draw(), ending(), any::<bool>()).prop_map(|(d, e, s)| job_story(d, e, s)),
        1 => stake_story(),
        1 => revenue_story(),
    ];
    prop::collection::vec(segment, 1..segments).prop_map(|s| s.concat())
}

/// The market samples `rate_bps` of jobs and burns 10 % of a quitting provider's locked stake.
fn set_market(w: &mut World, rate_bps: u16) {
    let (a, market) = (w.admin.pubkey(), w.market);
    let mut mp = cinder_tests::world::default_market_params(a);
    mp.verify_rate_bps = cinder::state::Bps(rate_bps);
    mp.quit_penalty_bps = cinder::state::Bps(1_000);
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .unwrap();
}

struct Run {
    w: World,
    jobs: Vec<JobKeys>,
    verifier: Keypair,
    verifier_token: Pubkey,
    /// A second verifier key and its payment-token account.
    verifier2: Keypair,
    verifier2_token: Pubkey,
    /// Two stakers, then the provider, the verifier and the second verifier: (wallet,
    /// protocol-token account).
    stakers: Vec<(Keypair, Pubkey)>,
    /// Buys fee vaults, deposits rewards, pays protocol-mint fees: (wallet, protocol-token
    /// account, payment-token account).
    whale: (Keypair, Pubkey, Pubkey),
    /// Set at the start of each case.
    model: Option<Model>,
}

impl Run {
    /// A world whose market samples `rate_bps` of jobs, with a second provider as verifier.
    fn new(mut w: World, rate_bps: u16) -> Self {
        let a = w.admin.pubkey();
        set_market(&mut w, rate_bps);
        let (admin, mint, tp) = (w.admin.insecure_clone(), w.mint, w.token_program);
        let verifier_key = |w: &mut World| {
            let v = solana_sdk::signature::Keypair::new();
            w.fund(&v.pubkey());
            w.make_provider(&v);
            let t = cinder_tests::tokens::create_token_account(
                w.chain.as_mut(),
                &admin,
                &mint,
                &v.pubkey(),
                &tp,
            );
            (v, t)
        };
        let (verifier, verifier_token) = verifier_key(&mut w);
        let (verifier2, verifier2_token) = verifier_key(&mut w);
        w.wait_one_race();
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
        let v2ptoken = w.protocol_account(&verifier2.pubkey());
        stakers.push((verifier2.insecure_clone(), v2ptoken));
        let (whale, whale_ptoken) = w.staker(1_000_000_000_000_000);
        let whale_pay =
            tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &whale.pubkey(), &tp);
        Self {
            w,
            jobs: Vec::new(),
            verifier,
            verifier_token,
            verifier2,
            verifier2_token,
            stakers,
            whale: (whale, whale_ptoken, whale_pay),
            model: None,
        }
    }

    /// Starts the model from the chain as it is now.
    fn start_model(&mut self) {
        let w = &self.w;
        let names = [
            "staker 0",
            "staker 1",
            "provider",
            "verifier",
            "second verifier",
        ];
        let mut others: Vec<(Pubkey, String)> = (self.stakers.iter().zip(names))
            .map(|(s, n)| (s.1, format!("{n}'s protocol tokens")))
            .collect();
        others.push((self.whale.1, "whale's protocol tokens".into()));
        others.push((self.whale.2, "whale's payment tokens".into()));
        others.push((
            self.verifier2_token,
            "second verifier's payment tokens".into(),
        ));
        let keys = Keys {
            client: w.client_token,
            provider: w.provider_token,
            verifier: self.verifier_token,
            pool: w.verify_pool(),
            fee_vault: w.fee_vault(),
            protocol_fee_vault: ix::fee_vault_pda(&w.protocol_mint),
            stake_vault: ix::stake_vault_pda(),
            reward_vault: ix::reward_vault_pda(),
            treasury: w.treasury_ptoken,
            others,
            stakers: self.stakers.iter().map(|s| s.0.pubkey()).collect(),
            market: w.market,
        };
        self.model = Some(Model::new(&mut self.w, keys));
    }

    fn staker(&self, i: usize) -> (Keypair, Pubkey) {
        (self.stakers[i].0.insecure_clone(), self.stakers[i].1)
    }

    /// The provider's and the verifier's protocol-token accounts (where slash shares go).
    fn provider_ptoken(&self) -> Pubkey {
        self.stakers[2].1
    }
    fn verifier_ptoken(&self) -> Pubkey {
        self.stakers[3].1
    }
}

/// The job `i` places back from the newest.
fn job_at(jobs: &[JobKeys], i: usize) -> Option<JobKeys> {
    (!jobs.is_empty()).then(|| jobs[jobs.len() - 1 - i % jobs.len()])
}

/// The staking and buyback ops: the model's rule and whether the chain accepted it; None
/// for job ops.
fn apply_economics(run: &mut Run, op: &Op) -> Option<(Effect, bool)> {
    let p = run.w.protocol();
    let tr = run.w.treasury_ptoken;
    let (whale, wpt, wpay) = (run.whale.0.insecure_clone(), run.whale.1, run.whale.2);
    let (payment_mint, payment_tp) = (run.w.mint, run.w.token_program);
    let (ixn, signer, effect) = match *op {
        Op::Stake(i, amount, long) => {
            let (k, token) = run.staker(i);
            let lock_secs = if long { 365 * 86_400 } else { LOCK_30D };
            let who = k.pubkey();
            let effect = Effect::Stake {
                who,
                token,
                amount,
                lock_secs,
            };
            (ix::stake(&who, &token, &p, amount, lock_secs), k, effect)
        }
        Op::Unstake(i, amount) => {
            let (k, _) = run.staker(i);
            let who = k.pubkey();
            (
                ix::request_unstake(&who, amount),
                k,
                Effect::Unstake { who, amount },
            )
        }
        Op::Restake(i) => {
            let (k, _) = run.staker(i);
            let who = k.pubkey();
            (ix::restake(&who), k, Effect::Restake { who })
        }
        Op::Withdraw(i) => {
            let (k, token) = run.staker(i);
            let who = k.pubkey();
            let effect = Effect::Withdraw { who, token };
            (ix::withdraw_stake(&who, &token, &p), k, effect)
        }
        Op::ClaimRewards(i) => {
            let (k, token) = run.staker(i);
            let who = k.pubkey();
            let effect = Effect::ClaimRewards { who, token };
            (ix::claim_rewards(&who, &token, &p), k, effect)
        }
        Op::Deposit(amount) => (
            ix::deposit_rewards(&whale.pubkey(), &wpt, &tr, &p, amount),
            whale,
            Effect::Deposit { from: wpt, amount },
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
            let auction: cinder::state::Auction = run.w.read(&ix::auction_pda(&payment_mint));
            let price = auction_price(&auction, run.w.now());
            let ixn = ix::buy(
                &whale.pubkey(),
                &side,
                &wpay,
                &wpt,
                &tr,
                &p,
                u64::MAX,
                min_out,
            );
            let effect = Effect::Buy {
                price,
                buyer_protocol: wpt,
                buyer_payment: wpay,
            };
            (ixn, whale, effect)
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
            Effect::ProtocolFees { from: wpt, amount },
        ),
        Op::Distribute => {
            let ok = run.w.send(&[ix::distribute_fees(&tr, &p)], &[]).is_ok();
            return Some((Effect::Distribute, ok));
        }
        _ => return None,
    };
    Some((effect, run.w.send(&[ixn], &[&signer]).is_ok()))
}

/// The job ops: the model's rule (from the job and market as they are before the op) and
/// whether the chain accepted it; None when there is no such job (nothing was sent).
fn apply_job_op(run: &mut Run, op: &Op) -> Option<(Effect, bool)> {
    let provider_ptoken = run.provider_ptoken();
    let verifier_ptoken = run.verifier_ptoken();
    let ptokens: Vec<(Pubkey, Pubkey)> = run.stakers.iter().map(|s| (s.0.pubkey(), s.1)).collect();
    // A key without one (no verifier yet: the chain refuses such a resolve) gets the
    // provider's, so the instruction can still be built and sent.
    let ptoken_of = |who: &Pubkey| {
        ptokens
            .iter()
            .find(|(k, _)| k == who)
            .map_or(provider_ptoken, |(_, t)| *t)
    };
    let w = &mut run.w;
    let client = w.client.insecure_clone();
    let provider = w.provider.insecure_clone();
    let ct = w.client_token;
    let v = run.verifier.insecure_clone();
    let vt = run.verifier_token;
    let v2 = run.verifier2.insecure_clone();
    let vt2 = run.verifier2_token;
    let whale = run.whale.0.insecure_clone();
    match *op {
        Op::Post {
            price,
            duration,
            mode,
        } => {
            let unverified = mode == cinder::state::verify_mode::NONE;
            let posted = w.try_post_with(price, duration, |a| a.verify_mode = mode);
            return Some(match posted {
                Ok(k) => {
                    run.jobs.push(k);
                    let (job, vault) = (k.job, k.vault);
                    let effect = Effect::Post {
                        job,
                        vault,
                        price,
                        duration,
                        unverified,
                    };
                    (effect, true)
                }
                Err(_) => (Effect::Nothing, false),
            });
        }
        Op::Warp(s) => {
            w.warp(s);
            return Some((Effect::Nothing, true));
        }
        Op::Sweep => return Some((Effect::Sweep, w.try_sweep().is_ok())),
        _ => {}
    }
    let i = match *op {
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
        | Op::Dispute(i)
        | Op::Challenge(i)
        | Op::ClaimVerification2(i)
        | Op::SubmitVerification2(i, _, _)
        | Op::ResolveAnyone(i) => i,
        _ => unreachable!("not a job op: {op:?}"),
    };
    let k = job_at(&run.jobs, i)?;
    if !w.exists(&k.job) {
        return None;
    }
    let job = w.job(&k.job);
    let params = w.market_account().params;
    let p = w.protocol();
    let slash = |who: Pubkey, bps: cinder::state::Bps, winner: Pubkey| Effect::Slash {
        who,
        bps: bps.0,
        reward_bps: params.slash_reward_bps.0,
        winner,
        co_winner: None,
    };
    let settle = Effect::Settle {
        job: k.job,
        billed_secs: job.billed_secs,
        refunded: job.state == JobState::Refunded,
        verified: job.state == JobState::Verified,
        resolution: job.resolution,
    };
    let (res, effect) = match *op {
        Op::Claim(_) => (w.try_claim(&k), Effect::Nothing),
        Op::Submit(_, b) => (w.try_submit(&k, b), Effect::Nothing),
        Op::Settle(_) => (w.try_settle(&k), settle),
        Op::Accept(_) => (
            w.send(&[ix::accept_result(&k, &w.payees())], &[&client]),
            settle,
        ),
        Op::Cancel(_) => (
            w.send(&[ix::cancel_job(&k, &client.pubkey(), &ct)], &[&client]),
            Effect::Cancel { job: k.job },
        ),
        Op::Quit(_) => (
            w.send(&[ix::quit_job(&k, &provider.pubkey(), &p)], &[&provider]),
            Effect::QuitPenalty {
                who: provider.pubkey(),
                stake_locked: job.stake_locked,
                bps: params.quit_penalty_bps.0,
            },
        ),
        // The verifier, as a keeper, expires the provider and takes the slash share.
        Op::Expire(_) => {
            let expire = ix::expire_job(&k, &v.pubkey(), &provider.pubkey(), &verifier_ptoken, &p);
            (
                w.send(&[expire], &[&v]),
                slash(provider.pubkey(), params.timeout_slash_bps, verifier_ptoken),
            )
        }
        Op::Extend(_, s) => (
            w.send(&[ix::extend_job(&k, &ct, s)], &[&client]),
            Effect::Extend {
                job: k.job,
                added_secs: s,
            },
        ),
        Op::Reveal(_) => (w.send(&[ix::reveal_sample(&k)], &[]), Effect::Nothing),
        Op::Dispute(_) | Op::Challenge(_) => (
            w.send(&[ix::dispute_job(&k, &ct)], &[&client]),
            Effect::Dispute { job: k.job },
        ),
        Op::ClaimVerification(_) | Op::ClaimVerification2(_) => {
            let who = if matches!(op, Op::ClaimVerification(_)) {
                &v
            } else {
                &v2
            };
            (
                w.send(&[ix::claim_verification(&k, &who.pubkey())], &[who]),
                Effect::Nothing,
            )
        }
        Op::SubmitVerification(_, matched, b) | Op::SubmitVerification2(_, matched, b) => {
            let (who, token) = if matches!(op, Op::SubmitVerification(..)) {
                (&v, vt)
            } else {
                (&v2, vt2)
            };
            let hash = if matched { [42; 32] } else { [7; 32] };
            let submit = w.verdict_ixs(&k, &who.pubkey(), &token, hash, b);
            let effect = Effect::Verify {
                job: k.job,
                matched,
                billed_secs: job.billed_secs,
                verifier_billed_secs: b,
                drawn_sample: job.sample_status == SampleStatus::Sampled,
                verifier_token: token,
                // The second verdict on a challenged match is paid like a disputed first
                // match (from the client's bond), not like an escalation's.
                escalated: job.first_verifier != Pubkey::default() && job.challenged_match == 0,
            };
            (w.send(&submit, &[who]), effect)
        }
        // The provider, as a keeper, expires its silent verifier (either key) and takes the
        // slash share.
        Op::ExpireVerification(_) => {
            let who = job.verifier;
            let expire =
                ix::expire_verification(&k, &provider.pubkey(), &who, &provider_ptoken, &p);
            (
                w.send(&[expire], &[&provider]),
                slash(who, params.timeout_slash_bps, provider_ptoken),
            )
        }
        // The arbiter rules 1: provider right, 2: verifier right, 3: undecidable (a proven
        // fraud is verifier right whatever it says); anyone else resolves a proven fraud, or
        // after the arbiter's silence lets the result stand.
        Op::Resolve(..) | Op::ResolveAnyone(_) => {
            let (by_arbiter, d) = match *op {
                Op::Resolve(_, d) => (true, d),
                _ => (false, cinder::state::resolution::VERIFIER_RIGHT),
            };
            let signer = if by_arbiter {
                w.admin.insecure_clone()
            } else {
                whale.insecure_clone()
            };
            let (resolve, effect) =
                resolution(&k, &job, &signer.pubkey(), by_arbiter, d, &p, &ptoken_of);
            let signers: Vec<&Keypair> = if by_arbiter { vec![] } else { vec![&signer] };
            (w.send(&[resolve], &signers), effect)
        }
        _ => unreachable!(),
    };
    Some((effect, res.is_ok()))
}

/// resolve_dispute of `job` by `signer` and what it does by the published rules: who decides
/// (a proven fraud, two mismatch verdicts, is verifier right whoever sends it; else the
/// arbiter's `decision`, or the result stands for anyone else), and whom that slashes (README
/// "Escalation"): verifier right slashes the provider (the reward to the first verifier, half
/// of it to a second that mismatched too) and a second verifier that matched; provider right
/// slashes the first verifier (half the reward to a second that matched); nothing else
/// slashes. A client's challenge of a match (README "What keeps a verifier honest") swaps the
/// verifiers: a split's verifier right slashes the provider and the first verifier (who
/// matched), each reward to the second; provider right slashes the second; a challenge nobody
/// re-ran lets the match stand, whoever resolves.
fn resolution(
    k: &JobKeys,
    job: &cinder::state::Job,
    signer: &Pubkey,
    by_arbiter: bool,
    decision: u8,
    p: &ix::Protocol,
    ptoken_of: &dyn Fn(&Pubkey) -> Pubkey,
) -> (solana_sdk::instruction::Instruction, Effect) {
    use cinder::state::{resolution as r, verdict};
    let escalated = job.first_verifier != Pubkey::default();
    let two = escalated && job.state == JobState::Disputed;
    let (first, second) = if escalated {
        (job.first_verifier, two.then_some(job.verifier))
    } else {
        (job.verifier, None)
    };
    // Verdicts, in either verify mode: two mismatches prove the fraud, a verifier found wrong
    // is slashed.
    let confirmed = two && job.verdict == verdict::CONFIRMED;
    let split = two && job.verdict == verdict::SPLIT;
    let challenged = job.challenged_match != 0;
    let outcome = if confirmed {
        r::VERIFIER_RIGHT
    } else if challenged && !two {
        r::RESULT_STANDS
    } else if by_arbiter {
        decision
    } else {
        r::RESULT_STANDS
    };
    let slash = |who: Pubkey, winner: Pubkey, co: Option<Pubkey>| Effect::Slash {
        who,
        bps: job.fraud_slash_bps,
        reward_bps: job.slash_reward_bps,
        winner: ptoken_of(&winner),
        co_winner: co.map(|c| ptoken_of(&c)),
    };
    let mut effects = Vec::new();
    let winner = match (outcome, second) {
        (r::VERIFIER_RIGHT, Some(s)) if challenged => {
            effects.push(slash(job.provider, s, None));
            effects.push(slash(first, s, None));
            s
        }
        (r::PROVIDER_RIGHT, Some(s)) if challenged => {
            effects.push(slash(s, job.provider, None));
            job.provider
        }
        (r::VERIFIER_RIGHT, _) => {
            effects.push(slash(job.provider, first, second.filter(|_| confirmed)));
            if let (Some(s), true) = (second, split) {
                effects.push(slash(s, first, None));
            }
            first
        }
        (r::PROVIDER_RIGHT, _) => {
            effects.push(slash(first, job.provider, second.filter(|_| split)));
            job.provider
        }
        _ => job.provider,
    };
    let winner_token = ptoken_of(&winner);
    let ixn = match second {
        Some(s) => ix::resolve_dispute_escalated(
            k,
            signer,
            &job.provider,
            &first,
            &s,
            &winner_token,
            &ptoken_of(&s),
            p,
            decision,
        ),
        None => ix::resolve_dispute(k, signer, &job.provider, &first, &winner_token, p, decision),
    };
    (ixn, Effect::All(effects))
}

thread_local! {
    /// Successes of each instruction kind, over every case this thread ran.
    static SUCCESSES: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
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
        prop_assert_eq!(
            &now.balances,
            &before.balances,
            "refused {:?} moved tokens",
            op
        );
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

/// Applies `op`, updates the model if the chain accepted it, and compares the two; checks the
/// job invariants, and with `start` (the SBF chain, which can list every account) the
/// whole-chain invariants too.
fn apply(run: &mut Run, start: Option<&Books>, op: &Op) -> Result<(), TestCaseError> {
    let before = start.map(|_| books(&mut run.w));
    let Some((effect, ok)) = apply_economics(run, op).or_else(|| apply_job_op(run, op)) else {
        return Ok(());
    };
    let model = run.model.as_mut().expect("the case started its model");
    if ok {
        model
            .apply(&effect)
            .map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
        if !matches!(op, Op::Warp(_)) {
            SUCCESSES.with(|s| *s.borrow_mut().entry(kind(op)).or_default() += 1);
        }
    }
    model.check(&mut run.w, op)?;
    // Live jobs hold exactly their escrow (less a forced re-run paid out of it, by the model's
    // count); the pool always covers the unswept protocol fees.
    for k in run.jobs.clone() {
        if run.w.exists(&k.job) {
            let job = run.w.job(&k.job);
            let rerun = run.model.as_ref().map_or(0, |m| m.rerun_paid(&k.job)) as u64;
            prop_assert_eq!(
                run.w.balance(&k.vault),
                job.escrow_compute + job.escrow_verification + job.client_bond() - rerun
            );
            prop_assert!(job.state != JobState::Open || job.provider == Default::default());
        } else {
            prop_assert!(!run.w.exists(&k.vault), "vault outlived its job");
        }
    }
    let pool = run.w.balance(&run.w.verify_pool());
    prop_assert!(run.w.market_account().protocol_fees_accrued <= pool);
    match (start, &before) {
        (Some(start), Some(before)) => check_books(run, start, before, ok, op),
        _ => Ok(()),
    }
}

fn cases() -> u32 {
    std::env::var("CINDER_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Failing seeds are saved next to this file (`conservation.proptest-regressions`) and
/// replayed first by every later run.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
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
        set_market(&mut run.w, rate_bps);
        f(run)
    })
}

/// Runs a case's ops from a fresh model; `whole_chain`: also the whole-chain invariants.
fn run_ops(run: &mut Run, ops: &[Op], whole_chain: bool) -> Result<(), TestCaseError> {
    run.start_model();
    let start = whole_chain.then(|| books(&mut run.w));
    for op in ops {
        apply(run, start.as_ref(), op)?;
    }
    // Active-job counters match the jobs each provider holds: the provider every claimed
    // job until it settles, the verifier the ones it is verifying or disputing, or whose
    // mismatch awaits a second verdict.
    let (mut held, mut verifying) = (0, [0usize; 2]);
    for k in run.jobs.clone() {
        if !run.w.exists(&k.job) {
            continue;
        }
        let job = run.w.job(&k.job);
        if job.state != JobState::Open {
            held += 1;
        }
        let pending = matches!(
            job.state,
            JobState::Verifying | JobState::Disputed | JobState::Escalated
        );
        for (n, me) in [run.verifier.pubkey(), run.verifier2.pubkey()]
            .iter()
            .enumerate()
        {
            if pending && (job.verifier == *me || job.first_verifier == *me) {
                verifying[n] += 1;
            }
        }
    }
    prop_assert_eq!(run.w.provider_account().active_jobs as usize, held);
    for (n, v) in [run.verifier.pubkey(), run.verifier2.pubkey()]
        .iter()
        .enumerate()
    {
        let vp: cinder::state::Provider = run.w.read(&ix::provider_pda(v));
        prop_assert_eq!(vp.active_jobs as usize, verifying[n]);
    }
    Ok(())
}

/// Prints each kind's successes and requires `min` of each.
fn require_successes(min: u64) {
    let counts = SUCCESSES.with(|s| s.borrow().clone());
    println!("successes per instruction kind (minimum {min}):");
    for k in KINDS {
        println!("  {k:<20} {:>8}", counts.get(k).copied().unwrap_or(0));
    }
    for k in counts.keys() {
        assert!(KINDS.contains(&k.as_str()), "{k} is missing from KINDS");
    }
    let short: Vec<_> = KINDS
        .iter()
        .filter(|k| counts.get(**k).copied().unwrap_or(0) < min)
        .collect();
    assert!(short.is_empty(), "fewer than {min} successes: {short:?}");
}

#[test]
fn every_token_is_accounted_for() {
    let cases = cases();
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    let strategy = (
        ops(6),
        prop_oneof![Just(0u16), Just(5_000u16), Just(10_000u16)],
    );
    runner
        .run(&strategy, |(ops, rate)| {
            with_base_run(rate, |run| run_ops(run, &ops, true))
        })
        .unwrap();
    // 50 per 10 000 cases; at least one from 200 cases on.
    let min = (50 * cases as u64 / 10_000).max(u64::from(cases >= 200));
    require_successes(min);
}

/// The same property, with the model, on the host build (program-test), so a host-only
/// divergence in the money paths cannot hide. A case builds its own world (no snapshot), so
/// this runs 256 shorter cases (`CINDER_NATIVE_CASES` sets how many).
#[test]
fn job_tokens_are_accounted_for_native() {
    let cases = std::env::var("CINDER_NATIVE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    let strategy = (
        ops(6),
        prop_oneof![Just(0u16), Just(5_000u16), Just(10_000u16)],
    );
    runner
        .run(&strategy, |(ops, rate)| {
            let mut run = Run::new(World::native(), rate);
            run_ops(&mut run, &ops, false)
        })
        .unwrap();
}
