//! Escape attempts against the process sandbox (bubblewrap, as the worker runs process jobs
//! by default): reading the worker's keypair and journal, writing the host, a loader variable,
//! a socket to the host, `setsid` with a sleep past the end of the run, a fork bomb. Each is
//! refused or contained. The same jobs without the sandbox show what it takes away.

mod common;

use cinder_runner::runtime::{
    ProcessConfig, ProcessRuntime, RunOutcome, Runtime, RuntimeError, Sandbox,
};
use common::{in_ci, process_spec, JobDirs};
use std::{collections::BTreeMap, fs, path::PathBuf, time::Duration};
use tokio_util::sync::CancellationToken;

/// The sandbox hiding `hide`, or `None` (test skipped) where bubblewrap is missing outside CI.
async fn sandboxed(test: &str, hide: Vec<PathBuf>, pids_limit: u64) -> Option<ProcessRuntime> {
    sandbox_of(
        test,
        Sandbox {
            pids_limit,
            ..Sandbox::new(hide)
        },
    )
    .await
}

/// `sandbox`'s runtime, checked; `None` (test skipped) where bubblewrap is missing outside CI.
async fn sandbox_of(test: &str, sandbox: Sandbox) -> Option<ProcessRuntime> {
    if !sandbox.bwrap.exists() {
        assert!(
            !in_ci(),
            "{test}: no {} under CI: scripts/install-deps.sh installs bubblewrap",
            sandbox.bwrap.display()
        );
        eprintln!("{test}: skipped (no bubblewrap; apt-get install bubblewrap)");
        return None;
    }
    let rt = runtime(Some(sandbox));
    rt.check()
        .await
        .unwrap_or_else(|e| panic!("{test}: the sandbox does not start: {e}"));
    Some(rt)
}

fn runtime(sandbox: Option<Sandbox>) -> ProcessRuntime {
    ProcessRuntime::with_config(ProcessConfig {
        allow: BTreeMap::from([("sh".to_string(), PathBuf::from("/bin/sh"))]),
        kill_grace: Duration::from_millis(500),
        sandbox,
        ..ProcessConfig::default()
    })
}

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[tokio::test]
async fn a_sandboxed_job_sees_neither_the_workers_data_nor_its_keypair_and_cannot_write_the_host() {
    let test =
        "a_sandboxed_job_sees_neither_the_workers_data_nor_its_keypair_and_cannot_write_the_host";
    // Outside /tmp (the sandbox has a fresh one) and readable by anyone, as loose permissions
    // on a host would leave them: the hiding, not the job's user, is what keeps these away.
    let host = tempfile::tempdir_in("/var/tmp").unwrap();
    let data_dir = host.path().join("data");
    fs::create_dir_all(&data_dir).unwrap();
    fs::write(data_dir.join("journal.db"), "journal").unwrap();
    let keypair = host.path().join("provider.json");
    fs::write(&keypair, "[1,2,3]").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [(host.path(), 0o755), (&data_dir, 0o755)] {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }
    for file in [data_dir.join("journal.db"), keypair.clone()] {
        fs::set_permissions(file, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let Some(rt) = sandboxed(test, vec![data_dir.clone(), keypair.clone()], 4096).await else {
        return;
    };
    // The job's own directories live under the hidden data_dir, as the worker's do.
    let dirs = JobDirs::new_in(&data_dir.join("work"));
    let script = format!(
        r#"o=$CINDER_OUTPUT_DIR
cat {data}/journal.db > $o/journal 2>/dev/null; echo "$?" >> $o/journal
cat {key} > $o/keypair 2>/dev/null; echo "$?" >> $o/keypair
echo x > {data}/planted 2>/dev/null
touch /etc/cinder-escape 2>/dev/null && echo wrote > $o/etc || echo refused > $o/etc
tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ' > $o/net
id -u > $o/uid
echo ok > $PWD/scratch && echo ok > $o/scratch"#,
        data = data_dir.display(),
        key = keypair.display()
    );
    let req = dirs.request("Sandbox1", process_spec(&["sh", "-c", &script], 30));
    let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let read = |name: &str| fs::read_to_string(dirs.path("out").join(name)).unwrap();
    assert_eq!(read("journal"), "1\n", "the data_dir is an empty directory");
    // The keypair is covered by an unreadable /dev/null (a device on a nodev mount).
    assert!(!read("keypair").contains("[1,2,3]"), "{}", read("keypair"));
    assert_ne!(read("keypair"), "0\n", "the keypair cannot be read");
    assert_eq!(read("etc"), "refused\n", "the host is read-only");
    assert_eq!(read("net").trim(), "lo", "only its own loopback");
    assert_eq!(read("scratch"), "ok\n", "its scratch directory is writable");
    if root() {
        assert_eq!(read("uid"), "65534\n", "an unprivileged user, not root");
    }
    assert!(
        !data_dir.join("planted").exists(),
        "nothing planted on the host"
    );
    assert_eq!(
        fs::read_to_string(data_dir.join("journal.db")).unwrap(),
        "journal"
    );
}

#[tokio::test]
async fn a_socket_to_the_host_is_refused_in_the_sandbox() {
    let test = "a_socket_to_the_host_is_refused_in_the_sandbox";
    let Some(rt) = sandboxed(test, vec![], 4096).await else {
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dirs = JobDirs::new();
    // bash's /dev/tcp is not in dash; busybox nc is not everywhere: use the shell's own
    // redirection through /proc/net/tcp to prove isolation instead of a client program.
    let script =
        format!(r#"grep -ci ":{port:04X} " /proc/net/tcp > $CINDER_OUTPUT_DIR/listening || true"#);
    let req = dirs.request("Sandbox2", process_spec(&["sh", "-c", &script], 30));
    let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        fs::read_to_string(dirs.path("out/listening"))
            .unwrap()
            .trim(),
        "0",
        "the host's listening socket on 127.0.0.1:{port} is not in the job's network namespace"
    );
    drop(listener);
}

/// `setsid` leaves the process group the unsandboxed runtime kills; a sleeper started that way
/// outlives the run there, and dies with it in the sandbox (its own pid namespace).
#[tokio::test]
async fn a_setsid_sleeper_dies_with_the_run_in_the_sandbox_but_not_without_it() {
    let test = "a_setsid_sleeper_dies_with_the_run_in_the_sandbox_but_not_without_it";
    let Some(rt) = sandboxed(test, vec![], 4096).await else {
        return;
    };
    // The pause lets `setsid` leave the group before the job ends and its group is killed.
    let script = r#"setsid sh -c "sleep 2; echo late > $PWD/late" >/dev/null 2>&1 < /dev/null &
sleep 0.5
echo started > $CINDER_OUTPUT_DIR/s"#;
    let late_after = |rt: ProcessRuntime, job: &'static str| async move {
        let dirs = JobDirs::new();
        let req = dirs.request(job, process_spec(&["sh", "-c", script], 30));
        let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
        assert!(
            matches!(outcome, RunOutcome::Completed { .. }),
            "{outcome:?}"
        );
        tokio::time::sleep(Duration::from_secs(4)).await;
        dirs.path("work/late").exists()
    };
    assert!(
        !late_after(rt, "Sandbox3").await,
        "the sleeper outlived the sandboxed run"
    );
    assert!(
        late_after(runtime(None), "Sandbox3Bare").await,
        "without the sandbox the setsid sleeper escapes the group kill (what the sandbox fixes)"
    );
}

#[tokio::test]
async fn a_fork_bomb_stops_at_the_process_limit() {
    let test = "a_fork_bomb_stops_at_the_process_limit";
    let Some(rt) = sandboxed(test, vec![], 40).await else {
        return;
    };
    let dirs = JobDirs::new();
    // The bomb runs in a child shell, which fails once it cannot fork; the count uses only
    // builtins (no fork is left).
    let script = r#"sh -c 'i=0; while [ $i -lt 200 ]; do sleep 20 & i=$((i+1)); done' 2>/dev/null
set -- /proc/[0-9]*
echo $# > $CINDER_OUTPUT_DIR/procs"#;
    let req = dirs.request("Sandbox4", process_spec(&["sh", "-c", script], 30));
    let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let procs: u32 = fs::read_to_string(dirs.path("out/procs"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        procs <= 40,
        "{procs} processes in the sandbox with a limit of 40 (200 were tried)"
    );
}

/// `/tmp` and `/dev/shm` are fresh tmpfs mounts, held in the host's memory: each is capped,
/// so a job cannot fill the host's memory through them.
#[tokio::test]
async fn a_job_cannot_fill_the_hosts_memory_through_its_tmp() {
    let test = "a_job_cannot_fill_the_hosts_memory_through_its_tmp";
    let sandbox = Sandbox {
        tmp_bytes: 1 << 20,
        ..Sandbox::new(vec![])
    };
    let Some(rt) = sandbox_of(test, sandbox).await else {
        return;
    };
    let dirs = JobDirs::new();
    let script = r#"for d in /tmp /dev/shm; do
  head -c 8388608 /dev/zero > $d/fill 2>/dev/null
  wc -c < $d/fill > $CINDER_OUTPUT_DIR/$(basename $d)
done"#;
    let req = dirs.request("Sandbox6", process_spec(&["sh", "-c", script], 30));
    let outcome = rt.run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    for name in ["tmp", "shm"] {
        let held: u64 = fs::read_to_string(dirs.path(&format!("out/{name}")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            held <= 1 << 20,
            "{name}: {held} bytes written to a 1 MiB tmpfs (8 MiB were tried)"
        );
    }
}

#[tokio::test]
async fn a_loader_variable_in_the_spec_is_refused() {
    let dirs = JobDirs::new();
    for key in ["LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH"] {
        let mut spec = process_spec(&["sh", "-c", "true"], 30);
        spec.env.insert(key.into(), "/tmp/evil".into());
        let e = runtime(None)
            .run(&dirs.request("Sandbox5", spec), CancellationToken::new())
            .await
            .unwrap_err();
        match &e {
            RuntimeError::EnvRefused { key: k } => assert_eq!(k, key),
            other => panic!("expected EnvRefused, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_sandbox_that_cannot_start_is_refused_at_check_with_the_fix() {
    let rt = runtime(Some(Sandbox {
        bwrap: "/nonexistent/bwrap".into(),
        ..Sandbox::new(vec![])
    }));
    let e = rt.check().await.unwrap_err();
    assert!(matches!(e, RuntimeError::SandboxUnusable { .. }), "{e}");
    assert!(e.to_string().contains("apt-get install bubblewrap"), "{e}");
}
