//! SECURITY.md rows about *what* an attacker can make the program do with valid accounts: the
//! state machine (9), arithmetic (10), reward gaming (11), slashing gaming (12), randomness
//! grinding (13), lazy verifiers (14), the auction (15), Token-2022 mints (16), parameters (19)
//! and denial of service (20); plus what this audit found (24–26): a verifier billing more than
//! the job ran, verification forced to drain the market pool, and a mint close authority.
//! Every refusal is asserted with its exact error and an unchanged chain; every test runs on
//! the host build and on the SBF build.

mod attacks_support;

use anchor_lang::error::ErrorCode as Anchor;
use attacks_support::{mint_payment, payment_account, set_verify_rate, stranger, Attack};
use cinder::{
    constants::DAY_SECS,
    errors::CinderError,
    state::{resolution, AuctionParams, Bps, JobState, SampleStatus},
};
use cinder_tests::{
    ix::{self, JobKeys},
    on_both, tokens,
    tokens::MintExt,
    world::{default_auction_params, default_config_params, default_market_params, PROVIDER_STAKE},
    World,
};
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
};

const PRICE: u64 = 10;
const DURATION: u32 = 3_600;
/// SPL Token's `InsufficientFunds`.
const INSUFFICIENT_FUNDS: InstructionError = InstructionError::Custom(1);

/// A second registered provider with a payment-token account, to verify others' jobs.
fn verifier(w: &mut World) -> (Keypair, Pubkey) {
    let v = stranger(w);
    w.make_provider(&v);
    w.wait_one_race();
    let t = payment_account(w, &v.pubkey());
    (v, t)
}

/// Posts at `price` for `duration`, claims, runs `billed` seconds and submits result [42; 32].
fn submitted_at(w: &mut World, price: u64, duration: u32, billed: u32) -> JobKeys {
    let k = w.post(price, duration);
    w.claim(&k);
    w.warp(billed as i64);
    w.submit(&k, billed);
    k
}

/// A job the draw chose, in a market whose verify rate equals its verification fee (20 %), so a
/// drawn run's solvency bound (pay × fee / rate) is the pay itself and never binds here: posts,
/// runs and reveals jobs until one is drawn, settling the others.
fn drawn_at(w: &mut World, price: u64, duration: u32, billed: u32) -> JobKeys {
    let twenty = market_params(w, |p| {
        p.verify_rate_bps = Bps(2_000);
        p.verification_fee_bps = Bps(2_000);
    });
    w.send(&[twenty], &[]).expect("update_market");
    for _ in 0..60 {
        let k = submitted_at(w, price, duration, billed);
        w.warp(2);
        w.send(&[ix::reveal_sample(&k)], &[]).expect("reveal");
        if w.job(&k.job).sample_status == SampleStatus::Sampled {
            return k;
        }
        w.warp(600);
        w.settle(&k);
    }
    panic!("no job drawn in 60 at 20 %");
}

fn market_params(w: &World, edit: impl FnOnce(&mut cinder::state::MarketParams)) -> Instruction {
    let a = w.admin.pubkey();
    let mut mp = default_market_params(a);
    edit(&mut mp);
    ix::update_market(&a, &w.market, mp, false)
}

/// `v`'s honest commitment and verdict on its re-run `hash` of `k`'s job.
fn submit_verification(
    w: &mut World,
    k: &JobKeys,
    v: &(Keypair, Pubkey),
    hash: [u8; 32],
    billed: u32,
) -> [Instruction; 2] {
    w.verdict_ixs(k, &v.0.pubkey(), &v.1, hash, billed)
}

// --- 9. state machine abuse ------------------------------------------------------------------

on_both!(every_step_out_of_order_is_a_named_error, |w| {
    let client = w.client.insecure_clone();
    let prov = w.provider.insecure_clone();
    let (ct, p) = (w.client_token, w.protocol());
    let provider = prov.pubkey();
    let (v, vt) = verifier(&mut w);
    let caller = stranger(&mut w);
    let caller_token = w.protocol_account(&caller.pubkey());
    let expire = |k: &JobKeys| ix::expire_job(k, &caller.pubkey(), &provider, &caller_token, &p);
    let k = w.post(PRICE, 100);
    // Open: nothing to settle, accept, submit, quit, expire, dispute or reveal.
    let none: &[&Keypair] = &[];
    let open_cases: [(Instruction, CinderError, &[&Keypair]); 7] = [
        (
            ix::settle_job(&k, &w.payees()),
            CinderError::JobNotSettleable,
            none,
        ),
        (
            ix::accept_result(&k, &w.payees()),
            CinderError::JobNotSubmitted,
            &[&client],
        ),
        (
            ix::submit_result(&k, &provider, [42; 32], 0, ""),
            CinderError::JobNotRunning,
            &[&prov],
        ),
        (
            ix::quit_job(&k, &provider, &p),
            CinderError::JobNotRunning,
            &[&prov],
        ),
        (expire(&k), CinderError::JobNotRunning, &[&caller]),
        (
            ix::dispute_job(&k, &ct),
            CinderError::JobNotSubmitted,
            &[&client],
        ),
        (ix::reveal_sample(&k), CinderError::JobNotSubmitted, none),
    ];
    for (i, err, signers) in open_cases {
        w.refused(&[i], signers, err);
    }
    // Running: claimed once only, not cancelled, not expired before deadline + grace, and not
    // submitted after the deadline.
    w.claim(&k);
    w.refused(
        &[ix::claim_job(&k, &provider)],
        &[&prov],
        CinderError::JobNotOpen,
    );
    w.refused(
        &[ix::cancel_job(&k, &client.pubkey(), &ct)],
        &[&client],
        CinderError::JobNotOpen,
    );
    w.refused(
        &[ix::settle_job(&k, &w.payees())],
        &[],
        CinderError::JobNotSettleable,
    );
    w.warp(400); // deadline 100 s + grace 300 s: not yet
    w.refused(&[expire(&k)], &[&caller], CinderError::DeadlineNotPassed);
    w.refused(
        &[ix::submit_result(&k, &provider, [42; 32], 100, "")],
        &[&prov],
        CinderError::DeadlinePassed,
    );
    // Submitted: billed within the run only; no second claim, extension or quit; no settle
    // inside the window; no verification that was not sampled; no early reveal.
    let k2 = w.post(PRICE, DURATION);
    w.claim(&k2);
    w.warp(50);
    w.refused(
        &[ix::submit_result(&k2, &provider, [42; 32], 51, "")],
        &[&prov],
        CinderError::BilledTooMuch,
    );
    w.submit(&k2, 50);
    let vk = (v.insecure_clone(), vt);
    let submitted_cases: [(Instruction, CinderError, &[&Keypair]); 7] = [
        (
            ix::claim_job(&k2, &provider),
            CinderError::JobNotOpen,
            &[&prov],
        ),
        (
            ix::extend_job(&k2, &ct, 10),
            CinderError::JobNotExtendable,
            &[&client],
        ),
        (
            ix::quit_job(&k2, &provider, &p),
            CinderError::JobNotRunning,
            &[&prov],
        ),
        (
            ix::settle_job(&k2, &w.payees()),
            CinderError::ChallengeWindowOpen,
            none,
        ),
        (ix::reveal_sample(&k2), CinderError::SampleNotReady, none),
        (
            ix::claim_verification(&k2, &v.pubkey()),
            CinderError::NotSampled,
            &[&v],
        ),
        (
            ix::submit_verification(
                &k2,
                &v.pubkey(),
                &vk.1,
                &w.provider_token,
                [42; 32],
                0,
                true,
            ),
            CinderError::JobNotVerifying,
            &[&v],
        ),
    ];
    for (i, err, signers) in submitted_cases {
        w.refused(&[i], signers, err);
    }
    let ev = ix::expire_verification(&k2, &caller.pubkey(), &v.pubkey(), &caller_token, &p);
    w.refused(&[ev], &[&caller], CinderError::JobNotVerifying);
    let a = w.admin.pubkey();
    let res = ix::resolve_dispute(
        &k2,
        &a,
        &provider,
        &v.pubkey(),
        &caller_token,
        &p,
        resolution::PROVIDER_RIGHT,
    );
    w.refused(&[res], &[], CinderError::JobNotDisputed);
    // After the window: no dispute, no reveal (the 500-slot window passed too).
    w.warp(600);
    w.refused(
        &[ix::dispute_job(&k2, &ct)],
        &[&client],
        CinderError::ChallengeWindowClosed,
    );
    w.refused(
        &[ix::reveal_sample(&k2)],
        &[],
        CinderError::SampleAlreadyDecided,
    );
    // Settled once; the second settlement finds no job.
    w.settle(&k2);
    w.refused(
        &[ix::settle_job(&k2, &w.payees())],
        &[],
        Anchor::AccountOwnedByWrongProgram,
    );
});

// --- 10. arithmetic ------------------------------------------------------------------------------

on_both!(extreme_amounts_fail_cleanly_and_move_nothing, |w| {
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    let p = w.protocol();
    let prov = w.provider.insecure_clone();
    // A market that takes any price and the longest jobs.
    w.send(
        &[market_params(&w, |mp| {
            mp.min_price_per_sec = 1;
            mp.max_duration_secs = 30 * DAY_SECS;
        })],
        &[],
    )
    .expect("update_market");
    let post = |w: &mut World, price: u64, duration: u32| {
        let (k, n) = w.next_job();
        let args = w.post_args(&k, n, price, duration);
        (k, ix::post_job(&k, &ct, args))
    };
    // price × duration, or it plus the verification fee, above u64::MAX.
    for (price, duration) in [(u64::MAX, 2), (u64::MAX, 1), (u64::MAX / 2, 3)] {
        let (_, i) = post(&mut w, price, duration);
        w.refused(&[i], &[&client], CinderError::MathOverflow);
    }
    // A price that fits but more than the client has.
    let (_, i) = post(&mut w, u64::MAX / 100, 1);
    w.refused(&[i], &[&client], INSUFFICIENT_FUNDS);
    // Extending by u32::MAX seconds.
    let k = w.post(PRICE, DURATION);
    w.refused(
        &[ix::extend_job(&k, &ct, u32::MAX)],
        &[&client],
        CinderError::DurationOutOfRange,
    );
    // Staking u64::MAX (its weight would overflow), unstaking more than there is, depositing
    // more than the depositor holds.
    let (s, st) = w.staker(PROVIDER_STAKE);
    w.refused(
        &[ix::stake(&s.pubkey(), &st, &p, u64::MAX, 365 * DAY_SECS)],
        &[&s],
        CinderError::MathOverflow,
    );
    w.refused(
        &[ix::request_unstake(&prov.pubkey(), u64::MAX)],
        &[&prov],
        CinderError::StakeLockedByJobs,
    );
    let tr = w.treasury_ptoken;
    w.refused(
        &[ix::deposit_rewards(&s.pubkey(), &st, &tr, &p, u64::MAX)],
        &[&s],
        INSUFFICIENT_FUNDS,
    );
});

on_both!(one_base_unit_payments_round_for_the_protocol, |w| {
    w.send(&[market_params(&w, |mp| mp.min_price_per_sec = 1)], &[])
        .expect("update_market");
    // 1 unit per second for 1 second: escrow 1 + ceil(6 % of 1) = 2.
    let k = submitted_at(&mut w, 1, 1, 1);
    assert_eq!(w.balance(&k.vault), 2);
    w.warp(600);
    let before = w.ledger(&k);
    let accrued = w.market_account().protocol_fees_accrued;
    w.settle(&k);
    let after = w.ledger(&k);
    // pay 1: the 5 % fee rounds up to all of it; the verification fee rounds up to 1.
    assert_eq!(after[1] - before[1], 0, "provider: 1 − ceil(5 % of 1)");
    assert_eq!(after[3] - before[3], 2, "pool: fee 1 + verification 1");
    assert_eq!(after[0] - before[0], 0, "client: nothing left");
    assert_eq!(w.market_account().protocol_fees_accrued - accrued, 1);
});

on_both!(rewards_with_nobody_staked_go_to_the_treasury, |w| {
    // The only staker (the provider) unstakes everything: the pool's weight is zero.
    let prov = w.provider.insecure_clone();
    w.send(
        &[ix::request_unstake(&prov.pubkey(), PROVIDER_STAKE)],
        &[&prov],
    )
    .expect("unstake all");
    assert_eq!(w.stake_pool().total_weight, 0);
    let (d, dt) = w.staker(1_000_000);
    let (p, tr) = (w.protocol(), w.treasury_ptoken);
    let acc = w.stake_pool().acc_reward_per_weight.get();
    let vault = w.balance(&ix::reward_vault_pda());
    w.send(
        &[ix::deposit_rewards(&d.pubkey(), &dt, &tr, &p, 1_000_000)],
        &[&d],
    )
    .expect("deposit with zero weight");
    assert_eq!(w.balance(&tr), 1_000_000);
    assert_eq!(w.balance(&ix::reward_vault_pda()), vault);
    assert_eq!(
        w.stake_pool().acc_reward_per_weight.get(),
        acc,
        "no division by zero weight"
    );
    // ...and only to the treasury's own account.
    let (d2, dt2) = w.staker(5);
    let own = w.protocol_account(&d2.pubkey());
    w.refused(
        &[ix::deposit_rewards(&d2.pubkey(), &dt2, &own, &p, 5)],
        &[&d2],
        CinderError::NotTreasury,
    );
});

// --- 11. reward gaming ---------------------------------------------------------------------------

on_both!(rewards_pay_only_for_time_staked, |w| {
    let p = w.protocol();
    let tr = w.treasury_ptoken;
    let (sponsor, spt) = w.staker(10_000_000_000_000);
    let deposit = |w: &mut World, amount: u64| {
        w.send(
            &[ix::deposit_rewards(
                &sponsor.pubkey(),
                &spt,
                &tr,
                &p,
                amount,
            )],
            &[&sponsor],
        )
        .expect("deposit");
    };
    let provider = w.provider.pubkey();
    deposit(&mut w, 1_000_000_000);
    // A latecomer staking right after a deposit has earned nothing of it.
    let (late, lt) = w.staker(PROVIDER_STAKE);
    w.send(
        &[ix::stake(
            &late.pubkey(),
            &lt,
            &p,
            PROVIDER_STAKE,
            30 * DAY_SECS,
        )],
        &[&late],
    )
    .expect("stake");
    let claim = ix::claim_rewards(&late.pubkey(), &lt, &p);
    w.refused(
        std::slice::from_ref(&claim),
        &[&late],
        CinderError::NothingToClaim,
    );
    // The next deposit is shared by weight: both have the same amount and lock.
    deposit(&mut w, 1_000_000_000);
    let before = w.balance(&lt);
    w.send(std::slice::from_ref(&claim), &[&late])
        .expect("claim");
    let got = w.balance(&lt) - before;
    assert!(
        (499_999_998..=500_000_000).contains(&got),
        "half of the second deposit: {got}"
    );
    // Leaving: unbonding stake earns nothing from the moment it is requested.
    w.send(
        &[ix::request_unstake(&late.pubkey(), PROVIDER_STAKE)],
        &[&late],
    )
    .expect("unstake");
    deposit(&mut w, 1_000_000_000);
    w.refused(
        std::slice::from_ref(&claim),
        &[&late],
        CinderError::NothingToClaim,
    );
    // The provider, staked throughout, got the first deposit, half the second, all the third.
    let pos = w.position(&provider);
    let pool = w.stake_pool();
    let earned = cinder::math::earned(
        pos.weight,
        pool.acc_reward_per_weight.get(),
        pos.reward_debt.get(),
    )
    .unwrap()
        + pos.pending_rewards;
    assert!(
        (2_499_999_997..=2_500_000_000).contains(&earned),
        "{earned}"
    );
    // Staking again while unbonding earns only on the new, active stake: half of the next
    // deposit (the provider's weight equals the new stake's), not two thirds.
    let (admin, auth, pm) = (
        w.admin.insecure_clone(),
        w.mint_authority.insecure_clone(),
        w.protocol_mint,
    );
    tokens::mint_to(
        w.chain.as_mut(),
        &admin,
        &pm,
        &lt,
        &auth,
        PROVIDER_STAKE,
        &tokens::LEGACY,
    );
    w.send(
        &[ix::stake(
            &late.pubkey(),
            &lt,
            &p,
            PROVIDER_STAKE,
            30 * DAY_SECS,
        )],
        &[&late],
    )
    .expect("stake while unbonding");
    assert_eq!(w.position(&late.pubkey()).unbonding, PROVIDER_STAKE);
    deposit(&mut w, 1_000_000_000);
    let before = w.balance(&lt);
    w.send(std::slice::from_ref(&claim), &[&late])
        .expect("claim");
    let got = w.balance(&lt) - before;
    assert!(
        (499_999_998..=500_000_000).contains(&got),
        "half of the last deposit: {got}"
    );
});

// --- 12. slashing gaming -------------------------------------------------------------------------

on_both!(
    locked_stake_cannot_leave_and_unbonding_stays_slashable,
    |w| {
        let prov = w.provider.insecure_clone();
        let provider = prov.pubkey();
        let p = w.protocol();
        // A timeout slash of 20 % of the position (active and unbonding).
        w.send(
            &[market_params(&w, |mp| mp.timeout_slash_bps = Bps(2_000))],
            &[],
        )
        .expect("update_market");
        let k = w.post(PRICE, 100);
        w.claim(&k);
        let locked = 10_000_000_000; // the market's stake per job
                                     // The job's stake cannot be unstaked; the rest can.
        w.refused(
            &[ix::request_unstake(&provider, PROVIDER_STAKE)],
            &[&prov],
            CinderError::StakeLockedByJobs,
        );
        w.send(
            &[ix::request_unstake(&provider, PROVIDER_STAKE - locked)],
            &[&prov],
        )
        .expect("unstake the free part");
        // Unbonding stake: no new claims, no withdrawal before unlock.
        let k2 = w.post(PRICE, 100);
        w.refused(
            &[ix::claim_job(&k2, &provider)],
            &[&prov],
            CinderError::ProviderUnbonding,
        );
        let pt = w.provider_ptoken;
        w.refused(
            &[ix::withdraw_stake(&provider, &pt, &p)],
            &[&prov],
            CinderError::StakeStillLocked,
        );
        // The provider goes silent: the slash reaches the unbonding stake it tried to take away.
        w.warp(401);
        let caller = stranger(&mut w);
        w.try_expire(&k, &caller).expect("expire");
        let pos = w.position(&provider);
        let slash = PROVIDER_STAKE / 5;
        assert_eq!(pos.amount, 0, "active stake taken first");
        assert_eq!(pos.unbonding, PROVIDER_STAKE - locked - (slash - locked));
        w.warp(30 * DAY_SECS as i64);
        let before = w.balance(&pt);
        w.send(&[ix::withdraw_stake(&provider, &pt, &p)], &[&prov])
            .expect("withdraw");
        assert_eq!(w.balance(&pt) - before, PROVIDER_STAKE - slash);
    }
);

// --- 13. randomness grinding ---------------------------------------------------------------------

on_both!(
    the_draw_can_be_neither_read_early_nor_dodged_by_silence,
    |w| {
        set_verify_rate(&mut w, 5_000);
        let k = submitted_at(&mut w, PRICE, DURATION, 100);
        // The deciding slot (submit + 4) is not there yet: the provider cannot know its fate.
        w.refused(&[ix::reveal_sample(&k)], &[], CinderError::SampleNotReady);
        w.warp(2);
        w.send(&[ix::reveal_sample(&k)], &[]).expect("reveal");
        let slot = w.job(&k.job).submitted_slot + 4;
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(slot.to_le_bytes()).into();
        let drawn = cinder::instructions::is_sampled(&hash, &k.job, 5_000);
        let status = w.job(&k.job).sample_status;
        assert_eq!(
            status == SampleStatus::Sampled,
            drawn,
            "decided by that slot's hash"
        );
        w.refused(
            &[ix::reveal_sample(&k)],
            &[],
            CinderError::SampleAlreadyDecided,
        );
        // Staying quiet: past the reveal window the job counts as sampled and waits for a verifier.
        let k2 = submitted_at(&mut w, PRICE, DURATION, 100);
        w.warp(601); // > 500 slots and past the challenge window
        w.refused(
            &[ix::reveal_sample(&k2)],
            &[],
            CinderError::SampleAlreadyDecided,
        );
        w.refused(
            &[ix::settle_job(&k2, &w.payees())],
            &[],
            CinderError::VerificationPending,
        );
        let client = w.client.insecure_clone();
        w.refused(
            &[ix::accept_result(&k2, &w.payees())],
            &[&client],
            CinderError::VerificationPending,
        );
    }
);

// --- 14. lazy or copying verifier ----------------------------------------------------------------

on_both!(
    a_verifier_copying_the_public_commitment_is_neither_matched_nor_paid,
    |w| {
        set_verify_rate(&mut w, 10_000);
        let pool = w.verify_pool();
        mint_payment(&mut w, &pool, 1_000_000);
        let k = submitted_at(&mut w, PRICE, DURATION, 100);
        w.warp(2);
        w.send(&[ix::reveal_sample(&k)], &[]).expect("reveal");
        let v = verifier(&mut w);
        w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
            .expect("claim verification");
        w.close_race(&k.job);
        w.warp(100);
        let commitment = w.job(&k.job).result_commitment;
        let pool_before = w.balance(&pool);
        let sub = submit_verification(&mut w, &k, &v, commitment, 100);
        w.send(&sub, &[&v.0])
            .expect("a mismatch is a valid submission");
        assert_eq!(w.job(&k.job).state, JobState::Escalated);
        assert_eq!(
            (w.balance(&v.1), w.balance(&pool)),
            (0, pool_before),
            "nothing paid"
        );
        // The commitment binds the provider: the same result hash from another provider commits
        // to something else, so one provider's commitment says nothing about another's job.
        let other = Pubkey::new_unique();
        assert_ne!(
            cinder::instructions::result_commitment(&k.job, &w.provider.pubkey(), &[42; 32]),
            cinder::instructions::result_commitment(&k.job, &other, &[42; 32]),
        );
        assert_eq!(
            commitment,
            cinder::instructions::result_commitment(&k.job, &w.provider.pubkey(), &[42; 32]),
        );
    }
);

// --- 15. auction sandwich / drain ----------------------------------------------------------------

struct Buyer {
    key: Keypair,
    payment: Pubkey,
    protocol: Pubkey,
}

fn buyer(w: &mut World) -> Buyer {
    let (key, protocol) = w.staker(100_000_000);
    let payment = payment_account(w, &key.pubkey());
    Buyer {
        key,
        payment,
        protocol,
    }
}

fn buy(w: &World, b: &Buyer, max_price: u64, min_out: u64) -> Instruction {
    let side = ix::PaymentSide {
        payment_mint: w.mint,
        payment_token_program: w.token_program,
    };
    ix::buy(
        &b.key.pubkey(),
        &side,
        &b.payment,
        &b.protocol,
        &w.treasury_ptoken,
        &w.protocol(),
        max_price,
        min_out,
    )
}

on_both!(
    a_buy_holds_its_bounds_against_stale_prices_and_front_runners,
    |w| {
        let vault = w.fee_vault();
        mint_payment(&mut w, &vault, 1_000_000);
        let (b1, b2) = (buyer(&mut w), buyer(&mut w));
        let auction: cinder::state::Auction = w.read(&ix::auction_pda(&w.mint.clone()));
        let now = w.now();
        let price = auction.price_at(now).unwrap();
        assert_eq!(price, default_auction_params().init_price);
        // A quote that is stale (the price is above it) or a vault smaller than expected: refused.
        w.refused(
            &[buy(&w, &b1, price - 1, 0)],
            &[&b1.key],
            CinderError::PriceAboveMax,
        );
        w.refused(
            &[buy(&w, &b1, price, 1_000_001)],
            &[&b1.key],
            CinderError::AmountBelowMin,
        );
        // A front-runner takes the vault first: the victim's bounds make its buy fail, not overpay
        // (the price restarted at 2× what was paid; the vault is empty).
        w.send(&[buy(&w, &b2, price, 1_000_000)], &[&b2.key])
            .expect("front-runner");
        w.refused(
            &[buy(&w, &b1, price, 1_000_000)],
            &[&b1.key],
            CinderError::PriceAboveMax,
        );
        w.refused(
            &[buy(&w, &b1, u64::MAX, 1_000_000)],
            &[&b1.key],
            CinderError::AmountBelowMin,
        );
        w.refused(
            &[buy(&w, &b1, u64::MAX, 0)],
            &[&b1.key],
            CinderError::NothingToBuy,
        );
        // Refilled at once: the price restarted at 2× what was paid, above the victim's old quote.
        mint_payment(&mut w, &vault, 1_000_000);
        w.refused(
            &[buy(&w, &b1, price, 1_000_000)],
            &[&b1.key],
            CinderError::PriceAboveMax,
        );
        assert_eq!(w.balance(&b1.protocol), 100_000_000);
        // The protocol mint's own fee vault is never sold.
        let a = w.admin.pubkey();
        let pm = w.protocol_mint;
        w.send(
            &[ix::init_auction(
                &a,
                &pm,
                &tokens::LEGACY,
                default_auction_params(),
                false,
            )],
            &[],
        )
        .expect("auction of the protocol mint");
        let side = ix::PaymentSide {
            payment_mint: pm,
            payment_token_program: tokens::LEGACY,
        };
        let own = ix::buy(
            &b1.key.pubkey(),
            &side,
            &b1.protocol,
            &b1.protocol,
            &w.treasury_ptoken,
            &w.protocol(),
            u64::MAX,
            0,
        );
        w.refused(&[own], &[&b1.key], CinderError::ProtocolMintNotAuctioned);
    }
);

// --- 16. Token-2022 hazards (26: a mint close authority, found by this audit) --------------------

/// A Token-2022 mint with the MintCloseAuthority extension (`close` = its authority, if any).
fn closable_mint(w: &mut World, close: Option<&Pubkey>) -> Pubkey {
    use anchor_spl::token_2022::spl_token_2022::{
        extension::ExtensionType, instruction, state::Mint,
    };
    let mint = Keypair::new();
    let space =
        ExtensionType::try_calculate_account_len::<Mint>(&[ExtensionType::MintCloseAuthority])
            .unwrap();
    let a = w.admin.pubkey();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &a,
            &mint.pubkey(),
            solana_sdk::rent::Rent::default().minimum_balance(space),
            space as u64,
            &tokens::TOKEN_2022,
        ),
        instruction::initialize_mint_close_authority(&tokens::TOKEN_2022, &mint.pubkey(), close)
            .unwrap(),
        instruction::initialize_mint2(&tokens::TOKEN_2022, &mint.pubkey(), &a, None, 6).unwrap(),
    ];
    w.send(&ixs, &[&mint]).expect("create mint");
    mint.pubkey()
}

on_both!(hazardous_mints_never_get_an_auction_or_a_market, |w| {
    let a = w.admin.pubkey();
    let admin = w.admin.insecure_clone();
    let t22 = tokens::TOKEN_2022;
    let init =
        |m: &Pubkey, allow: bool| ix::init_auction(&a, m, &t22, default_auction_params(), allow);
    let market = |m: &Pubkey, allow: bool| {
        ix::create_market(&a, 77, m, &t22, default_market_params(a), allow)
    };
    for ext in [
        MintExt::PermanentDelegate,
        MintExt::TransferFee,
        MintExt::TransferHook,
        MintExt::NonTransferable,
        MintExt::DefaultFrozen,
    ] {
        let freeze = (ext == MintExt::DefaultFrozen).then_some(a);
        let m = tokens::create_mint(
            w.chain.as_mut(),
            &admin,
            &a,
            freeze.as_ref(),
            6,
            &t22,
            &[ext],
        );
        w.refused(&[init(&m, true)], &[], CinderError::MintExtensionNotAllowed);
        // Without the mint's auction there is no market either.
        w.refused(&[market(&m, true)], &[], Anchor::AccountNotInitialized);
    }
    // A mint close authority could close the mint once its supply is zero and make a new one
    // at the same address with a permanent delegate: refused unless it is unset.
    let closable = closable_mint(&mut w, Some(&a));
    w.refused(
        &[init(&closable, false)],
        &[],
        CinderError::MintExtensionNotAllowed,
    );
    let not_closable = closable_mint(&mut w, None);
    w.send(&[init(&not_closable, false)], &[])
        .expect("close authority unset");
    // A freeze authority only with the admin's explicit consent, for the auction and the market.
    let frozen = tokens::create_mint(
        w.chain.as_mut(),
        &admin,
        &a,
        Some(&a),
        6,
        &tokens::LEGACY,
        &[],
    );
    let init_l = |allow: bool| {
        ix::init_auction(
            &a,
            &frozen,
            &tokens::LEGACY,
            default_auction_params(),
            allow,
        )
    };
    w.refused(&[init_l(false)], &[], CinderError::MintHasFreezeAuthority);
    w.send(&[init_l(true)], &[]).expect("the admin allows it");
    let market_l = |allow: bool| {
        ix::create_market(
            &a,
            78,
            &frozen,
            &tokens::LEGACY,
            default_market_params(a),
            allow,
        )
    };
    w.refused(&[market_l(false)], &[], CinderError::MintHasFreezeAuthority);
});

// --- 19. parameter abuse -------------------------------------------------------------------------

on_both!(parameters_outside_their_bounds_are_refused, |w| {
    let a = w.admin.pubkey();
    let cfg = |edit: fn(&mut cinder::state::ConfigParams)| -> Instruction {
        let mut p = default_config_params();
        edit(&mut p);
        ix::update_config(&a, p, false)
    };
    for (i, err) in [
        (
            cfg(|p| p.protocol_fee_bps = Bps(2_001)),
            CinderError::FeeTooHigh,
        ),
        (
            cfg(|p| p.burn_bps = Bps(4_999)),
            CinderError::FeeSplitNot100Percent,
        ),
        (
            cfg(|p| p.treasury_bps = Bps(1_001)),
            CinderError::FeeSplitNot100Percent,
        ),
        (
            cfg(|p| p.min_lock_secs = 0),
            CinderError::LockBoundsOutOfRange,
        ),
        (
            cfg(|p| p.stakers_bps = Bps(10_001)),
            CinderError::BpsOutOfRange,
        ),
    ] {
        w.refused(&[i], &[], err);
    }
    let (mint, tp) = (w.mint, w.token_program);
    type Edit = fn(&mut cinder::state::MarketParams);
    let cases: [(Edit, CinderError); 16] = [
        // (f) of the collusion review: terms that let a provider risk nothing, or keep a
        // client's escrow hostage behind an endless grace.
        (|p| p.stake_per_job = 0, CinderError::ZeroStakeTerms),
        (|p| p.min_provider_stake = 0, CinderError::ZeroStakeTerms),
        (
            |p| p.expire_grace_secs = 7 * DAY_SECS + 1,
            CinderError::GraceTooLong,
        ),
        (
            |p| p.expire_grace_secs = u32::MAX,
            CinderError::GraceTooLong,
        ),
        (
            |p| p.challenge_window_secs = 0,
            CinderError::ChallengeWindowOutOfRange,
        ),
        (
            |p| p.challenge_window_secs = 7 * DAY_SECS + 1,
            CinderError::ChallengeWindowOutOfRange,
        ),
        (
            |p| p.verification_timeout_secs = 0,
            CinderError::ChallengeWindowOutOfRange,
        ),
        (
            |p| p.verification_fee_bps = Bps(2_001),
            CinderError::FeeTooHigh,
        ),
        (
            |p| p.timeout_slash_bps = Bps(2_001),
            CinderError::TimeoutSlashTooHigh,
        ),
        (
            |p| p.quit_penalty_bps = Bps(2_001),
            CinderError::TimeoutSlashTooHigh,
        ),
        (
            |p| p.verify_rate_bps = Bps(10_001),
            CinderError::BpsOutOfRange,
        ),
        (
            |p| p.fraud_slash_bps = Bps(10_001),
            CinderError::BpsOutOfRange,
        ),
        (
            |p| p.max_duration_secs = 0,
            CinderError::InvalidMarketParams,
        ),
        (
            |p| p.max_duration_secs = 30 * DAY_SECS + 1,
            CinderError::InvalidMarketParams,
        ),
        (
            |p| p.min_price_per_sec = 0,
            CinderError::InvalidMarketParams,
        ),
        (|p| p.gpu_model = [0; 32], CinderError::InvalidGpuModel),
    ];
    for (edit, err) in cases {
        let mut mp = default_market_params(a);
        edit(&mut mp);
        w.refused(
            &[ix::update_market(&a, &w.market.clone(), mp, false)],
            &[],
            err,
        );
        w.refused(&[ix::create_market(&a, 9, &mint, &tp, mp, false)], &[], err);
    }
    let good = default_auction_params();
    for bad in [
        AuctionParams {
            price_multiplier_bps: 10_999,
            ..good
        },
        AuctionParams {
            epoch_period_secs: 3_599,
            ..good
        },
        AuctionParams {
            min_init_price: 0,
            floor_price: 0,
            ..good
        },
        AuctionParams {
            floor_price: good.min_init_price + 1,
            ..good
        },
        AuctionParams {
            init_price: good.min_init_price - 1,
            ..good
        },
    ] {
        w.refused(
            &[ix::update_auction(&a, &mint, bad)],
            &[],
            CinderError::InvalidAuctionParams,
        );
    }
    // A zero floor: after an idle epoch anyone would take the whole fee vault for nothing.
    let zero_floor = AuctionParams {
        floor_price: 0,
        ..good
    };
    w.refused(
        &[ix::update_auction(&a, &mint, zero_floor)],
        &[],
        CinderError::ZeroFloorPrice,
    );
});

// --- 20. denial of service -----------------------------------------------------------------------

on_both!(dust_jobs_and_claim_spam_are_refused, |w| {
    let client = w.client.insecure_clone();
    let prov = w.provider.insecure_clone();
    let ct = w.client_token;
    let post = |w: &mut World, price: u64, duration: u32| {
        let (k, n) = w.next_job();
        let args = w.post_args(&k, n, price, duration);
        ix::post_job(&k, &ct, args)
    };
    for (price, duration, err) in [
        (PRICE - 1, DURATION, CinderError::PriceBelowMarketMinimum),
        (PRICE, 0, CinderError::DurationOutOfRange),
        (PRICE, DAY_SECS + 1, CinderError::DurationOutOfRange),
    ] {
        let i = post(&mut w, price, duration);
        w.refused(&[i], &[&client], err);
    }
    // Each running job locks stake: with 600 tokens a job, a 1 000-token provider runs one.
    w.send(
        &[market_params(&w, |mp| mp.stake_per_job = 600_000_000_000)],
        &[],
    )
    .expect("update_market");
    let (k1, k2) = (w.post(PRICE, 100), w.post(PRICE, 100));
    w.claim(&k1);
    w.refused(
        &[ix::claim_job(&k2, &prov.pubkey())],
        &[&prov],
        CinderError::InsufficientFreeStake,
    );
    // Claimed and left to rot: anyone expires it after deadline + grace, the provider is
    // slashed and the job is open again for others.
    w.warp(401);
    let caller = stranger(&mut w);
    w.try_expire(&k1, &caller).expect("expire");
    assert_eq!(w.job(&k1.job).state, JobState::Open);
    assert_eq!(
        w.position(&prov.pubkey()).amount,
        PROVIDER_STAKE - PROVIDER_STAKE / 100
    );
});

// --- 22 (continued). one stake position as the provider's and the verifier's -----------------------

on_both!(a_dispute_cannot_slash_the_wrong_position, |w| {
    set_verify_rate(&mut w, 10_000);
    let k = submitted_at(&mut w, PRICE, DURATION, 100);
    w.warp(2);
    w.send(&[ix::reveal_sample(&k)], &[]).expect("reveal");
    let v = verifier(&mut w);
    w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
        .expect("claim verification");
    w.close_race(&k.job);
    let verdict = submit_verification(&mut w, &k, &v, [7; 32], 0);
    w.send(&verdict, &[&v.0]).expect("mismatch");
    w.lapse_escalation(&k.job); // no second verifier: the arbiter decides on this one verdict
    let (a, p) = (w.admin.pubkey(), w.protocol());
    let provider = w.provider.pubkey();
    let vt = w.protocol_account(&v.0.pubkey());
    let pt = w.provider_ptoken;
    // Verifier right: the provider is slashed — passing the verifier's position as the
    // provider's (so both roles name one account) is refused.
    let res = ix::resolve_dispute(
        &k,
        &a,
        &provider,
        &v.0.pubkey(),
        &vt,
        &p,
        resolution::VERIFIER_RIGHT,
    );
    let mut one = res.clone();
    one.accounts[3].pubkey = ix::stake_pda(&v.0.pubkey());
    w.refused(&[one], &[], CinderError::StakeMismatch);
    // Provider right: the verifier is slashed — the provider's position in its place is refused.
    let res2 = ix::resolve_dispute(
        &k,
        &a,
        &provider,
        &v.0.pubkey(),
        &pt,
        &p,
        resolution::PROVIDER_RIGHT,
    );
    let mut one = res2;
    one.accounts[5].pubkey = ix::stake_pda(&provider);
    w.refused(&[one], &[], CinderError::StakeMismatch);
    // The slash share only to the winner's own account.
    let mut thief = res.clone();
    thief.accounts[10].pubkey = pt;
    w.refused(&[thief], &[], CinderError::TokenOwnerMismatch);
    w.send(&[res], &[]).expect("resolve");
    assert_eq!(
        w.position(&provider).amount,
        PROVIDER_STAKE - PROVIDER_STAKE / 5
    );
});

// --- 24. a verifier billing more than the job ran (found by this audit) ---------------------------

on_both!(
    a_verifier_is_paid_for_at_most_the_run_the_provider_billed,
    |w| {
        // Before the fix a verifier's billed seconds were bounded by the job's max duration only: a
        // provider and a verifier working together could submit a 0-second result and have the
        // verifier bill the whole duration from the market pool (funded by other jobs' fees).
        let pool = w.verify_pool();
        mint_payment(&mut w, &pool, 1_000_000);
        let v = verifier(&mut w);
        for (billed, expected_pay) in [(0u32, 0u64), (100, 100 * PRICE)] {
            let k = drawn_at(&mut w, PRICE, DURATION, billed);
            w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
                .expect("claim verification");
            w.close_race(&k.job);
            w.warp(3_000);
            let (pool_before, v_before) = (w.balance(&pool), w.balance(&v.1));
            let verdict = submit_verification(&mut w, &k, &v, [42; 32], 3_000);
            w.send(&verdict, &[&v.0]).expect("match");
            assert_eq!(w.balance(&v.1) - v_before, expected_pay, "billed {billed}");
            assert_eq!(pool_before - w.balance(&pool), expected_pay);
            assert_eq!(w.job(&k.job).state, JobState::Verified);
            w.settle(&k);
        }
    }
);

// --- 25. verification forced to drain the market pool (found by this audit) -----------------------

/// Payment tokens of a colluding client, provider and verifier.
fn trio(w: &mut World, v: &(Keypair, Pubkey)) -> u64 {
    let (c, p) = (w.client_token, w.provider_token);
    w.balance(&c) + w.balance(&p) + w.balance(&v.1)
}

/// What the market pool holds beyond unswept protocol fees: other jobs' verification funds.
fn pool_free(w: &mut World) -> u64 {
    let pool = w.verify_pool();
    w.balance(&pool) - w.market_account().protocol_fees_accrued
}

on_both!(a_forced_verification_cannot_drain_the_market_pool, |w| {
    // Other jobs' verification fees, waiting for honest verifiers.
    let pool = w.verify_pool();
    mint_payment(&mut w, &pool, 10_000_000);
    let v = verifier(&mut w);
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    // (a) The client disputes its own job (optimistic market: no draw), so a verification is
    // forced; before the fix the pool paid price × billed (1 000 000 here) for it.
    let start = trio(&mut w, &v);
    let k = submitted_at(&mut w, 10_000, 1_000, 100); // pay 1 000 000
    w.send(&[ix::dispute_job(&k, &ct)], &[&client])
        .expect("dispute");
    w.open_race(&k.job);
    w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
        .expect("claim verification");
    w.close_race(&k.job);
    w.warp(100);
    let free = pool_free(&mut w);
    let v_before = w.balance(&v.1);
    let verdict = submit_verification(&mut w, &k, &v, [42; 32], 100);
    w.send(&verdict, &[&v.0]).expect("match");
    let bond = 600_000; // ceil(6 % of 10 000 × 1 000)
    assert_eq!(
        w.balance(&v.1) - v_before,
        bond,
        "the run (1 000 000), at most the client's bond"
    );
    assert_eq!(
        pool_free(&mut w),
        free,
        "the pool pays nothing for a run a client forced"
    );
    w.warp(600);
    w.settle(&k);
    // Settled: the pool kept the job's 60 000 fee for the drawn runs it funds; the three lost
    // exactly both fees (the bond went from their client to their verifier).
    assert_eq!(pool_free(&mut w), free + 60_000);
    assert_eq!(start - trio(&mut w, &v), 50_000 + 60_000);
    // (b) Nobody reveals the draw in a sampling market: the job counts as sampled, and the
    // re-run is paid (at most the job's own verification fee) out of the provider's pay, not
    // by the pool. Before, the pool paid it, so a coalition that let only its undrawn jobs'
    // reveal windows pass had each of them re-run out of that job's own fee, which then no
    // longer funded the drawn runs (the pool lost ≈ r × (1 − f) of each such job's pay).
    set_verify_rate(&mut w, 10_000);
    let start = trio(&mut w, &v);
    let (pt, ct) = (w.provider_token, w.client_token);
    let (p_start, c_start) = (w.balance(&pt), w.balance(&ct));
    let k = submitted_at(&mut w, 10_000, 1_000, 100); // pay 1 000 000, escrow 10 600 000
    w.warp(201); // > 500 slots: the draw can no longer be revealed
    w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
        .expect("claim verification");
    w.close_race(&k.job);
    assert_eq!(w.job(&k.job).sample_status, SampleStatus::Unrevealed);
    w.warp(100);
    let free = pool_free(&mut w);
    let vault = w.job(&k.job).vault;
    let (v_before, vault_before) = (w.balance(&v.1), w.balance(&vault));
    let verdict = submit_verification(&mut w, &k, &v, [42; 32], 100);
    w.send(&verdict, &[&v.0]).expect("match");
    assert_eq!(
        w.balance(&v.1) - v_before,
        60_000,
        "the run, at most the job's fee"
    );
    assert_eq!(
        vault_before - w.balance(&vault),
        60_000,
        "out of the job's vault"
    );
    assert_eq!(pool_free(&mut w), free, "the pool paid nothing for it");
    w.warp(600);
    w.settle(&k);
    // The provider nets its pay less the protocol fee and the re-run it did not let the draw
    // decide; the client pays the billed run and its fee, as for any job; the pool keeps the
    // job's fee. The three lost exactly both fees (the re-run went from their provider to
    // their verifier).
    assert_eq!(w.balance(&pt) - p_start, 1_000_000 - 50_000 - 60_000);
    assert_eq!(c_start - w.balance(&ct), 1_000_000 + 60_000);
    assert_eq!(pool_free(&mut w), free + 60_000);
    assert_eq!(start - trio(&mut w, &v), 50_000 + 60_000);
    // (c) A run the draw decided is the pool's to pay in full (one more run of the job) where
    // the market's fee covers its rate.
    let k = drawn_at(&mut w, 10_000, 1_000, 100);
    w.send(&[ix::claim_verification(&k, &v.0.pubkey())], &[&v.0])
        .expect("claim verification");
    w.close_race(&k.job);
    w.warp(100);
    let v_before = w.balance(&v.1);
    let verdict = submit_verification(&mut w, &k, &v, [42; 32], 100);
    w.send(&verdict, &[&v.0]).expect("match");
    assert_eq!(w.balance(&v.1) - v_before, 1_000_000);
});
