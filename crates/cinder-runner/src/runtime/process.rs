//! Jobs run as a program the operator allow-listed by name, with a cleared environment, in
//! their own process group (so a timeout or cancel kills every process the job started),
//! with an optional address-space limit.

use super::{
    discard_outputs, logs, prepare, unix_ms, visible_devices, Exit, RunOutcome, RunReport,
    RunRequest, Runtime, RuntimeError,
};
use crate::spec::SpecKind;
use std::{
    collections::BTreeMap,
    os::unix::{fs::PermissionsExt, process::ExitStatusExt},
    path::PathBuf,
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
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            allow: BTreeMap::new(),
            kill_grace: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(2),
        }
    }
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

        let mut cmd = Command::new(program);
        cmd.args(&req.spec.command[1..])
            .env_clear()
            .envs(&req.spec.env)
            .env("CINDER_JOB", &req.job)
            .env("CINDER_INPUT_DIR", &req.input_dir)
            .env("CINDER_OUTPUT_DIR", &req.output_dir)
            .env("CUDA_VISIBLE_DEVICES", visible_devices(&req.gpus))
            .current_dir(&req.work_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(mib) = req.spec.memory_limit_mib {
            let bytes = mib.saturating_mul(1024 * 1024) as libc::rlim_t;
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
                log_tail: logs::failure_tail(&stdout, &stderr),
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
        Ok(())
    }
}
