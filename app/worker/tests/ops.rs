//! Operating the worker: real Podman containers end to end, a missing container engine, the
//! Prometheus metrics, and a graceful shutdown that gives running jobs back.

mod common;

use cinder::{events::JobQuit, state::JobState};
use common::*;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The Podman API socket, or `None` when `CINDER_SKIP_CONTAINER_TESTS` is set outside CI. Under
/// CI (`CI=true` or `CI=1`) that switch panics: a skipped test would count as passed.
fn podman_socket() -> Option<String> {
    if std::env::var_os("CINDER_SKIP_CONTAINER_TESTS").is_some() {
        let ci = matches!(
            std::env::var("CI").as_deref(),
            Ok("true" | "TRUE" | "True" | "1")
        );
        assert!(
            !ci,
            "CINDER_SKIP_CONTAINER_TESTS is set under CI: the container tests may not be skipped in CI (unset it)"
        );
        eprintln!("skipped: CINDER_SKIP_CONTAINER_TESTS is set");
        return None;
    }
    let s =
        std::env::var("CINDER_PODMAN_SOCKET").unwrap_or_else(|_| "/run/podman/podman.sock".into());
    let path = s.trim_start_matches("unix://").to_string();
    assert!(
        std::path::Path::new(&path).exists(),
        "no Podman socket at {path}: run `bash scripts/podman-setup.sh` (or set CINDER_SKIP_CONTAINER_TESTS=1)"
    );
    Some(format!("unix://{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_container_job_runs_in_podman_and_settles_with_the_hash_a_process_run_gives() {
    let Some(socket) = podman_socket() else {
        return;
    };
    let image = {
        use cinder_runner::runtime::Runtime;
        let rt = cinder_runner::runtime::ContainerRuntime::connect(&socket, false).unwrap();
        rt.check().await.expect("Podman answers");
        rt.pinned("localhost/cinder-busybox:latest")
            .await
            .expect("the test image exists (scripts/podman-setup.sh creates it)")
    };
    let f = fixture(MarketOpts::default(), 1).await;
    let _w = f.worker(
        0,
        &[
            ("CINDER_RUNTIME", "container"),
            ("CINDER_CONTAINER_SOCKET", &socket),
        ],
    );
    let input = b"container input\n".repeat(50);
    let uri = f.publish("c.in", &input);
    let spec = f.spec_from(
        "container",
        &serde_json::json!({
            "version": 1, "kind": "container", "image": image,
            "command": ["sh", "-c", DETERMINISTIC], "env": {},
            "inputs": [{"uri": uri, "sha256": hex::encode(Sha256::digest(&input)), "path": "input.txt"}],
            "outputs": "/out", "gpus": 0, "time_limit_secs": 60, "deterministic": true
        }),
    );
    let job = f.post(&spec).await;
    wait_state(&job, None, Duration::from_secs(120)).await;
    let out = f.dir.path().join("results");
    let hash = cinder_worker::cli::job_results(&ctx(&f.client), &job.to_string(), &out)
        .await
        .unwrap_or_else(|e| panic!("results: {e:#}"));
    // The same outputs computed here give the same result hash (deterministic job).
    let digest = format!("{}\n", hex::encode(Sha256::digest(&input)));
    assert_eq!(
        std::fs::read_to_string(out.join("digest.txt")).unwrap(),
        digest
    );
    let expected = cinder_runner::results::result_hash_of(&[
        cinder_runner::results::FileEntry {
            path: "digest.txt".into(),
            size: digest.len() as u64,
            sha256: hex::encode(Sha256::digest(digest.as_bytes())),
        },
        cinder_runner::results::FileEntry {
            path: "status".into(),
            size: 3,
            sha256: hex::encode(Sha256::digest(b"ok\n")),
        },
    ]);
    assert_eq!(hash, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_container_worker_without_an_engine_refuses_to_start_and_says_why() {
    let f = fixture(MarketOpts::default(), 1).await;
    let mut w = f.worker(
        0,
        &[
            ("CINDER_RUNTIME", "container"),
            ("CINDER_CONTAINER_SOCKET", "unix:///nonexistent/podman.sock"),
        ],
    );
    let status = w
        .wait_exit(Duration::from_secs(60))
        .await
        .expect("the worker exits");
    assert!(!status.success());
    let logs = w.logs();
    assert!(logs.contains("/nonexistent/podman.sock"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_claims_and_a_graceful_shutdown_gives_running_jobs_back() {
    let f = fixture(MarketOpts::default(), 1).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut w = f.worker(0, &[("CINDER_METRICS_LISTEN", &listen)]);
    let spec = f.process_spec("long", "sleep 60", 120);
    let job = f.post(&spec).await;
    wait_state(&job, Some(JobState::Running), Duration::from_secs(60)).await;
    assert!(
        w.wait_log("run started", Duration::from_secs(30)).await
            || w.wait_log("claimed", Duration::from_secs(1)).await
    );

    let text = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("cinder_jobs_claimed_total 1"), "{text}");
    assert!(text.contains("cinder_claim_latency_seconds"), "{text}");
    assert!(text.contains("cinder_jobs_running 1"), "{text}");
    // Host gauges: free disk under data_dir, and GPUs (none on this machine).
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    assert!(gauge("cinder_disk_free_bytes") > 0.0);
    // The fees its transactions paid (registration, claim: at least 5,000 lamports each),
    // exported with the host gauges every 15 s.
    let fees = {
        let end = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = reqwest::get(format!("http://{listen}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let fees = text
                .lines()
                .find_map(|l| l.strip_prefix("cinder_fees_paid_lamports_total "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            if fees > 0.0 || std::time::Instant::now() > end {
                break fees;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    assert!(fees >= 10_000.0, "fees paid: {fees}");
    assert_eq!(gauge("cinder_gpus"), 0.0);
    assert_eq!(gauge("cinder_gpus_free"), 0.0);

    // SIGTERM: no new claims, the running job gets the grace period (2 s here), then its run
    // is cancelled and the job quit on chain; the worker exits cleanly.
    w.signal("TERM");
    let status = w
        .wait_exit(Duration::from_secs(60))
        .await
        .expect("the worker stops");
    assert!(status.success(), "{}", w.logs());
    wait_state(&job, Some(JobState::Open), Duration::from_secs(30)).await;
    let h = history(&job, |h| {
        h.iter().any(|l| !l.events_of::<JobQuit>().is_empty())
    })
    .await;
    let quits: usize = h.iter().map(|l| l.events_of::<JobQuit>().len()).sum();
    assert_eq!(quits, 1, "{}", w.logs());
}

/// Drain before an upgrade (SIGUSR1): the running job runs to its end and is submitted, a job
/// posted meanwhile is not claimed, and the worker then stops by itself, cleanly, without
/// giving anything back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draining_worker_finishes_its_job_claims_nothing_new_and_stops() {
    let f = fixture(MarketOpts::default(), 1).await;
    let mut w = f.worker(0, &[]);
    let running = f.post(&f.process_spec("drained", "sleep 6", 120)).await;
    wait_state(&running, Some(JobState::Running), Duration::from_secs(60)).await;

    w.signal("USR1");
    assert!(
        w.wait_log("draining", Duration::from_secs(10)).await,
        "{}",
        w.logs()
    );
    let later = f.post(&f.process_spec("later", "true", 60)).await;

    let status = w
        .wait_exit(Duration::from_secs(90))
        .await
        .expect("a drained worker stops by itself");
    assert!(status.success(), "{}", w.logs());
    assert!(w.logs().contains("drained"), "{}", w.logs());
    let job = wait_state(&running, Some(JobState::Submitted), Duration::from_secs(5))
        .await
        .expect("the running job was submitted, not given back");
    assert_eq!(job.state, JobState::Submitted);
    let h = history(&running, |_| true).await;
    let quits: usize = h.iter().map(|l| l.events_of::<JobQuit>().len()).sum();
    assert_eq!(quits, 0, "{}", w.logs());
    let untouched = wait_state(&later, Some(JobState::Open), Duration::from_secs(5))
        .await
        .expect("the job posted while draining");
    assert_eq!(
        untouched.state,
        JobState::Open,
        "not claimed while draining"
    );
}

/// `cinder doctor` on a configured provider host: every check passes against the real chain
/// (RPC, protocol, market, stake, registration) and the command exits 0; a market that is not
/// on the cluster is a failed check with its fix, and the command exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn doctor_passes_a_configured_host_and_names_what_is_wrong() {
    let f = fixture(MarketOpts::default(), 1).await;
    let w = f.worker(0, &[]);
    assert!(
        w.wait_log("worker ready", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    let doctor = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cinder"));
        cmd.args(["doctor", "--config"]).arg(&w.config);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = doctor(&[]);
    assert_eq!(code, Some(0), "{out}{err}");
    for line in [
        "ok    keypair",
        // ok or warn: the free disk is this machine's.
        "  data_dir       /",
        "ok    gpus           none: CPU markets only",
        "ok    runtime        process jobs only",
        "ok    rpc",
        "ok    protocol",
        &format!("ok    market {}", f.market_id),
        "ok    stake",
        "ok    registration   registered",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");

    let (code, out, err) = doctor(&[("CINDER_MARKETS", "[987654]")]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("FAIL  market 987654  no such market on this cluster"),
        "{out}"
    );
    assert!(out.contains("fix: fix `markets`"), "{out}");
    assert!(err.contains("1 check(s) failed"), "{err}");
}

/// The doctor's GPU probe starts a container with one GPU the way a job's container is
/// started and compares what it lists with NVML. Without a GPU: a probe CDI spec describes a
/// fake GPU whose edits mount an `nvidia-smi` that lists it, as NVIDIA's CDI spec mounts the
/// real one. The GPU whose container lists it passes; one whose container lists another
/// GPU too fails; one no CDI spec names fails with the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_doctors_gpu_probe_sees_exactly_the_gpu_a_container_gets() {
    let Some(socket) = podman_socket() else {
        return;
    };
    use cinder_runner::{
        gpu::Gpu,
        runtime::{ContainerConfig, ContainerRuntime},
    };
    use cinder_worker::doctor::{probe_gpu, Level};
    let pid = std::process::id();
    let kind = "cinder.test/doctor";
    let host = tempfile::tempdir().unwrap();
    let gpu = |index: u32, uuid: String| Gpu {
        index,
        uuid,
        name: "Probe".into(),
        memory_mib: 81_559,
        pci_device_id: 0,
        mig_enabled: false,
    };
    let (one, two, absent) = (
        gpu(0, format!("GPU-doctor-one-{pid}")),
        gpu(1, format!("GPU-doctor-two-{pid}")),
        gpu(2, format!("GPU-doctor-absent-{pid}")),
    );
    // GPU one's nvidia-smi lists only it; GPU two's (a broken host) lists both.
    let smi = |name: &str, lists: &[&Gpu]| {
        let path = host.path().join(name);
        let lines: String = lists
            .iter()
            .map(|g| format!("echo 'GPU {}: Probe (UUID: {})'\n", g.index, g.uuid))
            .collect();
        std::fs::write(&path, format!("#!/bin/sh\n{lines}")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    };
    let device = |g: &Gpu, smi: &std::path::Path| {
        format!(
            "  - name: \"{}\"\n    containerEdits:\n      mounts:\n        - hostPath: \"{}\"\n          containerPath: \"/bin/nvidia-smi\"\n          options: [\"ro\", \"bind\"]\n",
            g.uuid,
            smi.display()
        )
    };
    let spec = format!(
        "cdiVersion: \"0.5.0\"\nkind: \"{kind}\"\ndevices:\n{}{}",
        device(&one, &smi("smi-one", &[&one])),
        device(&two, &smi("smi-two", &[&two, &one])),
    );
    std::fs::create_dir_all("/var/run/cdi").unwrap();
    let spec_file = std::path::PathBuf::from(format!("/var/run/cdi/cinder-test-doctor-{pid}.yaml"));
    std::fs::write(&spec_file, spec).unwrap();
    struct Remove(std::path::PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _cleanup = Remove(spec_file);

    let rt = ContainerRuntime::with_config(ContainerConfig {
        cdi_kind: kind.into(),
        ..ContainerConfig::new(&socket, false)
    })
    .unwrap();
    let image = rt.pinned("localhost/cinder-busybox:latest").await.unwrap();
    let all = [one.clone(), two.clone(), absent.clone()];
    let scratch = tempfile::tempdir().unwrap();
    let good = probe_gpu(&rt, &image, &one, &all, scratch.path()).await;
    assert_eq!(good.level, Level::Ok, "{good:?}");
    assert!(good.detail.contains(&one.uuid), "{good:?}");
    let leaky = probe_gpu(&rt, &image, &two, &all, scratch.path()).await;
    assert_eq!(leaky.level, Level::Fail, "{leaky:?}");
    assert!(leaky.detail.contains("also sees"), "{leaky:?}");
    let missing = probe_gpu(&rt, &image, &absent, &all, scratch.path()).await;
    assert_eq!(missing.level, Level::Fail, "{missing:?}");
    assert!(
        missing.detail.contains("cannot give the job GPU"),
        "{missing:?}"
    );
}

/// A worker killed (or restarted for an upgrade) while its container job runs does not run the
/// job again: the restarted worker finds the container by its labels, follows it to its end,
/// submits its result, and bills the whole run, not the part after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_worker_reattaches_to_its_running_container_and_bills_the_whole_run() {
    let Some(socket) = podman_socket() else {
        return;
    };
    let (rt, image) = podman_and_image(&socket).await;
    let f = fixture(MarketOpts::default(), 1).await;
    let env = [
        ("CINDER_RUNTIME", "container"),
        ("CINDER_CONTAINER_SOCKET", socket.as_str()),
    ];
    let mut w = f.worker(0, &env);
    let job = post_container_job(&f, "reattach", &image, "sleep 12; echo done > /out/x").await;
    wait_state(&job, Some(JobState::Running), Duration::from_secs(60)).await;
    let container = container_of(&rt, &job, &w).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.restart_with(&env);
    assert_eq!(
        rt.containers_of(&job.to_string()).await.unwrap(),
        vec![container.clone()],
        "the container outlives the killed worker"
    );
    let submitted = wait_state(&job, Some(JobState::Submitted), Duration::from_secs(90))
        .await
        .expect("submitted after the restart");
    let logs = w.logs();
    assert!(
        logs.contains("re-attached to its running container") && logs.contains(&container),
        "{logs}"
    );
    assert!(
        !logs.contains("removed containers a previous run left"),
        "the container was followed, not replaced: {logs}"
    );
    assert!(
        submitted.billed_secs >= 12,
        "billed {} s for a 12 s run",
        submitted.billed_secs
    );
    assert!(rt.containers_of(&job.to_string()).await.unwrap().is_empty());
}

/// An upgrade with `stop_leaves_containers`: SIGTERM stops the worker without giving its
/// container job back or removing the container; the next start re-attaches and submits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_that_leaves_containers_lets_the_next_start_finish_the_job() {
    let Some(socket) = podman_socket() else {
        return;
    };
    let (rt, image) = podman_and_image(&socket).await;
    let f = fixture(MarketOpts::default(), 1).await;
    let env = [
        ("CINDER_RUNTIME", "container"),
        ("CINDER_CONTAINER_SOCKET", socket.as_str()),
        ("CINDER_STOP_LEAVES_CONTAINERS", "true"),
    ];
    let mut w = f.worker(0, &env);
    let job = post_container_job(&f, "upgrade", &image, "sleep 10; echo done > /out/x").await;
    wait_state(&job, Some(JobState::Running), Duration::from_secs(60)).await;
    container_of(&rt, &job, &w).await;
    w.signal("TERM");
    let status = w
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("the worker stops after its grace");
    assert!(status.success(), "{}", w.logs());
    assert!(
        w.logs().contains("leaving container jobs running"),
        "{}",
        w.logs()
    );
    assert_eq!(
        rt.containers_of(&job.to_string()).await.unwrap().len(),
        1,
        "the container outlives the stop"
    );
    assert_eq!(
        job_state_now(&job).await,
        Some(JobState::Running),
        "not given back"
    );

    w.restart_with(&env);
    wait_state(&job, Some(JobState::Submitted), Duration::from_secs(90))
        .await
        .expect("submitted by the next start");
    assert!(
        w.logs().contains("re-attached to its running container"),
        "{}",
        w.logs()
    );
    let h = history(&job, |_| true).await;
    let quits: usize = h.iter().map(|l| l.events_of::<JobQuit>().len()).sum();
    assert_eq!(quits, 0, "{}", w.logs());
}

async fn job_state_now(job: &anchor_lang::prelude::Pubkey) -> Option<JobState> {
    common::job(job).await.map(|j| j.state)
}

/// Podman's runtime and the test image pinned by id.
async fn podman_and_image(socket: &str) -> (cinder_runner::runtime::ContainerRuntime, String) {
    use cinder_runner::runtime::Runtime;
    let rt = cinder_runner::runtime::ContainerRuntime::connect(socket, false).unwrap();
    rt.check().await.expect("Podman answers");
    let image = rt
        .pinned("localhost/cinder-busybox:latest")
        .await
        .expect("the test image exists (scripts/podman-setup.sh creates it)");
    (rt, image)
}

/// A container job running `script` (up to 120 s), posted.
async fn post_container_job(
    f: &Fixture,
    name: &str,
    image: &str,
    script: &str,
) -> anchor_lang::prelude::Pubkey {
    let spec = f.spec_from(
        name,
        &serde_json::json!({
            "version": 1, "kind": "container", "image": image,
            "command": ["sh", "-c", script], "env": {},
            "outputs": "/out", "gpus": 0, "time_limit_secs": 120, "deterministic": true
        }),
    );
    f.post(&spec).await
}

/// The id of the job's container, once the worker has created it.
async fn container_of(
    rt: &cinder_runner::runtime::ContainerRuntime,
    job: &anchor_lang::prelude::Pubkey,
    w: &Worker,
) -> String {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(id) = rt.containers_of(&job.to_string()).await.unwrap().first() {
            return id.clone();
        }
        assert!(std::time::Instant::now() < end, "{}", w.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
