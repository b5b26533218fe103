//! The worker's side of running a job, on top of `cinder-runner`: fetch and check the spec
//! (before claiming), decide whether this machine can run it (runtime, GPUs), fetch and
//! check the inputs, run it in a container or an allow-listed process on assigned GPUs,
//! hash and store the outputs, and serve them to the job's client.

use crate::{
    config::{RuntimeKind, WorkerConfig},
    daemon::Shared,
    journal::{JobEntry, Role},
    market::MarketInfo,
};
use anchor_lang::prelude::Pubkey;
use cinder_runner::{
    gpu::{self, Gpu, GpuPool},
    results::ResultStore,
    runtime::{
        CgroupRoot, ContainerConfig, ContainerRuntime, ProcessConfig, ProcessRuntime, RunOutcome,
        RunRequest, Runtime, RuntimeError, Sandbox,
    },
    spec::{FetchError, Fetcher, FetcherConfig, JobSpec, SpecKind},
};
use sha2::Digest;
use std::{collections::HashSet, path::PathBuf, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Why a job cannot be (or was not) run. `kind()` labels metrics.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("spec: {0}")]
    Spec(String),
    #[error("spec: {0}")]
    SpecFetch(FetchError),
    #[error("this worker cannot run it: {0}")]
    Unsupported(String),
    #[error("inputs: {0}")]
    Input(FetchError),
    #[error("run failed: {0}")]
    Failed(String),
    #[error("run exceeded its time limit of {0} s and was killed")]
    Timeout(u64),
    #[error("the job's deadline leaves no time: {0}")]
    Deadline(String),
    #[error("run cancelled (worker shutting down)")]
    Cancelled,
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// The worker's own set-up (no engine and no programs, an engine without GPU passing).
    #[error("runtime: {0}")]
    Setup(String),
    #[error("GPUs: {0}")]
    Gpu(String),
    #[error("result store: {0}")]
    Store(String),
    /// The run wrote more than `job_disk_mib`, or left the worker's disk nearly full: stopped.
    #[error("disk: {0}")]
    Disk(String),
    #[error("{0}")]
    DataDir(#[from] crate::lock::LockError),
}

impl ExecError {
    pub fn kind(&self) -> &'static str {
        match self {
            ExecError::Spec(_) | ExecError::SpecFetch(_) => "spec",
            ExecError::Unsupported(_) => "unsupported",
            ExecError::Input(_) => "input",
            ExecError::Failed(_) => "failed",
            ExecError::Timeout(_) => "timeout",
            ExecError::Deadline(_) => "deadline",
            ExecError::Cancelled => "cancelled",
            ExecError::Runtime(
                RuntimeError::GpuDevice { .. } | RuntimeError::GpusUnsupported(_),
            ) => "gpu_device",
            ExecError::Runtime(
                RuntimeError::ImageUnavailable { .. }
                | RuntimeError::ImagePinMismatch { .. }
                | RuntimeError::ImageNotPinned { .. },
            ) => "image",
            ExecError::Runtime(RuntimeError::EnvRefused { .. }) => "spec",
            ExecError::Runtime(_) | ExecError::Setup(_) => "runtime",
            ExecError::Gpu(_) => "gpu",
            ExecError::Store(_) => "store",
            ExecError::Disk(_) => "disk",
            ExecError::DataDir(_) => "data_dir",
        }
    }

    /// The error as the job's client reads it in the quit's memo: a fetch error without the
    /// provider's network details (the full text goes to the worker's log).
    pub fn for_chain(&self) -> String {
        match self {
            ExecError::SpecFetch(e) => format!("spec: {}", e.public()),
            ExecError::Input(e) => format!("inputs: {}", e.public()),
            other => other.to_string(),
        }
    }
}

/// A spec fetched, hash-checked and found runnable here.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub spec: JobSpec,
    /// The market's GPU class (NVML's model name); `None` in a CPU market.
    pub gpu_model: Option<String>,
}

impl Prepared {
    /// Before a provider claims: the job's on-chain `verify_mode` must be the one its spec
    /// asks for. A client that declares `exact` for a job whose honest re-runs differ in the
    /// last bits would have two honest verifiers mismatch it, which slashes the provider for
    /// fraud without an arbiter; a provider never takes such a job. (A verifier does not
    /// check this: refusing would let a mislabelled job lapse unverified.)
    /// Before a provider claims: a run as long as the spec's time limit, plus `margin_secs`
    /// to hash, store and submit, must fit between the claim and the job's deadline
    /// (`max_duration_secs` after the claim). A job that does not fit would be cut short at
    /// the deadline and given back, or expired.
    pub fn check_fits(&self, max_duration_secs: u32, margin_secs: i64) -> Result<(), ExecError> {
        let needed = i64::from(self.spec.time_limit_secs) + margin_secs;
        if needed > i64::from(max_duration_secs) {
            return Err(ExecError::Unsupported(format!(
                "its time limit of {} s and {margin_secs} s to submit exceed the job's {max_duration_secs} s from claim to deadline: a full-length run could not be submitted in time",
                self.spec.time_limit_secs
            )));
        }
        Ok(())
    }

    pub fn check_verify_mode(&self, on_chain: u8) -> Result<(), ExecError> {
        use cinder::state::verify_mode;
        let wanted = match self.spec.verify_rule().mode {
            cinder_runner::spec::VerifyMode::Exact => verify_mode::EXACT,
            cinder_runner::spec::VerifyMode::Tolerance => verify_mode::TOLERANCE,
            cinder_runner::spec::VerifyMode::None => verify_mode::NONE,
        };
        if wanted != on_chain {
            return Err(ExecError::Spec(format!(
                "the job was posted with verify_mode {on_chain} but its spec asks for {wanted} \
                 (0 exact, 1 tolerance, 2 none): two honest re-runs could be taken for fraud, \
                 or a job the client meant unverified re-run"
            )));
        }
        Ok(())
    }

    /// Capacity units the job takes: its GPUs, or one CPU slot.
    pub fn slots(&self) -> usize {
        (self.spec.gpus as usize).max(1)
    }
}

/// What a job holds from before its claim to the end of its run: its GPUs (of the market's
/// class, as many as its spec asks) or one CPU slot. Dropping it gives them back, also when
/// the task holding it fails or panics. The pool and the CPU slots are the worker's one
/// admission control: nothing is claimed, verified or re-run without a reservation.
#[derive(Debug)]
pub struct Reservation {
    gpus: Option<gpu::GpuLease>,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Reservation {
    pub fn gpus(&self) -> &[Gpu] {
        self.gpus.as_ref().map_or(&[], |l| l.gpus())
    }
}

/// Reserves what `spec` needs now, all or nothing: `spec.gpus` free GPUs of `model` (the
/// market's class; any model when `None`) with `spec.min_vram_gib` each and none of them in
/// `busy` (another process is on it), or a CPU slot.
pub fn reserve_from(
    pool: &GpuPool,
    cpu: &Arc<tokio::sync::Semaphore>,
    spec: &JobSpec,
    model: Option<&str>,
    busy: &HashSet<String>,
) -> Option<Reservation> {
    if spec.gpus == 0 {
        let slot = cpu.clone().try_acquire_owned().ok()?;
        return Some(Reservation {
            gpus: None,
            _slot: Some(slot),
        });
    }
    let (count, gib) = (spec.gpus as usize, spec.min_vram_gib as u64);
    let lease = pool.take_idle(model, count, gib, busy)?;
    Some(Reservation {
        gpus: Some(lease),
        _slot: None,
    })
}

/// A finished, stored run.
#[derive(Debug, Clone)]
pub struct Executed {
    pub result_hash: [u8; 32],
    pub elapsed: Duration,
}

pub struct Executor {
    fetcher: Fetcher,
    container: Option<ContainerRuntime>,
    process: ProcessRuntime,
    cpu_slots: usize,
    gpus: Vec<Gpu>,
    gpu_error: Option<String>,
    pool: GpuPool,
    /// CPU slots (`cpu_slots`) for jobs without GPUs.
    cpu: Arc<tokio::sync::Semaphore>,
    store: ResultStore,
    /// Also push stored results here (`s3://bucket/prefix`, `file:///dir`).
    object_store: Option<String>,
    work: PathBuf,
    cancel: CancellationToken,
    /// `demo_tamper`: fabricate the outputs of jobs that ask for it (demos and tests only).
    tamper: bool,
    /// Most a run may write to its output and scratch directories (`job_disk_mib`).
    job_disk_bytes: u64,
    /// How often a running job's disk use is measured.
    disk_watch_every: Duration,
    /// This worker's hold on `data_dir`, for as long as the executor lives.
    _lock: crate::lock::DataDirLock,
}

/// The spec env key that makes a `demo_tamper` worker cheat on that job.
pub const TAMPER_ENV: &str = "DEMO_TAMPER";

impl Executor {
    pub async fn new(cfg: &WorkerConfig) -> Result<Self, ExecError> {
        // Before anything in data_dir is touched.
        let lock = crate::lock::DataDirLock::acquire(&cfg.data_dir)?;
        let fetcher = Fetcher::with_config(FetcherConfig {
            allow_file_uris: cfg.allow_file_uris,
            // Validated with the configuration.
            internal_allowed: cfg
                .fetch_internal_networks
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            ..FetcherConfig::default()
        });
        // One CPU cap for every job, container or process (`job_cpus`).
        let cpu_millis =
            cfg.job_cpu_millis(std::thread::available_parallelism().map_or(1, |n| n.get()));
        let container = match cfg.runtime {
            RuntimeKind::Process => None,
            kind => {
                // Its containers carry this worker's data_dir (one worker per data_dir: the
                // lock), so at start it removes its own orphans and no other worker's.
                let owner = std::fs::canonicalize(&cfg.data_dir)
                    .unwrap_or_else(|_| cfg.data_dir.clone())
                    .display()
                    .to_string();
                let mib = |m: u64| m.saturating_mul(1 << 20).min(i64::MAX as u64) as i64;
                let probe = match ContainerRuntime::with_config(ContainerConfig {
                    owner: Some(owner),
                    shm_bytes: mib(cfg.container_shm_mib),
                    tmp_bytes: mib(cfg.container_tmp_mib),
                    default_memory_bytes: mib(cfg.container_memory_mib),
                    cpu_millis: Some(cpu_millis),
                    user: Some(cfg.container_user.clone()).filter(|u| !u.is_empty()),
                    log_bytes: mib(cfg.container_log_mib),
                    ..ContainerConfig::new(&cfg.container_socket, cfg.container_network)
                }) {
                    Ok(c) => c.check().await.map(|()| c),
                    Err(e) => Err(e),
                };
                match probe {
                    Ok(c) => Some(c),
                    Err(e) if kind == RuntimeKind::Auto => {
                        tracing::info!(error = %e, "no container engine; process jobs only");
                        None
                    }
                    Err(e) => return Err(ExecError::Runtime(e)),
                }
            }
        };
        let process = ProcessRuntime::with_config(ProcessConfig {
            allow: cfg.process_allow.clone(),
            // What a job must never see: the worker's own files.
            sandbox: cfg.process_sandbox.then(|| {
                let canonical = |p: &std::path::Path| {
                    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
                };
                Sandbox {
                    tmp_bytes: cfg.process_tmp_mib.saturating_mul(1 << 20),
                    ..Sandbox::new(vec![canonical(&cfg.data_dir), canonical(&cfg.keypair)])
                }
            }),
            default_memory_bytes: Some(cfg.process_memory_mib.saturating_mul(1 << 20)),
            cpu_millis: Some(cpu_millis),
            cgroups: if cfg.process_cgroup {
                match CgroupRoot::detect() {
                    Ok(root) => {
                        tracing::info!(
                            version = root.version(),
                            cpu_cap = root.caps_cpu(),
                            "process jobs run in cgroups of their own"
                        );
                        if !root.caps_cpu() {
                            tracing::warn!(
                                "no cpu cgroup controller here: process jobs' CPU is not capped, \
                                 and a job that spins every core can slow this worker's submit"
                            );
                        }
                        // A worker killed mid-run leaves its job cgroups, and an unsandboxed
                        // process job in one keeps running: both go before anything is run.
                        for dir in root.remove_stale() {
                            tracing::warn!(
                                cgroup = %dir.display(),
                                "removed a job cgroup a killed worker left (and what ran in it)"
                            );
                        }
                        Some(Arc::new(root))
                    }
                    Err(e) => {
                        tracing::warn!(reason = %e, "process jobs run without a cgroup (rlimits only)");
                        None
                    }
                }
            } else {
                None
            },
            ..ProcessConfig::default()
        });
        let (gpus, gpu_error) = match gpu::inventory() {
            Ok(g) => (g, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        // A GPU host whose engine cannot pass GPUs into containers would run GPU jobs on the
        // CPU, or not at all: refuse it at start and say what to change.
        let container = match container {
            Some(c) if !gpus.is_empty() => {
                let refused = match c.engine().await {
                    Ok(engine) => engine.can_pass_gpus().err(),
                    Err(e) => Some(e.to_string()),
                };
                match refused {
                    None => Some(c),
                    Some(why) if cfg.runtime == RuntimeKind::Auto => {
                        tracing::warn!(reason = %why, "the container engine cannot pass this host's GPUs; process jobs only");
                        None
                    }
                    Some(why) => return Err(ExecError::Setup(why)),
                }
            }
            other => other,
        };
        let pool = GpuPool::new(gpus.clone());
        let store = ResultStore::open(cfg.data_dir.join("results"))
            .map_err(|e| ExecError::Store(e.to_string()))?;
        let work = cfg.data_dir.join("work");
        std::fs::create_dir_all(&work).map_err(|e| ExecError::Store(e.to_string()))?;
        Ok(Self {
            fetcher,
            container,
            process,
            cpu_slots: cfg.cpu_slots as usize,
            gpus,
            gpu_error,
            pool,
            cpu: Arc::new(tokio::sync::Semaphore::new((cfg.cpu_slots as usize).max(1))),
            store,
            object_store: cfg.object_store.clone(),
            work,
            cancel: CancellationToken::new(),
            tamper: cfg.demo_tamper,
            job_disk_bytes: cfg.job_disk_mib.saturating_mul(1 << 20),
            disk_watch_every: Duration::from_secs(cfg.disk_watch_secs.max(1)),
            _lock: lock,
        })
    }

    /// The GPUs NVML reported at start (none without NVML; see [`Executor::gpu_error`]).
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }

    /// Why NVML could not be read, if it could not.
    pub fn gpu_error(&self) -> Option<&str> {
        self.gpu_error.as_deref()
    }

    /// The container engine, when one is configured and answered.
    pub fn container(&self) -> Option<&ContainerRuntime> {
        self.container.as_ref()
    }

    /// Reserves what `p` needs now (see [`Reservation`]); `None` when it is not free.
    pub fn reserve(&self, p: &Prepared) -> Option<Reservation> {
        reserve_from(
            &self.pool,
            &self.cpu,
            &p.spec,
            p.gpu_model.as_deref(),
            &self.busy_gpus(p),
        )
    }

    /// GPUs on which NVML sees a compute process now (another tenant, or an orphan of a
    /// killed job): a free GPU of the pool should have none. Asked only for GPU jobs on a
    /// host with GPUs.
    fn busy_gpus(&self, p: &Prepared) -> HashSet<String> {
        if p.spec.gpus == 0 || self.gpus.is_empty() {
            return HashSet::new();
        }
        match gpu::compute_processes() {
            Ok(per_gpu) => {
                let busy: HashSet<String> = per_gpu
                    .into_iter()
                    .filter(|(uuid, procs)| {
                        !procs.is_empty() && self.pool.is_free(uuid)
                    })
                    .map(|(uuid, procs)| {
                        tracing::warn!(gpu = %uuid, ?procs, "a free GPU has processes on it (another tenant, or an orphan): not leasing it");
                        uuid
                    })
                    .collect();
                metrics::gauge!("cinder_gpus_busy_foreign").set(busy.len() as f64);
                busy
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot ask NVML for the processes on the GPUs");
                HashSet::new()
            }
        }
    }

    /// Whether a job of market `m` might find room now: a cheap check before fetching its
    /// spec (the reservation after the fetch decides).
    pub fn has_room(&self, m: &MarketInfo) -> bool {
        if m.is_cpu() {
            self.cpu.available_permits() > 0
        } else {
            self.pool.free() > 0
        }
    }

    pub fn runtime_name(&self) -> &'static str {
        if self.container.is_some() {
            "container+process"
        } else {
            "process"
        }
    }

    /// How many jobs (GPUs, or CPU slots) this machine runs at once in market `m`; fails with
    /// the reason when it cannot serve the market at all.
    pub fn capacity(&self, m: &MarketInfo) -> Result<usize, ExecError> {
        capacity_for(m, &self.gpus, self.gpu_error.as_deref(), self.cpu_slots())
    }

    /// What to register on chain for market `m` ([`provider_info_for`]).
    pub fn provider_info(
        &self,
        m: &MarketInfo,
        endpoint: &str,
    ) -> Result<cinder::instructions::ProviderInfo, ExecError> {
        provider_info_for(
            m,
            &self.gpus,
            self.gpu_error.as_deref(),
            self.cpu_slots(),
            endpoint,
        )
    }

    fn cpu_slots(&self) -> usize {
        self.cpu_slots.max(1)
    }

    /// The container engine answers (when configured), or processes are allowed.
    pub async fn check_runtime(&self) -> Result<(), ExecError> {
        if let Some(c) = &self.container {
            c.check().await.map_err(ExecError::Runtime)?;
        }
        if !self.process.is_empty() {
            self.process.check().await?;
        }
        if self.container.is_none() && self.process.is_empty() {
            return Err(ExecError::Setup(
                "no container engine and no allow-listed programs: configure container_socket (Podman/Docker) or process_allow".into(),
            ));
        }
        Ok(())
    }

    /// Fetches the spec, checks its hash and that this machine can run it.
    pub async fn prepare(
        &self,
        job: &Pubkey,
        uri: &str,
        hash: &[u8; 32],
        m: &MarketInfo,
    ) -> Result<Prepared, ExecError> {
        let (spec, _) = self
            .fetcher
            .fetch_spec(uri, hash)
            .await
            .map_err(ExecError::SpecFetch)?;
        let p = &m.market.params;
        match spec.kind {
            SpecKind::Container if self.container.is_none() => {
                return Err(ExecError::Unsupported(
                    "a container job, and no container engine answers here".into(),
                ))
            }
            SpecKind::Process
                if !self
                    .process
                    .allows(spec.command.first().map(String::as_str).unwrap_or("")) =>
            {
                return Err(ExecError::Unsupported(format!(
                    "process {:?} is not on this worker's allow-list",
                    spec.command.first()
                )))
            }
            _ => {}
        }
        if !m.is_cpu() {
            if (spec.gpus as u64) < p.min_gpus_per_job as u64 {
                return Err(ExecError::Spec(format!(
                    "asks for {} GPUs; the market's minimum is {}",
                    spec.gpus, p.min_gpus_per_job
                )));
            }
            // Before claiming: the GPUs the job wants must exist here with the memory it
            // asks for (nominal, as the card is sold).
            let fit = fitting(m, &self.gpus)
                .into_iter()
                .filter(|g| g.nominal_vram_gib() >= spec.min_vram_gib as u64)
                .count();
            if spec.gpus as usize > fit {
                return Err(ExecError::Unsupported(format!(
                    "asks for {} GPUs with {} GiB; this machine has {fit} such (of {})",
                    spec.gpus,
                    spec.min_vram_gib,
                    describe(&self.gpus)
                )));
            }
        } else if spec.gpus > 0 {
            return Err(ExecError::Spec(format!(
                "asks for {} GPUs in a CPU market",
                spec.gpus
            )));
        }
        let free = cinder_runner::files::free_bytes(&self.work)
            .map_err(|e| ExecError::Store(format!("{}: {e}", self.work.display())))?;
        check_disk(&spec, free, self.fetcher.config().max_input_bytes)?;
        tracing::debug!(job = %job, "spec ok");
        Ok(Prepared {
            spec,
            gpu_model: (!m.is_cpu()).then(|| m.gpu_model()),
        })
    }

    /// Fetches the inputs, runs the job within `limit` (and the spec's own limit), hashes and
    /// stores the outputs.
    pub async fn run(
        &self,
        job: &Pubkey,
        p: &Prepared,
        limit: Duration,
        held: Reservation,
    ) -> Result<Executed, ExecError> {
        self.run_as(job, p, limit, false, held).await
    }

    /// Runs `p` on what `held` reserved; it is given back when the run ends.
    pub async fn run_as(
        &self,
        job: &Pubkey,
        p: &Prepared,
        limit: Duration,
        verifier: bool,
        held: Reservation,
    ) -> Result<Executed, ExecError> {
        let id = store_id(job, verifier);
        let dir = self.work.join(&id);
        let input = dir.join("in");
        let output = dir.join("out");
        let scratch = dir.join("work");
        let cancel = self.cancel.child_token();
        // One absolute deadline (the job's, less the submit margin) bounds every step: the
        // inputs, the image, the run (which gets what is left, up to its time limit), and the
        // hashing of what it writes.
        let deadline = tokio::time::Instant::now() + limit;
        // What the run writes is on the worker's own disk (a container's /scratch and outputs,
        // a process job's directories): one job must not fill it, nor write more than can be
        // hashed and stored before the deadline. The watch stops the run through its token
        // and says why.
        let disk = DiskWatch::start(
            vec![output.clone(), scratch.clone()],
            self.work.clone(),
            WatchLimits {
                cap: self.job_disk_bytes,
                end: deadline,
                hash_rate: HASH_BYTES_PER_SEC,
                every: self.disk_watch_every,
            },
            cancel.clone(),
        );
        let request = |gpus: Vec<Gpu>, left: Duration| RunRequest {
            job: job.to_string(),
            spec: p.spec.clone(),
            input_dir: input.clone(),
            output_dir: output.clone(),
            work_dir: scratch.clone(),
            log_dir: dir.clone(),
            gpus,
            time_limit: left.min(Duration::from_secs(p.spec.time_limit_secs as u64)),
        };
        // A container this worker started for the job before it was restarted (or killed)
        // is followed, not run again: a multi-hour job survives a worker upgrade.
        let (outcome, limit) = if let Some((container, left)) = self.left_behind(job, p).await {
            let held = self.reserve_exactly(held, p, &left.1)?;
            let req = request(held.gpus().to_vec(), limit);
            let outcome = container.reattach(&req, &left.0, cancel).await;
            drop(held);
            (outcome, req.time_limit)
        } else {
            let _ = std::fs::remove_dir_all(&dir);
            // A container of the job that is not ours to follow (another owner label, or a
            // process job's): never run beside it.
            if let Some(c) = &self.container {
                match c.remove_containers_of(&job.to_string()).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(job = %job, n, "removed containers a previous run left")
                    }
                    Err(e) => {
                        tracing::warn!(job = %job, error = %e, "could not list leftover containers")
                    }
                }
            }
            for d in [&input, &output, &scratch] {
                std::fs::create_dir_all(d).map_err(|e| ExecError::Store(e.to_string()))?;
            }
            let past = |what: &str| {
                ExecError::Deadline(format!(
                    "{what} was still going at the job's deadline ({} s after the run began)",
                    limit.as_secs()
                ))
            };
            tokio::time::timeout_at(deadline, self.fetcher.fetch_inputs(&p.spec, &input))
                .await
                .map_err(|_| past("fetching the inputs"))?
                .map_err(ExecError::Input)?;
            tokio::time::timeout_at(deadline, self.stage(p))
                .await
                .map_err(|_| past("pulling the image"))??;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left < Duration::from_secs(1) {
                return Err(past("getting the inputs and the image"));
            }
            let assigned: Vec<Gpu> = held.gpus().to_vec();
            if assigned.len() < p.spec.gpus as usize {
                return Err(ExecError::Gpu(format!(
                    "the job wants {} GPUs; {} were reserved for it",
                    p.spec.gpus,
                    assigned.len()
                )));
            }
            let req = request(assigned, left);
            let outcome = match p.spec.kind {
                SpecKind::Container => match &self.container {
                    Some(c) => c.run(&req, cancel).await,
                    None => unreachable!("prepare refused container jobs without an engine"),
                },
                SpecKind::Process => self.process.run(&req, cancel).await,
            };
            // The GPUs (or the slot) go back here, and on any early return or panic above.
            drop(held);
            (outcome, req.time_limit)
        };
        if let Some(stopped) = disk.stop() {
            return Err(stopped);
        }
        let report = match outcome? {
            RunOutcome::Completed { report } => report,
            RunOutcome::Failed { exit, log_tail } => {
                return Err(ExecError::Failed(format!("{exit}: {}", log_tail.trim())))
            }
            RunOutcome::TimedOut => return Err(ExecError::Timeout(limit.as_secs())),
            RunOutcome::Cancelled => return Err(ExecError::Cancelled),
        };
        // The run's own span (a re-attached container's from its start before the restart).
        let elapsed = Duration::from_millis(
            report
                .finished_unix_ms
                .saturating_sub(report.started_unix_ms),
        );
        if self.tamper && !verifier && p.spec.env.contains_key(TAMPER_ENV) {
            tracing::warn!(job = %job, "demo_tamper: committing to fabricated outputs");
            tamper_outputs(&output).map_err(|e| ExecError::Store(e.to_string()))?;
        }
        // A re-run after a crash may find the earlier run's result stored: keep that one
        // (it is what the journal recorded) only if the hash agrees.
        if let Some(prev) = self
            .store
            .get(&id)
            .map_err(|e| ExecError::Store(e.to_string()))?
        {
            let (now, _) = cinder_runner::results::hash_outputs(&output)
                .map_err(|e| ExecError::Store(e.to_string()))?;
            if now == prev.result_hash {
                let _ = std::fs::remove_dir_all(&dir);
                return Ok(Executed {
                    result_hash: now,
                    elapsed,
                });
            }
            self.store
                .remove(&id)
                .map_err(|e| ExecError::Store(e.to_string()))?;
        }
        let stored = self
            .store
            .store(&id, &output, &report)
            .map_err(|e| ExecError::Store(e.to_string()))?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Executed {
            result_hash: stored.result_hash,
            elapsed,
        })
    }

    /// The container of `job` a previous process of this worker left, with the GPU UUIDs it
    /// was given, when `p` is a container job and there is one.
    async fn left_behind(
        &self,
        job: &Pubkey,
        p: &Prepared,
    ) -> Option<(&ContainerRuntime, (String, Vec<String>))> {
        let c = self
            .container
            .as_ref()
            .filter(|_| p.spec.kind == SpecKind::Container)?;
        c.owner()?;
        match c.left_container(&job.to_string()).await {
            Ok(found) => found.map(|left| (c, left)),
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "could not look for the job's container; running it again");
                None
            }
        }
    }

    /// Swaps `held` for exactly the GPUs a re-attached container runs on (the same ones when
    /// nothing else took them meanwhile).
    fn reserve_exactly(
        &self,
        held: Reservation,
        p: &Prepared,
        uuids: &[String],
    ) -> Result<Reservation, ExecError> {
        if uuids.is_empty() {
            return Ok(held);
        }
        drop(held);
        match self.pool.take_uuids(uuids) {
            Some(lease) => Ok(Reservation {
                gpus: Some(lease),
                _slot: None,
            }),
            None => {
                // Its GPUs are leased to another job: they are in use twice now; say so, and
                // hold what the spec asks so the pool stays consistent.
                tracing::error!(gpus = ?uuids, "a re-attached container's GPUs are leased to another job");
                self.reserve(p).ok_or_else(|| {
                    ExecError::Gpu("the re-attached container's GPUs are taken".into())
                })
            }
        }
    }

    /// Before claiming (and again, cheaply, before a run): what a run needs that the job's
    /// clock should not pay for, i.e. a container job's image, pulled if it is not here.
    pub async fn stage(&self, p: &Prepared) -> Result<(), ExecError> {
        if p.spec.kind != SpecKind::Container {
            return Ok(());
        }
        let Some(c) = &self.container else {
            return Err(ExecError::Unsupported("no container engine here".into()));
        };
        let image = p.spec.image.as_deref().unwrap_or_default();
        let pin = cinder_runner::spec::ImagePin::parse(image)
            .ok_or_else(|| ExecError::Spec(format!("image {image:?} is not pinned by digest")))?;
        c.resolve(&pin)
            .await
            .map(|_| ())
            .map_err(ExecError::Runtime)
    }

    /// Copies a stored result to the configured object store, if any. Called after the
    /// submit: the result is safe and served locally already, so a failed upload is reported,
    /// not fatal, and a slow one never costs the job its deadline.
    pub async fn upload(&self, job: &Pubkey, verifier: bool) {
        let Some(url) = &self.object_store else {
            return;
        };
        let id = store_id(job, verifier);
        match cinder_runner::results::upload_result(&self.store, &id, url).await {
            Ok(r) => tracing::info!(job = %job, ?r, "result uploaded"),
            Err(e) => {
                tracing::warn!(job = %job, error = %e, url, "result upload failed; serving it from this worker only")
            }
        }
    }

    /// Removes what this worker keeps of `closed` jobs (entries the journal has as done or
    /// quit): the stored result, which nobody needs once the job is settled or not ours, and
    /// any work directory a crash left. Returns the store ids it removed something of.
    pub fn prune(&self, closed: &[JobEntry]) -> Vec<String> {
        let mut removed = Vec::new();
        for e in closed {
            let Ok(job) = e.job.parse::<Pubkey>() else {
                continue;
            };
            let id = store_id(&job, e.role == Role::Verifier);
            let stored = match self.store.remove(&id) {
                Ok(was) => was,
                Err(err) => {
                    tracing::warn!(job = %job, error = %err, "cannot remove the stored result");
                    false
                }
            };
            let work = self.work.join(&id);
            let leftover = work.is_dir() && std::fs::remove_dir_all(&work).is_ok();
            if stored || leftover {
                removed.push(id);
            }
        }
        removed
    }

    /// At start: removes the containers this worker left running for jobs `open` does not
    /// hold (a crash after the journal closed them, or a job given up while its container ran):
    /// they would hold a GPU and the disk forever. Returns their jobs.
    pub async fn remove_orphans(&self, open: &HashSet<String>) -> Vec<String> {
        let Some(c) = &self.container else {
            return Vec::new();
        };
        let Some(owner) = c.owner() else {
            return Vec::new();
        };
        match c.remove_orphans(owner, |job| open.contains(job)).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for containers a previous run left");
                Vec::new()
            }
        }
    }

    /// Sets the host gauges: free disk under `data_dir` and free GPUs (of every model).
    pub fn report_host(&self) {
        match cinder_runner::files::free_bytes(&self.work) {
            Ok(free) => metrics::gauge!("cinder_disk_free_bytes").set(free as f64),
            Err(e) => tracing::warn!(error = %e, "cannot read the free disk space"),
        }
        metrics::gauge!("cinder_gpus").set(self.gpus.len() as f64);
        metrics::gauge!("cinder_gpus_free").set(self.pool.free() as f64);
    }

    /// The result hash of a stored result, if the store has one.
    pub fn stored(&self, job: &Pubkey, verifier: bool) -> Option<[u8; 32]> {
        self.store
            .get(&store_id(job, verifier))
            .ok()
            .flatten()
            .map(|m| m.result_hash)
    }

    /// Stops every run (shutdown after the grace period).
    pub fn cancel_all(&self) {
        self.cancel.cancel();
    }

    pub fn store(&self) -> &ResultStore {
        &self.store
    }

    /// Where the stored outputs of our run of `job` (or our verifying re-run) are.
    pub fn stored_files(&self, job: &Pubkey, verifier: bool) -> Option<PathBuf> {
        let dir = self.store.dir(&store_id(job, verifier)).ok()?.join("files");
        dir.is_dir().then_some(dir)
    }
}

/// A cheating provider's outputs (`demo_tamper`): every `.npy` array keeps its header (shape
/// and dtype, so it looks right) and has its data zeroed, as from a run that never computed;
/// every other file is replaced by a line saying so.
pub fn tamper_outputs(dir: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            tamper_outputs(&path)?;
            continue;
        }
        let mut bytes = std::fs::read(&path)?;
        match cinder_runner::compare::parse_npy(&bytes) {
            Ok(npy) => bytes[npy.data_offset..].fill(0),
            Err(_) => bytes = b"fabricated by a cheating provider (demo_tamper)\n".to_vec(),
        }
        std::fs::write(&path, bytes)?;
    }
    Ok(())
}

/// Kept free on the worker's disk beyond a job's inputs, for its outputs and the store.
pub const DISK_RESERVE_BYTES: u64 = 1 << 30;

/// A running job is stopped when the worker's disk has less than this free: the journal and
/// the other jobs' results must still fit.
pub const DISK_FLOOR_BYTES: u64 = 256 << 20;

/// What the worker assumes it can hash and store of a run's outputs per second (sha256 on one
/// core runs at several times this; the disk may not): the margin a large output needs.
pub const HASH_BYTES_PER_SEC: u64 = 100 << 20;

/// What a [`DiskWatch`] holds a run to.
#[derive(Debug, Clone)]
struct WatchLimits {
    /// Most bytes the watched directories may hold.
    cap: u64,
    /// The run must leave time to hash and store its outputs before this (the job's deadline
    /// less the submit margin).
    end: tokio::time::Instant,
    /// [`HASH_BYTES_PER_SEC`], lower in tests.
    hash_rate: u64,
    every: Duration,
}

/// Why a watch stopped a run.
#[derive(Debug)]
enum Stopped {
    Disk(String),
    Deadline(String),
}

/// Measures a running job's directories every `every` (off the async threads) and cancels the
/// run when they hold more than `cap` bytes, when the disk under `data` has less than
/// [`DISK_FLOOR_BYTES`] free, or when hashing and storing what they hold would no longer end
/// before `end`: the submit margin grows with the output, and a run whose outputs could not
/// be committed in time is given back while the chain still allows a quit, instead of
/// running on into an expiry and its slash.
struct DiskWatch {
    task: tokio::task::JoinHandle<()>,
    why: Arc<std::sync::Mutex<Option<Stopped>>>,
}

impl DiskWatch {
    fn start(
        dirs: Vec<PathBuf>,
        data: PathBuf,
        limits: WatchLimits,
        cancel: CancellationToken,
    ) -> DiskWatch {
        let why = Arc::new(std::sync::Mutex::new(None));
        let said = why.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(limits.every) => {}
                    _ = cancel.cancelled() => return,
                }
                let (dirs, data) = (dirs.clone(), data.clone());
                let measured = tokio::task::spawn_blocking(move || {
                    let used: u64 = dirs
                        .iter()
                        .map(|d| cinder_runner::files::used_bytes(d))
                        .sum();
                    (used, cinder_runner::files::free_bytes(&data).ok())
                })
                .await;
                let Ok((used, free)) = measured else { continue };
                if let Some(stop) = limits.check(used, free, tokio::time::Instant::now()) {
                    *said.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
                    cancel.cancel();
                    return;
                }
            }
        });
        DiskWatch { task, why }
    }

    /// Ends the watch; why it stopped the run, if it did.
    fn stop(&self) -> Option<ExecError> {
        self.task.abort();
        let stopped = self.why.lock().unwrap_or_else(|e| e.into_inner()).take();
        stopped.map(|s| match s {
            Stopped::Disk(why) => ExecError::Disk(why),
            Stopped::Deadline(why) => ExecError::Deadline(why),
        })
    }
}

impl WatchLimits {
    /// Whether a run whose directories hold `used` bytes, with `free` bytes left on the disk,
    /// must stop `now`.
    fn check(&self, used: u64, free: Option<u64>, now: tokio::time::Instant) -> Option<Stopped> {
        let cap = self.cap;
        if used > cap {
            return Some(Stopped::Disk(format!(
                "the run wrote {used} bytes to its output and scratch directories, more than \
                 this worker's {cap} (job_disk_mib); it was stopped"
            )));
        }
        if let Some(f) = free.filter(|f| *f < DISK_FLOOR_BYTES) {
            return Some(Stopped::Disk(format!(
                "the worker's disk fell to {f} bytes free while the run wrote {used} bytes; it \
                 was stopped to keep {DISK_FLOOR_BYTES} free"
            )));
        }
        let hashing = Duration::from_secs(used / self.hash_rate.max(1));
        let left = self.end.saturating_duration_since(now);
        if hashing >= left {
            return Some(Stopped::Deadline(format!(
                "the run's {used} bytes of output would take about {} s to hash and store, and \
                 only {} s are left before the job's deadline; it was stopped so the job is \
                 given back in time",
                hashing.as_secs(),
                left.as_secs()
            )));
        }
        None
    }
}

impl Drop for DiskWatch {
    /// An early return (a failed fetch, a refused reservation) ends the watch too.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Before a claim: every input the spec states a size for fits this worker's limit, and their
/// total, plus `DISK_RESERVE_BYTES`, fits the disk's `free` bytes. (An input of unstated size
/// is bounded while it downloads, by the limit.)
fn check_disk(spec: &JobSpec, free: u64, max_input: u64) -> Result<(), ExecError> {
    if let Some(i) = spec
        .inputs
        .iter()
        .find(|i| i.size.is_some_and(|n| n > max_input))
    {
        return Err(ExecError::Unsupported(format!(
            "input {} is {} bytes; this worker takes inputs of up to {max_input} bytes",
            i.path,
            i.size.unwrap_or_default()
        )));
    }
    let (declared, unstated) = spec.declared_input_bytes();
    if declared.saturating_add(DISK_RESERVE_BYTES) > free {
        return Err(ExecError::Unsupported(format!(
            "its inputs need {declared} bytes{} and this worker's disk has {free} bytes free \
             ({DISK_RESERVE_BYTES} kept for outputs): free some space (retention_days prunes old \
             results)",
            if unstated > 0 {
                format!(" ({unstated} more of unstated size)")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

fn store_id(job: &Pubkey, verifier: bool) -> String {
    if verifier {
        format!("{job}.verify")
    } else {
        job.to_string()
    }
}

/// How many jobs (GPUs, or CPU slots) a machine with `gpus` (or NVML's `gpu_error`) runs at
/// once in market `m`; fails with the reason when it cannot serve the market at all.
pub fn capacity_for(
    m: &MarketInfo,
    gpus: &[Gpu],
    gpu_error: Option<&str>,
    cpu_slots: usize,
) -> Result<usize, ExecError> {
    if m.is_cpu() {
        return Ok(cpu_slots.max(1));
    }
    if let Some(e) = gpu_error {
        return Err(ExecError::Gpu(format!(
            "market {} needs {} GPUs but NVML is unavailable: {e}. Install the NVIDIA driver (libnvidia-ml.so) or serve a CPU market",
            m.id,
            m.gpu_model()
        )));
    }
    let p = &m.market.params;
    let fit = fitting(m, gpus);
    if fit.len() < p.min_gpus_per_job as usize {
        return Err(ExecError::Gpu(format!(
            "market {} needs at least {} × {} with {} GiB; NVML found {}",
            m.id,
            p.min_gpus_per_job,
            m.gpu_model(),
            p.min_vram_gib,
            describe(gpus)
        )));
    }
    Ok(fit.len())
}

/// The GPUs that serve market `m`: its model, at least its nominal memory (as the card is
/// sold: NVML's total is a little less), not split by MIG.
fn fitting<'a>(m: &MarketInfo, gpus: &'a [Gpu]) -> Vec<&'a Gpu> {
    let min = m.market.params.min_vram_gib as u64;
    gpus.iter()
        .filter(|g| g.name == m.gpu_model() && g.nominal_vram_gib() >= min && !g.mig_enabled)
        .collect()
}

/// What a provider registers on chain for market `m`: the class, the fitting GPUs' count and
/// smallest memory, and the inventory hash (CPU markets: the slots). The worker at start and
/// `cinder provider register` both use this, so they never disagree.
pub fn provider_info_for(
    m: &MarketInfo,
    gpus: &[Gpu],
    gpu_error: Option<&str>,
    cpu_slots: usize,
    endpoint: &str,
) -> Result<cinder::instructions::ProviderInfo, ExecError> {
    let cap = capacity_for(m, gpus, gpu_error, cpu_slots)?;
    let (vram, inventory) = if m.is_cpu() {
        let h: [u8; 32] = sha2::Sha256::digest(format!("cpu slots {cap}")).into();
        (0u16, h)
    } else {
        let min_gib = fitting(m, gpus)
            .iter()
            .map(|g| g.nominal_vram_gib())
            .min()
            .unwrap_or(0);
        (
            min_gib.min(u16::MAX as u64) as u16,
            gpu::inventory_hash(gpus),
        )
    };
    Ok(cinder::instructions::ProviderInfo {
        gpu_model: m.market.params.gpu_model,
        vram_gib: vram,
        gpu_count: cap.min(255) as u8,
        inventory_hash: inventory,
        endpoint: endpoint.to_string(),
    })
}

fn describe(gpus: &[Gpu]) -> String {
    if gpus.is_empty() {
        return "none".into();
    }
    gpus.iter()
        .map(|g| {
            let mig = if g.mig_enabled { ", MIG on" } else { "" };
            format!(
                "{} ({} MiB = {} GiB nominal{mig})",
                g.name,
                g.memory_mib,
                g.nominal_vram_gib()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Serves stored results to the jobs' clients (signed requests), in the background.
pub async fn serve_results(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let lookup = JournalLookup {
        journal: shared.journal.clone(),
        chain: shared.chain.clone(),
        verifiers: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind(shared.cfg.listen).await?;
    let store = shared.exec.store().clone();
    let endpoint = shared.cfg.endpoint.clone();
    tracing::info!(addr = %shared.cfg.listen, %endpoint, "results server");
    tokio::spawn(async move {
        let served = cinder_runner::server::serve(listener, store, Arc::new(lookup), &endpoint);
        if let Err(e) = served.await {
            tracing::error!(error = %e, "results server stopped");
        }
    });
    Ok(())
}

/// The client of a job, as the journal recorded it when we claimed it; its verifier, as the
/// chain has it.
struct JournalLookup {
    journal: crate::journal::Journal,
    chain: Arc<cinder_client::rpc::Chain>,
    /// The committed verifier last read for each job, with its deadline: answered while the
    /// chain cannot be read, so a flaky RPC node of ours does not withhold our outputs from
    /// the verifier (its verdict would then be mismatch, our fault). Sound: once committed, a
    /// verifier stays the job's until it submits or its deadline passes.
    verifiers: std::sync::Mutex<std::collections::HashMap<String, ([u8; 32], i64)>>,
}

#[async_trait::async_trait]
impl cinder_runner::server::ClientLookup for JournalLookup {
    async fn client_of(&self, job: &str) -> Result<Option<[u8; 32]>, String> {
        let client = self.journal.client_of(job).map_err(|e| e.to_string())?;
        Ok(client
            .and_then(|c| c.parse::<Pubkey>().ok())
            .map(|k| k.to_bytes()))
    }

    /// The job's current verifier, once it has committed to its own re-run on chain; while
    /// the chain cannot be read, the committed verifier last read, until its deadline.
    async fn verifier_of(&self, job: &str) -> Result<Option<[u8; 32]>, String> {
        let key: Pubkey = job.parse().map_err(|e| format!("{job}: {e}"))?;
        let read = self.chain.zero_copy::<cinder::state::Job>(&key).await;
        let mut cache = self.verifiers.lock().unwrap_or_else(|e| e.into_inner());
        match read {
            Ok(j) => {
                let committed = j.filter(|j| {
                    j.state == cinder::state::JobState::Verifying && j.verifier_committed()
                });
                match committed {
                    Some(j) => {
                        cache.insert(job.to_string(), (j.verifier.to_bytes(), j.verify_deadline));
                        Ok(Some(j.verifier.to_bytes()))
                    }
                    None => {
                        cache.remove(job);
                        Ok(None)
                    }
                }
            }
            Err(e) => match cache.get(job) {
                Some((verifier, deadline)) if *deadline >= crate::daemon::unix_now() => {
                    tracing::warn!(job, error = %e, "the chain is unreadable: serving the committed verifier last read");
                    Ok(Some(*verifier))
                }
                _ => Err(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Step;
    use cinder_runner::runtime::RunReport;

    fn entry(job: &Pubkey, role: Role) -> JobEntry {
        JobEntry {
            job: job.to_string(),
            role,
            step: Step::Done,
            market: String::new(),
            client: String::new(),
            spec_hash: String::new(),
            spec_uri: String::new(),
            result_hash: None,
            billed_secs: None,
            error: None,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn the_results_server_answers_with_the_committed_verifier_it_last_read_while_the_chain_is_unreadable(
    ) {
        use cinder_runner::server::ClientLookup;
        let dir = tempfile::tempdir().unwrap();
        let send = cinder_client::rpc::SendConfig {
            rpc_attempts: 1,
            ..Default::default()
        };
        let lookup = JournalLookup {
            journal: crate::journal::Journal::open(&dir.path().join("j.db")).unwrap(),
            // Nothing listens there: every read fails, as through an RPC outage.
            chain: Arc::new(cinder_client::rpc::Chain::new("http://127.0.0.1:9", send)),
            verifiers: Default::default(),
        };
        let job = Pubkey::new_unique().to_string();
        assert!(
            lookup.verifier_of(&job).await.is_err(),
            "nothing read yet: the error"
        );
        let now = crate::daemon::unix_now();
        let cache = |verifier: [u8; 32], deadline: i64| {
            lookup
                .verifiers
                .lock()
                .unwrap()
                .insert(job.clone(), (verifier, deadline))
        };
        cache([7; 32], now + 60);
        assert_eq!(lookup.verifier_of(&job).await, Ok(Some([7; 32])));
        cache([7; 32], now - 1);
        assert!(
            lookup.verifier_of(&job).await.is_err(),
            "past its deadline, the verifier is not served from memory"
        );
    }

    #[test]
    fn a_job_whose_full_run_and_submit_do_not_fit_its_deadline_is_not_taken() {
        let p = Prepared {
            spec: JobSpec::parse(
                br#"{"version": 1, "kind": "process", "command": ["sh"], "time_limit_secs": 285}"#,
            )
            .unwrap(),
            gpu_model: None,
        };
        p.check_fits(300, 15).expect("285 s + 15 s fit in 300 s");
        let e = p.check_fits(299, 15).unwrap_err();
        assert!(matches!(e, ExecError::Unsupported(_)), "{e}");
        assert!(
            e.to_string().contains("could not be submitted in time"),
            "{e}"
        );
    }

    /// Stores a one-file result under `id` as a run would.
    fn store_result(exec: &Executor, dir: &std::path::Path, id: &str) {
        let out = dir.join(format!("out-{id}"));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("r.txt"), id).unwrap();
        std::fs::write(dir.join("log"), b"").unwrap();
        let report = RunReport {
            runtime: "process".into(),
            exit_code: 0,
            started_unix_ms: 0,
            finished_unix_ms: 1,
            stdout_log: dir.join("log"),
            stderr_log: dir.join("log"),
        };
        exec.store().store(id, &out, &report).unwrap();
    }

    #[test]
    fn a_job_whose_stated_inputs_do_not_fit_the_disk_or_the_limit_is_not_claimed() {
        let spec = |sizes: &[Option<u64>]| {
            let inputs: Vec<serde_json::Value> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut v = serde_json::json!({"uri": "https://x.example/i", "sha256": "00".repeat(32), "path": format!("i{i}")});
                    if let Some(n) = n {
                        v["size"] = (*n).into();
                    }
                    v
                })
                .collect();
            JobSpec::parse(
                &serde_json::to_vec(&serde_json::json!({
                    "version": 1, "kind": "process", "command": ["sh"], "inputs": inputs, "time_limit_secs": 60
                }))
                .unwrap(),
            )
            .unwrap()
        };
        let gib = 1u64 << 30;
        let max = 64 * gib;
        // 3 GiB stated + 1 GiB reserve: fits 4 GiB free exactly, not one byte less.
        let two = spec(&[Some(gib), Some(2 * gib), None]);
        assert!(check_disk(&two, 4 * gib, max).is_ok());
        let e = check_disk(&two, 4 * gib - 1, max).unwrap_err().to_string();
        assert!(
            e.contains("3221225472 bytes (1 more of unstated size)")
                && e.contains("free some space"),
            "{e}"
        );
        // Nothing stated: only the reserve.
        assert!(check_disk(&spec(&[None]), gib, max).is_ok());
        assert!(check_disk(&spec(&[None]), gib - 1, max).is_err());
        // One input over the worker's limit, however much disk there is.
        let e = check_disk(&spec(&[Some(max + 1)]), u64::MAX, max)
            .unwrap_err()
            .to_string();
        assert!(e.contains("up to 68719476736 bytes"), "{e}");
        // Totals that would overflow saturate (more than any disk has), never wrap.
        let huge = spec(&[Some(u64::MAX / 2 + 1), Some(u64::MAX / 2 + 1)]);
        assert!(check_disk(&huge, u64::MAX - 1, u64::MAX).is_err());
        assert!(check_disk(&spec(&[Some(max), Some(max)]), 3 * max, max).is_ok());
    }

    #[test]
    fn free_bytes_reads_the_file_systems_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let free = cinder_runner::files::free_bytes(dir.path()).unwrap();
        assert!(free > 0);
        assert!(cinder_runner::files::free_bytes(&dir.path().join("missing")).is_err());
    }

    #[tokio::test]
    async fn pruning_removes_the_results_and_work_of_the_closed_jobs_given_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WorkerConfig {
            data_dir: dir.path().join("worker"),
            runtime: RuntimeKind::Process,
            process_allow: [("sh".to_string(), PathBuf::from("/bin/sh"))].into(),
            ..WorkerConfig::default()
        };
        let exec = Executor::new(&cfg).await.unwrap();
        let (old, old_verified, kept) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        for id in [
            old.to_string(),
            store_id(&old_verified, true),
            kept.to_string(),
        ] {
            store_result(&exec, dir.path(), &id);
        }
        // A crash left the old job's work directory behind.
        std::fs::create_dir_all(cfg.data_dir.join("work").join(old.to_string()).join("in"))
            .unwrap();
        let closed = [
            entry(&old, Role::Provider),
            entry(&old_verified, Role::Verifier),
            entry(&Pubkey::new_unique(), Role::Provider), // nothing stored: nothing to do
        ];
        let mut removed = exec.prune(&closed);
        removed.sort();
        let mut want = vec![old.to_string(), store_id(&old_verified, true)];
        want.sort();
        assert_eq!(removed, want);
        assert_eq!(exec.store().list().unwrap(), vec![kept.to_string()]);
        assert!(!cfg.data_dir.join("work").join(old.to_string()).exists());
        assert!(exec.stored(&kept, false).is_some());
        assert!(
            exec.prune(&closed).is_empty(),
            "a second pass finds nothing"
        );
    }

    /// One deadline bounds the inputs too: an input server that accepts and never answers
    /// does not hold the job past it (the fetcher's own timeouts are far longer), and the run
    /// never starts.
    #[tokio::test]
    async fn an_input_fetch_that_stalls_ends_at_the_jobs_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WorkerConfig {
            data_dir: dir.path().join("worker"),
            runtime: RuntimeKind::Process,
            process_allow: [("sh".to_string(), PathBuf::from("/bin/sh"))].into(),
            fetch_internal_networks: vec!["127.0.0.0/8".into()],
            ..WorkerConfig::default()
        };
        let exec = Executor::new(&cfg).await.unwrap();
        let stall = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = stall.local_addr().unwrap();
        let spec = format!(
            r#"{{"version": 1, "kind": "process", "command": ["sh", "-c", "touch /out/ran"],
                "inputs": [{{"uri": "http://{addr}/in", "sha256": "{}", "path": "in"}}],
                "time_limit_secs": 60}}"#,
            "00".repeat(32)
        );
        let p = Prepared {
            spec: JobSpec::parse(spec.as_bytes()).unwrap(),
            gpu_model: None,
        };
        let started = std::time::Instant::now();
        let held = exec.reserve(&p).expect("a CPU slot");
        let e = exec
            .run(&Pubkey::new_unique(), &p, Duration::from_secs(2), held)
            .await
            .unwrap_err();
        assert!(matches!(e, ExecError::Deadline(_)), "{e}");
        assert!(e.to_string().contains("fetching the inputs"), "{e}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(10),
            "{took:?}"
        );
        drop(stall);
    }

    /// The watch's rules: the cap and the disk floor stop a run as a disk error; an output
    /// that could no longer be hashed and stored before the deadline stops it as a deadline
    /// error, so the submit margin grows with the output (100 MiB/s: 10 GiB needs ≈ 102 s).
    #[test]
    fn a_watched_run_stops_at_its_cap_the_disk_floor_or_when_its_output_outgrows_the_time_left() {
        let now = tokio::time::Instant::now();
        let limits = WatchLimits {
            cap: 20 << 30,
            end: now + Duration::from_secs(120),
            hash_rate: HASH_BYTES_PER_SEC,
            every: Duration::from_secs(10),
        };
        let free = Some(100 << 30);
        assert!(limits.check(1 << 30, free, now).is_none());
        // 10 GiB: 102 s of hashing fits the 120 s left, not the 100 s left 20 s later.
        assert!(limits.check(10 << 30, free, now).is_none());
        let late = limits.check(10 << 30, free, now + Duration::from_secs(20));
        assert!(
            matches!(&late, Some(Stopped::Deadline(w)) if w.contains("about 102 s") && w.contains("only 100 s")),
            "{late:?}"
        );
        assert!(matches!(
            limits.check((20 << 30) + 1, free, now),
            Some(Stopped::Disk(w)) if w.contains("job_disk_mib")
        ));
        // At the cap exactly (and with time enough to hash it), or with the free space
        // unknown, it runs on.
        let roomy = WatchLimits {
            end: now + Duration::from_secs(3_600),
            ..limits.clone()
        };
        assert!(roomy.check(20 << 30, None, now).is_none());
        assert!(matches!(
            limits.check(1 << 20, Some(DISK_FLOOR_BYTES - 1), now),
            Some(Stopped::Disk(w)) if w.contains("bytes free")
        ));
        assert!(limits.check(1 << 20, Some(DISK_FLOOR_BYTES), now).is_none());
    }

    /// What a run writes to the worker's disk is capped: past `job_disk_mib` in its outputs
    /// or its scratch directory (a container's /scratch, a process job's HOME) the run is
    /// stopped, and the error says why (it becomes the quit's memo).
    #[tokio::test]
    async fn a_run_that_writes_past_its_disk_cap_is_stopped_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = WorkerConfig {
            data_dir: dir.path().join("worker"),
            runtime: RuntimeKind::Process,
            process_allow: [("sh".to_string(), PathBuf::from("/bin/sh"))].into(),
            job_disk_mib: 4,
            disk_watch_secs: 1,
            ..WorkerConfig::default()
        };
        let exec = Executor::new(&cfg).await.unwrap();
        let job = |script: &str| Prepared {
            spec: JobSpec::parse(
                format!(
                    r#"{{"version": 1, "kind": "process", "command": ["sh", "-c", "{script}"],
                        "time_limit_secs": 60}}"#
                )
                .as_bytes(),
            )
            .unwrap(),
            gpu_model: None,
        };
        for target in ["$CINDER_OUTPUT_DIR/big", "$HOME/big"] {
            let p = job(&format!(
                "head -c 16777216 /dev/zero > {target}; sleep 30; touch $CINDER_OUTPUT_DIR/done"
            ));
            let started = std::time::Instant::now();
            let held = exec.reserve(&p).expect("a CPU slot");
            let e = exec
                .run(&Pubkey::new_unique(), &p, Duration::from_secs(60), held)
                .await
                .unwrap_err();
            assert!(matches!(e, ExecError::Disk(_)), "{target}: {e}");
            assert_eq!(e.kind(), "disk");
            assert!(e.to_string().contains("job_disk_mib"), "{e}");
            assert!(started.elapsed() < Duration::from_secs(20), "{target}");
        }
        // Under the cap the same kind of job runs to its end.
        let p = job("head -c 1048576 /dev/zero > $CINDER_OUTPUT_DIR/small");
        let held = exec.reserve(&p).expect("a CPU slot");
        exec.run(&Pubkey::new_unique(), &p, Duration::from_secs(60), held)
            .await
            .unwrap();
    }

    /// The one admission control: a job's GPUs of the market's class (all or nothing) or a
    /// CPU slot, held until the reservation is dropped; another class's cards are never
    /// reserved; a verifier's multi-GPU re-run reserves all its GPUs like a run.
    #[test]
    fn a_reservation_holds_exactly_the_jobs_gpus_of_its_class_until_dropped() {
        let card = |index: u32, name: &str| Gpu {
            index,
            uuid: format!("GPU-{index}"),
            name: name.into(),
            memory_mib: 81_559,
            pci_device_id: 0,
            mig_enabled: false,
        };
        let h100 = "NVIDIA H100 80GB HBM3";
        let pool = GpuPool::new(vec![
            card(0, h100),
            card(1, "NVIDIA A100-SXM4-80GB"),
            card(2, h100),
            card(3, h100),
        ]);
        let cpu = Arc::new(tokio::sync::Semaphore::new(2));
        let spec = |gpus: u8| {
            JobSpec::parse(
                format!(r#"{{"version": 1, "kind": "process", "command": ["sh"], "time_limit_secs": 60, "gpus": {gpus}, "min_vram_gib": 80}}"#)
                    .as_bytes(),
            )
            .unwrap()
        };
        let none = HashSet::new();
        // A GPU with another process on it is passed over.
        let busy = HashSet::from(["GPU-0".to_string()]);
        let around = reserve_from(&pool, &cpu, &spec(2), Some(h100), &busy).expect("two idle");
        let uuids: Vec<&str> = around.gpus().iter().map(|g| g.uuid.as_str()).collect();
        assert_eq!(uuids, ["GPU-2", "GPU-3"]);
        assert!(reserve_from(&pool, &cpu, &spec(1), Some(h100), &busy).is_none());
        drop(around);
        let two = reserve_from(&pool, &cpu, &spec(2), Some(h100), &none).expect("two H100s free");
        let uuids: Vec<&str> = two.gpus().iter().map(|g| g.uuid.as_str()).collect();
        assert_eq!(uuids, ["GPU-0", "GPU-2"]);
        assert!(
            reserve_from(&pool, &cpu, &spec(2), Some(h100), &none).is_none(),
            "one H100 left (the A100 80GB is another class)"
        );
        let one = reserve_from(&pool, &cpu, &spec(1), Some(h100), &none).expect("the last H100");
        assert_eq!(one.gpus()[0].uuid, "GPU-3");
        assert!(reserve_from(&pool, &cpu, &spec(1), Some(h100), &none).is_none());
        drop(two);
        assert!(reserve_from(&pool, &cpu, &spec(2), Some(h100), &none).is_some());
        // Jobs without GPUs take CPU slots, never GPUs.
        let a = reserve_from(&pool, &cpu, &spec(0), None, &none).unwrap();
        let _b = reserve_from(&pool, &cpu, &spec(0), None, &none).unwrap();
        assert!(a.gpus().is_empty());
        assert!(
            reserve_from(&pool, &cpu, &spec(0), None, &none).is_none(),
            "two slots"
        );
        drop(a);
        assert!(reserve_from(&pool, &cpu, &spec(0), None, &none).is_some());
    }

    /// The worker at start and `cinder provider register` register the same thing: the
    /// market's class only (another model on the host is not counted), the smallest nominal
    /// memory among those, MIG cards left out.
    #[test]
    fn the_registration_counts_only_the_cards_that_serve_the_market() {
        use bytemuck::Zeroable;
        let h100 = "NVIDIA H100 80GB HBM3";
        let mut market = cinder::state::Market::zeroed();
        market.params.gpu_model = cinder_client::accounts::fixed(h100).unwrap();
        market.params.min_vram_gib = 80;
        market.params.min_gpus_per_job = 1;
        let m = MarketInfo {
            id: 2,
            key: Pubkey::new_unique(),
            market,
        };
        let card = |index: u32, name: &str, memory_mib: u64, mig: bool| Gpu {
            index,
            uuid: format!("GPU-{index}"),
            name: name.into(),
            memory_mib,
            pci_device_id: 0,
            mig_enabled: mig,
        };
        let host = [
            card(0, "NVIDIA A100-SXM4-80GB", 81_920, false),
            card(1, h100, 81_559, false),
            card(2, h100, 81_559, true),
            card(3, h100, 81_559, false),
        ];
        let info = provider_info_for(&m, &host, None, 4, "https://p.example").unwrap();
        assert_eq!(
            info.gpu_count, 2,
            "two H100s without MIG; not the A100 80GB"
        );
        assert_eq!(info.vram_gib, 80, "nominal, not NVML's 79.6");
        assert_eq!(info.gpu_model, m.market.params.gpu_model);
        assert_eq!(info.inventory_hash, gpu::inventory_hash(&host));
        let e = provider_info_for(&m, &host[..1], None, 4, "https://p.example").unwrap_err();
        assert!(e.to_string().contains("needs at least 1"), "{e}");
        let e = provider_info_for(&m, &[], Some("no libnvidia-ml"), 4, "x").unwrap_err();
        assert!(e.to_string().contains("NVML is unavailable"), "{e}");
    }

    /// Runner errors stay typed up to the worker: the refusal metric's reason tells a missing
    /// CDI spec or a bad image from a generic engine failure, and the text is the runner's.
    #[test]
    fn runner_errors_keep_their_kind_in_the_workers_metrics() {
        let gpu: ExecError = RuntimeError::GpuDevice {
            device: "nvidia.com/gpu=GPU-1".into(),
            reason: "unresolvable CDI devices".into(),
        }
        .into();
        assert_eq!(gpu.kind(), "gpu_device");
        assert!(gpu.to_string().contains("nvidia-ctk cdi generate"), "{gpu}");
        let image: ExecError = RuntimeError::ImageUnavailable {
            image: "x@sha256:00".into(),
            reason: "pull failed".into(),
        }
        .into();
        assert_eq!(image.kind(), "image");
        let env: ExecError = RuntimeError::EnvRefused {
            key: "LD_PRELOAD".into(),
        }
        .into();
        assert_eq!(env.kind(), "spec");
        let engine: ExecError = RuntimeError::Engine {
            op: "start container".into(),
            reason: "boom".into(),
        }
        .into();
        assert_eq!(engine.kind(), "runtime");
        assert_eq!(ExecError::Setup("none".into()).kind(), "runtime");
    }
}
