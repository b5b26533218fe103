//! The verifier's side: finding sampled jobs whose re-run this worker may race for, claiming
//! the verification, re-running the job and submitting the verdict.

use super::*;
/// Other providers' sampled jobs: claim one and re-run it.
pub(super) async fn verification_duty(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
    for m in shared.markets.values().copied() {
        let mut jobs = match market::sampled_jobs(&shared.chain, &m.key).await {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, market = m.id, "scan of sampled jobs failed");
                continue;
            }
        };
        if let Ok(slot) = shared.chain.slot().await {
            if let Ok(overdue) = market::unrevealed_overdue(&shared.chain, &m, slot).await {
                jobs.extend(overdue);
            }
            // Claimed by another key while the race is open: our ticket may be lower.
            if let Ok(racing) = market::racing_jobs(&shared.chain, &m.key, slot).await {
                jobs.extend(racing);
            }
        }
        // A first verifier mismatched: a second, independent one is raced.
        if let (Ok(now), Ok(slot)) = (shared.chain.unix_time().await, shared.chain.slot().await) {
            if let Ok(escalated) = market::escalated_jobs(&shared.chain, &m.key, now, slot).await {
                jobs.extend(escalated);
            }
        }
        if !jobs.is_empty() {
            tracing::debug!(
                market = m.id,
                sampled = jobs.len(),
                "sampled jobs awaiting a verifier"
            );
        }
        for (key, job) in jobs {
            if job.provider == shared.me()
                || job.client == shared.me()
                || job.verifier == shared.me()
                || job.first_verifier == shared.me()
                || shared.is_refused(&key, &job.spec_hash)
                || shared.lost_race(&key, job.race_origin())
            {
                continue;
            }
            if !shared.exec.has_room(&m) {
                return;
            }
            if !shared.try_activate(&key, true) {
                continue;
            }
            let shared = shared.clone();
            tasks.spawn(async move {
                verifier_job(&shared, key, job, m).await;
                shared.deactivate(&key, true);
            });
        }
    }
}

pub(super) async fn verifier_job(shared: &Arc<Shared>, key: Pubkey, job: Job, m: MarketInfo) {
    let spec_uri = accounts::spec_uri(&job);
    let prepared = match shared
        .exec
        .prepare(&key, &spec_uri, &job.spec_hash, &m)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(job = %key, error = %e, "not verifying: {e}");
            shared.refuse(&key, &job.spec_hash, &format!("not verified: {e}"));
            return;
        }
    };
    // A re-run needs the same GPUs a run does: reserved before the claim.
    let Some(held) = shared.exec.reserve(&prepared) else {
        return;
    };
    let id = key.to_string();
    let entry = JobEntry {
        job: id.clone(),
        role: Role::Verifier,
        step: Step::Claiming,
        market: m.key.to_string(),
        client: job.client.to_string(),
        spec_hash: hex::encode(job.spec_hash),
        spec_uri,
        result_hash: None,
        billed_secs: None,
        error: None,
        updated_at: 0,
    };
    if !matches!(shared.journal.begin(&entry), Ok(true)) {
        return;
    }
    let keys = market::job_keys(&key, &job, &m.market);
    let observer = Journaled {
        journal: &shared.journal,
        job: id.clone(),
        kind: "claim_verification",
        pause: None,
    };
    // The verifier is the lowest ticket of a stake-weighted race: a job another key claimed is
    // ours only if our ticket is lower, and the chain decides (`TicketNotLower` otherwise).
    let claim = if job.state == JobState::Verifying {
        ix::claim_verification_displacing(&keys, &shared.me(), &job.verifier)
    } else {
        ix::claim_verification(&keys, &shared.me())
    };
    if let Err(e) = shared
        .chain
        .send_observed(&[claim], &shared.me, &[], &observer)
        .await
    {
        let me = shared.me();
        let ours = |j: &Job| j.state == JobState::Verifying && j.verifier == me;
        let Some(ours) = claim_landed(shared, &entry, &key, ours).await else {
            return;
        };
        if !ours {
            // Losing a race (the program refused the claim: `TicketNotLower`...) is the normal
            // outcome for most keys; do not try this job's races from this origin again (an
            // escalation races it afresh). A claim lost to the network is tried again.
            if matches!(e, ChainError::Program { .. }) {
                shared.lose_race(&key, job.race_origin());
            }
            tracing::info!(job = %key, error = %e, "verification claim failed");
            let _ = shared.journal.fail(
                &id,
                Role::Verifier,
                Step::Quit,
                &format!("claim_verification failed: {e}"),
            );
            return;
        }
    }
    let _ = shared
        .journal
        .advance(&id, Role::Verifier, Step::Claimed, "verifying");
    tracing::info!(job = %key, provider = %job.provider, "verifying another provider's result");
    verify_and_submit(shared, key, m, Some((prepared, held))).await;
}

pub(super) async fn verify_and_submit(
    shared: &Arc<Shared>,
    key: Pubkey,
    m: MarketInfo,
    ready: Option<(Prepared, Reservation)>,
) {
    let id = key.to_string();
    let Some(job) = race_won(shared, &key).await else {
        return;
    };
    let (prepared, held) = match ready {
        Some((p, held)) => (p, Some(held)),
        None => match shared
            .exec
            .prepare(&key, &accounts::spec_uri(&job), &job.spec_hash, &m)
            .await
        {
            Ok(p) => (p, None),
            Err(e) => {
                let _ = shared
                    .journal
                    .fail(&id, Role::Verifier, Step::Quit, &format!("spec: {e}"));
                return;
            }
        },
    };
    let chain_now = shared
        .chain
        .unix_time()
        .await
        .unwrap_or_else(|_| unix_now());
    let left = (job.verify_deadline - chain_now - SUBMIT_MARGIN_SECS).max(1);
    let held = match held {
        Some(h) => h,
        None => match reserve_within(shared, &prepared, Duration::from_secs(left as u64)).await {
            Some(h) => h,
            None => {
                tracing::error!(job = %key, "the re-run's GPUs were not free before the verification deadline; the verification will expire");
                let _ = shared.journal.fail(
                    &id,
                    Role::Verifier,
                    Step::Quit,
                    "GPUs not free before the verification deadline",
                );
                return;
            }
        },
    };
    let _ = shared
        .journal
        .advance(&id, Role::Verifier, Step::Running, "re-run started");
    let outcome = shared
        .exec
        .run_as(
            &key,
            &prepared,
            Duration::from_secs(left as u64),
            true,
            held,
        )
        .await;
    let executed = match outcome {
        Ok(x) => x,
        Err(e) => {
            // A verifier that cannot run the job stays silent; it is expired and slashed
            // like a provider would be, so say so loudly.
            tracing::error!(job = %key, error = %e, "verification run failed; the verification will expire");
            let _ =
                shared
                    .journal
                    .fail(&id, Role::Verifier, Step::Quit, &format!("run failed: {e}"));
            return;
        }
    };
    let billed = {
        let ran = executed.elapsed.as_secs() + u64::from(executed.elapsed.subsec_nanos() > 0);
        let allowed = (shared.chain.unix_time().await.unwrap_or(chain_now)
            - job.verifier_claimed_at)
            .max(0) as u64;
        ran.max(1).min(allowed).min(job.max_duration_secs as u64) as u32
    };
    let _ = shared.journal.record_result(
        &id,
        Role::Verifier,
        &hex::encode(executed.result_hash),
        billed,
    );
    submit_verification(shared, &key, &job, &m, executed.result_hash, billed).await;
    shared.exec.upload(&key, true).await;
}

/// Waits until the verifier race of `key` closes (nobody may submit before), then says whether
/// this worker won it: the job when it did; otherwise the journal entry is closed, saying why.
pub(super) async fn race_won(shared: &Arc<Shared>, key: &Pubkey) -> Option<Job> {
    let id = key.to_string();
    let give_up = |why: &str| {
        let _ = shared.journal.fail(&id, Role::Verifier, Step::Quit, why);
        None
    };
    loop {
        // A failed read is not an answer: giving up a race we won would leave the verification
        // to expire and slash our stake, so a flaky RPC only delays the re-run.
        let job = match shared.chain.zero_copy::<Job>(key).await {
            Ok(Some(job)) => job,
            Ok(None) => return give_up("job closed before verification"),
            Err(e) => {
                tracing::warn!(job = %key, error = %e, "job unreadable; retrying while the race runs");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if job.state != JobState::Verifying || job.verifier != shared.me() {
            tracing::info!(job = %key, verifier = %job.verifier, "another key won the verifier race");
            return give_up(
                "displaced by a lower ticket in the verifier race (not a fault: nothing is slashed)",
            );
        }
        match shared.chain.slot().await {
            Ok(slot) if slot > job.race_closes() => return Some(job),
            Ok(slot) => {
                tracing::debug!(job = %key, slot, closes = job.race_closes(), "verifier race open")
            }
            Err(e) => {
                tracing::warn!(job = %key, error = %e, "slot unknown; waiting for the race to close")
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub(super) async fn submit_verification(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    hash: [u8; 32],
    billed: u32,
) {
    let id = key.to_string();
    let _ = shared.journal.advance(
        &id,
        Role::Verifier,
        Step::Submitting,
        "submit_verification next",
    );
    let keys = market::job_keys(key, job, &m.market);
    let (mint, tp) = (m.market.payment_mint, m.market.payment_token_program);
    let my_token = token::ata(&shared.me(), &mint, &tp);
    let provider_token = token::ata(&job.provider, &mint, &tp);
    let ixs = [
        token::create_ata_ix(&shared.me(), &shared.me(), &mint, &tp),
        token::create_ata_ix(&shared.me(), &job.provider, &mint, &tp),
        ix::submit_verification(
            &keys,
            &shared.me(),
            &my_token,
            &provider_token,
            hash,
            billed,
        ),
    ];
    let observer = Journaled {
        journal: &shared.journal,
        job: id.clone(),
        kind: "submit_verification",
        pause: None,
    };
    loop {
        let sent = shared
            .chain
            .send_observed(&ixs, &shared.me, &[], &observer)
            .await;
        match sent {
            Ok(sent) => {
                tracing::info!(job = %key, sig = %sent.signature, "verification submitted");
                metrics::counter!("cinder_verifications_total").increment(1);
                let _ = shared.journal.advance(
                    &id,
                    Role::Verifier,
                    Step::Submitted,
                    &sent.signature.to_string(),
                );
            }
            Err(e) => {
                let j = match chain_job(shared, key).await {
                    Ok(j) => j,
                    Err(read) => {
                        tracing::error!(job = %key, error = %e, read = %read, "submit_verification failed and the chain cannot be read; the journal keeps the result and the reconciler sends it");
                        return;
                    }
                };
                let landed = matches!(j, Some(j) if j.state != JobState::Verifying);
                let me = shared.me();
                let waiting = j.filter(|j| j.state == JobState::Verifying && j.verifier == me);
                if let Some(j) = waiting {
                    if resend_after(shared, key, &e, j.verify_deadline).await {
                        continue;
                    }
                }
                if landed {
                    let _ = shared.journal.advance(
                        &id,
                        Role::Verifier,
                        Step::Submitted,
                        "verification had landed",
                    );
                } else {
                    tracing::error!(job = %key, error = %e, "submit_verification failed");
                    let _ = shared.journal.fail(
                        &id,
                        Role::Verifier,
                        Step::Quit,
                        &format!("submit_verification failed: {e}"),
                    );
                }
            }
        }
        return;
    }
}
