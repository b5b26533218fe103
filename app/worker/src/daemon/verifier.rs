//! The verifier's side: finding sampled jobs whose re-run this worker may race for, claiming
//! the verification, re-running the job and submitting the verdict.

use super::*;
use cinder_runner::spec::VerifyRule;
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
    if lazy(shared, &job) {
        // Demos and tests only (loopback chains): commit to a made-up hash, bill one second.
        let hash = lazy_result_hash(&key);
        tracing::warn!(job = %key, "demo_lazy_verifier: saying match without re-running the job");
        let _ = shared
            .journal
            .record_result(&id, Role::Verifier, &hex::encode(hash), 1);
        submit_verification(shared, &key, &job, &m, hash, 1, None).await;
        return;
    }
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
    let rule = prepared.spec.verify_rule();
    submit_verification(
        shared,
        &key,
        &job,
        &m,
        executed.result_hash,
        billed,
        Some(rule),
    )
    .await;
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

/// Our verification of `key` once our re-run is stored (`hash`, `billed` seconds): commit to
/// it on chain, reach a verdict ([`verdict`]: for a tolerance job by fetching the provider's
/// outputs, which its server gives us only now, and comparing them with ours under the job's
/// rule), then submit the verdict. Also the reconciler's way to finish one after a restart.
/// `rule`: the job's verify rule when the caller holds its spec (else it is fetched again).
pub(super) async fn submit_verification(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    hash: [u8; 32],
    billed: u32,
    rule: Option<VerifyRule>,
) {
    let id = key.to_string();
    let Some(job) = commit(shared, key, job, m, hash).await else {
        return;
    };
    let (matched, why) = verdict(shared, key, &job, m, hash, rule).await;
    tracing::info!(job = %key, matched, "verdict: {why}");
    let _ = shared.journal.advance(
        &id,
        Role::Verifier,
        Step::Submitting,
        &format!(
            "submit_verification next: {}: {why}",
            if matched { "match" } else { "mismatch" }
        ),
    );
    send_verdict(shared, key, &job, m, hash, billed, matched).await;
}

/// Sends `commit_verification` for our re-run `hash` unless the chain has it already.
/// Returns the job as it is once committed; `None` (the journal closed, saying why) when the
/// verification is no longer ours or the commitment cannot be sent before the deadline.
async fn commit(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    hash: [u8; 32],
) -> Option<Job> {
    let id = key.to_string();
    let me = shared.me();
    let ours = accounts::verifier_commitment(key, &me, &hash);
    let keys = market::job_keys(key, job, &m.market);
    let observer = Journaled {
        journal: &shared.journal,
        job: id.clone(),
        kind: "commit_verification",
        pause: None,
    };
    let give_up = |why: &str| {
        let _ = shared.journal.fail(&id, Role::Verifier, Step::Quit, why);
        None
    };
    let mut job = *job;
    loop {
        if job.state != JobState::Verifying || job.verifier != me {
            return give_up(
                "the verification is no longer ours (expired or closed) before our commitment",
            );
        }
        if job.verifier_commitment == ours {
            return Some(job);
        }
        if job.verifier_committed() {
            // Only this key commits, and only to the hash the journal recorded first.
            tracing::error!(job = %key, "the chain holds another commitment of ours than the stored re-run's; its verdict cannot be submitted");
            return give_up("the on-chain commitment is not to the stored re-run");
        }
        let sent = shared
            .chain
            .send_observed(
                &[ix::commit_verification(&keys, &me, ours)],
                &shared.me,
                &[],
                &observer,
            )
            .await;
        let error = sent.err();
        match chain_job(shared, key).await {
            Ok(Some(j)) => job = j,
            Ok(None) => return give_up("job closed before our commitment"),
            Err(read) => {
                tracing::error!(job = %key, read = %read, "commit_verification: the chain cannot be read; the reconciler tries again");
                return None;
            }
        }
        if let Some(e) = error {
            if job.verifier_commitment == ours {
                continue;
            }
            if !resend_after(shared, key, &e, job.verify_deadline).await {
                tracing::error!(job = %key, error = %e, "commit_verification failed");
                return give_up(&format!("commit_verification failed: {e}"));
            }
        }
    }
}

/// Our verdict on the provider's result, and why. An exact job's is hash equality (the program
/// checks it). A tolerance job's compares the provider's outputs, fetched from its results
/// server under our verifier role and checked against its on-chain commitment, with our
/// re-run's under the job's rule. Outputs the provider does not serve (until shortly before
/// our deadline), that do not open its commitment, or that cannot be compared are a mismatch:
/// the provider is at fault, and a second verifier checks the same.
pub(super) async fn verdict(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    hash: [u8; 32],
    rule: Option<VerifyRule>,
) -> (bool, String) {
    let opens = accounts::result_commitment(key, &job.provider, &hash) == job.result_commitment;
    if job.verify_mode != cinder::state::verify_mode::TOLERANCE {
        return (
            opens,
            if opens {
                "the re-run's result hash opens the provider's commitment".into()
            } else {
                "the re-run's result hash does not open the provider's commitment".into()
            },
        );
    }
    if lazy(shared, job) {
        return (true, "demo_lazy_verifier: match, without a re-run".into());
    }
    let Some(mine) = shared.exec.stored_files(key, true) else {
        return (false, "our stored re-run is gone".into());
    };
    let rule = match rule {
        Some(rule) => rule,
        // After a restart (the reconciler): the spec again, checked against its hash.
        None => match shared
            .exec
            .prepare(key, &accounts::spec_uri(job), &job.spec_hash, m)
            .await
        {
            Ok(p) => p.spec.verify_rule(),
            Err(e) => return (false, format!("the job's spec is unusable now: {e}")),
        },
    };
    // Our own outputs are the provider's when the hashes agree: no need to fetch them.
    let theirs = if opens {
        mine.clone()
    } else {
        match fetch_provider_outputs(shared, key, job).await {
            Ok(dir) => dir,
            Err(why) => return (false, why),
        }
    };
    let compared = cinder_runner::compare::compare_dirs(
        &theirs,
        &mine,
        &rule.tolerance(),
        &rule.exclude,
        &rule.raw,
    );
    if theirs != mine {
        let _ = std::fs::remove_dir_all(&theirs);
    }
    match compared {
        Ok(v) if v.matched => (
            true,
            format!(
                "{} file(s) agree under the job's tolerance rule",
                v.files.len()
            ),
        ),
        Ok(v) => {
            let off: Vec<String> = v
                .files
                .iter()
                .filter(|f| !f.matched)
                .map(|f| format!("{}: {}", f.path, f.detail))
                .collect();
            (
                false,
                format!("outside the job's tolerance rule: {}", off.join("; ")),
            )
        }
        Err(e) => (
            false,
            format!("the provider's outputs cannot be compared: {e}"),
        ),
    }
}

/// Whether this worker is a demo's lazy verifier of `job` (`demo_lazy_verifier`): only a
/// `tolerance` job's match is the verifier's word; an exact job's the program checks.
fn lazy(shared: &Shared, job: &Job) -> bool {
    shared.cfg.demo_lazy_verifier && job.verify_mode == cinder::state::verify_mode::TOLERANCE
}

/// The result hash a lazy verifier makes up for `key` instead of running it.
fn lazy_result_hash(key: &Pubkey) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::new()
        .chain_update(b"demo_lazy_verifier")
        .chain_update(key)
        .finalize()
        .into()
}

/// Downloads the provider's outputs of `key` (signed as the job's committed verifier) and checks
/// that they open its on-chain commitment. Retries a server that refuses or does not answer
/// until shortly before our deadline: then the outputs were withheld.
async fn fetch_provider_outputs(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
) -> Result<std::path::PathBuf, String> {
    let dest = shared.cfg.data_dir.join("fetched").join(key.to_string());
    let endpoint = market::provider_endpoint(&shared.chain, &job.provider).await?;
    let give_up = job.verify_deadline - SUBMIT_MARGIN_SECS - 10;
    loop {
        let _ = std::fs::remove_dir_all(&dest);
        let got = market::fetch_committed_outputs(
            &endpoint,
            key,
            &job.provider,
            &job.result_commitment,
            &shared.me,
            &dest,
        )
        .await;
        let why = match got {
            Ok(_) => return Ok(dest),
            Err(market::FetchError::NotCommitted(h)) => {
                return Err(format!(
                    "the provider served outputs (result hash {}) that do not open its commitment",
                    hex::encode(h)
                ));
            }
            Err(market::FetchError::Unavailable(e)) => e,
        };
        let now = shared
            .chain
            .unix_time()
            .await
            .unwrap_or_else(|_| unix_now());
        if now >= give_up {
            let _ = std::fs::remove_dir_all(&dest);
            return Err(format!(
                "the provider withheld its outputs until our deadline (last answer from {endpoint}: {why})"
            ));
        }
        tracing::warn!(job = %key, endpoint, error = %why, "the provider's outputs are not available yet; asking again in 3 s");
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// Sends our verdict (`submit_verification`), resending through RPC trouble until the deadline.
async fn send_verdict(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    hash: [u8; 32],
    billed: u32,
    matched: bool,
) {
    let id = key.to_string();
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
            matched,
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
