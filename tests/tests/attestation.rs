//! Attestation: ungrindable sampling, re-execution by another provider, disputes and the
//! arbiter, and how each outcome pays and slashes.

use cinder::{
    errors::CinderError,
    state::{resolution, JobState, SampleStatus},
};
use cinder_tests::{
    assert_cinder_error, ix, ix::JobKeys, on_both, tokens, world::PROVIDER_STAKE, World,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const PRICE: u64 = 10;
const DURATION: u32 = 3_600;

/// A second provider, with a payment-token account for its verifier fee.
fn verifier(w: &mut World) -> (Keypair, Pubkey) {
    let v = Keypair::new();
    w.fund(&v.pubkey());
    w.make_provider(&v);
    w.wait_one_race();
    let (admin, mint, tp) = (w.admin.insecure_clone(), w.mint, w.token_program);
    let t = tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &v.pubkey(), &tp);
    (v, t)
}

/// Posts, claims and submits (result hash [42; 32], 100 s billed); then the sampling slot passes.
fn submitted(w: &mut World) -> JobKeys {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(2);
    k
}

fn reveal(
    w: &mut World,
    k: &JobKeys,
) -> Result<cinder_tests::TxMeta, solana_sdk::transaction::TransactionError> {
    w.send(&[ix::reveal_sample(k)], &[])
}

/// A [`submitted`] job, revealed (drawn where the market samples it), and a verifier to re-run
/// it with its payment-token account.
fn drawn(w: &mut World) -> (JobKeys, Keypair, Pubkey) {
    let k = submitted(w);
    reveal(w, &k).unwrap();
    let (v, vt) = verifier(w);
    (k, v, vt)
}

/// Gives the market pool verification funds (as earlier settlements would have).
fn fund_pool(w: &mut World, amount: u64) {
    let (admin, auth, mint, tp) = (
        w.admin.insecure_clone(),
        w.mint_authority.insecure_clone(),
        w.mint,
        w.token_program,
    );
    let pool = w.verify_pool();
    tokens::mint_to(w.chain.as_mut(), &admin, &mint, &pool, &auth, amount, &tp);
}

on_both!(sampling_uses_a_slot_hash_from_after_the_commitment, |w| {
    w.set_verify_rate(5_000);
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(10);
    w.submit(&k, 10);
    let submitted_slot = w.job(&k.job).submitted_slot;
    // At the commit the deciding slot (submit + 4) does not exist yet.
    assert_cinder_error(reveal(&mut w, &k), CinderError::SampleNotReady);
    w.warp(1); // + 3 slots
    assert_cinder_error(reveal(&mut w, &k), CinderError::SampleNotReady);
    w.warp(1); // + 5 slots
    reveal(&mut w, &k).expect("reveal_sample");
    // The decision is sha256(hash of slot submit+4 ‖ job) below 50%: reproducible off-chain.
    use sha2::Digest;
    let slot_hash: [u8; 32] = sha2::Sha256::digest((submitted_slot + 4).to_le_bytes()).into();
    // The published rule, not the program's `is_sampled` (tests/tests/sampling.rs does this
    // for thousands of draws): sha256(hash ‖ job), first 8 bytes little-endian, mod 10 000.
    let d = sha2::Sha256::new()
        .chain_update(slot_hash)
        .chain_update(k.job)
        .finalize();
    let expected = u64::from_le_bytes(d[..8].try_into().unwrap()) % 10_000 < 5_000;
    let status = w.job(&k.job).sample_status;
    assert_eq!(
        status,
        if expected {
            SampleStatus::Sampled
        } else {
            SampleStatus::NotSampled
        }
    );
    assert_cinder_error(reveal(&mut w, &k), CinderError::SampleAlreadyDecided);
});

#[test]
fn slot_hash_lookup_finds_the_first_slot_at_or_after_the_target() {
    use cinder::instructions::slot_hash_at_or_after;
    // Newest first, with slot 103 skipped.
    let entries = [
        (105u64, [5u8; 32]),
        (104, [4; 32]),
        (102, [2; 32]),
        (101, [1; 32]),
    ];
    let mut data = (entries.len() as u64).to_le_bytes().to_vec();
    for (s, h) in entries {
        data.extend_from_slice(&s.to_le_bytes());
        data.extend_from_slice(&h);
    }
    assert_eq!(slot_hash_at_or_after(&data, 102), Some((102, [2; 32])));
    assert_eq!(
        slot_hash_at_or_after(&data, 103),
        Some((104, [4; 32])),
        "a skipped slot: the next block"
    );
    assert_eq!(slot_hash_at_or_after(&data, 100), Some((101, [1; 32])));
    assert_eq!(slot_hash_at_or_after(&data, 106), None, "not produced yet");
    // Sampling rate bounds.
    assert!(!cinder::instructions::is_sampled(
        &[9; 32],
        &Pubkey::new_unique(),
        0
    ));
    assert!(cinder::instructions::is_sampled(
        &[9; 32],
        &Pubkey::new_unique(),
        10_000
    ));
}

on_both!(
    a_job_nobody_reveals_counts_as_sampled_and_lapses_without_verifiers,
    |w| {
        w.set_verify_rate(5_000);
        let k = submitted(&mut w);
        w.warp(600); // past the 500-slot reveal window and the challenge window
        assert_cinder_error(reveal(&mut w, &k), CinderError::SampleAlreadyDecided);
        assert_cinder_error(w.try_settle(&k), CinderError::VerificationPending);
        let client = w.client.insecure_clone();
        let accept = ix::accept_result(&k, &w.payees());
        assert_cinder_error(
            w.send(&[accept], &[&client]),
            CinderError::VerificationPending,
        );
        // No verifier within the market's verification timeout (1 day): it settles as unsampled.
        w.warp(86_400);
        let (v, _) = verifier(&mut w);
        assert_cinder_error(
            w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v]),
            CinderError::NotSampled,
        );
        w.settle(&k);
    }
);

on_both!(
    a_matching_verifier_verifies_and_is_paid_from_the_pool,
    |w| {
        w.set_verify_rate(10_000);
        fund_pool(&mut w, 1_000);
        let k = submitted(&mut w);
        reveal(&mut w, &k).unwrap();
        assert_eq!(w.job(&k.job).sample_status, SampleStatus::Sampled);
        w.warp(600);
        assert_cinder_error(w.try_settle(&k), CinderError::VerificationPending);
        // Not the job's own provider.
        let p = w.provider.insecure_clone();
        assert_cinder_error(
            w.send(&[ix::claim_verification(&k, &p.pubkey())], &[&p]),
            CinderError::VerifierConflict,
        );
        let (v, vt) = verifier(&mut w);
        w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
            .expect("claim_verification");
        w.close_race(&k.job);
        assert_eq!(w.job(&k.job).state, JobState::Verifying);
        assert_eq!(
            w.read::<cinder::state::Provider>(&ix::provider_pda(&v.pubkey()))
                .locked_stake,
            10_000_000_000
        );
        w.warp(30);
        let sub = w.verdict_ixs(&k, &v.pubkey(), &vt, [42; 32], 31);
        assert_cinder_error(w.send(&sub, &[&v]), CinderError::BilledTooMuch);
        let sub = w.verdict_ixs(&k, &v.pubkey(), &vt, [42; 32], 30);
        w.send(&sub, &[&v]).expect("submit_verification");
        assert_eq!(w.job(&k.job).state, JobState::Verified);
        // Price × the verifier's 30 s = 300, but a drawn run costs the pool at most the job's
        // pay × fee / rate = 1 000 × 6 % / 100 % = 60: what the pool expects to earn from the
        // job over the chance it is drawn (at the defaults, 6 % / 5 %, a run is paid in full;
        // tests/tests/collusion.rs).
        assert_eq!(w.balance(&vt), 60, "the solvency bound, from the pool");
        assert_eq!(
            w.read::<cinder::state::Provider>(&ix::provider_pda(&v.pubkey()))
                .locked_stake,
            0
        );
        // The provider is paid as usual; the money adds up.
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], 1_000 - 50);
        assert_eq!(before.iter().sum::<u64>(), after.iter().sum::<u64>());
    }
);

on_both!(a_verifier_with_only_public_data_cannot_match, |w| {
    w.set_verify_rate(10_000);
    let (k, v, vt) = drawn(&mut w);
    w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
        .unwrap();
    w.close_race(&k.job);
    // The commitment is public; submitting it (or anything but the true hash) mismatches.
    let commitment = w.job(&k.job).result_commitment;
    w.submit_verification(&k, &v, &vt, commitment, 0).unwrap();
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.first_verifier),
        (JobState::Escalated, v.pubkey())
    );
    assert_eq!(w.balance(&vt), 0, "no pay for a mismatch, before or after");
});

/// A dispute on one verdict: the verifier mismatched ([7; 32]) and nobody came to verify a
/// second time before the escalation lapsed, so the arbiter decides on that one verdict.
fn disputed(w: &mut World) -> (JobKeys, Keypair) {
    w.set_verify_rate(10_000);
    let k = submitted(w);
    reveal(w, &k).unwrap();
    let (v, vt) = verifier(w);
    w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
        .unwrap();
    w.close_race(&k.job);
    w.warp(10);
    w.submit_verification(&k, &v, &vt, [7; 32], 10).unwrap();
    w.lapse_escalation(&k.job);
    (k, v)
}

on_both!(
    provider_right_slashes_the_verifier_and_pays_the_provider,
    |w| {
        let (k, v) = disputed(&mut w);
        let a = w.admin.pubkey(); // the market's arbiter
        let provider = w.provider.pubkey();
        let winner = w.provider_ptoken;
        let before_p = w.balance(&winner);
        let p = w.protocol();
        let res = ix::resolve_dispute(
            &k,
            &a,
            &provider,
            &v.pubkey(),
            &winner,
            &p,
            resolution::PROVIDER_RIGHT,
        );
        w.send(&[res], &[]).expect("resolve");
        // 20% of the verifier's stake; half to the provider, half burned.
        let slashed = PROVIDER_STAKE / 5;
        assert_eq!(w.position(&v.pubkey()).amount, PROVIDER_STAKE - slashed);
        assert_eq!(w.balance(&winner) - before_p, slashed / 2);
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Verified, resolution::PROVIDER_RIGHT)
        );
        let before = w.ledger(&k);
        w.warp(600);
        w.settle(&k);
        assert_eq!(w.ledger(&k)[1] - before[1], 1_000 - 50, "provider paid");
    }
);

on_both!(
    verifier_right_slashes_the_provider_and_refunds_the_client,
    |w| {
        let (k, v) = disputed(&mut w);
        let a = w.admin.pubkey();
        let provider = w.provider.pubkey();
        let (admin, mint) = (w.admin.insecure_clone(), w.protocol_mint);
        let winner = tokens::create_token_account(
            w.chain.as_mut(),
            &admin,
            &mint,
            &v.pubkey(),
            &tokens::LEGACY,
        );
        // Only the arbiter decides (before the timeout).
        let p = w.protocol();
        let stranger = Keypair::new();
        let res = ix::resolve_dispute(
            &k,
            &stranger.pubkey(),
            &provider,
            &v.pubkey(),
            &winner,
            &p,
            resolution::VERIFIER_RIGHT,
        );
        assert_cinder_error(w.send(&[res], &[&stranger]), CinderError::NotArbiter);
        let res = ix::resolve_dispute(
            &k,
            &a,
            &provider,
            &v.pubkey(),
            &winner,
            &p,
            resolution::VERIFIER_RIGHT,
        );
        w.send(&[res], &[]).expect("resolve");
        let slashed = PROVIDER_STAKE / 5;
        assert_eq!(w.position(&provider).amount, PROVIDER_STAKE - slashed);
        assert_eq!(w.balance(&winner), slashed / 2);
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1], before[1], "provider not paid");
        // The job was re-run: its verification fee on the 100 billed seconds, ceil(6 % of
        // 1 000) = 60, goes to the pool like any job's; the client gets the rest of the vault.
        assert_eq!(after[3] - before[3], 60, "the verification fee to the pool");
        assert_eq!(
            after[0] - before[0],
            before[4] - 60,
            "the rest back to the client"
        );
        assert_eq!(after[2], before[2], "no protocol fee");
        assert_eq!(w.provider_account().locked_stake, 0);
    }
);

on_both!(
    a_silent_arbiter_lets_the_result_stand_and_slashes_nobody,
    |w| {
        let (k, v) = disputed(&mut w);
        let provider = w.provider.pubkey();
        let anyone = Keypair::new();
        let winner = w.protocol_account(&anyone.pubkey());
        let p = w.protocol();
        let res = ix::resolve_dispute(
            &k,
            &anyone.pubkey(),
            &provider,
            &v.pubkey(),
            &winner,
            &p,
            resolution::VERIFIER_RIGHT,
        );
        assert_cinder_error(
            w.send(std::slice::from_ref(&res), &[&anyone]),
            CinderError::NotArbiter,
        );
        w.warp(7 * 86_400 - 1);
        assert_cinder_error(
            w.send(std::slice::from_ref(&res), &[&anyone]),
            CinderError::NotArbiter,
        );
        w.warp(1);
        w.send(&[res], &[&anyone])
            .expect("resolve after the timeout");
        // One unproven mismatch is a claim, not a finding: the provider's result stands (a
        // refund here would let a client's own verifier key void any job it paid for).
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Verified, resolution::RESULT_STANDS)
        );
        assert_eq!(w.position(&provider).amount, PROVIDER_STAKE);
        assert_eq!(w.position(&v.pubkey()).amount, PROVIDER_STAKE);
        assert_eq!(
            w.read::<cinder::state::Provider>(&ix::provider_pda(&v.pubkey()))
                .locked_stake,
            0,
            "the verifier's stake is released"
        );
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], 1_000 - 50, "provider paid");
    }
);

on_both!(a_silent_verifier_is_slashed_and_replaced, |w| {
    w.set_verify_rate(10_000);
    let (k, v, _) = drawn(&mut w);
    w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
        .unwrap();
    w.close_race(&k.job);
    let caller = Keypair::new();
    let ct = w.protocol_account(&caller.pubkey());
    let p = w.protocol();
    let exp = ix::expire_verification(&k, &caller.pubkey(), &v.pubkey(), &ct, &p);
    // deadline = claim + 3 600 s + 60 s for the race, grace 300 s
    w.warp(3_960);
    assert_cinder_error(
        w.send(std::slice::from_ref(&exp), &[&caller]),
        CinderError::DeadlineNotPassed,
    );
    w.warp(1);
    w.send(&[exp], &[&caller]).expect("expire_verification");
    assert_eq!(w.balance(&ct), PROVIDER_STAKE / 100 / 2);
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.verifier),
        (JobState::Submitted, Pubkey::default())
    );
    // Another verifier takes over (the verification timeout counts from the submit: 1 day).
    let (v2, vt2) = verifier(&mut w);
    w.verify(&k, &v2, &vt2, [42; 32], 0).unwrap();
    w.settle(&k);
});

/// Submits (100 s billed) in an optimistic market and lets the client dispute: bond = the job's
/// verification fee (ceil 6 % of 36 000 = 2 160).
fn client_disputed(w: &mut World) -> JobKeys {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    w.send(&[ix::dispute_job(&k, &ct)], &[&client])
        .expect("dispute_job");
    w.open_race(&k.job);
    k
}

const BOND: u64 = 2_160;

on_both!(
    a_client_dispute_forces_verification_and_a_match_pays_the_bond_out,
    |w| {
        fund_pool(&mut w, 10_000);
        let before_client = w.balance(&w.client_token.clone());
        let k = client_disputed(&mut w);
        assert_eq!(
            w.balance(&w.client_token.clone()),
            before_client - 38_160 - BOND
        );
        assert_eq!(w.balance(&k.vault), 36_000 + 2_160 + BOND);
        assert_eq!(w.job(&k.job).sample_status, SampleStatus::Sampled);
        w.warp(600);
        assert_cinder_error(w.try_settle(&k), CinderError::VerificationPending);
        let (v, vt) = verifier(&mut w);
        w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
            .unwrap();
        w.warp(50);
        let before_p = w.balance(&w.provider_token.clone());
        let pool = w.verify_pool();
        let pool_before = w.balance(&pool);
        w.submit_verification(&k, &v, &vt, [42; 32], 50)
            .expect("match");
        // The client pays for the re-run it forced: its bond pays the verifier's 50 s at the
        // job's price (500), the provider the rest; the pool pays nothing (paid from the pool,
        // a forced re-run ate the job's own fee and starved the drawn runs: SECURITY.md #25).
        assert_eq!(w.balance(&vt), 10 * 50, "the run, from the bond");
        assert_eq!(
            w.balance(&w.provider_token.clone()) - before_p,
            BOND - 10 * 50,
            "the rest of the bond"
        );
        assert_eq!(w.balance(&pool), pool_before, "nothing from the pool");
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], 950);
        assert_eq!(
            after[0] - before[0],
            36_000 + 2_160 - 1_000 - 60,
            "the rest of the escrow, no bond"
        );
    }
);

on_both!(dispute_rules, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    assert_cinder_error(
        w.send(&[ix::dispute_job(&k, &ct)], &[&client]),
        CinderError::JobNotSubmitted,
    );
    w.warp(10);
    w.submit(&k, 10);
    let stranger = Keypair::new();
    let mut forged = k;
    forged.client = stranger.pubkey();
    assert_cinder_error(
        w.send(&[ix::dispute_job(&forged, &ct)], &[&stranger]),
        CinderError::NotJobClient,
    );
    w.send(&[ix::dispute_job(&k, &ct)], &[&client]).unwrap();
    w.open_race(&k.job);
    assert_cinder_error(
        w.send(&[ix::dispute_job(&k, &ct)], &[&client]),
        CinderError::AlreadyDisputed,
    );
    let k2 = w.post(PRICE, DURATION);
    w.claim(&k2);
    w.submit(&k2, 0);
    w.warp(600);
    assert_cinder_error(
        w.send(&[ix::dispute_job(&k2, &ct)], &[&client]),
        CinderError::ChallengeWindowClosed,
    );
});

on_both!(
    a_wrong_verifier_returns_the_bond_or_the_arbiter_gives_it_to_the_provider,
    |w| {
        let a = w.admin.pubkey();
        let p = w.protocol();
        let provider = w.provider.pubkey();
        // Verifier right: everything, bond included, back to the client but the verification
        // fee of the 1 000 billed (60): the job was re-run, and the pool paid for that.
        let start = w.balance(&w.client_token.clone());
        let k = client_disputed(&mut w);
        let (v, vt) = verifier(&mut w);
        w.verify(&k, &v, &vt, [7; 32], 0).unwrap();
        w.lapse_escalation(&k.job);
        let winner = w.protocol_account(&v.pubkey());
        w.send(
            &[ix::resolve_dispute(
                &k,
                &a,
                &provider,
                &v.pubkey(),
                &winner,
                &p,
                resolution::VERIFIER_RIGHT,
            )],
            &[],
        )
        .unwrap();
        w.settle(&k);
        assert_eq!(
            w.balance(&w.client_token.clone()),
            start - 60,
            "client whole again but the verification fee"
        );
        // Provider right: the bond is the provider's.
        let k = client_disputed(&mut w);
        w.verify(&k, &v, &vt, [7; 32], 0).unwrap();
        w.lapse_escalation(&k.job);
        let winner = w.provider_ptoken;
        w.send(
            &[ix::resolve_dispute(
                &k,
                &a,
                &provider,
                &v.pubkey(),
                &winner,
                &p,
                resolution::PROVIDER_RIGHT,
            )],
            &[],
        )
        .unwrap();
        w.warp(600);
        let before = w.ledger(&k);
        w.settle(&k);
        assert_eq!(w.ledger(&k)[1] - before[1], 950 + BOND);
        // The arbiter silent: the result stands and the provider is paid, but the bond goes
        // back to the client (nobody found the provider right against its doubt).
        let k = client_disputed(&mut w);
        w.verify(&k, &v, &vt, [7; 32], 0).unwrap();
        w.lapse_escalation(&k.job);
        w.warp(7 * 86_400);
        let anyone = Keypair::new();
        let winner = w.provider_ptoken;
        w.send(
            &[ix::resolve_dispute(
                &k,
                &anyone.pubkey(),
                &provider,
                &v.pubkey(),
                &winner,
                &p,
                resolution::VERIFIER_RIGHT,
            )],
            &[&anyone],
        )
        .expect("anyone, after the arbiter's silence");
        assert_eq!(w.job(&k.job).resolution, resolution::RESULT_STANDS);
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], 950, "paid, no bond");
        assert_eq!(
            after[0] - before[0],
            before[4] - 1_000 - 60,
            "the rest of the vault, the bond included, to the client"
        );
    }
);

// The attestation events carry what indexers need (both builds; see `TxMeta::events`).
on_both!(attestation_events, |w| {
    use cinder::events::{SampleRevealed, VerificationLapsed, VerificationSubmitted};
    use cinder_tests::events_of;
    assert!(w.chain.record_events(true));
    w.set_verify_rate(10_000);
    let k = submitted(&mut w);
    let meta = reveal(&mut w, &k).unwrap();
    let r = &events_of::<SampleRevealed>(&meta)[0];
    assert!(r.sampled && r.slot >= w.job(&k.job).submitted_slot + 4);
    let (v, vt) = verifier(&mut w);
    let meta = w.verify(&k, &v, &vt, [42; 32], 0).unwrap();
    let s = &events_of::<VerificationSubmitted>(&meta)[0];
    assert!(s.matched && s.result_hash == [42; 32]);
    // A sampled job nobody verifies lapses at settlement, and says so.
    let k = submitted(&mut w);
    reveal(&mut w, &k).unwrap();
    w.warp(600 + 86_400);
    let meta = w.try_settle(&k).unwrap();
    assert_eq!(events_of::<VerificationLapsed>(&meta)[0].job, k.job);
});

// --- escalation (issue 15, point 2): one mismatch is a claim, two are a finding -------------

/// A drawn job (committed [42; 32]) whose first verifier mismatched ([7; 32]): escalated.
/// Also the mismatch's transaction.
fn escalated(w: &mut World, mode: u8) -> (JobKeys, Keypair, cinder_tests::TxMeta) {
    w.set_verify_rate(10_000);
    let k = w
        .try_post_with(PRICE, DURATION, |a| a.verify_mode = mode)
        .expect("post_job");
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(2);
    reveal(w, &k).unwrap();
    let (v, vt) = verifier(w);
    let meta = w.verify(&k, &v, &vt, [7; 32], 0).expect("first mismatch");
    (k, v, meta)
}

/// A second verifier wins the escalation's race and submits `hash`; its payment-token
/// account.
fn second_verdict(w: &mut World, k: &JobKeys, hash: [u8; 32]) -> (Keypair, Pubkey) {
    let (v, vt) = verifier(w);
    w.open_race(&k.job);
    w.send(&[ix::claim_verification(k, &v.pubkey())], &[&v])
        .expect("claim the second verification");
    w.close_race(&k.job);
    w.warp(10);
    w.submit_verification(k, &v, &vt, hash, 10)
        .expect("second verdict");
    (v, vt)
}

fn locked(w: &mut World, who: &Pubkey) -> (u64, u32) {
    let p = w.read::<cinder::state::Provider>(&ix::provider_pda(who));
    (p.locked_stake, p.active_jobs)
}

/// The fraud slash of a full stake (20 %), and its reward (half of it; the rest burned).
const FRAUD: u64 = PROVIDER_STAKE / 5;
const REWARD: u64 = FRAUD / 2;

on_both!(two_mismatches_are_fraud_that_anyone_resolves_at_once, |w| {
    use cinder::{events::VerificationEscalated, state::verdict};
    use cinder_tests::events_of;
    assert!(w.chain.record_events(true));
    let (k, v1, meta) = escalated(&mut w, 0);
    let e = &events_of::<VerificationEscalated>(&meta)[0];
    assert_eq!((e.job, e.first_verifier), (k.job, v1.pubkey()));
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.first_verifier, job.verifier),
        (JobState::Escalated, v1.pubkey(), Pubkey::default())
    );
    // The first verifier's stake stays locked: it is slashed if its mismatch turns out wrong.
    assert_eq!(locked(&mut w, &v1.pubkey()), (job.stake_per_job, 1));
    // The second race starts from a slot nobody knew at the mismatch; the first verifier (and,
    // as always, the provider and the client) may not enter it.
    let slot = w.chain.clock().slot;
    assert!(job.race_origin() > slot);
    w.open_race(&k.job);
    assert_cinder_error(
        w.send(&[ix::claim_verification(&k, &v1.pubkey())], &[&v1]),
        CinderError::VerifierConflict,
    );
    let (v2, _) = second_verdict(&mut w, &k, [9; 32]);
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.verdict),
        (JobState::Disputed, verdict::CONFIRMED)
    );
    // Anyone resolves it at once: two independent re-runs disagreeing with an exact result
    // are proof; the arbiter has no say (its decision, even "provider right", is ignored).
    let anyone = Keypair::new();
    let (t1, t2) = (
        w.protocol_account(&v1.pubkey()),
        w.protocol_account(&v2.pubkey()),
    );
    let (p, provider) = (w.protocol(), w.provider.pubkey());
    let res = ix::resolve_dispute_escalated(
        &k,
        &anyone.pubkey(),
        &provider,
        &v1.pubkey(),
        &v2.pubkey(),
        &t1,
        &t2,
        &p,
        resolution::PROVIDER_RIGHT,
    );
    // Without the second verifier's accounts the program cannot release or pay it.
    let mut short = res.clone();
    short.accounts.truncate(short.accounts.len() - 3);
    assert_cinder_error(
        w.send(&[short], &[&anyone]),
        CinderError::SecondVerifierMissing,
    );
    w.send(&[res], &[&anyone]).expect("resolve at once");
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.resolution),
        (JobState::Refunded, resolution::VERIFIER_RIGHT)
    );
    assert_eq!(w.position(&provider).amount, PROVIDER_STAKE - FRAUD);
    // The reward is shared: half (rounded down) to the second verifier, the rest to the first.
    assert_eq!(w.balance(&t2), REWARD / 2);
    assert_eq!(w.balance(&t1), REWARD - REWARD / 2);
    assert_eq!(w.position(&v1.pubkey()).amount, PROVIDER_STAKE);
    assert_eq!(w.position(&v2.pubkey()).amount, PROVIDER_STAKE);
    assert_eq!(locked(&mut w, &v1.pubkey()), (0, 0));
    assert_eq!(locked(&mut w, &v2.pubkey()), (0, 0));
    let before = w.ledger(&k);
    w.settle(&k);
    let after = w.ledger(&k);
    assert_eq!(after[1], before[1], "provider not paid");
    assert_eq!(after[0] - before[0], before[4] - 60, "client refunded");
});

on_both!(
    a_split_goes_to_the_arbiter_who_slashes_the_side_it_finds_wrong,
    |w| {
        use cinder::state::verdict;
        let (p, provider, arbiter) = (w.protocol(), w.provider.pubkey(), w.admin.pubkey());
        // Verifier right: the provider is slashed, and so is the second verifier that matched a
        // fraud (a provider's sock that wins the second race cannot rescue it for free). The first
        // verifier takes both rewards.
        let pool = w.verify_pool();
        fund_pool(&mut w, 1_000_000);
        let (k, v1, _) = escalated(&mut w, 0);
        let pool_before = w.balance(&pool);
        let (v2, v2_pay) = second_verdict(&mut w, &k, [42; 32]);
        // A second verifier is paid from the slash of whoever is wrong, never from the pool:
        // two keys of one owner could otherwise bill the pool for every job they escalate.
        assert_eq!((w.balance(&v2_pay), w.balance(&pool)), (0, pool_before));
        assert_eq!(
            (w.job(&k.job).state, w.job(&k.job).verdict),
            (JobState::Disputed, verdict::SPLIT)
        );
        let (t1, t2) = (
            w.protocol_account(&v1.pubkey()),
            w.protocol_account(&v2.pubkey()),
        );
        let resolve = |signer: &Pubkey, winner: &Pubkey, d: u8| {
            ix::resolve_dispute_escalated(
                &k,
                signer,
                &provider,
                &v1.pubkey(),
                &v2.pubkey(),
                winner,
                &t2,
                &p,
                d,
            )
        };
        let anyone = Keypair::new();
        assert_cinder_error(
            w.send(
                &[resolve(&anyone.pubkey(), &t1, resolution::VERIFIER_RIGHT)],
                &[&anyone],
            ),
            CinderError::NotArbiter,
        );
        w.send(&[resolve(&arbiter, &t1, resolution::VERIFIER_RIGHT)], &[])
            .expect("arbiter: verifier right");
        assert_eq!(w.position(&provider).amount, PROVIDER_STAKE - FRAUD);
        assert_eq!(w.position(&v2.pubkey()).amount, PROVIDER_STAKE - FRAUD);
        assert_eq!(w.position(&v1.pubkey()).amount, PROVIDER_STAKE);
        assert_eq!(w.balance(&t1), 2 * REWARD);
        assert_eq!(w.balance(&t2), 0);
        assert_eq!(w.job(&k.job).state, JobState::Refunded);
        assert_eq!(locked(&mut w, &v1.pubkey()), (0, 0));
        assert_eq!(locked(&mut w, &v2.pubkey()), (0, 0));
        w.settle(&k);

        // Provider right: the first verifier is slashed; the provider and the second verifier,
        // who matched, share the reward; the job settles as verified. (The provider's stake is
        // down by the first slash: 20 % of what is left.)
        let (k, v1, _) = escalated(&mut w, 0);
        let (v2, _) = second_verdict(&mut w, &k, [42; 32]);
        let t2 = w.protocol_account(&v2.pubkey());
        let winner = w.provider_ptoken;
        let before_p = w.balance(&winner);
        let res = ix::resolve_dispute_escalated(
            &k,
            &arbiter,
            &provider,
            &v1.pubkey(),
            &v2.pubkey(),
            &winner,
            &t2,
            &p,
            resolution::PROVIDER_RIGHT,
        );
        w.send(&[res], &[]).expect("arbiter: provider right");
        assert_eq!(w.position(&v1.pubkey()).amount, PROVIDER_STAKE - FRAUD);
        assert_eq!(w.position(&v2.pubkey()).amount, PROVIDER_STAKE);
        assert_eq!(w.balance(&winner) - before_p, REWARD - REWARD / 2);
        assert_eq!(w.balance(&t2), REWARD / 2);
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Verified, resolution::PROVIDER_RIGHT)
        );
        let before = w.ledger(&k);
        w.settle(&k);
        assert_eq!(w.ledger(&k)[1] - before[1], 1_000 - 50, "provider paid");
    }
);

on_both!(
    a_tolerance_jobs_verdicts_decide_it_whatever_the_hashes,
    |w| {
        use cinder::state::{verdict, verify_mode};
        // (a) An honest re-run of a tolerance job differs from the provider's in its last bits:
        // its hash ([8; 32]) does not open the provider's commitment, and the verifier's
        // verdict (the outputs agree under the job's rule) is what counts: Verified, the
        // verifier paid. (The program cannot tell it from a lazy verifier's made-up hash.)
        let (k, _, vt) = tolerance_matched(&mut w, false);
        assert_eq!(w.job(&k.job).state, JobState::Verified);
        // Its run (50 s × 10 = 500), at most the pool's solvency bound: pay × fee / rate = 60.
        assert_eq!(w.balance(&vt), 60, "paid from the pool");
        // The match is the verifier's word: the client may challenge it for the challenge
        // window (a_lazy_match_the_client_challenges...), then it settles.
        assert_cinder_error(w.try_settle(&k), CinderError::ChallengeWindowOpen);
        w.warp(600);
        w.settle(&k);

        // (b) Two verifiers' mismatch verdicts on a tolerance job are a finding like an exact
        // job's: anyone resolves it at once, the provider is slashed and the client refunded.
        let (k, v1, _) = escalated(&mut w, verify_mode::TOLERANCE);
        let (v2, _) = second_verdict(&mut w, &k, [9; 32]);
        assert_eq!(w.job(&k.job).verdict, verdict::CONFIRMED);
        let (p, provider) = (w.protocol(), w.provider.pubkey());
        let (t1, t2) = (
            w.protocol_account(&v1.pubkey()),
            w.protocol_account(&v2.pubkey()),
        );
        let anyone = Keypair::new();
        let stake_before = w.position(&provider).amount;
        w.send(
            &[ix::resolve_dispute_escalated(
                &k,
                &anyone.pubkey(),
                &provider,
                &v1.pubkey(),
                &v2.pubkey(),
                &t1,
                &t2,
                &p,
                resolution::PROVIDER_RIGHT,
            )],
            &[&anyone],
        )
        .expect("two mismatch verdicts: anyone resolves at once");
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Refunded, resolution::VERIFIER_RIGHT)
        );
        assert_eq!(
            stake_before - w.position(&provider).amount,
            stake_before / 5,
            "the provider's fraud slash"
        );
        // A verify mode the program does not know is refused at post.
        assert_cinder_error(
            w.try_post_with(PRICE, DURATION, |a| a.verify_mode = 3),
            CinderError::InvalidVerifyMode,
        );
    }
);

on_both!(
    a_verdict_is_on_a_re_run_the_verifier_committed_to_before_it_could_read_the_outputs,
    |w| {
        use cinder_client::accounts::verifier_commitment;
        w.set_verify_rate(10_000);
        let (k, v, vt) = drawn(&mut w);
        w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
            .unwrap();
        w.close_race(&k.job);
        w.warp(10);
        let me = v.pubkey();
        let pt = w.provider_token;
        let submit = |hash: [u8; 32], matched: bool| {
            ix::submit_verification(&k, &me, &vt, &pt, hash, 10, matched)
        };
        let commit = |hash: [u8; 32]| {
            ix::commit_verification(&k, &me, verifier_commitment(&k.job, &me, &hash))
        };
        // No verdict before a commitment; none with an empty one; only the verifier commits.
        assert_cinder_error(
            w.send(&[submit([42; 32], true)], &[&v]),
            CinderError::VerificationNotCommitted,
        );
        assert_cinder_error(
            w.send(&[ix::commit_verification(&k, &me, [0; 32])], &[&v]),
            CinderError::EmptyVerifierCommitment,
        );
        let other = Keypair::new();
        w.fund(&other.pubkey());
        let theirs = verifier_commitment(&k.job, &other.pubkey(), &[42; 32]);
        assert_cinder_error(
            w.send(
                &[ix::commit_verification(&k, &other.pubkey(), theirs)],
                &[&other],
            ),
            CinderError::NotJobVerifier,
        );
        // A lazy verifier commits without running (here to [7; 32]) so that the provider's
        // server lets it read the outputs, whose hash is [42; 32]. It cannot commit again...
        w.send(&[commit([7; 32])], &[&v]).expect("commit");
        assert_eq!(
            w.job(&k.job).verifier_commitment,
            verifier_commitment(&k.job, &me, &[7; 32])
        );
        assert_cinder_error(
            w.send(&[commit([42; 32])], &[&v]),
            CinderError::VerificationAlreadyCommitted,
        );
        // ...nor submit the hash it has now read, which it did not commit to...
        assert_cinder_error(
            w.send(&[submit([42; 32], true)], &[&v]),
            CinderError::VerifierCommitmentMismatch,
        );
        // ...nor call its committed re-run a match of an exact job.
        assert_cinder_error(
            w.send(&[submit([7; 32], true)], &[&v]),
            CinderError::VerdictContradictsResult,
        );
        assert_eq!(w.job(&k.job).state, JobState::Verifying);
        // Its only verdict is mismatch, which escalates to a second verifier (and is slashed
        // if that one matches: a_split_goes_to_the_arbiter...).
        w.send(&[submit([7; 32], false)], &[&v]).expect("mismatch");
        let job = w.job(&k.job);
        assert_eq!((job.state, job.first_verifier), (JobState::Escalated, me));
        assert_eq!(
            job.verifier_commitment, [0; 32],
            "the next verifier commits afresh"
        );
        assert_eq!(w.balance(&vt), 0);
        // An honest verifier of an exact job whose re-run opens the provider's commitment
        // cannot call it a mismatch either.
        let k = submitted(&mut w);
        reveal(&mut w, &k).unwrap();
        w.send(&[ix::claim_verification(&k, &me)], &[&v]).unwrap();
        w.close_race(&k.job);
        w.warp(10);
        let commit = ix::commit_verification(&k, &me, verifier_commitment(&k.job, &me, &[42; 32]));
        let refused = ix::submit_verification(&k, &me, &vt, &pt, [42; 32], 10, false);
        assert_cinder_error(
            w.send(&[commit.clone(), refused], &[&v]),
            CinderError::VerdictContradictsResult,
        );
        let matched = ix::submit_verification(&k, &me, &vt, &pt, [42; 32], 10, true);
        w.send(&[commit, matched], &[&v]).expect("match");
        assert_eq!(w.job(&k.job).state, JobState::Verified);
    }
);

on_both!(an_escalation_waits_for_a_second_verifier_then_lapses, |w| {
    use cinder::state::verdict;
    let (k, v1, _) = escalated(&mut w, 0);
    // A second verifier that claims and goes silent is expired like any verifier (slashed, the
    // caller paid) and the job goes back to waiting for a second verdict.
    let (v2, _) = verifier(&mut w);
    w.open_race(&k.job);
    w.send(&[ix::claim_verification(&k, &v2.pubkey())], &[&v2])
        .unwrap();
    w.close_race(&k.job);
    let caller = Keypair::new();
    let ct = w.protocol_account(&caller.pubkey());
    let p = w.protocol();
    let deadline = w.job(&k.job).verify_deadline;
    let now = w.now();
    w.warp(deadline - now + 301);
    w.send(
        &[ix::expire_verification(
            &k,
            &caller.pubkey(),
            &v2.pubkey(),
            &ct,
            &p,
        )],
        &[&caller],
    )
    .expect("expire the silent second verifier");
    assert_eq!(w.balance(&ct), PROVIDER_STAKE / 100 / 2);
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.first_verifier, job.verifier),
        (JobState::Escalated, v1.pubkey(), Pubkey::default())
    );
    assert_eq!(locked(&mut w, &v2.pubkey()), (0, 0));
    // Nobody else comes: once the verification timeout from the mismatch has passed, the race
    // is closed and the one verdict goes to the arbiter.
    w.lapse_escalation(&k.job);
    let (v3, _) = verifier(&mut w);
    assert_cinder_error(
        w.send(&[ix::claim_verification(&k, &v3.pubkey())], &[&v3]),
        CinderError::EscalationLapsed,
    );
    let (arbiter, provider) = (w.admin.pubkey(), w.provider.pubkey());
    let winner = w.provider_ptoken;
    let res = ix::resolve_dispute(
        &k,
        &arbiter,
        &provider,
        &v1.pubkey(),
        &winner,
        &p,
        resolution::UNDECIDABLE,
    );
    w.send(&[res], &[]).expect("the arbiter decides");
    let job = w.job(&k.job);
    assert_eq!(
        (job.state, job.verdict, job.resolution),
        (JobState::Refunded, verdict::LAPSED, resolution::UNDECIDABLE)
    );
    assert_eq!(locked(&mut w, &v1.pubkey()), (0, 0));
    assert_eq!(w.position(&v1.pubkey()).amount, PROVIDER_STAKE);
});

// --- verify mode none (issue 17): never re-executed, no verification fee ---------------------

on_both!(
    a_job_posted_unverified_pays_no_verification_fee_is_never_drawn_and_cannot_be_disputed,
    |w| {
        use cinder::state::verify_mode;
        // The market re-runs every job it may.
        w.set_verify_rate(10_000);
        let k = w
            .try_post_with(PRICE, DURATION, |a| a.verify_mode = verify_mode::NONE)
            .expect("post_job");
        let job = w.job(&k.job);
        assert_eq!(
            (
                job.verify_mode,
                job.verification_fee_bps,
                job.verify_rate_bps,
                job.escrow_verification
            ),
            (verify_mode::NONE, 0, 0, 0)
        );
        let escrow = PRICE * DURATION as u64;
        assert_eq!(
            w.balance(&k.vault),
            escrow,
            "the pay only: no verification fee"
        );
        w.claim(&k);
        w.warp(100);
        w.submit(&k, 100);
        w.warp(2);
        reveal(&mut w, &k).unwrap();
        assert_eq!(w.job(&k.job).sample_status, SampleStatus::NotSampled);
        let client = w.client.insecure_clone();
        let ct = w.client_token;
        assert_cinder_error(
            w.send(&[ix::dispute_job(&k, &ct)], &[&client]),
            CinderError::JobNotVerifiable,
        );
        let before = w.ledger(&k);
        w.warp(86_400);
        w.settle(&k);
        let after = w.ledger(&k);
        let pay = PRICE * 100;
        let protocol_fee = (pay * 500).div_ceil(10_000);
        assert_eq!(
            after[0] - before[0],
            escrow - pay,
            "the client: the unused escrow"
        );
        assert_eq!(after[1] - before[1], pay - protocol_fee, "the provider");
        assert_eq!(
            after[2] + after[3] - before[2] - before[3],
            protocol_fee,
            "the fees: the protocol's only"
        );
        assert_eq!(after[4], 0, "the vault is empty");
        // The same job posted `exact` in this market escrows its verification fee and is drawn.
        let k = w.post(PRICE, DURATION);
        assert_eq!(
            w.balance(&k.vault),
            escrow + (escrow * 600).div_ceil(10_000)
        );
        w.claim(&k);
        w.warp(100);
        w.submit(&k, 100);
        w.warp(2);
        reveal(&mut w, &k).unwrap();
        assert_eq!(w.job(&k.job).sample_status, SampleStatus::Sampled);
    }
);

// --- a client's challenge of a tolerance match (issue 17, point 2: no lazy verifier) --------

/// A drawn (or, `forced`, never revealed) `tolerance` job, submitted ([42; 32], 100 s billed),
/// that its first verifier matched after 50 s with another hash ([8; 32]): an honest re-run
/// whose last bits differ, or a lazy verifier's made-up hash; the program cannot tell them
/// apart. Also the verifier and its payment-token account.
fn tolerance_matched(w: &mut World, forced: bool) -> (JobKeys, Keypair, Pubkey) {
    use cinder::state::verify_mode;
    use cinder_client::accounts::verifier_commitment;
    w.set_verify_rate(10_000);
    fund_pool(w, 1_000_000);
    let k = w
        .try_post_with(PRICE, DURATION, |a| a.verify_mode = verify_mode::TOLERANCE)
        .expect("post_job");
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    if forced {
        w.warp(250); // past the reveal window, unrevealed: a forced re-run
    } else {
        w.warp(2);
        reveal(w, &k).unwrap();
    }
    let (v, vt) = verifier(w);
    w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
        .unwrap();
    w.close_race(&k.job);
    w.warp(50);
    let (me, pt, made_up) = (v.pubkey(), w.provider_token, [8; 32]);
    w.send(
        &[
            ix::commit_verification(&k, &me, verifier_commitment(&k.job, &me, &made_up)),
            ix::submit_verification(&k, &me, &vt, &pt, made_up, 50, true),
        ],
        &[&v],
    )
    .expect("a lazy match");
    (k, v, vt)
}

/// The client challenges the job's match (`dispute_job` on a Verified job).
fn challenge(
    w: &mut World,
    k: &JobKeys,
) -> Result<cinder_tests::TxMeta, solana_sdk::transaction::TransactionError> {
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    w.send(&[ix::dispute_job(k, &ct)], &[&client])
}

/// A second verifier wins the challenged match's race, re-runs the job for 10 s ([9; 32]) and
/// says `matched`. Its payment-token account.
fn second_tolerance_verdict(w: &mut World, k: &JobKeys, matched: bool) -> (Keypair, Pubkey) {
    use cinder_client::accounts::verifier_commitment;
    let (v, vt) = verifier(w);
    w.open_race(&k.job);
    w.send(&[ix::claim_verification(k, &v.pubkey())], &[&v])
        .expect("claim the second verification");
    w.close_race(&k.job);
    w.warp(10);
    let (me, pt) = (v.pubkey(), w.provider_token);
    w.send(
        &[
            ix::commit_verification(k, &me, verifier_commitment(&k.job, &me, &[9; 32])),
            ix::submit_verification(k, &me, &vt, &pt, [9; 32], 10, matched),
        ],
        &[&v],
    )
    .expect("second verdict");
    (v, vt)
}

on_both!(
    a_lazy_match_the_client_challenges_is_slashed_with_the_providers_fraud,
    |w| {
        use cinder::state::verdict;
        let (k, v1, vt1) = tolerance_matched(&mut w, false);
        // Paid from the pool for its "run" (50 s × 10, at most pay × fee / rate = 60), its
        // stake released; but the match is its word, so the client may challenge it for the
        // job's challenge window (600 s) from the verdict, and nobody may settle it before.
        assert_eq!(w.balance(&vt1), 60);
        assert_eq!(locked(&mut w, &v1.pubkey()), (0, 0));
        let job = w.job(&k.job);
        let now = w.now();
        assert_eq!(
            (job.state, job.match_challenge_ends()),
            (JobState::Verified, Some(now + 600))
        );
        assert_cinder_error(w.try_settle(&k), CinderError::ChallengeWindowOpen);
        // The client, whose outputs look wrong, challenges it with the dispute bond.
        let before = w.ledger(&k);
        challenge(&mut w, &k).expect("the client challenges the match");
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.first_verifier, job.challenged_match),
            (JobState::Escalated, v1.pubkey(), 1)
        );
        assert_eq!(job.client_bond(), BOND);
        assert_eq!(w.ledger(&k)[0], before[0] - BOND);
        assert_eq!(w.ledger(&k)[4], before[4] + BOND);
        assert_cinder_error(challenge(&mut w, &k), CinderError::AlreadyDisputed);
        // The verifier that matched cannot decide its own challenge.
        w.open_race(&k.job);
        assert_cinder_error(
            w.send(&[ix::claim_verification(&k, &v1.pubkey())], &[&v1]),
            CinderError::VerifierConflict,
        );
        // A second verifier re-runs it and finds a mismatch: the verifiers split.
        let (v2, vt2) = second_tolerance_verdict(&mut w, &k, false);
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.verdict),
            (JobState::Disputed, verdict::SPLIT)
        );
        assert_eq!(w.balance(&vt2), 0, "paid from the slash, never the pool");
        // The arbiter finds the outputs wrong: the provider is slashed, and so is the verifier
        // that matched them without a run; the second verifier, who found it, takes both
        // rewards (the first's account is refused as the winner's).
        let (p, provider, arbiter) = (w.protocol(), w.provider.pubkey(), w.admin.pubkey());
        let (t1, t2) = (
            w.protocol_account(&v1.pubkey()),
            w.protocol_account(&v2.pubkey()),
        );
        let resolve = |winner: &Pubkey| {
            ix::resolve_dispute_escalated(
                &k,
                &arbiter,
                &provider,
                &v1.pubkey(),
                &v2.pubkey(),
                winner,
                &t2,
                &p,
                resolution::VERIFIER_RIGHT,
            )
        };
        assert_cinder_error(
            w.send(&[resolve(&t1)], &[]),
            CinderError::TokenOwnerMismatch,
        );
        w.send(&[resolve(&t2)], &[])
            .expect("arbiter: verifier right");
        assert_eq!(w.position(&provider).amount, PROVIDER_STAKE - FRAUD);
        assert_eq!(
            w.position(&v1.pubkey()).amount,
            PROVIDER_STAKE - FRAUD,
            "the lazy verifier is slashed with the provider"
        );
        assert_eq!(w.position(&v2.pubkey()).amount, PROVIDER_STAKE);
        assert_eq!((w.balance(&t1), w.balance(&t2)), (0, 2 * REWARD));
        assert_eq!(locked(&mut w, &v1.pubkey()), (0, 0));
        assert_eq!(locked(&mut w, &v2.pubkey()), (0, 0));
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Refunded, resolution::VERIFIER_RIGHT)
        );
        // The client gets everything back, its bond included, but the verification fee.
        let before = w.ledger(&k);
        assert_eq!(before[4], 36_000 + 2_160 + BOND);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1], before[1], "provider not paid");
        assert_eq!(after[0] - before[0], before[4] - 60, "client refunded");
        assert_eq!(after[3] - before[3], 60, "the verification fee");
    }
);

on_both!(
    a_challenged_match_a_second_verifier_confirms_settles_and_the_bond_pays_its_run,
    |w| {
        let (k, _, _) = tolerance_matched(&mut w, false);
        challenge(&mut w, &k).expect("challenge");
        let before = w.ledger(&k);
        let (v2, vt2) = second_tolerance_verdict(&mut w, &k, true);
        // Two matches: the job is verified for good, at once. The bond pays the run the
        // client forced (10 s × 10) and the provider the rest of it.
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution, job.match_challenge_ends()),
            (JobState::Verified, 0, None)
        );
        assert_eq!(w.balance(&vt2), 100);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], BOND - 100);
        assert_eq!(before[4] - after[4], BOND);
        assert_eq!(locked(&mut w, &v2.pubkey()), (0, 0));
        assert_eq!(w.position(&v2.pubkey()).amount, PROVIDER_STAKE);
        assert_cinder_error(challenge(&mut w, &k), CinderError::MatchNotChallengeable);
        w.settle(&k);
        let settled = w.ledger(&k);
        assert_eq!(settled[1] - after[1], 1_000 - 50, "provider paid");
        assert_eq!(settled[0] - after[0], 36_000 + 2_160 - 1_000 - 60);
    }
);

on_both!(
    a_match_challenge_is_a_tolerance_matchs_within_its_window_and_an_unanswered_one_stands,
    |w| {
        // An exact job's match is hash equality, checked on chain: nothing to challenge, and
        // it settles at once.
        w.set_verify_rate(10_000);
        let (k, v, vt) = drawn(&mut w);
        w.verify(&k, &v, &vt, [42; 32], 0).unwrap();
        assert_cinder_error(challenge(&mut w, &k), CinderError::MatchNotChallengeable);
        w.settle(&k);
        // A tolerance match's window closes 600 s after the verdict; then it settles.
        let (k, _, _) = tolerance_matched(&mut w, false);
        w.warp(600);
        assert_cinder_error(challenge(&mut w, &k), CinderError::ChallengeWindowClosed);
        w.settle(&k);
        // A challenge no second verifier takes up in time leaves one verdict, the match: it
        // stands, anyone resolves it at once (not before), the provider is paid and the bond
        // returns to the client.
        let (k, v1, _) = tolerance_matched(&mut w, false);
        challenge(&mut w, &k).expect("challenge");
        let (p, provider) = (w.protocol(), w.provider.pubkey());
        let anyone = Keypair::new();
        let winner = w.provider_ptoken;
        let resolve = ix::resolve_dispute(
            &k,
            &anyone.pubkey(),
            &provider,
            &v1.pubkey(),
            &winner,
            &p,
            resolution::UNDECIDABLE,
        );
        assert_cinder_error(
            w.send(std::slice::from_ref(&resolve), &[&anyone]),
            CinderError::JobNotDisputed,
        );
        w.lapse_escalation(&k.job);
        w.send(&[resolve], &[&anyone])
            .expect("anyone: the match stands");
        let job = w.job(&k.job);
        assert_eq!(
            (job.state, job.resolution),
            (JobState::Verified, resolution::RESULT_STANDS)
        );
        assert_eq!(w.position(&v1.pubkey()).amount, PROVIDER_STAKE);
        assert_eq!(w.position(&provider).amount, PROVIDER_STAKE);
        let before = w.ledger(&k);
        w.settle(&k);
        let after = w.ledger(&k);
        assert_eq!(after[1] - before[1], 1_000 - 50, "provider paid");
        assert_eq!(after[0] - before[0], 36_000 + 2_160 - 1_000 - 60 + BOND);
    }
);

on_both!(
    a_challenged_forced_match_costs_the_client_its_fee_and_the_provider_its_re_run,
    |w| {
        // Nobody revealed the draw: the first verifier's run was paid out of the vault at the
        // provider's expense (its 500, at most the job's own fee: 60). When the challenged
        // match is refunded, that 60 was the client's verification fee: the pool takes the
        // rest of it (0), and the client loses exactly the fee, as in any refund.
        let (p, provider, arbiter) = (w.protocol(), w.provider.pubkey(), w.admin.pubkey());
        for decision in [resolution::UNDECIDABLE, resolution::PROVIDER_RIGHT] {
            let (k, v1, vt1) = tolerance_matched(&mut w, true);
            assert_eq!(w.job(&k.job).sample_status, SampleStatus::Unrevealed);
            assert_eq!(w.balance(&vt1), 60, "paid out of the vault");
            assert_eq!(w.ledger(&k)[4], 36_000 + 2_160 - 60);
            challenge(&mut w, &k).expect("challenge");
            let (v2, _) = second_tolerance_verdict(&mut w, &k, false);
            let t2 = w.protocol_account(&v2.pubkey());
            let winner = if decision == resolution::PROVIDER_RIGHT {
                w.provider_ptoken
            } else {
                t2
            };
            w.send(
                &[ix::resolve_dispute_escalated(
                    &k,
                    &arbiter,
                    &provider,
                    &v1.pubkey(),
                    &v2.pubkey(),
                    &winner,
                    &t2,
                    &p,
                    decision,
                )],
                &[],
            )
            .expect("arbiter");
            let before = w.ledger(&k);
            w.settle(&k);
            let after = w.ledger(&k);
            let delta = |i: usize| after[i] as i64 - before[i] as i64;
            if decision == resolution::UNDECIDABLE {
                assert_eq!(
                    delta(0),
                    before[4] as i64,
                    "client: the vault, bond included"
                );
                assert_eq!((delta(1), delta(3)), (0, 0));
            } else {
                // Provider right: the second verifier, who mismatched, is slashed; the provider
                // is paid less the forced run, plus the bond.
                let slashed = PROVIDER_STAKE - w.position(&v2.pubkey()).amount;
                assert_eq!(slashed, FRAUD);
                assert_eq!(delta(1), (1_000 - 50 - 60 + BOND) as i64);
                assert_eq!(delta(3), 50 + 60);
                assert_eq!(delta(0), (36_000 + 2_160 - 1_000 - 60) as i64);
            }
            assert_eq!(delta(0) + delta(1) + delta(2) + delta(3) + delta(4), 0);
        }
    }
);
