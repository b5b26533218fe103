//! Jobs run as a program the operator allow-listed by name, with a cleared environment, in
//! their own process group (so a timeout or cancel kills every process the job started),
//! with a memory limit (the spec's, or the operator's default), and, unless the operator turned it off, inside a
//! sandbox ([`Sandbox`]: bubblewrap): an unprivileged user, its own user, pid, mount, network,
//! IPC and UTS namespaces, the host read-only, the worker's data and keypair invisible, only
//! the job's output and scratch directories writable, a process limit, and death with the run.

use super::{
    discard_outputs, logs, prepare, unix_ms, visible_devices, Exit, RunOutcome, RunReport,
    RunRequest, Runtime, RuntimeError,
};
use crate::spec::SpecKind;
use std::{
    collections::BTreeMap,
    os::unix::{fs::PermissionsExt, process::ExitStatusExt},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, SystemTime},
};
use tokio::{io::AsyncReadExt, process::Command, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// Settings of the process runtime.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// Program name (as in a spec's `command[0]`) → absolute path.
    pub allow: BTreeMap<String, PathBuf>,
    /// Between SIGTERM and SIGKILL to the job's process group.
    pub kill_grace: Duration,
    /// How long to wait for the job's output pipes to close after it ended.
    pub drain_timeout: Duration,
    /// Confine each job; `None` runs it as the worker's user (trusted clients only).
    pub sandbox: Option<Sandbox>,
    /// The memory limit of a job whose spec sets no `memory_limit_mib` (bytes; `None`: none).
    pub default_memory_bytes: Option<u64>,
    /// Run each job in a cgroup of its own under this root: its memory limit then counts what
    /// it holds (tmpfs and page cache too), and its process limit its own processes.
    pub cgroups: Option<std::sync::Arc<super::CgroupRoot>>,
    /// CPU time a job may use per second, in thousandths of a core (its cgroup's CPU quota,
    /// where the cpu controller is there); `None`: no cap.
    pub cpu_millis: Option<u64>,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            allow: BTreeMap::new(),
            kill_grace: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(2),
            sandbox: None,
            default_memory_bytes: None,
            cgroups: None,
            cpu_millis: None,
        }
    }
}

/// How a process job is confined (bubblewrap, `apt-get install bubblewrap`).
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The `bwrap` binary.
    pub bwrap: PathBuf,
    /// util-linux's `setpriv`: a root worker's jobs switch to `uid`/`gid` with it.
    pub setpriv: PathBuf,
    /// The unprivileged user and group a job runs as when the worker is root (`nobody`); a
    /// worker that is not root runs jobs as itself, still in their own namespaces.
    pub uid: u32,
    pub gid: u32,
    /// What a job must not see: a directory becomes an empty tmpfs, a file an empty one (the
    /// worker's `data_dir` but for the job's own directories, its keypair).
    pub hide: Vec<PathBuf>,
    /// Most processes the job's user may have (RLIMIT_NPROC): fork bombs.
    pub pids_limit: u64,
    /// Size of the job's `/tmp` and `/dev/shm` each: tmpfs mounts, held in the host's memory.
    pub tmp_bytes: u64,
}

impl Sandbox {
    pub fn new(hide: Vec<PathBuf>) -> Sandbox {
        Sandbox {
            bwrap: PathBuf::from("/usr/bin/bwrap"),
            setpriv: PathBuf::from("/usr/bin/setpriv"),
            uid: 65534,
            gid: 65534,
            hide,
            pids_limit: 4096,
            tmp_bytes: 1 << 30,
        }
    }

    /// Whether the worker is root, so jobs drop to `uid`/`gid`.
    fn drops_privileges(&self) -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// The `bwrap` arguments that confine `req`, up to and including the program's path
    /// (for a root worker, `setpriv` switching to the job's user before it). The job's
    /// directories are bound at [`SANDBOX_INPUT_DIR`], [`SANDBOX_OUTPUT_DIR`] and
    /// [`SANDBOX_WORK_DIR`], whatever their host paths.
    ///
    /// A root worker runs bwrap as root (it can reach every path to bind or hide, and needs no
    /// user namespace), and the job as the unprivileged `uid`/`gid` with no capabilities and
    /// no new privileges; a worker that is not root runs bwrap, and the job, as itself in a
    /// user namespace of its own.
    pub fn args(&self, req: &RunRequest, program: &Path) -> Vec<String> {
        let root = self.drops_privileges();
        let mut a: Vec<String> = vec!["--die-with-parent".into(), "--new-session".into()];
        if root {
            a.extend(
                [
                    "--unshare-pid",
                    "--unshare-net",
                    "--unshare-ipc",
                    "--unshare-uts",
                    "--unshare-cgroup-try",
                ]
                .map(String::from),
            );
        } else {
            a.push("--unshare-all".into());
        }
        a.extend(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"].map(String::from));
        // Fresh, size-capped memory file systems: a job cannot fill the host's memory through
        // them.
        let size = self.tmp_bytes.to_string();
        for fresh in ["/tmp", "/dev/shm"] {
            a.extend(["--perms", "1777", "--size", &size, "--tmpfs", fresh].map(String::from));
        }
        // After the fresh /tmp and /dev: what is hidden stays hidden wherever it lives.
        for path in &self.hide {
            let p = path.to_string_lossy().into_owned();
            if path.is_dir() {
                a.extend(["--size".into(), "65536".into(), "--tmpfs".into(), p]);
            } else if path.exists() {
                a.extend(["--ro-bind".into(), "/dev/null".into(), p]);
            }
        }
        if !req.gpus.is_empty() {
            // CUDA needs the control and UVM nodes beside the GPUs' own; which GPUs a job
            // uses is CUDA_VISIBLE_DEVICES.
            for node in nvidia_device_nodes() {
                let n = node.to_string_lossy().into_owned();
                a.extend(["--dev-bind".into(), n.clone(), n]);
            }
        }
        let dir = |d: &Path| d.to_string_lossy().into_owned();
        a.extend(["--perms", "0755", "--dir", "/tmp/cinder"].map(String::from));
        a.extend([
            "--ro-bind".into(),
            dir(&req.input_dir),
            SANDBOX_INPUT_DIR.into(),
        ]);
        a.extend([
            "--bind".into(),
            dir(&req.output_dir),
            SANDBOX_OUTPUT_DIR.into(),
        ]);
        a.extend(["--bind".into(), dir(&req.work_dir), SANDBOX_WORK_DIR.into()]);
        a.extend(["--chdir".into(), SANDBOX_WORK_DIR.into(), "--".into()]);
        if root {
            a.extend([
                dir(&self.setpriv),
                format!("--reuid={}", self.uid),
                format!("--regid={}", self.gid),
                "--clear-groups".into(),
                "--no-new-privs".into(),
                "--".into(),
            ]);
        }
        a.push(dir(program));
        a
    }
}

/// Where a sandboxed job sees its inputs (read-only), outputs and scratch directory (its
/// working directory and `HOME`): `CINDER_INPUT_DIR`, `CINDER_OUTPUT_DIR`.
pub const SANDBOX_INPUT_DIR: &str = "/tmp/cinder/in";
pub const SANDBOX_OUTPUT_DIR: &str = "/tmp/cinder/out";
pub const SANDBOX_WORK_DIR: &str = "/tmp/cinder/work";

/// `/dev/nvidia*` (GPUs, nvidiactl, nvidia-uvm, …) and `/dev/nvidia-caps/*`.
fn nvidia_device_nodes() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir("/dev")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("nvidia"))
        })
        .collect();
    out.sort();
    out
}

/// Variables a spec may not set for a process job: they would make the loader run code of
/// the job's choosing inside an allow-listed program.
fn refused_env(key: &str) -> bool {
    key.starts_with("LD_") || key == "GCONV_PATH"
}

#[derive(Debug, Clone)]
pub struct ProcessRuntime {
    cfg: ProcessConfig,
}

/// Kills the process group if the run is dropped before it ended it (the worker's task was
/// aborted): a job's processes never outlive its run.
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn signal(&self, signal: i32) {
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }
}

impl GroupGuard {
    /// The group is gone; its id may be reused, so never signal it again.
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

enum Ending {
    Exited(std::io::Result<std::process::ExitStatus>),
    TimedOut,
    Cancelled,
}

impl ProcessRuntime {
    /// A runtime that runs these programs (name → absolute path), with default timings.
    pub fn new(allow: BTreeMap<String, PathBuf>) -> ProcessRuntime {
        ProcessRuntime::with_config(ProcessConfig {
            allow,
            ..ProcessConfig::default()
        })
    }

    pub fn with_config(cfg: ProcessConfig) -> ProcessRuntime {
        ProcessRuntime { cfg }
    }

    /// Whether a spec's `command[0]` names an allow-listed program.
    pub fn allows(&self, name: &str) -> bool {
        self.cfg.allow.contains_key(name)
    }

    /// No program is allow-listed.
    pub fn is_empty(&self) -> bool {
        self.cfg.allow.is_empty()
    }

    fn program(&self, name: &str) -> Result<&PathBuf, RuntimeError> {
        self.cfg
            .allow
            .get(name)
            .ok_or_else(|| RuntimeError::NotAllowed {
                name: name.to_string(),
            })
    }

    fn check_program(name: &str, path: &PathBuf) -> Result<(), RuntimeError> {
        let unusable = |reason: String| RuntimeError::ProgramUnusable {
            name: name.to_string(),
            path: path.clone(),
            reason,
        };
        if !path.is_absolute() {
            return Err(unusable("not an absolute path".into()));
        }
        let meta = std::fs::metadata(path).map_err(|e| unusable(e.to_string()))?;
        if !meta.is_file() {
            return Err(unusable("not a regular file".into()));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(unusable("not executable".into()));
        }
        Ok(())
    }

    async fn run_process(
        &self,
        req: &RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, RuntimeError> {
        let req = &prepare(req, SpecKind::Process)?;
        let name = req.spec.command.first().map(String::as_str).unwrap_or("");
        let program = self.program(name)?;
        Self::check_program(name, program)?;
        if let Some(key) = req.spec.env.keys().find(|k| refused_env(k)) {
            return Err(RuntimeError::EnvRefused { key: key.clone() });
        }

        // The job's directories as it sees them.
        let (mut cmd, dirs) = match &self.cfg.sandbox {
            Some(sb) => {
                if sb.drops_privileges() {
                    // The job's user writes its outputs and scratch, nothing else.
                    for d in [&req.output_dir, &req.work_dir] {
                        std::os::unix::fs::chown(d, Some(sb.uid), Some(sb.gid))
                            .map_err(super::io_err(d))?;
                    }
                }
                let mut c = Command::new(&sb.bwrap);
                c.args(sb.args(req, program));
                let dirs =
                    [SANDBOX_INPUT_DIR, SANDBOX_OUTPUT_DIR, SANDBOX_WORK_DIR].map(PathBuf::from);
                (c, dirs)
            }
            None => (
                Command::new(program),
                [
                    req.input_dir.clone(),
                    req.output_dir.clone(),
                    req.work_dir.clone(),
                ],
            ),
        };
        let [input_dir, output_dir, work_dir] = &dirs;
        cmd.args(&req.spec.command[1..])
            .env_clear()
            .envs(&req.spec.env)
            .envs(req.spec.determinism_env(&req.job))
            .env("CINDER_JOB", &req.job)
            .env("CINDER_INPUT_DIR", input_dir)
            .env("CINDER_OUTPUT_DIR", output_dir)
            .env("CUDA_VISIBLE_DEVICES", visible_devices(&req.gpus))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if self.cfg.sandbox.is_some() {
            // bwrap changes into the bound work dir itself; HOME is the scratch dir as in a
            // container (the host's HOME is not the job's).
            if !req.spec.env.contains_key("HOME") {
                cmd.env("HOME", work_dir);
            }
        } else {
            cmd.current_dir(work_dir);
        }
        let memory = req
            .spec
            .memory_limit_mib
            .map(|mib| mib.saturating_mul(1024 * 1024))
            .or(self.cfg.default_memory_bytes);
        if let Some(bytes) = memory {
            let bytes = bytes as libc::rlim_t;
            // The address space (RLIMIT_AS); for a job with GPUs the data segment
            // (RLIMIT_DATA: private writable memory) instead, because the CUDA driver
            // reserves far more address space than it uses and would not start under an
            // address-space limit of any useful size.
            let resource = if req.gpus.is_empty() {
                libc::RLIMIT_AS
            } else {
                libc::RLIMIT_DATA
            };
            // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe
            // and touches no memory of the parent.
            unsafe {
                cmd.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: bytes,
                        rlim_max: bytes,
                    };
                    if libc::setrlimit(resource, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }

        if let Some(sb) = &self.cfg.sandbox {
            let nproc = sb.pids_limit as libc::rlim_t;
            // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe
            // and touches no memory of the parent. The limit is inherited by the job (and
            // counts against its user once setpriv has switched to it).
            unsafe {
                cmd.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: nproc,
                        rlim_max: nproc,
                    };
                    if libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }

        // The job's cgroup: the child joins it before exec, so bwrap and everything the job
        // starts are in it; dropping it (on every return below) kills what is left.
        let cgroup = match &self.cfg.cgroups {
            Some(root) => {
                let limits = super::CgroupLimits {
                    memory_bytes: memory,
                    pids: self.cfg.sandbox.as_ref().map_or(4096, |sb| sb.pids_limit),
                    cpu_millis: self.cfg.cpu_millis,
                };
                let cg = root.create(limits).map_err(RuntimeError::Cgroup)?;
                let fds = cg.join_fds();
                // SAFETY: runs in the forked child before exec; it only write(2)s to
                // descriptors the parent opened, from a vector allocated before the fork.
                unsafe {
                    cmd.pre_exec(move || super::cgroup::join_in_child(&fds));
                }
                Some(cg)
            }
            None => None,
        };

        let started = SystemTime::now();
        let mut child = cmd.spawn().map_err(|e| RuntimeError::Spawn {
            program: program.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut guard = GroupGuard {
            pgid: child.id().map(|p| p as i32),
        };
        let stdout = logs::Tail::shared(logs::LOG_CAP);
        let stderr = logs::Tail::shared(logs::LOG_CAP);
        let readers = [
            child.stdout.take().map(|r| drain(r, stdout.clone())),
            child.stderr.take().map(|r| drain(r, stderr.clone())),
        ];
        tracing::debug!(job = %req.job, program = %program.display(), pgid = ?guard.pgid, "process started");

        let ending = tokio::select! {
            status = child.wait() => Ending::Exited(status),
            _ = tokio::time::sleep(req.time_limit) => Ending::TimedOut,
            _ = cancel.cancelled() => Ending::Cancelled,
        };
        match &ending {
            // Whatever the job left running in its group ends with it.
            Ending::Exited(_) => guard.signal(libc::SIGKILL),
            Ending::TimedOut | Ending::Cancelled => {
                guard.signal(libc::SIGTERM);
                if tokio::time::timeout(self.cfg.kill_grace, child.wait())
                    .await
                    .is_err()
                {
                    tracing::debug!(job = %req.job, "still running after SIGTERM; SIGKILL");
                }
                guard.signal(libc::SIGKILL);
                let _ = child.wait().await;
            }
        }
        let finished = SystemTime::now();
        for mut reader in readers.into_iter().flatten() {
            // A process that left the group (setsid) may hold a pipe open: stop waiting.
            if tokio::time::timeout(self.cfg.drain_timeout, &mut reader)
                .await
                .is_err()
            {
                tracing::warn!(job = %req.job, "job output pipe still open after the job ended");
                reader.abort();
            }
        }
        guard.disarm();
        logs::write_logs(&req.log_dir, &stdout, &stderr).map_err(super::io_err(&req.log_dir))?;

        let outcome = match ending {
            Ending::Exited(Ok(s)) if s.success() => RunOutcome::Completed {
                report: RunReport {
                    runtime: "process".into(),
                    exit_code: 0,
                    started_unix_ms: unix_ms(started),
                    finished_unix_ms: unix_ms(finished),
                    stdout_log: req.stdout_log(),
                    stderr_log: req.stderr_log(),
                },
            },
            Ending::Exited(Ok(s)) => RunOutcome::Failed {
                exit: match (s.code(), s.signal()) {
                    (Some(code), _) => Exit::Code(code as i64),
                    (None, Some(sig)) => Exit::Signal(sig),
                    (None, None) => Exit::Code(-1),
                },
                log_tail: match &cgroup {
                    Some(cg) if cg.oom_killed() => format!(
                        "killed by the kernel: the job held more memory than its limit of {} MiB \
                         (memory_limit_mib){}",
                        memory.unwrap_or(0) >> 20,
                        logs::failure_tail(&stdout, &stderr)
                            .lines()
                            .last()
                            .map(|l| format!("; last output: {l}"))
                            .unwrap_or_default()
                    ),
                    _ => logs::failure_tail(&stdout, &stderr),
                },
            },
            Ending::Exited(Err(e)) => {
                discard_outputs(&req.output_dir)?;
                return Err(RuntimeError::Spawn {
                    program: program.display().to_string(),
                    reason: format!("waiting for it failed: {e}"),
                });
            }
            Ending::TimedOut => RunOutcome::TimedOut,
            Ending::Cancelled => RunOutcome::Cancelled,
        };
        if !matches!(outcome, RunOutcome::Completed { .. }) {
            discard_outputs(&req.output_dir)?;
        }
        Ok(outcome)
    }
}

/// Copies a pipe into a tail until end-of-file.
fn drain<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    mut pipe: R,
    tail: logs::SharedTail,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => logs::lock(&tail).push(&buf[..n]),
            }
        }
    })
}

impl Runtime for ProcessRuntime {
    async fn run(
        &self,
        req: &RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, RuntimeError> {
        self.run_process(req, cancel).await
    }

    /// Every allow-listed program is an absolute path to an executable file.
    async fn check(&self) -> Result<(), RuntimeError> {
        if self.cfg.allow.is_empty() {
            return Err(RuntimeError::NoProgramsAllowed);
        }
        for (name, path) in &self.cfg.allow {
            Self::check_program(name, path)?;
        }
        if let Some(sb) = &self.cfg.sandbox {
            check_sandbox(sb).await?;
        }
        Ok(())
    }
}

/// The sandbox starts: `bwrap` is there, may set up its namespaces, and (root worker)
/// `setpriv` switches to the job's user.
async fn check_sandbox(sb: &Sandbox) -> Result<(), RuntimeError> {
    let unusable = |reason: String| RuntimeError::SandboxUnusable {
        bwrap: sb.bwrap.clone(),
        reason,
    };
    let probe = tempfile_dir().map_err(|e| unusable(format!("a probe directory: {e}")))?;
    let req = RunRequest {
        job: "sandbox-check".into(),
        spec: crate::spec::JobSpec::parse(
            br#"{"version": 1, "kind": "process", "command": ["true"], "time_limit_secs": 10}"#,
        )
        .map_err(|e| unusable(e.to_string()))?,
        input_dir: probe.clone(),
        output_dir: probe.clone(),
        work_dir: probe.clone(),
        log_dir: probe.clone(),
        gpus: Vec::new(),
        time_limit: Duration::from_secs(10),
    };
    let out = Command::new(&sb.bwrap)
        .args(sb.args(&req, Path::new("/bin/true")))
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await;
    let _ = std::fs::remove_dir_all(&probe);
    let out = out.map_err(|e| unusable(e.to_string()))?;
    if !out.status.success() {
        return Err(unusable(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "cinder-sandbox-check-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
