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
