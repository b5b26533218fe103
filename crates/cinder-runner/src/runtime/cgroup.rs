//! A cgroup per process job. An address-space limit (RLIMIT_AS) counts what a job maps, not
//! what it holds, and misses what it keeps in its memory file systems (`/tmp`, `/dev/shm`);
//! RLIMIT_NPROC counts the processes of the job's user, not of the job. The job's cgroup caps
//! what the job really holds in memory (its anonymous memory, its tmpfs files, its page cache)
//! and how many processes it has, and its kill reaches every process the job started.
//!
//! Both hierarchies are handled:
//! - **cgroup v2** (Debian 12, Ubuntu 22.04 and later): the worker needs a subtree of its own
//!   (systemd: `Delegate=yes` in its unit). It moves itself into a leaf `worker` of its cgroup,
//!   enables the memory and pids controllers below, and makes `cinder-jobs/<job>` beside it.
//! - **cgroup v1** (older hosts, and the hybrid layout of this repository's CI machine): one
//!   `cinder-jobs/<job>` under the worker's own cgroup of the memory and pids controllers
//!   (and of the cpu controller, where it is mounted).
//!
//! Where the cpu controller is there, a job's cgroup also caps its CPU time (a CFS quota), so
//! a job that spins every core cannot starve the worker that must submit its result in time.
//!
//! A host where neither works (no root, no delegation) is told at start, and process jobs then
//! run with their rlimits only.

use std::{
    fs,
    os::{fd::AsRawFd, unix::fs::OpenOptionsExt},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

const V2_MOUNT: &str = "/sys/fs/cgroup";
const V1_MOUNT: &str = "/sys/fs/cgroup";
const JOBS: &str = "cinder-jobs";

/// Where this worker makes its jobs' cgroups.
#[derive(Debug, Clone)]
pub struct CgroupRoot {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `.../cinder-jobs` in the unified hierarchy, controllers enabled for its children
    /// (`cpu` too where it is delegated).
    V2 { jobs: PathBuf, cpu: bool },
    /// `.../cinder-jobs` under the memory and the pids controllers' hierarchies, and the cpu
    /// controller's where it is mounted.
    V1 {
        memory: PathBuf,
        pids: PathBuf,
        cpu: Option<PathBuf>,
    },
}

/// What a job's cgroup holds it to.
#[derive(Debug, Clone, Copy)]
pub struct CgroupLimits {
    /// Memory the job may hold (bytes), swap not counted on top; `None`: the hierarchy's.
    pub memory_bytes: Option<u64>,
    /// Processes (and threads) the job may have at once.
    pub pids: u64,
    /// CPU time the job may use per second of wall time, in thousandths of a core (1500: one
    /// and a half cores); `None`: no cap. Applied where the cpu controller is available.
    pub cpu_millis: Option<u64>,
}

/// The CFS period a job's CPU cap is counted over (µs).
const CPU_PERIOD_US: u64 = 100_000;

/// This process's path in the hierarchy `controller` (`""` for v2's unified line).
fn own_path(controller: &str) -> Result<String, String> {
    let text =
        fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    text.lines()
        .find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
            let matches = if controller.is_empty() {
                names.is_empty()
            } else {
                names.split(',').any(|n| n == controller)
            };
            matches.then(|| path.to_string())
        })
        .ok_or_else(|| {
            format!(
                "this process is in no {} cgroup",
                if controller.is_empty() {
                    "v2"
                } else {
                    controller
                }
            )
        })
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    fs::write(path, value).map_err(|e| format!("writing {value:?} to {}: {e}", path.display()))
}

fn join(mount: &str, rel: &str) -> PathBuf {
    Path::new(mount).join(rel.trim_start_matches('/'))
}

/// This process's cgroup in the unified hierarchy (its path, its directory, and whether the
/// cpu controller is delegated too), once it is known to have the memory and pids controllers
/// delegated.
fn v2_own() -> Result<(String, PathBuf, bool), String> {
    let rel = own_path("")?;
    let own = join(V2_MOUNT, &rel);
    let available = fs::read_to_string(own.join("cgroup.controllers"))
        .map_err(|e| format!("{}: {e}", own.display()))?;
    for c in ["memory", "pids"] {
        if !available.split_whitespace().any(|a| a == c) {
            return Err(format!(
                "the {c} controller is not delegated to this worker's cgroup {} (systemd: \
                 Delegate=yes in its unit)",
                own.display()
            ));
        }
    }
    let cpu = available.split_whitespace().any(|a| a == "cpu");
    Ok((rel, own, cpu))
}

/// This process's cgroup directory in the v1 hierarchy of `controller`.
fn v1_own(controller: &str) -> Result<PathBuf, String> {
    let mount = Path::new(V1_MOUNT).join(controller);
    if !mount.join("cgroup.procs").exists() {
        return Err(format!(
            "no {controller} cgroup hierarchy at {}",
            mount.display()
        ));
    }
    Ok(join(&mount.to_string_lossy(), &own_path(controller)?))
}

impl CgroupRoot {
    /// Finds where this process may make job cgroups and prepares `cinder-jobs` there, or says
    /// why it cannot (not root, no delegated subtree, no memory or pids controller).
    pub fn detect() -> Result<CgroupRoot, String> {
        if Path::new(V2_MOUNT).join("cgroup.controllers").exists() {
            Self::detect_v2()
        } else {
            Self::detect_v1()
        }
    }

    /// Whether [`CgroupRoot::detect`] would succeed, without changing anything (`cinder
    /// doctor`): the hierarchy's version, or why not.
    pub fn probe() -> Result<&'static str, String> {
        let writable = |dir: &Path| -> Result<(), String> {
            let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
                .map_err(|e| e.to_string())?;
            // SAFETY: access(2) on a NUL-terminated path that outlives the call.
            if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
                Ok(())
            } else {
                Err(format!(
                    "{} is not writable by this user: {}",
                    dir.display(),
                    std::io::Error::last_os_error()
                ))
            }
        };
        if Path::new(V2_MOUNT).join("cgroup.controllers").exists() {
            writable(&v2_own()?.1)?;
            Ok("v2")
        } else {
            for c in ["memory", "pids"] {
                writable(&v1_own(c)?)?;
            }
            Ok("v1")
        }
    }

    fn detect_v2() -> Result<CgroupRoot, String> {
        let (rel, own, cpu) = v2_own()?;
        // No process may sit in a cgroup whose controllers are enabled for its children: the
        // worker moves itself into a leaf of its own first (the root cgroup is exempt).
        if rel != "/" {
            let leaf = own.join("worker");
            fs::create_dir_all(&leaf).map_err(|e| format!("{}: {e}", leaf.display()))?;
            write(&leaf.join("cgroup.procs"), "0")?;
        }
        let controllers = if cpu {
            "+memory +pids +cpu"
        } else {
            "+memory +pids"
        };
        write(&own.join("cgroup.subtree_control"), controllers)?;
        let jobs = own.join(JOBS);
        fs::create_dir_all(&jobs).map_err(|e| format!("{}: {e}", jobs.display()))?;
        write(&jobs.join("cgroup.subtree_control"), controllers)?;
        Ok(CgroupRoot {
            kind: Kind::V2 { jobs, cpu },
        })
    }

    fn detect_v1() -> Result<CgroupRoot, String> {
        let dir = |controller: &str| -> Result<PathBuf, String> {
            let jobs = v1_own(controller)?.join(JOBS);
            fs::create_dir_all(&jobs).map_err(|e| format!("{}: {e}", jobs.display()))?;
            Ok(jobs)
        };
        Ok(CgroupRoot {
            kind: Kind::V1 {
                memory: dir("memory")?,
                pids: dir("pids")?,
                // Optional: without it, jobs run uncapped in CPU.
                cpu: dir("cpu").ok(),
            },
        })
    }

    /// Removes the job cgroups a worker that is gone left behind (killed before its runs'
    /// cgroups were removed), killing whatever still runs in them first: a process job that ran
    /// without the sandbox outlives a `kill -9` of its worker, and keeps its memory and its
    /// GPU. A job cgroup is named `job-<worker pid>-<n>`; one whose worker still runs (another
    /// worker beside this one, or this one) is left alone. Returns what was removed.
    pub fn remove_stale(&self) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        for jobs in self.jobs_dirs() {
            let Ok(entries) = fs::read_dir(&jobs) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(pid) = name
                    .to_str()
                    .and_then(|n| n.strip_prefix("job-"))
                    .and_then(|rest| rest.split_once('-'))
                    .and_then(|(pid, _)| pid.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
                    continue;
                }
                let dir = entry.path();
                kill_all(&dir, matches!(self.kind, Kind::V2 { .. }));
                if remove_dir_when_released(&dir, 200) {
                    removed.push(dir);
                } else {
                    tracing::warn!(cgroup = %dir.display(), "a stale job cgroup could not be removed");
                }
            }
        }
        removed
    }

    /// The `cinder-jobs` directories job cgroups are made in.
    pub fn jobs_dirs(&self) -> Vec<PathBuf> {
        match &self.kind {
            Kind::V2 { jobs, .. } => vec![jobs.clone()],
            Kind::V1 {
                memory, pids, cpu, ..
            } => [memory, pids].into_iter().chain(cpu).cloned().collect(),
        }
    }

    /// Whether job cgroups can cap a job's CPU time (the cpu controller is there).
    pub fn caps_cpu(&self) -> bool {
        match &self.kind {
            Kind::V2 { cpu, .. } => *cpu,
            Kind::V1 { cpu, .. } => cpu.is_some(),
        }
    }

    /// Which hierarchy: `"v2"` or `"v1"`.
    pub fn version(&self) -> &'static str {
        match self.kind {
            Kind::V2 { .. } => "v2",
            Kind::V1 { .. } => "v1",
        }
    }

    /// A new, empty cgroup for one run, with `limits` set.
    pub fn create(&self, limits: CgroupLimits) -> Result<JobCgroup, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "job-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let memory = limits.memory_bytes.map(|b| b.to_string());
        let pids = limits.pids.to_string();
        // The quota per CFS period; at least the kernel's minimum of 1 ms.
        let quota = limits
            .cpu_millis
            .map(|m| m.saturating_mul(CPU_PERIOD_US / 1000).max(1000).to_string());
        let mut cg = JobCgroup {
            dirs: Vec::new(),
            procs: Vec::new(),
            v2: matches!(self.kind, Kind::V2 { .. }),
        };
        let make = |cg: &mut JobCgroup, dir: PathBuf| -> Result<PathBuf, String> {
            fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            cg.dirs.push(dir.clone());
            Ok(dir)
        };
        match &self.kind {
            Kind::V2 { jobs, cpu } => {
                let dir = make(&mut cg, jobs.join(&name))?;
                if let Some(memory) = &memory {
                    write(&dir.join("memory.max"), memory)?;
                }
                // Swap would let the job hold more than its limit; absent without swap.
                let _ = write(&dir.join("memory.swap.max"), "0");
                write(&dir.join("pids.max"), &pids)?;
                if let (true, Some(quota)) = (cpu, &quota) {
                    write(&dir.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))?;
                }
            }
            Kind::V1 {
                memory: mem,
                pids: pid,
                cpu,
            } => {
                let dir = make(&mut cg, mem.join(&name))?;
                if let Some(memory) = &memory {
                    write(&dir.join("memory.limit_in_bytes"), memory)?;
                    let _ = write(&dir.join("memory.memsw.limit_in_bytes"), memory);
                }
                let dir = make(&mut cg, pid.join(&name))?;
                write(&dir.join("pids.max"), &pids)?;
                if let (Some(cpu), Some(quota)) = (cpu, &quota) {
                    let dir = make(&mut cg, cpu.join(&name))?;
                    write(&dir.join("cpu.cfs_period_us"), &CPU_PERIOD_US.to_string())?;
                    write(&dir.join("cpu.cfs_quota_us"), quota)?;
                }
            }
        }
        for dir in cg.dirs.clone() {
            let path = dir.join("cgroup.procs");
            let file = fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            cg.procs.push(file);
        }
        Ok(cg)
    }
}

/// One run's cgroup: the child joins it before it execs ([`JobCgroup::join_fds`]); dropping
/// it kills whatever is left in it and removes it.
#[derive(Debug)]
pub struct JobCgroup {
    /// The job's directory in each hierarchy (one for v2; memory, pids, then cpu for v1).
    dirs: Vec<PathBuf>,
    /// Each directory's `cgroup.procs`, open for the child to write "0" (itself) into.
    procs: Vec<fs::File>,
    v2: bool,
}

impl JobCgroup {
    /// Descriptors the child writes `0` into, after fork and before exec, to join the cgroup
    /// (every process it starts is then in it too).
    pub fn join_fds(&self) -> Vec<i32> {
        self.procs.iter().map(|f| f.as_raw_fd()).collect()
    }

    /// Whether the kernel killed a process of the job for going over its memory limit.
    pub fn oom_killed(&self) -> bool {
        let Some(dir) = self.dirs.first() else {
            return false;
        };
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        let counted = fs::read_to_string(dir.join(file)).ok().and_then(|t| {
            t.lines().find_map(|l| {
                let (k, v) = l.split_once(' ')?;
                (k == key).then(|| v.trim().parse::<u64>().ok())?
            })
        });
        match counted {
            Some(n) => n > 0,
            // Kernels before 4.13 (v1) count only hits of the limit.
            None => fs::read_to_string(dir.join("memory.failcnt"))
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0),
        }
    }

    /// Kills every process in the cgroup and waits (briefly) until it is empty.
    pub fn kill(&self) {
        if let Some(dir) = self.dirs.first() {
            kill_all(dir, self.v2);
        }
    }

    /// The job's directories (for tests and logs).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

impl Drop for JobCgroup {
    fn drop(&mut self) {
        self.kill();
        self.procs.clear();
        // A cgroup can be removed once the kernel has released its last process, which takes
        // a moment after a kill (longer after an OOM kill): on a thread of its own, so the
        // run's task does not wait for it.
        let dirs = std::mem::take(&mut self.dirs);
        let removal = move || {
            for dir in dirs.iter().rev() {
                remove_dir_when_released(dir, 600);
            }
        };
        if std::thread::Builder::new()
            .name("cgroup-rmdir".into())
            .spawn(removal)
            .is_err()
        {
            tracing::warn!("could not start the thread that removes a job's cgroup");
        }
    }
}

/// The processes in the cgroup `dir` now.
fn members(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Kills every process in the cgroup `dir` and waits (briefly) until it is empty. (In v1 the
/// job's memory cgroup stands for it: the job joins all its hierarchies at once.)
fn kill_all(dir: &Path, v2: bool) {
    // cgroup.kill (v2, Linux 5.14): one write, no race with forks.
    let killed = v2 && write(&dir.join("cgroup.kill"), "1").is_ok();
    for _ in 0..100 {
        let left = members(dir);
        if left.is_empty() {
            return;
        }
        if !killed {
            for pid in left {
                // SAFETY: kill(2) with a pid from the job's own cgroup; no memory involved.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes a cgroup directory once the kernel lets it go (its last process released), trying
/// every 50 ms up to `tries` times. Whether it is gone.
fn remove_dir_when_released(dir: &Path, tries: u32) -> bool {
    for _ in 0..tries {
        match fs::remove_dir(dir) {
            Ok(()) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

/// Writes "0" to each descriptor: the calling process joins those cgroups. Only
/// async-signal-safe calls, for `pre_exec`.
pub(crate) fn join_in_child(fds: &[i32]) -> std::io::Result<()> {
    for &fd in fds {
        // SAFETY: write(2) of a static byte to a descriptor the parent opened; no allocation.
        let n = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
        if n != 1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
