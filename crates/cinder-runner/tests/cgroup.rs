//! Process jobs in a cgroup of their own (as the worker runs them when it may make cgroups):
//! memory a job keeps in its `/tmp` counts against its limit (an address-space limit does not
//! see it), a process that left the job's process group dies with the run, and nothing of the
//! job's cgroup is left afterwards. The same jobs without the cgroup show what it takes away.

mod common;

use cinder_runner::runtime::{
    CgroupRoot, Exit, ProcessConfig, ProcessRuntime, RunOutcome, Runtime, Sandbox,
};
use common::{in_ci, process_spec, JobDirs};
use std::{collections::BTreeMap, path::PathBuf, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Where job cgroups go, or `None` (test skipped) on a machine where this process may not make
/// them; under CI (root, on a host with the memory and pids controllers) they must work.
fn cgroups(test: &str) -> Option<Arc<CgroupRoot>> {
    match CgroupRoot::detect() {
        Ok(root) => Some(Arc::new(root)),
        Err(e) => {
            // SAFETY: geteuid has no preconditions.
            let root = unsafe { libc::geteuid() == 0 };
            assert!(!(in_ci() && root), "{test}: no job cgroups under CI: {e}");
            eprintln!("{test}: skipped (no job cgroups here: {e})");
            None
        }
    }
}

fn runtime(sandbox: Option<Sandbox>, cgroups: Option<Arc<CgroupRoot>>) -> ProcessRuntime {
    ProcessRuntime::with_config(ProcessConfig {
        allow: BTreeMap::from([("sh".to_string(), PathBuf::from("/bin/sh"))]),
        kill_grace: Duration::from_millis(500),
        sandbox,
        cgroups,
        ..ProcessConfig::default()
    })
}

/// This test process's job cgroups still in place once the kernel has let them go (they are
/// removed as soon as it does; polled for up to 30 s).
async fn leftovers(root: &CgroupRoot) -> Vec<PathBuf> {
    let mine = format!("job-{}-", std::process::id());
    let list = || -> Vec<PathBuf> {
        root.jobs_dirs()
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap())
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&mine))
            .map(|e| e.path())
            .collect()
    };
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = list();
        if left.is_empty() || std::time::Instant::now() > until {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 200 MiB written to a sandboxed job's `/tmp` (a 1 GiB tmpfs) under a 64 MiB memory limit:
/// the address-space limit does not see tmpfs pages, the cgroup does, and the failure says so.
#[tokio::test]
async fn memory_a_job_keeps_in_its_tmp_counts_against_its_limit() {
    let test = "memory_a_job_keeps_in_its_tmp_counts_against_its_limit";
    let Some(root) = cgroups(test) else {
        return;
    };
    let sandbox = Sandbox::new(vec![]);
    if !sandbox.bwrap.exists() {
        assert!(!in_ci(), "{test}: no bubblewrap under CI");
        return;
    }
    let script = r#"head -c 209715200 /dev/zero > /tmp/fill && echo kept > $CINDER_OUTPUT_DIR/ok"#;
    let run = |cgroups: Option<Arc<CgroupRoot>>, job: &'static str| {
        let sandbox = sandbox.clone();
        async move {
            let dirs = JobDirs::new();
            let mut spec = process_spec(&["sh", "-c", script], 60);
            spec.memory_limit_mib = Some(64);
            let req = dirs.request(job, spec);
            runtime(Some(sandbox), cgroups)
                .run(&req, CancellationToken::new())
                .await
                .unwrap()
        }
    };
    let outcome = run(Some(root.clone()), "CgroupTmp").await;
    match &outcome {
        RunOutcome::Failed { exit, log_tail } => {
            // The kernel's OOM killer picks a process of the job: the writer, or the
            // sandbox's init and with it the whole run.
            assert!(
                matches!(exit, Exit::Code(c) if *c != 0) || matches!(exit, Exit::Signal(9)),
                "{exit:?}"
            );
            assert!(
                log_tail.contains("more memory than its limit of 64 MiB"),
                "{log_tail}"
            );
        }
        o => panic!("200 MiB in /tmp under a 64 MiB limit: {o:?}"),
    }
    let left = leftovers(&root).await;
    assert!(left.is_empty(), "{left:?}");
    // Without the cgroup only the address space is limited, and the tmpfs fills.
    let outcome = run(None, "NoCgroupTmp").await;
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
}

/// A process that left the job's process group (`setsid`) is still in the job's cgroup, and
/// dies with the run even without the sandbox's pid namespace.
#[tokio::test]
async fn a_setsid_sleeper_dies_with_the_runs_cgroup() {
    let test = "a_setsid_sleeper_dies_with_the_runs_cgroup";
    let Some(root) = cgroups(test) else {
        return;
    };
    let script = r#"setsid sh -c "sleep 2; echo late > $PWD/late" >/dev/null 2>&1 < /dev/null &
sleep 0.5
echo started > $CINDER_OUTPUT_DIR/s"#;
    let dirs = JobDirs::new();
    let req = dirs.request("CgroupSetsid", process_spec(&["sh", "-c", script], 30));
    let outcome = runtime(None, Some(root.clone()))
        .run(&req, CancellationToken::new())
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !dirs.path("work/late").exists(),
        "the sleeper outlived the run's cgroup"
    );
    let left = leftovers(&root).await;
    assert!(left.is_empty(), "{left:?}");
}

/// A worker killed mid-run leaves its job's cgroup, and an unsandboxed job in it runs on. The
/// next start removes the job cgroups of workers that are gone, killing what runs in them,
/// and leaves those of workers that still run.
#[tokio::test]
async fn a_killed_workers_job_cgroups_and_what_runs_in_them_are_removed_at_start() {
    let test = "a_killed_workers_job_cgroups_and_what_runs_in_them_are_removed_at_start";
    let Some(root) = cgroups(test) else {
        return;
    };
    // A pid that has ended: the killed worker's.
    let gone = std::process::Command::new("/bin/true")
        .spawn()
        .expect("spawn true");
    let gone_pid = gone.id();
    let _ = gone.wait_with_output();
    assert!(!std::path::Path::new(&format!("/proc/{gone_pid}")).exists());
    let stale_name = format!("job-{gone_pid}-0");
    // pid 1 always runs: another worker's job, to be left alone.
    let live_name = format!("job-1-{}", std::process::id());
    let mut orphan = std::process::Command::new("/bin/sleep")
        .arg("600")
        .spawn()
        .expect("spawn sleep");
    let orphan_pid = orphan.id();
    // Reaped at once when it dies, as init reaps a killed worker's orphans: a zombie would keep
    // its cgroup busy.
    let (died, status) = std::sync::mpsc::channel();
    std::thread::spawn(move || died.send(orphan.wait().unwrap()));
    for jobs in root.jobs_dirs() {
        for name in [&stale_name, &live_name] {
            std::fs::create_dir(jobs.join(name)).unwrap();
        }
        std::fs::write(
            jobs.join(&stale_name).join("cgroup.procs"),
            orphan_pid.to_string(),
        )
        .unwrap();
    }

    let removed = root.remove_stale();

    let expected: Vec<PathBuf> = root
        .jobs_dirs()
        .iter()
        .map(|j| j.join(&stale_name))
        .collect();
    assert_eq!(removed, expected, "exactly the gone worker's job cgroups");
    for jobs in root.jobs_dirs() {
        assert!(!jobs.join(&stale_name).exists());
        assert!(
            jobs.join(&live_name).exists(),
            "a running worker's job cgroup is left alone"
        );
        std::fs::remove_dir(jobs.join(&live_name)).unwrap();
    }
    let status = status
        .recv_timeout(Duration::from_secs(5))
        .expect("the orphan was killed");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}

/// A job that spins for 2 s under a cap of a tenth of a core gets about 0.2 s of CPU: the
/// worker beside it keeps the rest of the machine to submit its result in time. Without the cap
/// the same job takes what it can.
#[tokio::test]
async fn a_jobs_cpu_time_is_capped_by_its_cgroup() {
    let test = "a_jobs_cpu_time_is_capped_by_its_cgroup";
    let Some(root) = cgroups(test) else {
        return;
    };
    if !root.caps_cpu() {
        assert!(!in_ci(), "{test}: no cpu cgroup controller under CI");
        eprintln!("{test}: skipped (no cpu cgroup controller here)");
        return;
    }
    // The shell's children's CPU time (utime + stime of waited-for children), in seconds.
    let script = r#"timeout 2 sh -c 'while :; do :; done'
set -- $(cat /proc/$$/stat)
echo $((${16} + ${17})) > $CINDER_OUTPUT_DIR/ticks"#;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let run = |cpu_millis: Option<u64>, job: &'static str| {
        let root = root.clone();
        async move {
            let dirs = JobDirs::new();
            let req = dirs.request(job, process_spec(&["sh", "-c", script], 30));
            let rt = ProcessRuntime::with_config(ProcessConfig {
                allow: BTreeMap::from([("sh".to_string(), PathBuf::from("/bin/sh"))]),
                cgroups: Some(root),
                cpu_millis,
                ..ProcessConfig::default()
            });
            let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
            assert!(
                matches!(outcome, RunOutcome::Completed { .. }),
                "{outcome:?}"
            );
            let ticks: f64 = std::fs::read_to_string(dirs.path("out/ticks"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            ticks / ticks_per_sec
        }
    };
    let capped = run(Some(100), "CgroupCpuCapped").await;
    assert!(
        capped > 0.02 && capped <= 0.5,
        "2 s of spinning under a tenth of a core used {capped} s of CPU"
    );
    let uncapped = run(None, "CgroupCpuUncapped").await;
    assert!(
        uncapped >= 0.5,
        "2 s of spinning without a cap used only {uncapped} s of CPU"
    );
    let left = leftovers(&root).await;
    assert!(left.is_empty(), "{left:?}");
}
