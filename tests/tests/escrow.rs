//! Job escrow lifecycle: post → claim → submit → settle / accept, cancel,
//! extend, quit and expire, with every token balance checked to the base unit.
//! Each test runs on the host build (program-test) and on the SBF build (LiteSVM).

use anchor_lang::error::ErrorCode as Anchor;
use cinder::{constants::REOPEN_HOLD_SECS, errors::CinderError, state::JobState};
use cinder_tests::{
    assert_anchor_error, assert_cinder_error, ix, on_both, tokens, world::PROVIDER_STAKE, MintKind,
    World,
};
use solana_sdk::{
    instruction::InstructionError, signature::Keypair, signer::Signer,
    transaction::TransactionError,
};
use spl_token_interface::error::TokenError;

const PRICE: u64 = 10;
const DURATION: u32 = 3_600;
/// price × duration, and ceil(6% of it) for the verification fee.
const COMPUTE: u64 = 36_000;
const VERIFICATION: u64 = 2_160;
const ESCROW: u64 = COMPUTE + VERIFICATION;

/// Client, provider, fee vault, verification pool, job vault.
fn total(ledger: [u64; 5]) -> u64 {
    ledger.iter().sum()
}

on_both!(
    post_escrows_price_times_duration_plus_verification_fee,
    |w| {
        let before_client = w.balance(&w.client_token.clone());
        let k = w.post(PRICE, DURATION);
        assert_eq!(w.balance(&k.vault), ESCROW);
        assert_eq!(w.balance(&w.client_token.clone()), before_client - ESCROW);
        let job = w.job(&k.job);
        assert_eq!(job.state, JobState::Open);
        assert_eq!(job.escrow_compute, COMPUTE);
        assert_eq!(job.escrow_verification, VERIFICATION);
        assert_eq!(job.protocol_fee_bps, 500);
        assert_eq!(job.challenge_window_secs, 600);
        assert_eq!(job.vault, k.vault);
    }
);

on_both!(settle_after_challenge_window_pays_exact_split, |w| {
    let client_lamports = w.lamports(&w.client.pubkey());
    let k = w.post(PRICE, DURATION);
    let before = w.ledger(&k);
    w.claim(&k);
    w.warp(1_800);
    w.submit(&k, 1_800);
    assert_eq!(w.job(&k.job).state, JobState::Submitted);
    w.warp(600);
    w.settle(&k);

    // pay = 18 000; fee = ceil(5%) = 900; verification = ceil(6%) = 1 080.
    let after = w.ledger(&k);
    assert_eq!(after[1] - before[1], 17_100, "provider");
    assert_eq!(
        after[2], before[2],
        "protocol fee waits in the pool until swept"
    );
    assert_eq!(
        after[3] - before[3],
        900 + 1_080,
        "market pool: protocol + verification fee"
    );
    assert_eq!(w.market_account().protocol_fees_accrued, 900);
    assert_eq!(
        after[0] - before[0],
        ESCROW - 18_000 - 1_080,
        "client refund"
    );
    assert_eq!(after[4], 0);
    assert_eq!(total(before), total(after), "tokens conserved");

    // Anyone sweeps the protocol fee to the auction's fee vault; the verification fee stays.
    w.try_sweep().expect("sweep_fees");
    let swept = w.ledger(&k);
    assert_eq!(swept[2] - before[2], 900, "fee vault");
    assert_eq!(swept[3] - before[3], 1_080, "verification pool");
    assert_eq!(w.market_account().protocol_fees_accrued, 0);
    assert_cinder_error(w.try_sweep(), CinderError::NothingToSweep);

    // The job and its vault are closed; their rent is back with the client.
    assert!(!w.exists(&k.job) && !w.exists(&k.vault));
    assert_eq!(w.lamports(&w.client.pubkey()), client_lamports);
    let p = w.provider_account();
    assert_eq!((p.active_jobs, p.jobs_done), (0, 1));
});

on_both!(settle_inside_challenge_window_is_refused, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(599);
    assert_cinder_error(w.try_settle(&k), CinderError::ChallengeWindowOpen);
    w.warp(1);
    w.settle(&k);
});

on_both!(settle_of_open_or_running_job_is_refused, |w| {
    let k = w.post(PRICE, DURATION);
    assert_cinder_error(w.try_settle(&k), CinderError::JobNotSettleable);
    w.claim(&k);
    assert_cinder_error(w.try_settle(&k), CinderError::JobNotSettleable);
});

on_both!(client_accepts_result_and_settles_at_once, |w| {
    let k = w.post(PRICE, DURATION);
    let before = w.ledger(&k);
    w.claim(&k);
    w.warp(60);
    w.submit(&k, 60);
    let client = w.client.insecure_clone();
    w.send(&[ix::accept_result(&k, &w.payees())], &[&client])
        .expect("accept_result");
    let after = w.ledger(&k);
    // pay = 600; fee = 30; verification = 36.
    assert_eq!(after[1] - before[1], 570);
    assert_eq!(after[3] - before[3], 30 + 36);
    assert_eq!(w.market_account().protocol_fees_accrued, 30);
    assert_eq!(total(before), total(after));
    assert!(!w.exists(&k.job));
});

on_both!(only_the_client_may_accept, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(60);
    w.submit(&k, 60);
    // The provider signs as "client": the job's client does not match.
    let provider = w.provider.insecure_clone();
    let mut forged = k;
    forged.client = provider.pubkey();
    let ix = ix::accept_result(&forged, &w.payees());
    assert_cinder_error(w.send(&[ix], &[&provider]), CinderError::ClientMismatch);
    // The real client, before the result is in, cannot accept either.
    let k2 = w.post(PRICE, DURATION);
    let client = w.client.insecure_clone();
    let ix = ix::accept_result(&k2, &w.payees());
    assert_cinder_error(w.send(&[ix], &[&client]), CinderError::JobNotSubmitted);
});

on_both!(accept_of_running_job_is_refused, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let client = w.client.insecure_clone();
    let ix = ix::accept_result(&k, &w.payees());
    assert_cinder_error(w.send(&[ix], &[&client]), CinderError::JobNotSubmitted);
});

on_both!(zero_billed_seconds_refunds_everything, |w| {
    let k = w.post(PRICE, DURATION);
    let before = w.ledger(&k);
    w.claim(&k);
    w.submit(&k, 0);
    w.warp(600);
    w.settle(&k);
    let after = w.ledger(&k);
    assert_eq!(after[0] - before[0], ESCROW);
    assert_eq!(after[1..4], before[1..4]);
});

on_both!(
    full_duration_spends_compute_and_refunds_nothing_but_unused_verification,
    |w| {
        let k = w.post(PRICE, DURATION);
        let before = w.ledger(&k);
        w.claim(&k);
        w.warp(DURATION as i64);
        w.submit(&k, DURATION);
        w.warp(600);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], COMPUTE - 1_800);
        assert_eq!(after[3] - before[3], 1_800 + VERIFICATION);
        assert_eq!(w.market_account().protocol_fees_accrued, 1_800);
        assert_eq!(after[0], before[0] + before[4] - ESCROW, "nothing refunded");
    }
);

on_both!(client_cancels_open_job_for_full_refund, |w| {
    let client_lamports = w.lamports(&w.client.pubkey());
    let before = w.balance(&w.client_token.clone());
    let k = w.post(PRICE, DURATION);
    let client = w.client.insecure_clone();
    w.send(
        &[ix::cancel_job(
            &k,
            &client.pubkey(),
            &w.client_token.clone(),
        )],
        &[&client],
    )
    .expect("cancel_job");
    assert_eq!(w.balance(&w.client_token.clone()), before);
    assert!(!w.exists(&k.job) && !w.exists(&k.vault));
    assert_eq!(w.lamports(&w.client.pubkey()), client_lamports);
});

on_both!(stranger_cancels_only_after_open_until, |w| {
    let until = w.now() + 1_000;
    let k = w
        .try_post_with(PRICE, DURATION, |a| a.open_until = until)
        .unwrap();
    let stranger = Keypair::new();
    let ct = w.client_token;
    let cancel = ix::cancel_job(&k, &stranger.pubkey(), &ct);
    assert_cinder_error(
        w.send(std::slice::from_ref(&cancel), &[&stranger]),
        CinderError::CancelNotAllowed,
    );
    // Nor can it be claimed once the window has passed.
    w.warp(1_001);
    assert_cinder_error(w.try_claim(&k), CinderError::JobOpenWindowPassed);
    let before = w.balance(&ct);
    w.send(&[cancel], &[&stranger])
        .expect("cancel after open_until");
    assert_eq!(
        w.balance(&ct),
        before + ESCROW,
        "refund goes to the client, not the caller"
    );
});

on_both!(cancel_refund_must_go_to_the_clients_token_account, |w| {
    let until = w.now() + 10;
    let k = w
        .try_post_with(PRICE, DURATION, |a| a.open_until = until)
        .unwrap();
    w.warp(11);
    let stranger = Keypair::new();
    let mint = w.mint;
    let tp = w.token_program;
    let admin = w.admin.insecure_clone();
    let thief =
        tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &stranger.pubkey(), &tp);
    let cancel = ix::cancel_job(&k, &stranger.pubkey(), &thief);
    assert_cinder_error(
        w.send(&[cancel], &[&stranger]),
        CinderError::TokenOwnerMismatch,
    );
});

on_both!(running_job_cannot_be_cancelled, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let client = w.client.insecure_clone();
    let cancel = ix::cancel_job(&k, &client.pubkey(), &w.client_token.clone());
    assert_cinder_error(w.send(&[cancel], &[&client]), CinderError::JobNotOpen);
});

on_both!(a_job_is_claimed_once, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    assert_cinder_error(w.try_claim(&k), CinderError::JobNotOpen);
    let job = w.job(&k.job);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.provider, w.provider.pubkey());
    assert_eq!(job.deadline, job.claimed_at + DURATION as i64);
    assert_eq!(w.provider_account().active_jobs, 1);
});

on_both!(client_cannot_claim_its_own_job, |w| {
    let client = w.client.insecure_clone();
    w.make_provider(&client);
    let k = w.post(PRICE, DURATION);
    assert_cinder_error(
        w.send(&[ix::claim_job(&k, &client.pubkey())], &[&client]),
        CinderError::SelfDealing,
    );
});

on_both!(assigned_job_is_for_its_provider_only, |w| {
    let other = Keypair::new();
    let k = w
        .try_post_with(PRICE, DURATION, |a| {
            a.assigned_provider = Some(other.pubkey())
        })
        .unwrap();
    assert_cinder_error(w.try_claim(&k), CinderError::NotAssignedProvider);
    let mine = w.provider.pubkey();
    let k = w
        .try_post_with(PRICE, DURATION, |a| a.assigned_provider = Some(mine))
        .unwrap();
    w.claim(&k);
});

on_both!(provider_below_gpu_class_cannot_claim, |w| {
    let p = w.provider.insecure_clone();
    let mut info = cinder_tests::world::default_provider_info();
    info.vram_gib = 40;
    w.send(&[ix::update_provider(&p.pubkey(), info, true)], &[&p])
        .expect("update_provider");
    let k = w.post(PRICE, DURATION);
    assert_cinder_error(w.try_claim(&k), CinderError::GpuClassMismatch);
});

on_both!(inactive_provider_cannot_claim, |w| {
    let p = w.provider.insecure_clone();
    let info = cinder_tests::world::default_provider_info();
    w.send(&[ix::update_provider(&p.pubkey(), info, false)], &[&p])
        .expect("deactivate");
    let k = w.post(PRICE, DURATION);
    assert_cinder_error(w.try_claim(&k), CinderError::ProviderNotActive);
});

on_both!(submit_rules_deadline_billing_and_provider, |w| {
    let k = w.post(PRICE, 100);
    w.claim(&k);
    w.warp(50);
    assert_cinder_error(w.try_submit(&k, 51), CinderError::BilledTooMuch);
    let stranger = Keypair::new();
    let sub = ix::submit_result(&k, &stranger.pubkey(), [1; 32], 10, "");
    assert_cinder_error(w.send(&[sub], &[&stranger]), CinderError::NotJobProvider);
    w.warp(51);
    assert_cinder_error(w.try_submit(&k, 100), CinderError::DeadlinePassed);
    // A result already submitted cannot be submitted again.
    let k2 = w.post(PRICE, 100);
    w.claim(&k2);
    w.submit(&k2, 0);
    assert_cinder_error(w.try_submit(&k2, 0), CinderError::JobNotRunning);
});

on_both!(submit_stores_the_commitment_binding_job_and_provider, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(5);
    w.submit(&k, 5);
    let job = w.job(&k.job);
    let want = cinder::instructions::result_commitment(&k.job, &w.provider.pubkey(), &[42; 32]);
    assert_eq!(job.result_commitment, want);
    assert_eq!(job.billed_secs, 5);
});

on_both!(submit_refuses_a_malformed_result_uri, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let p = w.provider.insecure_clone();
    let long = "x".repeat(129);
    for bad in ["bad\nuri", long.as_str()] {
        let sub = ix::submit_result(&k, &p.pubkey(), [1; 32], 0, bad);
        assert_cinder_error(w.send(&[sub], &[&p]), CinderError::InvalidUri);
    }
});

on_both!(provider_quits_and_job_reopens_for_another, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let p = w.provider.insecure_clone();
    w.send(&[ix::quit_job(&k, &p.pubkey(), &w.protocol())], &[&p])
        .expect("quit_job");
    let job = w.job(&k.job);
    assert_eq!(job.state, JobState::Open);
    assert_eq!(job.provider, Default::default());
    assert_eq!(w.provider_account().active_jobs, 0);
    assert_eq!(w.balance(&k.vault), ESCROW, "escrow untouched");
    assert_eq!(
        (job.last_provider, job.reopened_at),
        (p.pubkey(), w.now()),
        "who left, and when"
    );
    // Another provider takes it after the hold; the one who quit never does.
    let quitter = hand_over(&mut w);
    w.warp(REOPEN_HOLD_SECS);
    assert_cinder_error(
        w.send(&[ix::claim_job(&k, &quitter.pubkey())], &[&quitter]),
        CinderError::ClaimAfterLeaving,
    );
    w.claim(&k);
    assert_eq!(w.job(&k.job).provider, w.provider.pubkey());
});

/// Makes a new registered provider the world's provider (its `claim`, `submit`, `payees`);
/// returns the previous one.
fn hand_over(w: &mut World) -> Keypair {
    let next = Keypair::new();
    w.fund(&next.pubkey());
    w.make_provider(&next);
    let (admin, mint, tp) = (w.admin.insecure_clone(), w.mint, w.token_program);
    w.provider_token = cinder_tests::tokens::create_token_account(
        w.chain.as_mut(),
        &admin,
        &mint,
        &next.pubkey(),
        &tp,
    );
    std::mem::replace(&mut w.provider, next)
}

on_both!(only_the_job_provider_quits, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let other = Keypair::new();
    w.fund(&other.pubkey());
    w.make_provider(&other);
    let p = w.protocol();
    assert_cinder_error(
        w.send(&[ix::quit_job(&k, &other.pubkey(), &p)], &[&other]),
        CinderError::NotJobProvider,
    );
});

on_both!(late_provider_is_expired_slashed_and_job_reopens, |w| {
    let k = w.post(PRICE, 100);
    w.claim(&k);
    assert_eq!(w.provider_account().locked_stake, 10_000_000_000);
    let anyone = Keypair::new();
    let caller_token = w.protocol_account(&anyone.pubkey());
    let p = w.protocol();
    let provider = w.provider.pubkey();
    let expire = ix::expire_job(&k, &anyone.pubkey(), &provider, &caller_token, &p);
    // deadline 100 s + grace 300 s
    w.warp(400);
    assert_cinder_error(
        w.send(std::slice::from_ref(&expire), &[&anyone]),
        CinderError::DeadlineNotPassed,
    );
    w.warp(1);
    let supply = w.protocol_supply();
    let staked = w.stake_pool().total_staked;
    w.send(std::slice::from_ref(&expire), &[&anyone])
        .expect("expire_job");
    let job = w.job(&k.job);
    assert_eq!(job.state, JobState::Open);
    assert_eq!(job.stake_locked, 0);
    let pa = w.provider_account();
    assert_eq!(
        (pa.active_jobs, pa.jobs_expired, pa.locked_stake),
        (0, 1, 0)
    );
    // Slash: 1% of the provider's 1 000 000 000 000 staked; half to the caller, half burned.
    let slashed = PROVIDER_STAKE / 100;
    assert_eq!(w.position(&provider).amount, PROVIDER_STAKE - slashed);
    assert_eq!(w.balance(&caller_token), slashed / 2);
    assert_eq!(
        supply - w.protocol_supply(),
        slashed - slashed / 2,
        "burned"
    );
    assert_eq!(staked - w.stake_pool().total_staked, slashed);
    assert_eq!(
        w.balance(&ix::stake_vault_pda()),
        w.stake_pool().total_staked
    );
    let cfg: cinder::state::Config = w.read(&ix::config_pda());
    assert_eq!(
        (cfg.total_slashed, cfg.total_burned),
        (slashed, slashed - slashed / 2)
    );
    assert_cinder_error(w.send(&[expire], &[&anyone]), CinderError::JobNotRunning);
    // Another provider can claim it after the hold and complete it, and the money still adds
    // up (the ledger follows the world's provider: count the new one from zero).
    let late = hand_over(&mut w);
    w.warp(REOPEN_HOLD_SECS);
    assert_cinder_error(
        w.send(&[ix::claim_job(&k, &late.pubkey())], &[&late]),
        CinderError::ClaimAfterLeaving,
    );
    let before = w.ledger(&k);
    w.claim(&k);
    w.warp(10);
    w.submit(&k, 10);
    w.warp(600);
    w.settle(&k);
    assert_eq!(total(before), total(w.ledger(&k)));
    assert_eq!(w.provider_account().locked_stake, 0);
});

on_both!(extend_adds_escrow_and_moves_the_deadline, |w| {
    let k = w.post(PRICE, 1_000);
    let ct = w.client_token;
    let client = w.client.insecure_clone();
    w.send(&[ix::extend_job(&k, &ct, 500)], &[&client])
        .expect("extend open job");
    // 15 000 compute + ceil(6%) = 900
    assert_eq!(w.balance(&k.vault), 15_900);
    w.claim(&k);
    let deadline = w.job(&k.job).deadline;
    w.send(&[ix::extend_job(&k, &ct, 100)], &[&client])
        .expect("extend running job");
    let job = w.job(&k.job);
    assert_eq!(job.deadline, deadline + 100);
    assert_eq!(job.max_duration_secs, 1_600);
    assert_eq!(w.balance(&k.vault), 16_000 + 960);
    w.warp(1_600);
    w.submit(&k, 1_600);
    assert_cinder_error(
        w.send(&[ix::extend_job(&k, &ct, 1)], &[&client]),
        CinderError::JobNotExtendable,
    );
});

on_both!(extend_is_bounded_by_the_market_max_duration, |w| {
    let k = w.post(PRICE, 86_000);
    let ct = w.client_token;
    let client = w.client.insecure_clone();
    assert_cinder_error(
        w.send(&[ix::extend_job(&k, &ct, 401)], &[&client]),
        CinderError::DurationOutOfRange,
    );
    let stranger = Keypair::new();
    let mut forged = k;
    forged.client = stranger.pubkey();
    assert_cinder_error(
        w.send(&[ix::extend_job(&forged, &ct, 1)], &[&stranger]),
        CinderError::NotJobClient,
    );
});

on_both!(post_validates_its_terms, |w| {
    assert_cinder_error(
        w.try_post(9, DURATION),
        CinderError::PriceBelowMarketMinimum,
    );
    assert_cinder_error(w.try_post(PRICE, 0), CinderError::DurationOutOfRange);
    assert_cinder_error(w.try_post(PRICE, 86_401), CinderError::DurationOutOfRange);
    let now = w.now();
    assert_cinder_error(
        w.try_post_with(PRICE, DURATION, |a| a.open_until = now),
        CinderError::InvalidOpenUntil,
    );
    assert_cinder_error(
        w.try_post_with(PRICE, DURATION, |a| a.spec_uri = String::new()),
        CinderError::InvalidUri,
    );
    assert_cinder_error(
        w.try_post_with(PRICE, DURATION, |a| a.spec_uri = "é".into()),
        CinderError::InvalidUri,
    );
    assert_cinder_error(
        w.try_post(u64::MAX / 2, DURATION),
        CinderError::MathOverflow,
    );
});

on_both!(post_without_funds_fails_and_leaves_nothing_behind, |w| {
    let poor = Keypair::new();
    let admin = w.admin.insecure_clone();
    let (mint, tp) = (w.mint, w.token_program);
    let poor_token =
        tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &poor.pubkey(), &tp);
    w.fund(&poor.pubkey());
    let k = w.job_keys(&poor.pubkey(), 1);
    let args = w.post_args(&k, 1, PRICE, DURATION);
    // The token program refuses the escrow transfer out of the empty account.
    let got = w.send(&[ix::post_job(&k, &poor_token, args)], &[&poor]);
    let insufficient = InstructionError::Custom(TokenError::InsufficientFunds as u32);
    assert!(
        matches!(&got, Err(TransactionError::InstructionError(_, e)) if *e == insufficient),
        "expected the token program's InsufficientFunds, got {got:?}"
    );
    assert!(!w.exists(&k.job) && !w.exists(&k.vault));
});

on_both!(paused_protocol_or_market_refuses_post_and_claim, |w| {
    let k = w.post(PRICE, DURATION);
    let admin = w.admin.pubkey();
    let params = cinder_tests::world::default_config_params();
    w.send(&[ix::update_config(&admin, params, true)], &[])
        .expect("pause");
    assert_cinder_error(w.try_post(PRICE, DURATION), CinderError::ProtocolPaused);
    assert_cinder_error(w.try_claim(&k), CinderError::ProtocolPaused);
    // Money already in escrow can always leave: the client may still cancel.
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    w.send(&[ix::update_config(&admin, params, false)], &[])
        .expect("resume");
    let market = w.market;
    let mp = cinder_tests::world::default_market_params(admin);
    w.send(&[ix::update_market(&admin, &market, mp, true)], &[])
        .expect("pause market");
    assert_cinder_error(w.try_post(PRICE, DURATION), CinderError::MarketPaused);
    assert_cinder_error(w.try_claim(&k), CinderError::MarketPaused);
    w.send(&[ix::cancel_job(&k, &client.pubkey(), &ct)], &[&client])
        .expect("cancel while paused");
});

on_both!(settlement_while_paused_still_pays, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(10);
    w.submit(&k, 10);
    let admin = w.admin.pubkey();
    w.send(
        &[ix::update_config(
            &admin,
            cinder_tests::world::default_config_params(),
            true,
        )],
        &[],
    )
    .expect("pause");
    w.warp(600);
    w.settle(&k);
});

on_both!(
    fee_snapshot_protects_the_client_from_later_fee_changes,
    |w| {
        let k = w.post(PRICE, DURATION);
        let admin = w.admin.pubkey();
        let mut params = cinder_tests::world::default_config_params();
        params.protocol_fee_bps = cinder::state::Bps(2_000);
        w.send(&[ix::update_config(&admin, params, false)], &[])
            .expect("raise fee");
        let before = w.ledger(&k);
        w.claim(&k);
        w.warp(1_000);
        w.submit(&k, 1_000);
        w.warp(600);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(
            w.market_account().protocol_fees_accrued,
            500,
            "fee at the 5% the job was posted with"
        );
        assert_eq!(after[3] - before[3], 500 + 600);
    }
);

/// The whole lifecycle with a Token-2022 payment mint (metadata-pointer extension).
#[test]
fn token_2022_lifecycle_native() {
    token_2022_lifecycle(World::with_mint(false, MintKind::Token2022));
}

#[test]
fn token_2022_lifecycle_sbf() {
    token_2022_lifecycle(World::with_mint(true, MintKind::Token2022));
}

fn token_2022_lifecycle(mut w: World) {
    assert_eq!(w.token_program, tokens::TOKEN_2022);
    let k = w.post(PRICE, DURATION);
    let before = w.ledger(&k);
    w.claim(&k);
    w.warp(1_800);
    w.submit(&k, 1_800);
    w.warp(600);
    w.settle(&k);
    let after = w.ledger(&k);
    assert_eq!(after[1] - before[1], 17_100);
    assert_eq!(after[3] - before[3], 900 + 1_080);
    assert_eq!(total(before), total(after));
    w.try_sweep().expect("sweep_fees");
    assert_eq!(w.ledger(&k)[2] - before[2], 900);
    let k = w.post(PRICE, DURATION);
    let client = w.client.insecure_clone();
    w.send(
        &[ix::cancel_job(
            &k,
            &client.pubkey(),
            &w.client_token.clone(),
        )],
        &[&client],
    )
    .expect("cancel");
    assert!(!w.exists(&k.vault));
}

// Every movement of value is announced by an event whose amounts match the ledger.
on_both!(events_report_every_movement_of_value, |w| {
    use cinder::events::*;
    use cinder_tests::events_of;
    assert!(w.chain.record_events(true));
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    let (k, n) = w.next_job();
    let args = w.post_args(&k, n, PRICE, DURATION);
    let meta = w.send(&[ix::post_job(&k, &ct, args)], &[&client]).unwrap();
    let posted = events_of::<JobPosted>(&meta);
    assert_eq!(posted.len(), 1);
    assert_eq!(
        (
            posted[0].job,
            posted[0].escrow_compute,
            posted[0].escrow_verification
        ),
        (k.job, COMPUTE, VERIFICATION)
    );

    let meta = w.send(&[ix::extend_job(&k, &ct, 100)], &[&client]).unwrap();
    let ext = &events_of::<JobExtended>(&meta)[0];
    assert_eq!((ext.deposit_compute, ext.deposit_verification), (1_000, 60));

    w.claim(&k);
    w.warp(1_800);
    w.submit(&k, 1_800);
    w.warp(600);
    let before = w.ledger(&k);
    let meta = w.try_settle(&k).unwrap();
    let after = w.ledger(&k);
    let s = &events_of::<JobSettled>(&meta)[0];
    assert_eq!(s.provider_amount, after[1] - before[1]);
    assert_eq!(s.protocol_fee + s.verification_fee, after[3] - before[3]);
    assert_eq!(s.refund, after[0] - before[0]);
    assert!(!s.accepted);

    let meta = w.try_sweep().unwrap();
    assert_eq!(events_of::<FeesSwept>(&meta)[0].amount, s.protocol_fee);

    let k = w.post(PRICE, DURATION);
    let meta = w
        .send(&[ix::cancel_job(&k, &client.pubkey(), &ct)], &[&client])
        .unwrap();
    assert_eq!(events_of::<JobCancelled>(&meta)[0].refund, ESCROW);
});

on_both!(a_settled_job_cannot_be_settled_again, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.submit(&k, 0);
    w.warp(600);
    w.settle(&k);
    // The job account is gone (closed to the System program): nothing left to pay out.
    assert_anchor_error(w.try_settle(&k), Anchor::AccountOwnedByWrongProgram);
    let client = w.client.insecure_clone();
    assert_anchor_error(
        w.send(
            &[ix::cancel_job(
                &k,
                &client.pubkey(),
                &w.client_token.clone(),
            )],
            &[&client],
        ),
        Anchor::AccountOwnedByWrongProgram,
    );
});
