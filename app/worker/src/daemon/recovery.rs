//! After a restart and on the reconciler's clock: every journal entry this worker left open is
//! driven from the chain's state (never a second claim or submit), results are pruned, and a
//! draining worker learns when nothing is left.

use super::*;
/// At start: every journaled job not done (`open`, read once by `run`) is reconciled with the chain and resumed or
/// closed, exactly once; a job the chain says is ours but the journal lost is quit.
pub(super) async fn recover(shared: &Arc<Shared>, tasks: &mut JoinSet<()>, open: Vec<JobEntry>) {
    let known: HashSet<Pubkey> = open
        .into_iter()
        .filter_map(|e| spawn_recovery(shared, tasks, e))
        .collect();
    // Jobs the chain gives us that the journal does not know (journal lost): quit them.
    if let Ok(mine) = market::jobs_of_provider(&shared.chain, &shared.me()).await {
        for (key, j) in mine {
            if j.state == JobState::Running && !known.contains(&key) {
                if let Some(m) = shared.markets.get(&j.market).copied() {
                    tracing::warn!(job = %key, "running on chain but unknown to the journal; quitting it");
                    let entry = JobEntry {
                        job: key.to_string(),
                        role: Role::Provider,
                        step: Step::Claiming,
                        market: m.key.to_string(),
                        client: j.client.to_string(),
                        spec_hash: hex::encode(j.spec_hash),
                        spec_uri: accounts::spec_uri(&j),
                        result_hash: None,
                        billed_secs: None,
                        error: None,
                        updated_at: 0,
                    };
                    let _ = shared.journal.begin(&entry);
                    quit(shared, &key, &j, &m, "worker lost its journal for this job").await;
                }
            }
        }
    }
}

/// Removes the stored results (and leftover work directories) of jobs the journal closed
/// (done or quit) more than `retention_days` ago, off the async threads (a result can be
/// gigabytes of files). The journal keeps its entries: they are the worker's history.
pub(super) fn prune_results(shared: &Arc<Shared>) {
    let before =
        unix_now().saturating_sub((shared.cfg.retention_days as i64).saturating_mul(86_400));
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || match shared.journal.closed_before(before) {
        Ok(closed) => {
            let removed = shared.exec.prune(&closed);
            if !removed.is_empty() {
                tracing::info!(
                    count = removed.len(),
                    retention_days = shared.cfg.retention_days,
                    "removed the results of jobs closed longer ago than retention_days"
                );
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot read the journal to prune old results"),
    });
}

/// Forgets refusals that lapsed more than a day ago (the longest a refusal lasts is
/// `REFUSE_AT_MOST`): the table holds at most a day's worth of bad jobs.
pub(super) fn forget_lapsed_refusals(shared: &Arc<Shared>) {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        match shared
            .journal
            .forget_refusals_lapsed_before(unix_now().saturating_sub(super::REFUSE_AT_MOST))
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "forgot refusals that lapsed a day ago"),
            Err(e) => tracing::warn!(error = %e, "cannot forget lapsed refusals"),
        }
    });
}

/// The reconciler's pass (issue 16, point 6): every journal entry not yet submitted that has
/// no task (its task gave up on an RPC node that did not answer within `rpc_patience_secs`, or
/// could not tell whether its claim landed) is reconciled with the chain and resumed or closed,
/// as at start, until its deadline settles it either way. Submitted entries are the cranks'.
/// Whether the journal holds a job this worker took and has not submitted (the reconciler
/// re-drives it): a draining worker waits for it.
pub(super) fn has_unsubmitted(shared: &Shared) -> bool {
    match shared.journal.open_jobs() {
        Ok(open) => open.iter().any(|e| e.step < Step::Submitted),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the journal; assuming jobs are open");
            true
        }
    }
}

pub(super) fn reconcile_open(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
    match shared.journal.open_jobs() {
        Ok(open) => {
            for e in open.into_iter().filter(|e| e.step < Step::Submitted) {
                spawn_recovery(shared, tasks, e);
            }
        }
        Err(e) => tracing::error!(error = %e, "reconciler cannot read the journal"),
    }
}

/// Reconciles `e` on its own task unless a task already has its job in that role (waiting
/// out one in-flight transaction, up to a blockhash lifetime, must not hold the worker back
/// from new jobs). Returns the job's key when the entry names one.
pub(super) fn spawn_recovery(
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<()>,
    e: JobEntry,
) -> Option<Pubkey> {
    let key = e.job.parse::<Pubkey>().ok()?;
    let verifier = e.role == Role::Verifier;
    if shared.try_activate(&key, verifier) {
        let shared = shared.clone();
        tasks.spawn(async move {
            // The entry as it is now: the task that had the job may have closed it between the
            // journal read and the activation.
            match shared.journal.get(&e.job, e.role) {
                Ok(Some(now)) if !now.step.is_final() => recover_one(&shared, key, now).await,
                Ok(_) => {}
                Err(err) => tracing::error!(job = %key, error = %err, "cannot read the journal entry to reconcile it"),
            }
            shared.deactivate(&key, verifier);
        });
    }
    Some(key)
}

/// Reconciles one journaled job with the chain and resumes or closes it, exactly once.
pub(super) async fn recover_one(shared: &Arc<Shared>, key: Pubkey, e: JobEntry) {
    // A signed claim or submit may still land: wait until its blockhash is spent.
    settle_in_flight(shared, &e).await;
    let job = match chain_job(shared, &key).await {
        Ok(job) => job,
        Err(read) => {
            tracing::error!(job = %key, error = %read, "cannot reconcile: the RPC node does not answer; the entry stays open for the reconciler's next pass");
            return;
        }
    };
    let mine = |j: &Job| match e.role {
        Role::Provider => j.provider == shared.me(),
        Role::Verifier => j.verifier == shared.me(),
    };
    let action = match (&job, e.role) {
        (None, _) if e.step >= Step::Submitting => {
            Recovery::Done("closed on chain after our submit")
        }
        (None, _) => Recovery::Abandon(
            "job closed on chain (cancelled, or settled after another provider ran it)",
        ),
        (Some(j), Role::Provider) if !mine(j) => Recovery::Abandon(
            "the chain does not give this job to us (claim did not land, or it expired)",
        ),
        (Some(j), Role::Provider) if j.state == JobState::Running && e.step >= Step::Ran => {
            Recovery::Submit
        }
        (Some(j), Role::Provider) if j.state == JobState::Running => Recovery::Rerun,
        (Some(_), Role::Provider) => Recovery::Submitted,
        (Some(j), Role::Verifier) if !(j.state == JobState::Verifying && mine(j)) => {
            if e.step >= Step::Submitting {
                Recovery::Done("verification recorded")
            } else {
                Recovery::Abandon("not our verification any more")
            }
        }
        (Some(_), Role::Verifier) if e.step >= Step::Ran => Recovery::Submit,
        (Some(_), Role::Verifier) => Recovery::Rerun,
    };
    tracing::info!(job = %key, role = e.role.as_str(), step = e.step.as_str(), action = ?action, "recovering");
    let Some(j) = job else {
        let (step, why) = match action {
            Recovery::Done(w) => (Step::Done, w),
            Recovery::Abandon(w) => (Step::Quit, w),
            _ => (Step::Quit, "gone"),
        };
        let _ = shared.journal.fail(&e.job, e.role, step, why);
        return;
    };
    let Some(m) = shared.markets.get(&j.market).copied() else {
        let _ = shared.journal.fail(
            &e.job,
            e.role,
            Step::Quit,
            "market no longer served by this worker",
        );
        return;
    };
    match action {
        Recovery::Done(why) => {
            let _ = shared.journal.advance(&e.job, e.role, Step::Done, why);
        }
        Recovery::Abandon(why) => {
            let _ = shared.journal.fail(&e.job, e.role, Step::Quit, why);
        }
        Recovery::Submitted => {
            let _ =
                shared
                    .journal
                    .advance(&e.job, e.role, Step::Submitted, "found submitted on chain");
        }
        Recovery::Submit => {
            let hash = e
                .result_hash
                .as_deref()
                .and_then(|h| hex::decode(h).ok())
                .and_then(|v| <[u8; 32]>::try_from(v).ok());
            let stored = shared.exec.stored(&key, e.role == Role::Verifier);
            match (hash, e.billed_secs, stored) {
                (Some(h), Some(b), Some(s)) if s == h => {
                    if e.role == Role::Provider {
                        submit(shared, &key, &j, &m, h, b).await;
                    } else {
                        submit_verification(shared, &key, &j, &m, h, b, None).await;
                    }
                }
                _ => {
                    tracing::error!(job = %key, "journal says the result was stored but the store has no matching result; re-running");
                    rerun(shared, key, m, e.role).await;
                }
            }
        }
        Recovery::Rerun => rerun(shared, key, m, e.role).await,
    }
}

#[derive(Debug)]
pub(super) enum Recovery {
    Done(&'static str),
    Abandon(&'static str),
    Submitted,
    Submit,
    Rerun,
}

pub(super) async fn rerun(shared: &Arc<Shared>, key: Pubkey, m: MarketInfo, role: Role) {
    if role == Role::Verifier {
        verify_and_submit(shared, key, m, None).await;
    } else {
        run_and_submit(shared, key, m, None).await;
    }
}

/// A reservation for a job this worker already holds on chain (resumed after a restart, or
/// re-driven by the reconciler): waits for its GPUs or slot while other runs finish, for up to
/// `within`.
pub(super) async fn reserve_within(
    shared: &Shared,
    p: &Prepared,
    within: Duration,
) -> Option<Reservation> {
    let until = Instant::now() + within;
    loop {
        if let Some(held) = shared.exec.reserve(p) {
            return Some(held);
        }
        if Instant::now() >= until || shared.cancel.is_cancelled() {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until every transaction journaled for this job has landed or can no longer land
/// (its blockhash expired), so recovery reads a chain that will not change under it.
pub(super) async fn settle_in_flight(shared: &Shared, e: &JobEntry) {
    for kind in [
        "claim",
        "submit",
        "claim_verification",
        "submit_verification",
    ] {
        let Ok(sigs) = shared.journal.txs(&e.job, kind) else {
            continue;
        };
        for s in sigs {
            let Ok(sig) = s.parse() else { continue };
            // An RPC error is no answer: keep asking, for up to 2 min per signature.
            let until = Instant::now() + Duration::from_secs(120);
            while Instant::now() < until {
                match shared.chain.status(&sig).await {
                    Ok(cinder_client::rpc::TxStatus::Unknown) | Err(_) => {}
                    Ok(_) => break,
                }
                let lvh = shared.journal.last_valid_height(&s).unwrap_or(0);
                if matches!(shared.chain.rpc().get_block_height().await, Ok(h) if h > lvh) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
        }
    }
}
