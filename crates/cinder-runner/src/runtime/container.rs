//! Jobs run in a container through the Docker Engine API (Podman's `podman system service`
//! or Docker's daemon): the image must be the one the spec pins, inputs are mounted
//! read-only and outputs read-write, assigned GPUs are passed the way the engine honours
//! (see `engine`), there is no network unless the operator allows it, and the container is
//! always removed.

use super::{
    discard_outputs,
    engine::{self, Bind, Engine, Plan, NVIDIA_CDI_KIND},
    logs, prepare, unix_ms, visible_devices, Exit, RunOutcome, RunReport, RunRequest, Runtime,
    RuntimeError,
};
use crate::spec::{ImagePin, SpecKind};
use bollard::{
    errors::Error as DockerError,
    models::ImageInspect,
    query_parameters::{
        CreateContainerOptions, CreateImageOptions, ListContainersOptions, LogsOptions,
        RemoveContainerOptions, StopContainerOptions, WaitContainerOptions,
    },
    ClientVersion, Docker,
};
use futures::StreamExt;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

/// A container's scratch directory on the worker's disk (its `HOME` and `CINDER_SCRATCH_DIR`):
/// the rest of its file system is read-only but for `/tmp`.
pub const CONTAINER_SCRATCH_DIR: &str = "/scratch";
/// Where a container sees its inputs (read-only); `CINDER_INPUT_DIR`.
pub const CONTAINER_INPUT_DIR: &str = "/cinder/in";
/// Label on every container this runtime creates; its value is the job key.
pub const JOB_LABEL: &str = "io.cinder.job";
/// Label naming the worker instance that created a container (its `owner`), so a worker
/// restarting removes its own orphans and never another worker's containers on the host.
pub const OWNER_LABEL: &str = "io.cinder.owner";

/// Docker Engine API 1.41: Podman 4's compatibility API and Docker ≥ 20.10 both speak it,
/// and it has everything used here (mounts, device requests).
const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// Settings of the container runtime.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// `unix:///run/podman/podman.sock`, `/var/run/docker.sock`, `tcp://host:2375`, …
    pub socket: String,
    /// Give containers the engine's default network instead of none.
    pub allow_network: bool,
    /// Between SIGTERM and SIGKILL when a job is stopped.
    pub kill_grace: Duration,
    /// Most processes a job may have at once (fork bombs).
    pub pids_limit: i64,
    /// Each engine API request but the wait for the job to end.
    pub request_timeout: Duration,
    /// This worker instance, as the `OWNER_LABEL` of its containers (none: unlabelled).
    pub owner: Option<String>,
    /// `/dev/shm` of a job's container (engines default to 64 MiB, which breaks PyTorch's
    /// data loaders).
    pub shm_bytes: i64,
    /// A job's `/tmp` (a tmpfs, counted against its memory).
    pub tmp_bytes: i64,
    /// Memory cap of a job whose spec sets none (`memory_limit_mib`).
    pub default_memory_bytes: i64,
    /// CPU time a job may use per second, in thousandths of a core; `None`: no cap.
    pub cpu_millis: Option<u64>,
    /// The CDI kind whose devices, named by UUID, are this host's GPUs (Podman).
    pub cdi_kind: String,
    /// A whole image pull (CUDA images are gigabytes).
    pub pull_timeout: Duration,
    /// `uid:gid` jobs run as inside their container (`nobody` by default; `None`: the image's
    /// own user, often root). Their output and scratch directories are given to that user.
    pub user: Option<String>,
    /// Most bytes of a job's log the engine keeps on disk (the latest are kept).
    pub log_bytes: i64,
}

impl ContainerConfig {
    pub fn new(socket: &str, allow_network: bool) -> ContainerConfig {
        ContainerConfig {
            socket: socket.to_string(),
            allow_network,
            kill_grace: Duration::from_secs(5),
            pids_limit: 4096,
            request_timeout: Duration::from_secs(120),
            owner: None,
            shm_bytes: 1 << 30,
            tmp_bytes: 1 << 30,
            default_memory_bytes: 32 << 30,
            cpu_millis: None,
            cdi_kind: NVIDIA_CDI_KIND.to_string(),
            pull_timeout: Duration::from_secs(3600),
            user: Some("65534:65534".into()),
            log_bytes: 16 << 20,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ContainerRuntime {
    docker: Docker,
    cfg: ContainerConfig,
    engine: Arc<OnceCell<Engine>>,
}

/// Removes the container if the run is dropped before it removed it itself.
struct ContainerGuard {
    docker: Docker,
    id: Option<String>,
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if let (Some(id), Ok(handle)) = (self.id.take(), tokio::runtime::Handle::try_current()) {
            let docker = self.docker.clone();
            handle.spawn(async move {
                let _ = docker.remove_container(&id, Some(force_remove())).await;
            });
        }
    }
}

fn force_remove() -> RemoveContainerOptions {
    RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    }
}

fn engine(op: &str) -> impl FnOnce(DockerError) -> RuntimeError + '_ {
    move |e| RuntimeError::Engine {
        op: op.to_string(),
        reason: e.to_string(),
    }
}

fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

enum Ending {
    Exited,
    TimedOut,
    Cancelled,
}

impl ContainerRuntime {
    /// A runtime on the engine at `socket`. Fails when no socket file is there (nothing
    /// listens); [`Runtime::check`] says whether the engine answers.
    pub fn connect(socket: &str, allow_network: bool) -> Result<ContainerRuntime, RuntimeError> {
        ContainerRuntime::with_config(ContainerConfig::new(socket, allow_network))
    }

    pub fn with_config(cfg: ContainerConfig) -> Result<ContainerRuntime, RuntimeError> {
        let unreachable = |reason: String| RuntimeError::EngineUnreachable {
            socket: cfg.socket.clone(),
            reason,
        };
        let timeout = cfg.request_timeout.as_secs().max(1);
        let socket = cfg.socket.as_str();
        let docker = if let Some(addr) = socket
            .strip_prefix("tcp://")
            .or_else(|| socket.strip_prefix("http://"))
        {
            Docker::connect_with_http(&format!("http://{addr}"), timeout, &API_VERSION)
        } else {
            let path = socket.strip_prefix("unix://").unwrap_or(socket);
            Docker::connect_with_unix(path, timeout, &API_VERSION)
        }
        .map_err(|e| match e {
            DockerError::SocketNotFoundError(path) => unreachable(format!("no socket at {path}")),
            e => unreachable(e.to_string()),
        })?;
        Ok(ContainerRuntime {
            docker,
            cfg,
            engine: Arc::new(OnceCell::new()),
        })
    }

    pub fn socket(&self) -> &str {
        &self.cfg.socket
    }

    /// The CDI kind whose devices are the GPUs (`nvidia.com/gpu`).
    pub fn cdi_kind(&self) -> &str {
        &self.cfg.cdi_kind
    }

    /// The `OWNER_LABEL` this runtime puts on its containers, if any.
    pub fn owner(&self) -> Option<&str> {
        self.cfg.owner.as_deref()
    }

    /// The engine client, for what this runtime does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The pinned reference (`name@sha256:<image id>`) of a local image given by any
    /// reference (`localhost/cinder-busybox:latest`): what a spec's `image` should say.
    /// This runtime resolves such a pin by image id; an engine's own CLI may accept only a
    /// manifest digest after the `@`.
    pub async fn pinned(&self, image: &str) -> Result<String, RuntimeError> {
        let found =
            self.docker
                .inspect_image(image)
                .await
                .map_err(|e| RuntimeError::ImageUnavailable {
                    image: image.to_string(),
                    reason: e.to_string(),
                })?;
        let id = found.id.unwrap_or_default();
        let hex = id.strip_prefix("sha256:").unwrap_or(&id);
        let name = match image.rsplit_once('@') {
            Some((name, _)) => name,
            // Strip a tag (a ':' after the last '/'), keep a registry port.
            None => match image.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => name,
                _ => image,
            },
        };
        let pinned = format!("{name}@sha256:{hex}");
        ImagePin::parse(&pinned)
            .map(|_| pinned)
            .ok_or_else(|| RuntimeError::ImageUnavailable {
                image: image.to_string(),
                reason: format!("the engine reports image id {id:?}"),
            })
    }

    /// The id of the local image that is `pin`, pulling it when it is absent. Refuses a
    /// local image of the pinned name with other content.
    pub async fn resolve(&self, pin: &ImagePin) -> Result<String, RuntimeError> {
        if let Some(id) = self.find_pinned(pin).await? {
            return Ok(id);
        }
        if let Some(name) = &pin.name {
            if let Ok(local) = self.docker.inspect_image(name).await {
                return Err(RuntimeError::ImagePinMismatch {
                    pinned: pin.to_string(),
                    name: name.clone(),
                    local: local.id.unwrap_or_default(),
                });
            }
        }
        let pull = CreateImageOptions {
            from_image: Some(pin.to_string()),
            ..Default::default()
        };
        // A pull of a CUDA image takes minutes: it gets its own timeout, and says how it goes.
        let puller = self.docker.clone().with_timeout(self.cfg.pull_timeout);
        let mut progress = puller.create_image(Some(pull), None, None);
        tracing::info!(image = %pin, "pulling the image");
        let started = std::time::Instant::now();
        let mut said = started;
        while let Some(step) = progress.next().await {
            let step = step.map_err(|e| RuntimeError::ImageUnavailable {
                image: pin.to_string(),
                reason: e.to_string(),
            })?;
            if said.elapsed() >= Duration::from_secs(15) {
                said = std::time::Instant::now();
                tracing::info!(image = %pin, elapsed_s = started.elapsed().as_secs(), status = ?step.status, layer = ?step.id, detail = ?step.progress_detail, "pulling the image");
            }
        }
        self.find_pinned(pin)
            .await?
            .ok_or_else(|| RuntimeError::ImageUnavailable {
                image: pin.to_string(),
                reason: "pulled, but no local image has that id or digest".into(),
            })
    }

    /// A local image whose id or a repo digest is the pin's.
    async fn find_pinned(&self, pin: &ImagePin) -> Result<Option<String>, RuntimeError> {
        for reference in [pin.to_string(), pin.digest()] {
            match self.docker.inspect_image(&reference).await {
                Ok(found) if matches_pin(&found, pin) => return Ok(found.id),
                Ok(found) => {
                    return Err(RuntimeError::ImagePinMismatch {
                        pinned: pin.to_string(),
                        name: reference,
                        local: found.id.unwrap_or_default(),
                    })
                }
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(engine("inspect image")(e)),
            }
        }
        Ok(None)
    }

    /// Containers carrying the label `key=value`, running or not.
    async fn labelled(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<bollard::models::ContainerSummary>, RuntimeError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{key}={value}")])]);
        self.docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(engine("list containers"))
    }

    /// Containers of `job` that exist now (running or not): none once its run returned.
    pub async fn containers_of(&self, job: &str) -> Result<Vec<String>, RuntimeError> {
        let list = self.labelled(JOB_LABEL, job).await?;
        Ok(list.into_iter().filter_map(|c| c.id).collect())
    }

    /// This owner's containers that exist now, as (container id, job label).
    pub async fn containers_owned(
        &self,
        owner: &str,
    ) -> Result<Vec<(String, String)>, RuntimeError> {
        let list = self.labelled(OWNER_LABEL, owner).await?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let job = c.labels.as_ref()?.get(JOB_LABEL)?.clone();
                Some((c.id?, job))
            })
            .collect())
    }

    /// Force-removes this owner's containers whose job `keep` rejects (a worker restarting:
    /// containers of jobs its journal no longer runs, left by a crash). Returns their jobs.
    pub async fn remove_orphans(
        &self,
        owner: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, RuntimeError> {
        let mut removed = Vec::new();
        for (id, job) in self.containers_owned(owner).await? {
            if keep(&job) {
                continue;
            }
            match self
                .docker
                .remove_container(&id, Some(force_remove()))
                .await
            {
                Ok(()) => removed.push(job),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(engine("remove container")(e)),
            }
        }
        Ok(removed)
    }

    /// Force-removes every container of `job` (what a worker killed mid-run left behind);
    /// returns how many there were.
    pub async fn remove_containers_of(&self, job: &str) -> Result<usize, RuntimeError> {
        let ids = self.containers_of(job).await?;
        for id in &ids {
            match self.docker.remove_container(id, Some(force_remove())).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(engine("remove container")(e)),
            }
        }
        Ok(ids.len())
    }

    /// The job's container: its image, command and environment; its inputs read-only, its
    /// outputs and scratch directory writable, the rest of its file system read-only but for
    /// `/tmp`; no capabilities, no network unless allowed, capped memory and processes, an
    /// init as PID 1, and exactly its GPUs.
    fn plan(&self, req: &RunRequest, image_id: &str) -> Plan {
        let outputs = req.spec.outputs.trim_end_matches('/').to_string();
        let mut env: Vec<(String, String)> = req
            .spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(req.spec.determinism_env(&req.job))
            .collect();
        let mut set = |k: &str, v: String| env.push((k.to_string(), v));
        set("CINDER_JOB", req.job.clone());
        set("CINDER_INPUT_DIR", CONTAINER_INPUT_DIR.into());
        set("CINDER_OUTPUT_DIR", outputs.clone());
        set("CINDER_SCRATCH_DIR", CONTAINER_SCRATCH_DIR.into());
        if !req.spec.env.contains_key("HOME") {
            // The image's HOME is read-only like the rest of it.
            set("HOME", CONTAINER_SCRATCH_DIR.into());
        }
        // "void" (not empty) so an image's NVIDIA_VISIBLE_DEVICES=all cannot grant GPUs
        // through a legacy nvidia runtime hook.
        let visible = if req.gpus.is_empty() {
            "void".to_string()
        } else {
            visible_devices(&req.gpus)
        };
        set("NVIDIA_VISIBLE_DEVICES", visible);
        let bind = |source: &std::path::Path, target: &str, read_only: bool| Bind {
            source: source.to_path_buf(),
            target: target.to_string(),
            read_only,
        };
        Plan {
            name: container_name(&req.job),
            image: image_id.to_string(),
            entrypoint: req.spec.command[0].clone(),
            args: req.spec.command[1..].to_vec(),
            env,
            labels: [(JOB_LABEL.to_string(), req.job.clone())]
                .into_iter()
                .chain(self.cfg.owner.clone().map(|o| (OWNER_LABEL.to_string(), o)))
                .collect(),
            binds: vec![
                bind(&req.input_dir, CONTAINER_INPUT_DIR, true),
                bind(&req.output_dir, &outputs, false),
                bind(&req.work_dir, CONTAINER_SCRATCH_DIR, false),
            ],
            tmp_bytes: self.cfg.tmp_bytes,
            shm_bytes: self.cfg.shm_bytes,
            memory_bytes: req
                .spec
                .memory_limit_mib
                .map_or(self.cfg.default_memory_bytes, |mib| {
                    mib.saturating_mul(1024 * 1024).min(i64::MAX as u64) as i64
                }),
            pids_limit: self.cfg.pids_limit,
            cpu_millis: self.cfg.cpu_millis,
            network: self.cfg.allow_network,
            gpus: req.gpus.iter().map(|g| g.uuid.clone()).collect(),
            cdi_kind: self.cfg.cdi_kind.clone(),
            user: self.cfg.user.clone(),
            log_bytes: self.cfg.log_bytes,
        }
    }

    /// The engine behind the socket (asked once).
    pub async fn engine(&self) -> Result<Engine, RuntimeError> {
        self.engine
            .get_or_try_init(|| async {
                let version = self.docker.version().await.map_err(|e| {
                    RuntimeError::EngineUnreachable {
                        socket: self.cfg.socket.clone(),
                        reason: e.to_string(),
                    }
                })?;
                let engine = Engine::from_version(&version);
                tracing::debug!(socket = %self.cfg.socket, ?engine, version = ?version.version, "container engine");
                Ok(engine)
            })
            .await
            .copied()
    }

    /// Creates the plan's container through the API that engine honours GPUs through.
    async fn create(&self, plan: &Plan) -> Result<String, RuntimeError> {
        let kind = self.engine().await?;
        if !plan.gpus.is_empty() {
            kind.can_pass_gpus()
                .map_err(RuntimeError::GpusUnsupported)?;
        }
        match kind {
            Engine::Podman { .. } => {
                engine::libpod_create(&self.cfg.socket, plan, self.cfg.request_timeout).await
            }
            Engine::Docker => Ok(self
                .docker
                .create_container(
                    Some(CreateContainerOptions {
                        name: Some(plan.name.clone()),
                        ..Default::default()
                    }),
                    plan.docker_body(),
                )
                .await
                .map_err(engine("create container"))?
                .id),
        }
    }

    async fn run_container(
        &self,
        req: &RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, RuntimeError> {
        let req = &prepare(req, SpecKind::Container)?;
        let image = req.spec.image.clone().unwrap_or_default();
        let pin = ImagePin::parse(&image).ok_or(RuntimeError::ImageNotPinned { image })?;
        let image_id = self.resolve(&pin).await?;
        let plan = self.plan(req, &image_id);
        give_to_user(plan.user.as_deref(), &[&req.output_dir, &req.work_dir])?;
        let id = self.create(&plan).await?;
        tracing::debug!(job = %req.job, container = %id, image = %image_id, "container created");
        self.see_through(req, &id, cancel, Some(&plan)).await
    }

    /// This worker's container of `job` that a previous process of it left (killed, or
    /// stopped to restart), running or ended, with the GPU UUIDs it was given: what
    /// [`ContainerRuntime::reattach`] follows. `None` when there is none.
    pub async fn left_container(
        &self,
        job: &str,
    ) -> Result<Option<(String, Vec<String>)>, RuntimeError> {
        let found = self.labelled(JOB_LABEL, job).await?;
        let ours = found.into_iter().find(|c| {
            let owner = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL));
            owner.map(String::as_str) == self.cfg.owner.as_deref()
        });
        let Some(id) = ours.and_then(|c| c.id) else {
            return Ok(None);
        };
        let inspected = self
            .docker
            .inspect_container(&id, None)
            .await
            .map_err(engine("inspect container"))?;
        let gpus = inspected
            .config
            .and_then(|c| c.env)
            .unwrap_or_default()
            .iter()
            .find_map(|v| v.strip_prefix("NVIDIA_VISIBLE_DEVICES="))
            .filter(|v| *v != "void" && !v.is_empty())
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        Ok(Some((id, gpus)))
    }

    /// Follows container `id` that a previous worker process started for `req` (same job,
    /// same directories): waits for it under `req.time_limit` (or finds it ended), collects its
    /// logs, removes it; outputs as a run's. The report's start is the container's own, so a
    /// job is billed for its whole run, not for the part after the restart.
    pub async fn reattach(
        &self,
        req: &RunRequest,
        id: &str,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, RuntimeError> {
        let req = &prepare(req, SpecKind::Container)?;
        tracing::info!(job = %req.job, container = %id, "re-attached to its running container");
        self.see_through(req, id, cancel, None).await
    }

    /// Drives a created (`plan`: started here) or re-attached (`None`) container to its end
    /// and removes it; outputs are discarded unless it completed.
    async fn see_through(
        &self,
        req: &RunRequest,
        id: &str,
        cancel: CancellationToken,
        plan: Option<&Plan>,
    ) -> Result<RunOutcome, RuntimeError> {
        let id = id.to_string();
        let mut guard = ContainerGuard {
            docker: self.docker.clone(),
            id: Some(id.clone()),
        };
        let outcome = self
            .drive(req, &id, cancel, plan.is_some())
            .await
            .map_err(|e| match (&e, plan) {
                (RuntimeError::Engine { reason, .. }, Some(plan)) => {
                    plan.gpu_refused(reason).unwrap_or(e)
                }
                _ => e,
            });
        let removed = self
            .docker
            .remove_container(&id, Some(force_remove()))
            .await;
        guard.id = None;
        let outcome = match (outcome, removed) {
            (Ok(outcome), Ok(())) => outcome,
            (Err(e), _) => {
                discard_outputs(&req.output_dir)?;
                return Err(e);
            }
            (Ok(_), Err(e)) => {
                // It may still run and write: its outputs cannot be trusted.
                discard_outputs(&req.output_dir)?;
                return Err(engine("remove container")(e));
            }
        };
        if !matches!(outcome, RunOutcome::Completed { .. }) {
            discard_outputs(&req.output_dir)?;
        }
        Ok(outcome)
    }

    /// Starts the container (unless it was started before: a re-attach) and sees it to its
    /// end; the caller removes it.
    async fn drive(
        &self,
        req: &RunRequest,
        id: &str,
        cancel: CancellationToken,
        start: bool,
    ) -> Result<RunOutcome, RuntimeError> {
        let started = if start {
            let now = SystemTime::now();
            self.docker
                .start_container(id, None)
                .await
                .map_err(engine("start container"))?;
            now
        } else {
            self.state(id)
                .await?
                .started_at
                .as_deref()
                .and_then(|t| {
                    humantime::parse_rfc3339_weak(t.trim_end_matches('Z').split('.').next()?).ok()
                })
                .unwrap_or_else(SystemTime::now)
        };
        // The wait lasts as long as the job: it gets its own request timeout.
        let waiter = self
            .docker
            .clone()
            .with_timeout(req.time_limit + self.cfg.kill_grace + Duration::from_secs(60));
        let mut wait = waiter.wait_container(id, Some(WaitContainerOptions::default()));
        let ending = tokio::select! {
            // Ok for exit 0; an error (bollard's for a non-zero code, or a broken wait) is
            // sorted out by the inspection below.
            _ = wait.next() => Ending::Exited,
            _ = tokio::time::sleep(req.time_limit) => Ending::TimedOut,
            _ = cancel.cancelled() => Ending::Cancelled,
        };
        drop(wait);
        if !matches!(ending, Ending::Exited) {
            let grace = self.cfg.kill_grace.as_secs().clamp(1, i32::MAX as u64) as i32;
            let stop = StopContainerOptions {
                t: Some(grace),
                ..Default::default()
            };
            let stopper = self
                .docker
                .clone()
                .with_timeout(self.cfg.kill_grace + self.cfg.request_timeout);
            if let Err(e) = stopper.stop_container(id, Some(stop)).await {
                tracing::warn!(job = %req.job, container = %id, error = %e, "stop failed; the forced remove kills it");
            }
        }
        let finished = SystemTime::now();
        let state = self.state(id).await?;
        if state.running == Some(true) && matches!(ending, Ending::Exited) {
            return Err(RuntimeError::Engine {
                op: "wait for container".into(),
                reason: "the engine ended the wait while the container still runs".into(),
            });
        }
        let (stdout, stderr) = self.collect_logs(id).await;
        logs::write_logs(&req.log_dir, &stdout, &stderr).map_err(super::io_err(&req.log_dir))?;
        Ok(match ending {
            Ending::TimedOut => RunOutcome::TimedOut,
            Ending::Cancelled => RunOutcome::Cancelled,
            Ending::Exited => match (
                state.exit_code.unwrap_or(-1),
                state.oom_killed == Some(true),
            ) {
                (_, true) => RunOutcome::Failed {
                    exit: Exit::OutOfMemory,
                    log_tail: logs::failure_tail(&stdout, &stderr),
                },
                (0, false) => RunOutcome::Completed {
                    report: RunReport {
                        runtime: "container".into(),
                        exit_code: 0,
                        started_unix_ms: unix_ms(started),
                        finished_unix_ms: unix_ms(finished),
                        stdout_log: req.stdout_log(),
                        stderr_log: req.stderr_log(),
                    },
                },
                (code, false) => RunOutcome::Failed {
                    exit: Exit::Code(code),
                    log_tail: logs::failure_tail(&stdout, &stderr),
                },
            },
        })
    }

    /// The container's state as the engine reports it now.
    async fn state(&self, id: &str) -> Result<bollard::models::ContainerState, RuntimeError> {
        Ok(self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(engine("inspect container"))?
            .state
            .unwrap_or_default())
    }

    /// The stopped container's stdout and stderr (the last lines), as tails.
    async fn collect_logs(&self, id: &str) -> (logs::SharedTail, logs::SharedTail) {
        let stdout = logs::Tail::shared(logs::LOG_CAP);
        let stderr = logs::Tail::shared(logs::LOG_CAP);
        let opts = LogsOptions {
            stdout: true,
            stderr: true,
            tail: "10000".into(),
            ..Default::default()
        };
        let mut stream = self.docker.logs(id, Some(opts));
        while let Some(item) = stream.next().await {
            match item {
                Ok(bollard::container::LogOutput::StdErr { message }) => {
                    logs::lock(&stderr).push(&message)
                }
                Ok(out) => logs::lock(&stdout).push(&out.into_bytes()),
                Err(e) => {
                    let note = format!("[cinder: reading the container log failed: {e}]\n");
                    logs::lock(&stderr).push(note.as_bytes());
                    break;
                }
            }
        }
        (stdout, stderr)
    }
}

/// Gives the job's writable directories to the numeric `uid:gid` it runs as (a root worker;
/// a rootless engine maps users itself, and a name is the image's to resolve).
fn give_to_user(user: Option<&str>, dirs: &[&std::path::Path]) -> Result<(), RuntimeError> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() == 0 };
    let Some((uid, gid)) = user.and_then(|u| {
        let (uid, gid) = u.split_once(':').unwrap_or((u, u));
        Some((uid.parse::<u32>().ok()?, gid.parse::<u32>().ok()?))
    }) else {
        return Ok(());
    };
    if !root {
        return Ok(());
    }
    for d in dirs {
        std::os::unix::fs::chown(d, Some(uid), Some(gid)).map_err(super::io_err(d))?;
    }
    Ok(())
}

fn matches_pin(image: &ImageInspect, pin: &ImagePin) -> bool {
    let digest = pin.digest();
    let id_matches = image.id.as_deref() == Some(digest.as_str());
    let digest_matches = image
        .repo_digests
        .iter()
        .flatten()
        .any(|d| match d.rsplit_once('@') {
            Some((name, d)) => d == digest && pin.name.as_deref().is_none_or(|n| n == name),
            None => false,
        });
    id_matches || digest_matches
}

/// `cinder-<job>-<n>`: readable in `podman ps`, unique per run (a verifier's re-run of the
/// same job may run beside the original).
fn container_name(job: &str) -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let clean: String = job
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(44)
        .collect();
    format!(
        "cinder-{clean}-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

impl Runtime for ContainerRuntime {
    async fn run(
        &self,
        req: &RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, RuntimeError> {
        self.run_container(req, cancel).await
    }

    /// The engine answers a ping and says which engine it is.
    async fn check(&self) -> Result<(), RuntimeError> {
        let unreachable = |e: DockerError| RuntimeError::EngineUnreachable {
            socket: self.cfg.socket.clone(),
            reason: e.to_string(),
        };
        self.docker.ping().await.map_err(unreachable)?;
        self.engine().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_matches_by_image_id_or_by_digest_of_the_same_name() {
        let hex = "ab".repeat(32);
        let other = "cd".repeat(32);
        let image = |id: &str, digests: Vec<String>| ImageInspect {
            id: Some(format!("sha256:{id}")),
            repo_digests: Some(digests),
            ..Default::default()
        };
        let pin = ImagePin::parse(&format!("localhost/x@sha256:{hex}")).unwrap();
        assert!(matches_pin(&image(&hex, vec![]), &pin));
        assert!(matches_pin(
            &image(&other, vec![format!("localhost/x@sha256:{hex}")]),
            &pin
        ));
        assert!(!matches_pin(
            &image(&other, vec![format!("localhost/y@sha256:{hex}")]),
            &pin
        ));
        assert!(!matches_pin(
            &image(&other, vec![format!("localhost/x@sha256:{other}")]),
            &pin
        ));
    }

    #[test]
    fn a_deterministic_jobs_container_gets_the_determinism_switches() {
        let spec = crate::spec::JobSpec::parse(
            br#"{"version": 1, "kind": "container", "image": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "command": ["true"], "outputs": "/out", "time_limit_secs": 1, "deterministic": true, "env": {"XLA_FLAGS": "--mine"}}"#,
        )
        .unwrap();
        let rt = ContainerRuntime::connect("tcp://127.0.0.1:1", false).unwrap();
        let dir = std::path::PathBuf::from("/nonexistent");
        let req = RunRequest {
            job: "DetJob".into(),
            spec: spec.clone(),
            input_dir: dir.join("in"),
            output_dir: dir.join("out"),
            work_dir: dir.join("work"),
            log_dir: dir.join("log"),
            gpus: vec![],
            time_limit: Duration::from_secs(1),
        };
        let env: Vec<(String, String)> = rt.plan(&req, "img").env;
        for pair in spec.determinism_env("DetJob") {
            assert!(env.contains(&pair), "{pair:?} missing: {env:?}");
        }
        assert!(env.contains(&("XLA_FLAGS".into(), "--mine".into())));
        assert_eq!(env.iter().filter(|(k, _)| k == "XLA_FLAGS").count(), 1);
    }

    #[test]
    fn container_names_are_unique_and_clean() {
        let a = container_name("Job/../Key");
        let b = container_name("Job/../Key");
        assert_ne!(a, b);
        assert!(a.starts_with("cinder-JobKey-"), "{a}");
    }
}
