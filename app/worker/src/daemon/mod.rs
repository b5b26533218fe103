//! The provider daemon: one supervisor loop (discover → claim → run → submit → reveal →
//! settle), one task per job, verification duty for other providers' sampled jobs, the
//! keeper cranks, the results server and metrics; recovery from the journal and the chain at
//! start, and the same reconciliation every `reconcile_secs` for entries a task left open;
//! graceful shutdown.

mod recovery;
mod verifier;

use crate::{
    config::WorkerConfig,
    cranks::{self, Crank, Keeper},
    exec::{ExecError, Executed, Executor, Prepared, Reservation},
    fault,
    journal::{JobEntry, Journal, Role, Step},
    market::{self, MarketInfo},
};
use anchor_lang::prelude::Pubkey;
use cinder::state::{Job, JobState, Provider};
use cinder_client::{
    accounts, ix,
    rpc::{Chain, ChainError, TxObserver},
    token,
};
use recovery::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use verifier::*;

/// Seconds kept free before a job's deadline for hashing, storing and the submit transaction.
const SUBMIT_MARGIN_SECS: i64 = 15;
/// How long a job whose spec was refused, or that we quit, or whose claim failed, is left alone
/// the first time (seconds); each repeat for the same job and spec doubles it, up to
/// `REFUSE_AT_MOST`. Refusals are journaled, so a restart honours them.
const REFUSE_FOR: i64 = 300;
const REFUSE_AT_MOST: i64 = 24 * 3600;
/// How long a verifier race this worker lost is not entered again from the same origin.
const LOST_RACE_FOR: Duration = Duration::from_secs(300);
/// Memo program (v3): a quit carries its reason in the same transaction, for the client.
const MEMO_PROGRAM: Pubkey = anchor_lang::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("market {0} does not exist on {1}")]
    NoMarket(u64, String),
    #[error("markets {0} and {1} ask for different GPU classes ({2:?} vs {3:?}): run one worker per class")]
    MixedClasses(u64, u64, String, String),
    #[error("provider {0} has no stake: stake first (`cinder provider stake --amount N`), then start the worker; it registers itself")]
    NoStake(Pubkey),
    #[error("no config on chain at {0}: bootstrap the cluster first (cinder-bootstrap)")]
    NoConfig(String),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
}

/// What every job task shares.
pub struct Shared {
    pub cfg: WorkerConfig,
    pub chain: Arc<Chain>,
    pub me: Arc<Keypair>,
    pub journal: Journal,
    pub exec: Arc<Executor>,
    pub markets: HashMap<Pubkey, MarketInfo>,
    pub protocol: ix::Protocol,
    /// Jobs with a task in flight (either role).
    active: Mutex<HashSet<(Pubkey, bool)>>,
    /// Jobs refused before claiming (bad spec, unreachable spec), whose claim failed, or that
    /// we quit (bad input, over its time limit, failed), by (job, spec hash), with the unix time
    /// until which they are left alone (a host that was down may come back; other providers
    /// may take them meanwhile). Written through to the journal.
    refused: Mutex<HashMap<(Pubkey, [u8; 32]), i64>>,
    /// Verifier races this worker lost: the job and the race origin they were run from. A job
    /// whose races start again from another origin (an escalation after a first mismatch, an
    /// expired verifier) is a new chance, not a refusal.
    lost_races: Mutex<HashMap<Pubkey, (u64, Instant)>>,
    pub cancel: CancellationToken,
    /// Drain (SIGUSR1, before an upgrade): no new claims or verifications; the jobs this
    /// worker has run to their submit, then it stops.
    pub drain: CancellationToken,
}

impl Shared {
    fn try_activate(&self, job: &Pubkey, verifier: bool) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((*job, verifier))
    }
    fn deactivate(&self, job: &Pubkey, verifier: bool) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(*job, verifier));
    }
    fn refuse(&self, job: &Pubkey, spec_hash: &[u8; 32], reason: &str) {
        let now = unix_now();
        let until = match self.journal.refuse(
            &job.to_string(),
            &hex::encode(spec_hash),
            reason,
            now,
            REFUSE_FOR,
            REFUSE_AT_MOST,
        ) {
            Ok(r) => {
                tracing::info!(job = %job, times = r.count, for_secs = r.until - now, "leaving the job alone: {reason}");
                r.until
            }
            Err(e) => {
                tracing::error!(job = %job, error = %e, "journal write failed; the refusal lasts until this worker stops");
                now + REFUSE_FOR
            }
        };
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((*job, *spec_hash), until);
    }
    fn is_refused(&self, job: &Pubkey, spec_hash: &[u8; 32]) -> bool {
        let now = unix_now();
        let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|_, until| *until > now);
        r.contains_key(&(*job, *spec_hash))
    }
    fn lose_race(&self, job: &Pubkey, origin: u64) {
        self.lost_races
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(*job, (origin, Instant::now()));
    }
    fn lost_race(&self, job: &Pubkey, origin: u64) -> bool {
        let mut r = self.lost_races.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|_, (_, at)| at.elapsed() < LOST_RACE_FOR);
        r.get(job).is_some_and(|(o, _)| *o == origin)
    }
    fn keeper(&self) -> Keeper<'_> {
        Keeper {
            chain: &self.chain,
            me: &self.me,
            protocol: self.protocol,
        }
    }
    fn me(&self) -> Pubkey {
        self.me.pubkey()
    }
}

/// Records every signature in the journal before it is sent.
struct Journaled<'a> {
    journal: &'a Journal,
    job: String,
    kind: &'static str,
    pause: Option<&'static str>,
}

impl TxObserver for Journaled<'_> {
    fn signed(&self, signature: &solana_signature::Signature, last_valid: u64) {
        if let Err(e) = self.journal.record_tx(
            &signature.to_string(),
            Some(&self.job),
            self.kind,
            last_valid,
        ) {
            tracing::error!(error = %e, "journal write failed");
        }
        if let Some(p) = self.pause {
            fault::point_blocking(p);
        }
    }
}

/// Loads everything the worker needs from chain and checks it can serve its markets.
pub async fn start(
    cfg: WorkerConfig,
    me: Keypair,
    exec: Executor,
) -> Result<Arc<Shared>, StartError> {
    let chain = Arc::new(Chain::new(&cfg.rpc_url, send_config(&cfg)));
    let config = chain
        .zero_copy::<cinder::state::Config>(&ix::config_pda())
        .await?
        .ok_or_else(|| StartError::NoConfig(cfg.rpc_url.clone()))?;
    let (protocol_program, _) = token::mint_info(&chain, &config.protocol_mint)
        .await?
        .unwrap_or((token::TOKEN_PROGRAM, 9));
    let protocol = ix::Protocol {
        mint: config.protocol_mint,
        token_program: protocol_program,
    };
    let mut markets = HashMap::new();
    let mut first: Option<MarketInfo> = None;
    for id in &cfg.markets {
        let m = MarketInfo::load(&chain, *id)
            .await?
            .ok_or_else(|| StartError::NoMarket(*id, cfg.rpc_url.clone()))?;
        if let Some(f) = &first {
            if f.gpu_model() != m.gpu_model() {
                return Err(StartError::MixedClasses(
                    f.id,
                    m.id,
                    f.gpu_model(),
                    m.gpu_model(),
                ));
            }
        }
        first.get_or_insert(m);
        markets.insert(m.key, m);
    }
    let first = first.expect("validated: markets is not empty");
    // GPU markets need the GPUs (NVML) and the class; CPU markets need neither.
    let capacity = exec.capacity(&first)?;
    exec.check_runtime().await?;
    register(&chain, &me, &exec, &first, &cfg.endpoint).await?;
    let journal = Journal::open(&cfg.data_dir.join("journal.db"))?;
    let refused = refusals_in_force(&journal);
    tracing::info!(
        provider = %me.pubkey(),
        class = %first.gpu_model(),
        capacity,
        runtime = exec.runtime_name(),
        markets = ?cfg.markets,
        "worker ready"
    );
    metrics::gauge!("cinder_capacity").set(capacity as f64);
    Ok(Arc::new(Shared {
        chain,
        me: Arc::new(me),
        journal,
        exec: Arc::new(exec),
        markets,
        protocol,
        active: Mutex::new(HashSet::new()),
        refused: Mutex::new(refused),
        lost_races: Mutex::new(HashMap::new()),
        cancel: CancellationToken::new(),
        drain: CancellationToken::new(),
        cfg,
    }))
}

/// The journal's refusals still in force: a restart does not fetch a refused spec again, nor
/// claim a job it quit, before its time is up.
fn refusals_in_force(journal: &Journal) -> HashMap<(Pubkey, [u8; 32]), i64> {
    let rows = journal.refusals_in_force(unix_now()).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot read the journal's refusals; starting without them");
        Vec::new()
    });
    let refused: HashMap<_, _> = rows
        .iter()
        .filter_map(|r| {
            let job = r.job.parse::<Pubkey>().ok()?;
            let hash = <[u8; 32]>::try_from(hex::decode(&r.spec_hash).ok()?).ok()?;
            Some(((job, hash), r.until))
        })
        .collect();
    if !refused.is_empty() {
        tracing::info!(
            count = refused.len(),
            "refusals in force from the journal: those jobs are left alone until their time is up"
        );
    }
    refused
}

/// Registers this provider for the market's class, or updates its registration when the
/// machine (GPUs, slots) or the endpoint changed; nothing when it is up to date.
async fn register(
    chain: &Chain,
    me: &Keypair,
    exec: &Executor,
    m: &MarketInfo,
    endpoint: &str,
) -> Result<(), StartError> {
    let owner = me.pubkey();
    if chain.account_data(&ix::stake_pda(&owner)).await?.is_none() {
        return Err(StartError::NoStake(owner));
    }
    let info = exec.provider_info(m, endpoint)?;
    let have: Option<Provider> = chain.zero_copy(&ix::provider_pda(&owner)).await?;
    let ixs = match have {
        None => vec![ix::register_provider(&owner, info)],
        Some(p) => {
            let same = p.gpu_model == info.gpu_model
                && p.vram_gib == info.vram_gib
                && p.gpu_count == info.gpu_count
                && p.inventory_hash == info.inventory_hash
                && accounts::endpoint(&p) == info.endpoint
                && p.status == cinder::state::ProviderStatus::Active;
            if same {
                return Ok(());
            }
            vec![ix::update_provider(&owner, info, true)]
        }
    };
    let sent = chain.send(&ixs, me, &[]).await?;
    tracing::info!(sig = %sent.signature, class = %m.gpu_model(), endpoint, "provider registration brought up to date");
    Ok(())
}

pub fn send_config(cfg: &WorkerConfig) -> cinder_client::rpc::SendConfig {
    cinder_client::rpc::SendConfig {
        priority_fee: cinder_client::rpc::PriorityFee::Recent {
            percentile: cfg.priority_fee.percentile,
            min: cfg.priority_fee.min_micro_lamports,
            max: cfg.priority_fee.max_micro_lamports,
        },
        ..Default::default()
    }
}

/// Runs until `shared.cancel` fires, then shuts down gracefully.
pub async fn run(shared: Arc<Shared>) -> anyhow::Result<()> {
    fault::announce();
    let mut tasks = JoinSet::new();
    // Containers a crash left for jobs the journal no longer runs (issue 16, point 12).
    let open = shared.journal.open_jobs()?;
    let jobs: HashSet<String> = open.iter().map(|e| e.job.clone()).collect();
    let orphans = shared.exec.remove_orphans(&jobs).await;
    if !orphans.is_empty() {
        tracing::warn!(jobs = ?orphans, "removed containers a previous run left for jobs it no longer runs");
    }
    recover(&shared, &mut tasks, open).await;

    let market_keys: Vec<Pubkey> = shared.markets.keys().copied().collect();
    let mut feed = market::subscribe_open_jobs(
        shared.cfg.ws_url(),
        market_keys,
        shared.cancel.child_token(),
    );
    let mut rescan = tokio::time::interval(Duration::from_secs(shared.cfg.rescan_secs.max(1)));
    // Duties that only send transactions run on their own tasks, each on its own clock: a slow
    // keeper pass or reward claim never holds back discovery, claims or verification duty.
    duty(
        &shared,
        "own cranks",
        Duration::from_secs(1),
        |s| async move { own_cranks(&s).await },
    );
    duty(
        &shared,
        "host gauges",
        Duration::from_secs(15),
        |s| async move {
            s.exec.report_host();
            metrics::counter!("cinder_fees_paid_lamports_total").absolute(s.chain.fees_paid());
        },
    );
    duty(
        &shared,
        "reward claims",
        Duration::from_secs(60),
        |s| async move { claim_rewards(&s).await },
    );
    if shared.cfg.keeper {
        duty(&shared, "keeper", Duration::from_secs(5), |s| async move {
            let markets: Vec<MarketInfo> = s.markets.values().copied().collect();
            s.keeper().pass(&markets, Some(&s.me())).await;
        });
        duty(
            &shared,
            "fee sweeps",
            Duration::from_secs(60),
            |s| async move {
                for m in refreshed_markets(&s).await {
                    if let Err(e) = s.keeper().sweep(&m).await {
                        tracing::debug!(error = %e, market = m.id, "sweep not applied");
                    }
                }
            },
        );
    }
    let mut verify = tokio::time::interval(Duration::from_secs(3));
    verify.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let every = Duration::from_secs(shared.cfg.reconcile_secs.max(1));
    // `recover` has just reconciled every entry: the first pass is one period from now.
    let mut reconcile = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // At start, then hourly: results of jobs closed longer ago than `retention_days`.
    let mut prune = tokio::time::interval(Duration::from_secs(3600));
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut drained = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => break,
            Some((key, job)) = feed.recv() => {
                metrics::counter!("cinder_jobs_seen_total", "via" => "websocket").increment(1);
                consider(&shared, &mut tasks, key, job, Instant::now());
            }
            _ = rescan.tick() => {
                for m in shared.markets.values() {
                    match market::jobs_in_state(&shared.chain, &m.key, JobState::Open).await {
                        Ok(mut open) => {
                            market::rank(&mut open);
                            for (key, job) in open {
                                consider(&shared, &mut tasks, key, job, Instant::now());
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, market = m.id, "scan of open jobs failed"),
                    }
                }
            }
            _ = reconcile.tick() => reconcile_open(&shared, &mut tasks),
            _ = prune.tick() => {
                prune_results(&shared);
                forget_lapsed_refusals(&shared);
            }
            _ = verify.tick(), if shared.cfg.verify && !shared.drain.is_cancelled() => verification_duty(&shared, &mut tasks).await,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = done {
                    tracing::error!(error = %e, "a job task panicked");
                }
            }
            _ = drained.tick(), if shared.drain.is_cancelled() => {
                if tasks.is_empty() && !has_unsubmitted(&shared) {
                    tracing::info!("drained: every job this worker took is submitted; stopping");
                    break;
                }
            }
        }
    }
    shutdown(&shared, tasks).await;
    Ok(())
}

/// Runs `pass` every `every` on its own task until the worker stops; a pass in progress
/// finishes first (it may have a transaction in flight).
fn duty<F, Fut>(shared: &Arc<Shared>, name: &'static str, every: Duration, pass: F)
where
    F: Fn(Arc<Shared>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = shared.cancel.cancelled() => break,
                _ = tick.tick() => pass(shared.clone()).await,
            }
        }
        tracing::debug!(duty = name, "stopped");
    });
}

async fn refreshed_markets(shared: &Shared) -> Vec<MarketInfo> {
    let mut out = Vec::new();
    for m in shared.markets.values() {
        if let Ok(Some(fresh)) = MarketInfo::load(&shared.chain, m.id).await {
            out.push(fresh);
        }
    }
    out
}

/// Graceful shutdown: no new claims (the loop stopped); running jobs get
/// `shutdown_grace_secs` to finish, then their runs are cancelled and the jobs quit on chain,
/// so no client waits for a worker that is gone.
async fn shutdown(shared: &Arc<Shared>, mut tasks: JoinSet<()>) {
    let grace = Duration::from_secs(shared.cfg.shutdown_grace_secs);
    tracing::info!(
        running = tasks.len(),
        grace_secs = grace.as_secs(),
        "shutting down"
    );
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            next = tasks.join_next() => if next.is_none() { break },
        }
    }
    if !tasks.is_empty() && shared.cfg.stop_leaves_containers {
        // As a kill would: nothing cancelled, no container removed (their guards never run);
        // the journal holds every job, and the next start re-attaches to the containers.
        // Process jobs die with the worker and are run again if their deadline allows.
        tracing::warn!(
            running = tasks.len(),
            "grace period over: leaving container jobs running for the next start to re-attach (stop_leaves_containers)"
        );
        std::process::exit(0);
    }
    if !tasks.is_empty() {
        tracing::warn!(running = tasks.len(), "grace period over: cancelling runs");
        shared.exec.cancel_all();
        while tasks.join_next().await.is_some() {}
    }
    tracing::info!("stopped");
}

/// A job seen open: claim it if it is eligible, not already ours and capacity is free.
fn consider(shared: &Arc<Shared>, tasks: &mut JoinSet<()>, key: Pubkey, job: Job, seen: Instant) {
    if shared.cancel.is_cancelled()
        || shared.drain.is_cancelled()
        || shared.is_refused(&key, &job.spec_hash)
    {
        return;
    }
    let Some(m) = shared.markets.get(&job.market).copied() else {
        return;
    };
    let now = unix_now();
    if let Err(why) = market::eligible(&job, &shared.me(), now, shared.cfg.min_price_per_sec) {
        tracing::trace!(job = %key, why, "not eligible");
        return;
    }
    if !shared.exec.has_room(&m) {
        return;
    }
    if !shared.try_activate(&key, false) {
        return;
    }
    let shared = shared.clone();
    tasks.spawn(async move {
        provider_job(&shared, key, job, m, seen).await;
        shared.deactivate(&key, false);
    });
}

/// A provider job from first sight to submitted.
async fn provider_job(shared: &Arc<Shared>, key: Pubkey, job: Job, m: MarketInfo, seen: Instant) {
    // The spec is fetched and checked before claiming: a bad spec is never claimed.
    let spec_uri = accounts::spec_uri(&job);
    let prepared = match ready_to_claim(shared, &key, &job, &m, &spec_uri).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(job = %key, uri = %spec_uri, error = %e, "not claiming: {e}");
            metrics::counter!("cinder_jobs_refused_total", "reason" => e.kind()).increment(1);
            shared.refuse(&key, &job.spec_hash, &format!("not claimed: {e}"));
            return;
        }
    };
    // Its GPUs (or slot) are held from here, before the claim, to the end of its run.
    let Some(held) = shared.exec.reserve(&prepared) else {
        tracing::debug!(job = %key, gpus = prepared.spec.gpus, "not enough free now; not claiming");
        return;
    };
    let entry = JobEntry {
        job: key.to_string(),
        role: Role::Provider,
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
    match shared.journal.begin(&entry) {
        Ok(true) => {}
        Ok(false) => return, // already journaled: recovery owns it
        Err(e) => {
            tracing::error!(job = %key, error = %e, "journal unavailable; not claiming");
            return;
        }
    }
    let keys = market::job_keys(&key, &job, &m.market);
    let observer = Journaled {
        journal: &shared.journal,
        job: key.to_string(),
        kind: "claim",
        pause: Some("claim_signed"),
    };
    let claim = shared
        .chain
        .send_observed(
            &[ix::claim_job(&keys, &shared.me())],
            &shared.me,
            &[],
            &observer,
        )
        .await;
    match claim {
        Ok(sent) => {
            let latency = seen.elapsed();
            metrics::histogram!("cinder_claim_latency_seconds").record(latency.as_secs_f64());
            metrics::counter!("cinder_jobs_claimed_total").increment(1);
            tracing::info!(job = %key, sig = %sent.signature, cu = sent.compute_units, latency_ms = latency.as_millis() as u64, "claimed");
            let _ = shared.journal.advance(
                &entry.job,
                Role::Provider,
                Step::Claimed,
                &sent.signature.to_string(),
            );
        }
        Err(e) => {
            // Lost the race, or unsure: the chain decides.
            let me = shared.me();
            let ours = |j: &Job| j.state == JobState::Running && j.provider == me;
            match claim_landed(shared, &entry, &key, ours).await {
                Some(true) => {
                    tracing::warn!(job = %key, error = %e, "claim landed despite an error; running it");
                    let _ = shared.journal.advance(
                        &entry.job,
                        Role::Provider,
                        Step::Claimed,
                        "claim landed despite an error",
                    );
                }
                None => return,
                Some(false) => {
                    tracing::info!(job = %key, error = %e, "claim failed: {e}");
                    // Another provider taking the job first is the normal end of a claim race,
                    // not a reason to leave the job alone: this worker may yet be drawn to
                    // verify it (a refusal would keep it out of the job's verifier races, and
                    // leave an escalation without a second verifier). A job still open is.
                    let taken = matches!(e, ChainError::Program { .. })
                        && !matches!(chain_job(shared, &key).await, Ok(Some(j)) if j.state == JobState::Open);
                    if !taken {
                        shared.refuse(&key, &job.spec_hash, &format!("claim failed: {e}"));
                    }
                    let _ = shared.journal.fail(
                        &entry.job,
                        Role::Provider,
                        Step::Quit,
                        &format!("claim failed: {e}"),
                    );
                    return;
                }
            }
        }
    }
    fault::point("claimed").await;
    run_and_submit(shared, key, m, Some((prepared, held))).await;
}

/// The job's spec fetched and checked, and what its run needs pulled, before claiming (the
/// job's clock starts at the claim): a spec that is bad, asks for another verification mode
/// than the job's, or whose full-length run could not be submitted before the deadline is
/// never claimed, nor one whose image cannot be pulled.
async fn ready_to_claim(
    shared: &Shared,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    spec_uri: &str,
) -> Result<Prepared, ExecError> {
    let prepared = shared
        .exec
        .prepare(key, spec_uri, &job.spec_hash, m)
        .await?;
    prepared.check_verify_mode(job.verify_mode)?;
    prepared.check_fits(job.max_duration_secs, SUBMIT_MARGIN_SECS)?;
    shared.exec.stage(&prepared).await?;
    Ok(prepared)
}

/// From Claimed (or a resumed Running) to Submitted. `ready`: the spec already prepared and
/// its reservation (none when resuming: both are made here).
async fn run_and_submit(
    shared: &Arc<Shared>,
    key: Pubkey,
    m: MarketInfo,
    ready: Option<(Prepared, Reservation)>,
) {
    let id = key.to_string();
    let job = match chain_job(shared, &key).await {
        Ok(Some(job)) => job,
        Ok(None) => {
            let _ = shared.journal.fail(
                &id,
                Role::Provider,
                Step::Quit,
                "job vanished before it ran",
            );
            return;
        }
        Err(e) => {
            tracing::error!(job = %key, error = %e, "cannot read the job to run it: the RPC node does not answer; the reconciler resumes it");
            return;
        }
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
                tracing::warn!(job = %key, error = %e, "spec no longer valid");
                quit(
                    shared,
                    &key,
                    &job,
                    &m,
                    &format!("spec no longer valid: {}", e.for_chain()),
                )
                .await;
                return;
            }
        },
    };
    let chain_now = shared
        .chain
        .unix_time()
        .await
        .unwrap_or_else(|_| unix_now());
    let left = job.deadline - chain_now - SUBMIT_MARGIN_SECS;
    if left <= 0 {
        quit(shared, &key, &job, &m, "too close to the deadline to run").await;
        return;
    }
    let held = match held {
        Some(h) => h,
        None => match reserve_within(shared, &prepared, Duration::from_secs(left as u64)).await {
            Some(h) => h,
            None => {
                quit(
                    shared,
                    &key,
                    &job,
                    &m,
                    "its GPUs were not free before the deadline",
                )
                .await;
                return;
            }
        },
    };
    let left =
        (job.deadline - shared.chain.unix_time().await.unwrap_or(chain_now) - SUBMIT_MARGIN_SECS)
            .max(1);
    let _ = shared
        .journal
        .advance(&id, Role::Provider, Step::Running, "run started");
    fault::point("run_started").await;
    metrics::gauge!("cinder_jobs_running").increment(1.0);
    let outcome = shared
        .exec
        .run(&key, &prepared, Duration::from_secs(left as u64), held)
        .await;
    metrics::gauge!("cinder_jobs_running").decrement(1.0);
    let executed = match outcome {
        Ok(x) => x,
        Err(e) => {
            metrics::counter!("cinder_jobs_failed_total", "reason" => e.kind()).increment(1);
            tracing::warn!(job = %key, error = %e, "run failed");
            quit(shared, &key, &job, &m, &e.for_chain()).await;
            return;
        }
    };
    let billed = billed_secs(shared, &job, &executed).await;
    let hash_hex = hex::encode(executed.result_hash);
    if let Err(e) = shared
        .journal
        .record_result(&id, Role::Provider, &hash_hex, billed)
    {
        tracing::error!(job = %key, error = %e, "journal write failed after the run");
    }
    tracing::info!(job = %key, result = %hash_hex, billed, elapsed_ms = executed.elapsed.as_millis() as u64, "ran");
    metrics::histogram!("cinder_job_run_seconds").record(executed.elapsed.as_secs_f64());
    fault::point("result_stored").await;
    submit(shared, &key, &job, &m, executed.result_hash, billed).await;
    // After the submit: an upload of a large result never eats into the job's deadline.
    shared.exec.upload(&key, false).await;
}

/// Seconds to bill: the run's own time, rounded up (at least one), never more than the chain
/// allows (its clock since the claim, the job's maximum). When the chain's clock lags the
/// run (a job shorter than a slot's clock tick), wait for it rather than under-bill, but never
/// past the deadline margin.
async fn billed_secs(shared: &Shared, job: &Job, x: &Executed) -> u32 {
    let ran = x.elapsed.as_secs() + u64::from(x.elapsed.subsec_nanos() > 0);
    let want = ran.max(1).min(job.max_duration_secs as u64);
    let mut chain_now = shared
        .chain
        .unix_time()
        .await
        .unwrap_or_else(|_| unix_now());
    let end = Instant::now() + Duration::from_secs(want + 5);
    while ((chain_now - job.claimed_at).max(0) as u64) < want
        && chain_now + SUBMIT_MARGIN_SECS < job.deadline
        && Instant::now() < end
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        chain_now = shared.chain.unix_time().await.unwrap_or(chain_now);
    }
    let allowed = (chain_now - job.claimed_at).max(0) as u64;
    want.min(allowed) as u32
}

async fn submit(
    shared: &Arc<Shared>,
    key: &Pubkey,
    job: &Job,
    m: &MarketInfo,
    result_hash: [u8; 32],
    billed: u32,
) {
    let id = key.to_string();
    let _ = shared
        .journal
        .advance(&id, Role::Provider, Step::Submitting, "submit signed next");
    let keys = market::job_keys(key, job, &m.market);
    let uri = format!(
        "{}/v1/jobs/{}",
        shared.cfg.endpoint.trim_end_matches('/'),
        key
    );
    let uri = if uri.len() <= cinder::constants::URI_LEN {
        uri
    } else {
        shared.cfg.endpoint.clone()
    };
    let observer = Journaled {
        journal: &shared.journal,
        job: id.clone(),
        kind: "submit",
        pause: Some("submit_signed"),
    };
    let ixs = [ix::submit_result(
        &keys,
        &shared.me(),
        result_hash,
        billed,
        &uri,
    )];
    loop {
        let sent = shared
            .chain
            .send_observed(&ixs, &shared.me, &[], &observer)
            .await;
        match sent {
            Ok(sent) => {
                tracing::info!(job = %key, sig = %sent.signature, cu = sent.compute_units, "submitted");
                metrics::counter!("cinder_jobs_submitted_total").increment(1);
                fault::point("submitted").await;
                let _ = shared.journal.advance(
                    &id,
                    Role::Provider,
                    Step::Submitted,
                    &sent.signature.to_string(),
                );
            }
            Err(e) => match chain_job(shared, key).await {
                Err(read) => {
                    tracing::error!(job = %key, error = %e, read = %read, "submit failed and the chain cannot be read; the journal keeps the result and the reconciler sends it");
                }
                Ok(Some(j)) if j.state != JobState::Running && j.provider == shared.me() => {
                    let _ = shared.journal.advance(
                        &id,
                        Role::Provider,
                        Step::Submitted,
                        "submit had landed",
                    );
                }
                Ok(Some(j)) if j.state == JobState::Running && j.provider == shared.me() => {
                    if resend_after(shared, key, &e, j.deadline).await {
                        continue;
                    }
                    match shared.chain.unix_time().await {
                        Ok(now) if now > j.deadline => {
                            let _ = shared.journal.fail(
                                &id,
                                Role::Provider,
                                Step::Quit,
                                &format!("submit failed ({e}) and the job's deadline has passed: it can only be expired now, with the timeout slash"),
                            );
                        }
                        _ => {
                            tracing::error!(job = %key, error = %e, every_secs = shared.cfg.reconcile_secs, "submit failed; the reconciler sends it again while the deadline allows")
                        }
                    }
                }
                _ => {
                    let _ = shared.journal.fail(
                        &id,
                        Role::Provider,
                        Step::Quit,
                        &format!("submit refused: {e}"),
                    );
                }
            },
        }
        return;
    }
}

/// After a failed send of a result the chain still waits for from us (`submit_result`,
/// `submit_verification`): whether to send it again, after 5 s. Not after a refusal by the
/// program (it would refuse again), nor when the deadline leaves no time: a provider that
/// did the work must not lose it to a network error (issue 16, point 6).
async fn resend_after(shared: &Shared, key: &Pubkey, e: &ChainError, deadline: i64) -> bool {
    if matches!(e, ChainError::Program { .. }) {
        return false;
    }
    metrics::counter!("cinder_rpc_errors_total").increment(1);
    let now = shared
        .chain
        .unix_time()
        .await
        .unwrap_or_else(|_| unix_now());
    if now.saturating_add(5) >= deadline {
        return false;
    }
    tracing::warn!(job = %key, error = %e, "sending the result failed (the network, not the work): sending it again in 5 s");
    tokio::time::sleep(Duration::from_secs(5)).await;
    true
}

/// Gives a Running job back with the reason in a memo (visible to the client in the
/// transaction), and journals it.
async fn quit(shared: &Arc<Shared>, key: &Pubkey, job: &Job, m: &MarketInfo, reason: &str) {
    let id = key.to_string();
    tracing::warn!(job = %key, reason, "quitting job");
    // What made us quit would make us quit again: leave the job to other providers.
    shared.refuse(key, &job.spec_hash, &format!("quit: {reason}"));
    // Only when the chain's clock is known: a quit sent in doubt costs a fee, one not sent when
    // it would have landed costs the timeout slash.
    if let Ok(now) = shared.chain.unix_time().await {
        if let Some(why) = quit_too_late(job, now) {
            tracing::error!(job = %key, reason, "{why}");
            let _ = shared.journal.fail(
                &id,
                Role::Provider,
                Step::Quit,
                &format!("{reason}; not quit: {why}"),
            );
            return;
        }
    }
    let keys = market::job_keys(key, job, &m.market);
    let memo = anchor_lang::solana_program::instruction::Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![],
        data: format!("cinder quit {key}: {}", truncate(reason, 400)).into_bytes(),
    };
    let ixs = [ix::quit_job(&keys, &shared.me(), &shared.protocol), memo];
    match shared.chain.send(&ixs, &shared.me, &[]).await {
        Ok(sent) => {
            metrics::counter!("cinder_jobs_quit_total").increment(1);
            let _ = shared.journal.fail(
                &id,
                Role::Provider,
                Step::Quit,
                &format!("{reason} (quit {})", sent.signature),
            );
        }
        Err(e) => {
            tracing::error!(job = %key, error = %e, "quit failed");
            let _ = shared.journal.fail(
                &id,
                Role::Provider,
                Step::Quit,
                &format!("{reason}; quit failed: {e}"),
            );
        }
    }
}

/// Why a quit at chain time `now` would be refused, if it would: past its deadline a job can
/// only be expired, with the timeout slash (`QuitAfterDeadline`), so a worker that got there
/// (down, or its RPC unreachable, until after the deadline) says what will happen instead of
/// paying for a refused transaction.
fn quit_too_late(job: &Job, now: i64) -> Option<String> {
    (now > job.deadline).then(|| {
        format!(
            "the job's deadline passed {} s ago and the chain refuses a quit after it \
             (QuitAfterDeadline): anyone may expire the job {} s after its deadline, slashing \
             {} bps of this provider's stake. Keep the worker and its RPC up through a job's \
             run so it gives back what it cannot finish before the deadline.",
            now - job.deadline,
            job.expire_grace_secs,
            job.timeout_slash_bps,
        )
    })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The job as the chain has it (`None`: closed), asking again every 2 s while the RPC node
/// does not answer, for up to `rpc_patience_secs` (an outage must never read as "the job is
/// gone": a claim that landed unseen would be slashed as a timeout). `Err` means nobody knows:
/// callers then journal nothing final (no Quit the chain did not see) and leave the entry to
/// the reconciler.
async fn chain_job(shared: &Shared, key: &Pubkey) -> Result<Option<Job>, ChainError> {
    let give_up = Instant::now() + Duration::from_secs(shared.cfg.rpc_patience_secs.max(1));
    loop {
        match shared.chain.zero_copy::<Job>(key).await {
            Ok(job) => return Ok(job),
            Err(e) if Instant::now() >= give_up => return Err(e),
            Err(ChainError::Rpc { last, .. }) => {
                metrics::counter!("cinder_rpc_errors_total").increment(1);
                tracing::warn!(job = %key, error = %last, "RPC node not answering; asking again in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether a claim whose send returned an error is ours after all: a transport error may hide
/// a claim that landed, so the chain decides, once every claim this job's entry signed has
/// landed or expired (`settle_in_flight` asks through an outage, and a blockhash the outage
/// outlived can no longer land). `None` when the chain cannot be asked: the entry stays open
/// for the reconciler (or the next start), and nothing is journaled as given up.
async fn claim_landed(
    shared: &Shared,
    entry: &JobEntry,
    key: &Pubkey,
    ours: impl Fn(&Job) -> bool,
) -> Option<bool> {
    settle_in_flight(shared, entry).await;
    match chain_job(shared, key).await {
        Ok(job) => Some(job.as_ref().is_some_and(ours)),
        Err(e) => {
            tracing::error!(job = %key, error = %e, "cannot tell whether our claim landed: the RPC node does not answer; the journal keeps the job open and the reconciler decides");
            None
        }
    }
}

/// Our submitted jobs: reveal and settle them as soon as the program allows.
async fn own_cranks(shared: &Arc<Shared>) {
    let Ok(open) = shared.journal.open_jobs() else {
        return;
    };
    let submitted: Vec<JobEntry> = open
        .into_iter()
        .filter(|e| e.step == Step::Submitted)
        .collect();
    if submitted.is_empty() {
        return;
    }
    let (Ok(now), Ok(slot)) = (shared.chain.unix_time().await, shared.chain.slot().await) else {
        return;
    };
    for e in submitted {
        let Ok(key) = e.job.parse::<Pubkey>() else {
            continue;
        };
        let job = match shared.chain.zero_copy::<Job>(&key).await {
            Ok(Some(j)) => j,
            Ok(None) => {
                // Settled (by us, a keeper or the client's accept) and closed.
                let _ = shared
                    .journal
                    .advance(&e.job, e.role, Step::Done, "closed on chain");
                metrics::counter!("cinder_jobs_done_total").increment(1);
                continue;
            }
            Err(_) => continue,
        };
        if e.role == Role::Verifier
            && (job.state != JobState::Verifying || job.verifier != shared.me())
        {
            let _ = shared
                .journal
                .advance(&e.job, e.role, Step::Done, "verification recorded");
            continue;
        }
        if e.role == Role::Verifier {
            continue;
        }
        let Some(m) = shared.markets.get(&job.market) else {
            continue;
        };
        if let Some(c) = cranks::due(&job, now, slot) {
            if matches!(c, Crank::Reveal | Crank::Settle) {
                match shared.keeper().run(c, &key, &job, m).await {
                    Ok(sent) => {
                        tracing::info!(job = %key, crank = c.name(), sig = %sent.signature, cu = sent.compute_units, "crank")
                    }
                    Err(err) => {
                        tracing::debug!(job = %key, crank = c.name(), error = %err, "crank not applied")
                    }
                }
            }
        }
    }
}

/// The provider is a staker too: claim its staking rewards when there are any.
async fn claim_rewards(shared: &Shared) {
    let me = shared.me();
    let (Ok(Some(pos)), Ok(Some(pool))) = (
        shared
            .chain
            .zero_copy::<cinder::state::StakePosition>(&ix::stake_pda(&me))
            .await,
        shared
            .chain
            .zero_copy::<cinder::state::StakePool>(&ix::stake_pool_pda())
            .await,
    ) else {
        return;
    };
    let pending = pos.pending_rewards.saturating_add(
        cinder::math::earned(
            pos.weight,
            pool.acc_reward_per_weight.get(),
            pos.reward_debt.get(),
        )
        .unwrap_or(0),
    );
    if pending == 0 {
        return;
    }
    let p = shared.protocol;
    let to = token::ata(&me, &p.mint, &p.token_program);
    let ixs = [
        token::create_ata_ix(&me, &me, &p.mint, &p.token_program),
        ix::claim_rewards(&me, &to, &p),
    ];
    match shared.chain.send(&ixs, &shared.me, &[]).await {
        Ok(s) => tracing::info!(amount = pending, sig = %s.signature, "staking rewards claimed"),
        Err(e) => tracing::debug!(error = %e, "claim_rewards not applied"),
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;

    #[test]
    fn a_quit_is_sent_only_up_to_the_deadline() {
        let mut job = Job::zeroed();
        job.deadline = 1_000;
        job.expire_grace_secs = 300;
        job.timeout_slash_bps = 100;
        assert_eq!(quit_too_late(&job, 999), None);
        assert_eq!(
            quit_too_late(&job, 1_000),
            None,
            "the program allows now == deadline"
        );
        let why = quit_too_late(&job, 1_001).expect("refused after the deadline");
        assert!(
            why.contains("QuitAfterDeadline") && why.contains("300 s") && why.contains("100 bps"),
            "{why}"
        );
    }
}
