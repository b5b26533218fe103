//! Running a job: in a container ([`ContainerRuntime`]) or as an allow-listed program
//! ([`ProcessRuntime`]), on the GPUs it was assigned, under its time limit, with its
//! stdout/stderr tails kept in log files. Anything but a clean exit discards the outputs.

mod cgroup;
mod container;
mod engine;
mod logs;
mod process;

pub use cgroup::{CgroupLimits, CgroupRoot, JobCgroup};
pub use container::{
    ContainerConfig, ContainerRuntime, CONTAINER_INPUT_DIR, CONTAINER_SCRATCH_DIR, JOB_LABEL,
    OWNER_LABEL,
};
pub use engine::{Engine, Plan, NVIDIA_CDI_KIND};
pub use process::{ProcessConfig, ProcessRuntime, Sandbox};

use crate::{
    gpu::Gpu,
    spec::{JobSpec, SpecError, SpecKind},
};
use serde::{Deserialize, Serialize};
use std::{
    future::Future,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio_util::sync::CancellationToken;

/// One run of a job.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The job key (base58); names the container and goes in `CINDER_JOB`.
    pub job: String,
    /// Already validated (fetched with [`crate::spec::Fetcher::fetch_spec`]).
    pub spec: JobSpec,
    /// The fetched inputs (read-only to a container).
    pub input_dir: PathBuf,
    /// Where the outputs go; it should be empty. Emptied again unless the run completes.
    pub output_dir: PathBuf,
    /// A private scratch directory: a process job's working directory.
    pub work_dir: PathBuf,
    /// Where `stdout.log` and `stderr.log` are written.
    pub log_dir: PathBuf,
    /// The GPUs assigned to this run (empty for none).
    pub gpus: Vec<Gpu>,
    /// The limit to enforce: the spec's, or less.
    pub time_limit: Duration,
}

impl RunRequest {
    pub fn stdout_log(&self) -> PathBuf {
        self.log_dir.join("stdout.log")
    }

    pub fn stderr_log(&self) -> PathBuf {
        self.log_dir.join("stderr.log")
    }
}

/// How a run that exited did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// "container" or "process".
    pub runtime: String,
    pub exit_code: i64,
    pub started_unix_ms: u64,
    pub finished_unix_ms: u64,
    pub stdout_log: PathBuf,
    pub stderr_log: PathBuf,
}

/// How a failed run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this non-zero code.
    Code(i64),
    /// A signal ended it (not one the runtime sent).
    Signal(i32),
    /// The kernel killed it for exceeding its memory limit.
    OutOfMemory,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "code {c}"),
            Exit::Signal(s) => write!(f, "signal {s}"),
            Exit::OutOfMemory => write!(f, "killed: out of memory"),
        }
    }
}

/// The end of a run. Only `Completed` leaves outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Exit 0; the outputs are in the request's output dir.
    Completed { report: RunReport },
    /// It ended otherwise; `log_tail` is the end of its stderr (or stdout).
    Failed { exit: Exit, log_tail: String },
    /// Killed at its time limit.
    TimedOut,
    /// Killed because the cancel token fired.
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid spec: {0}")]
    InvalidSpec(#[from] SpecError),
    #[error("this runtime runs {expected:?} jobs; the spec is a {got:?} job")]
    WrongKind { expected: SpecKind, got: SpecKind },
    #[error("program {name:?} is not on this worker's allow-list (process_allow)")]
    NotAllowed { name: String },
    #[error("no programs are allow-listed (process_allow is empty): process jobs cannot run here")]
    NoProgramsAllowed,
    #[error("allow-listed program {name:?} = {path} is unusable: {reason}")]
    ProgramUnusable {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("the spec sets {key}: process jobs may not set loader variables (LD_*, GCONV_PATH)")]
    EnvRefused { key: String },
    #[error("the process sandbox ({bwrap}) does not start: {reason}. Install bubblewrap (`apt-get install bubblewrap`) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or set process_sandbox = false for clients you trust")]
    SandboxUnusable { bwrap: PathBuf, reason: String },
    #[error("could not start {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("could not make the job's cgroup: {0}")]
    Cgroup(String),
    #[error("container engine at {socket} is unreachable: {reason}. For Podman run scripts/podman-setup.sh (it starts `podman system service`); for Docker start dockerd")]
    EngineUnreachable { socket: String, reason: String },
    #[error("the container engine cannot give the job GPU {device}: {reason}. Describe the GPUs to it with `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` (then `nvidia-ctk cdi list` names each GPU's UUID); see docs/operator.md")]
    GpuDevice { device: String, reason: String },
    #[error("{0}")]
    GpusUnsupported(String),
    #[error("container engine: {op} failed: {reason}")]
    Engine { op: String, reason: String },
    #[error("image {image:?} is not pinned by digest or image id")]
    ImageNotPinned { image: String },
    #[error("image pinned as {pinned} but the local image {name} is {local}: refusing to run other content than the spec names")]
    ImagePinMismatch {
        pinned: String,
        name: String,
        local: String,
    },
    #[error("image {image} is not available locally and could not be pulled: {reason}")]
    ImageUnavailable { image: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// Runs jobs of one kind.
pub trait Runtime: Send + Sync {
    /// Runs `req` until it exits, its time limit passes, or `cancel` fires; the run's
    /// processes or container are gone when this returns.
    fn run(
        &self,
        req: &RunRequest,
        cancel: CancellationToken,
    ) -> impl Future<Output = Result<RunOutcome, RuntimeError>> + Send;

    /// Ok when jobs can run; otherwise precisely why not.
    fn check(&self) -> impl Future<Output = Result<(), RuntimeError>> + Send;
}

pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RuntimeError + '_ {
    move |e| RuntimeError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The request as a runtime runs it: of the runtime's kind, its spec valid (even when the
/// caller built it in code), its directories created and made absolute (a process's working
/// directory is not the worker's, and engines want absolute bind sources).
fn prepare(req: &RunRequest, kind: SpecKind) -> Result<RunRequest, RuntimeError> {
    if req.spec.kind != kind {
        return Err(RuntimeError::WrongKind {
            expected: kind,
            got: req.spec.kind,
        });
    }
    req.spec.validate()?;
    let absolute = |dir: &PathBuf| -> Result<PathBuf, RuntimeError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        std::fs::canonicalize(dir).map_err(io_err(dir))
    };
    Ok(RunRequest {
        input_dir: absolute(&req.input_dir)?,
        output_dir: absolute(&req.output_dir)?,
        work_dir: absolute(&req.work_dir)?,
        log_dir: absolute(&req.log_dir)?,
        ..req.clone()
    })
}

/// Empties the output dir of a run that did not complete: partial outputs are never stored.
fn discard_outputs(dir: &Path) -> Result<(), RuntimeError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_err(&path))?;
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(io_err(&path))?;
    }
    Ok(())
}

/// The GPUs as `CUDA_VISIBLE_DEVICES` / `NVIDIA_VISIBLE_DEVICES` want them: uuids, comma
/// separated (uuids, unlike indices, mean the same GPU to every process).
pub fn visible_devices(gpus: &[Gpu]) -> String {
    gpus.iter()
        .map(|g| g.uuid.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
