//! The process runtime running real programs: outputs and their hash, the cleared
//! environment, time limit (the whole process group dies), cancel, memory limit, exit codes,
//! and the allow-list.

mod common;

use cinder_runner::{
    gpu::Gpu,
    results::hash_outputs,
    runtime::{Exit, ProcessConfig, ProcessRuntime, RunOutcome, RunRequest, Runtime, RuntimeError},
};
use common::{expected_result_hash, process_spec, JobDirs};
use std::{
    collections::BTreeMap,
    fs,
    path::PathBuf,
    time::{Duration, Instant},
};
use tokio_util::sync::CancellationToken;

fn runtime() -> ProcessRuntime {
    ProcessRuntime::with_config(ProcessConfig {
        allow: BTreeMap::from([("sh".to_string(), PathBuf::from("/bin/sh"))]),
        kill_grace: Duration::from_millis(500),
        ..ProcessConfig::default()
    })
}

#[tokio::test]
async fn a_process_job_writes_outputs_with_the_expected_result_hash() {
    let dirs = JobDirs::new();
    fs::create_dir_all(dirs.path("in")).unwrap();
    fs::write(dirs.path("in/in.txt"), b"some input\n").unwrap();
    let mut spec = process_spec(&["sh", "-c", common::SCRIPT], 30);
    spec.env.insert("GREETING".into(), "hi there".into());
    let req = dirs.request("JobKey1111", spec);
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    let RunOutcome::Completed { report } = outcome else {
        panic!("expected Completed, got {outcome:?}");
    };
    assert_eq!((report.runtime.as_str(), report.exit_code), ("process", 0));
    assert!(report.finished_unix_ms >= report.started_unix_ms);
    assert_eq!(
        fs::read_to_string(&report.stdout_log).unwrap(),
        "to stdout\n"
    );
    assert_eq!(
        fs::read_to_string(&report.stderr_log).unwrap(),
        "to stderr\n"
    );
    let (hash, files) = hash_outputs(&req.output_dir).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(
        hash,
        expected_result_hash(&[
            ("a.txt", b"hello\n"),
            ("sub/upper.txt", b"SOME INPUT\n"),
            ("greeting.txt", b"hi there\n"),
        ])
    );
}

/// Runs `req`, whose job writes its environment to `out/env`, and returns that file.
async fn run_for_env(dirs: &JobDirs, req: &RunRequest) -> String {
    let outcome = runtime().run(req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    fs::read_to_string(dirs.path("out/env")).unwrap()
}

#[tokio::test]
async fn the_environment_is_cleared_but_for_the_spec_and_the_runtime_variables() {
    let dirs = JobDirs::new();
    std::env::set_var("CINDER_TEST_LEAK", "secret");
    let spec = process_spec(
        &[
            "sh",
            "-c",
            "env | sort > \"$CINDER_OUTPUT_DIR/env\"; pwd > \"$CINDER_OUTPUT_DIR/pwd\"",
        ],
        30,
    );
    let mut req = dirs.request("EnvJob", spec);
    req.spec.env.insert("MINE".into(), "1".into());
    req.spec.deterministic = false;
    req.gpus = vec![
        Gpu {
            index: 0,
            uuid: "GPU-aaaa".into(),
            name: "X".into(),
            memory_mib: 1,
            pci_device_id: 0,
            mig_enabled: false,
        },
        Gpu {
            index: 1,
            uuid: "GPU-bbbb".into(),
            name: "X".into(),
            memory_mib: 1,
            pci_device_id: 0,
            mig_enabled: false,
        },
    ];
    let env = run_for_env(&dirs, &req).await;
    let vars: BTreeMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    assert_eq!(vars["CINDER_JOB"], "EnvJob");
    assert_eq!(vars["CINDER_INPUT_DIR"], dirs.path("in").to_str().unwrap());
    assert_eq!(
        vars["CINDER_OUTPUT_DIR"],
        dirs.path("out").to_str().unwrap()
    );
    assert_eq!(vars["CUDA_VISIBLE_DEVICES"], "GPU-aaaa,GPU-bbbb");
    assert_eq!(vars["MINE"], "1");
    assert!(
        !vars.contains_key("CINDER_TEST_LEAK"),
        "the worker's environment leaked: {env}"
    );
    assert!(!vars.contains_key("HOME"), "{env}");
    assert!(
        !vars.contains_key("CINDER_DETERMINISTIC") && !vars.contains_key("CUBLAS_WORKSPACE_CONFIG"),
        "a job that is not deterministic gets no determinism switches: {env}"
    );
    let pwd = fs::read_to_string(dirs.path("out/pwd")).unwrap();
    assert_eq!(
        pwd.trim(),
        dirs.path("work").to_str().unwrap(),
        "cwd is the work dir"
    );

    // No GPUs: CUDA_VISIBLE_DEVICES is set, and empty (so CUDA sees none, not all).
    let dirs = JobDirs::new();
    let req = dirs.request(
        "NoGpu",
        process_spec(
            &[
                "sh",
                "-c",
                "printf '[%s]' \"${CUDA_VISIBLE_DEVICES-unset}\" > \"$CINDER_OUTPUT_DIR/cvd\"",
            ],
            30,
        ),
    );
    runtime().run(&req, CancellationToken::new()).await.unwrap();
    assert_eq!(fs::read_to_string(dirs.path("out/cvd")).unwrap(), "[]");
}

#[tokio::test]
async fn a_job_over_its_time_limit_is_killed_with_its_child_processes() {
    let dirs = JobDirs::new();
    // The grandchild sleeps in the background and holds stdout open; the job waits on it.
    let script =
        "echo partial > \"$CINDER_OUTPUT_DIR/partial\"; sleep 300 & echo $! > grandchild.pid; wait";
    let mut req = dirs.request("SlowJob", process_spec(&["sh", "-c", script], 1));
    req.time_limit = Duration::from_secs(1);
    let started = Instant::now();
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(outcome, RunOutcome::TimedOut);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        common::dir_is_empty(&req.output_dir),
        "partial outputs are discarded"
    );
    let pid: i32 = fs::read_to_string(dirs.path("work/grandchild.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Killed: gone, or a zombie waiting for a reaper.
    let mut state = common::process_state(pid);
    for _ in 0..50 {
        if matches!(state, None | Some('Z')) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = common::process_state(pid);
    }
    assert!(
        matches!(state, None | Some('Z')),
        "grandchild {pid} still alive in state {state:?}"
    );
}

#[tokio::test]
async fn a_job_that_ignores_sigterm_is_killed_after_the_grace() {
    let dirs = JobDirs::new();
    let mut req = dirs.request(
        "Stubborn",
        process_spec(
            &["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
            1,
        ),
    );
    req.time_limit = Duration::from_millis(300);
    let started = Instant::now();
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    assert_eq!(outcome, RunOutcome::TimedOut);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(750) && took < Duration::from_secs(5),
        "took {took:?}"
    );
}

#[tokio::test]
async fn cancelling_a_run_kills_it_and_says_cancelled() {
    let dirs = JobDirs::new();
    let req = dirs.request(
        "Cancelled",
        process_spec(
            &["sh", "-c", "touch \"$CINDER_OUTPUT_DIR/x\"; sleep 300"],
            600,
        ),
    );
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let outcome = runtime().run(&req, cancel).await.unwrap();
    assert_eq!(outcome, RunOutcome::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(common::dir_is_empty(&req.output_dir));
}

#[tokio::test]
async fn a_non_zero_exit_fails_with_its_code_and_log_tail_and_discards_outputs() {
    let dirs = JobDirs::new();
    let req = dirs.request(
        "Fails",
        process_spec(
            &[
                "sh",
                "-c",
                "echo out > \"$CINDER_OUTPUT_DIR/o\"; echo 'it broke' >&2; exit 3",
            ],
            30,
        ),
    );
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    assert_eq!(
        outcome,
        RunOutcome::Failed {
            exit: Exit::Code(3),
            log_tail: "it broke\n".into()
        }
    );
    assert!(common::dir_is_empty(&req.output_dir));
    assert_eq!(
        fs::read_to_string(dirs.path("logs/stderr.log")).unwrap(),
        "it broke\n"
    );

    let req = dirs.request("Killed", process_spec(&["sh", "-c", "kill -9 $$"], 30));
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(
            outcome,
            RunOutcome::Failed {
                exit: Exit::Signal(9),
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_program_not_on_the_allow_list_is_refused() {
    let dirs = JobDirs::new();
    for program in ["bash", "/bin/sh", "../sh"] {
        let req = dirs.request(
            "NotAllowed",
            process_spec(&[program, "-c", "touch /tmp/cinder-should-not-exist"], 30),
        );
        let e = runtime()
            .run(&req, CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, RuntimeError::NotAllowed { name } if name == program),
            "{e}"
        );
    }
    assert!(runtime().allows("sh") && !runtime().allows("bash"));
    let e = ProcessRuntime::new(BTreeMap::new())
        .check()
        .await
        .unwrap_err();
    assert!(matches!(e, RuntimeError::NoProgramsAllowed));
    let broken = ProcessRuntime::new(BTreeMap::from([(
        "tool".to_string(),
        PathBuf::from("/nonexistent/tool"),
    )]));
    let e = broken.check().await.unwrap_err();
    assert!(
        matches!(&e, RuntimeError::ProgramUnusable { name, .. } if name == "tool"),
        "{e}"
    );
    runtime().check().await.unwrap();
}

#[tokio::test]
async fn a_process_over_its_memory_limit_fails_and_within_it_completes() {
    // dd allocates its block size at once: 256 MiB.
    let command = ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=256M count=1 2>&1 && echo done > \"$CINDER_OUTPUT_DIR/ok\""];
    let dirs = JobDirs::new();
    let mut spec = process_spec(&command, 60);
    spec.memory_limit_mib = Some(64);
    let req = dirs.request("MemoryBound", spec);
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    match outcome {
        RunOutcome::Failed {
            exit: Exit::Code(c),
            log_tail,
        } => {
            assert_ne!(c, 0);
            assert!(log_tail.contains("memory"), "{log_tail}");
        }
        o => panic!("expected a failure under a 64 MiB limit, got {o:?}"),
    }
    assert!(common::dir_is_empty(&req.output_dir));

    let dirs = JobDirs::new();
    let mut spec = process_spec(&command, 60);
    spec.memory_limit_mib = Some(1024);
    let outcome = runtime()
        .run(&dirs.request("MemoryOk", spec), CancellationToken::new())
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
}

/// A spec that sets no limit gets the operator's default: the same 256 MiB allocation fails
/// under a 64 MiB default and runs with none.
#[tokio::test]
async fn a_spec_without_a_memory_limit_gets_the_operators_default() {
    let command = ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=256M count=1 2>&1 && echo done > \"$CINDER_OUTPUT_DIR/ok\""];
    let capped = ProcessRuntime::with_config(ProcessConfig {
        allow: BTreeMap::from([("sh".to_string(), PathBuf::from("/bin/sh"))]),
        default_memory_bytes: Some(64 << 20),
        ..ProcessConfig::default()
    });
    let dirs = JobDirs::new();
    let req = dirs.request("DefaultCap", process_spec(&command, 60));
    assert!(req.spec.memory_limit_mib.is_none());
    let outcome = capped.run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(&outcome, RunOutcome::Failed { log_tail, .. } if log_tail.contains("memory")),
        "{outcome:?}"
    );
    let dirs = JobDirs::new();
    let outcome = runtime()
        .run(
            &dirs.request("NoCap", process_spec(&command, 60)),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_container_spec_is_not_run_as_a_process() {
    let dirs = JobDirs::new();
    let spec = common::container_spec(&format!("x@sha256:{}", "a".repeat(64)), &["sh"], 5);
    let e = runtime()
        .run(&dirs.request("Wrong", spec), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, RuntimeError::WrongKind { .. }), "{e}");
}

/// The `/proc/self/limits` value of a limit, as the job saw it.
fn limit_of(limits: &str, name: &str) -> String {
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {limits}"));
    line[name.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_memory_limit_is_on_address_space_without_gpus_and_on_data_with_them() {
    let command = [
        "sh",
        "-c",
        "cat /proc/self/limits > \"$CINDER_OUTPUT_DIR/limits\"",
    ];
    let dirs = JobDirs::new();
    let mut spec = process_spec(&command, 30);
    spec.memory_limit_mib = Some(100);
    let req = dirs.request("LimitsCpu", spec.clone());
    assert!(matches!(
        runtime().run(&req, CancellationToken::new()).await.unwrap(),
        RunOutcome::Completed { .. }
    ));
    let limits = fs::read_to_string(dirs.path("out/limits")).unwrap();
    assert_eq!(
        limit_of(&limits, "Max address space"),
        (100u64 << 20).to_string()
    );
    assert_eq!(limit_of(&limits, "Max data size"), "unlimited");

    let dirs = JobDirs::new();
    let mut req = dirs.request("LimitsGpu", spec);
    req.gpus = vec![Gpu {
        index: 0,
        uuid: "GPU-x".into(),
        name: "X".into(),
        memory_mib: 1,
        pci_device_id: 0,
        mig_enabled: false,
    }];
    assert!(matches!(
        runtime().run(&req, CancellationToken::new()).await.unwrap(),
        RunOutcome::Completed { .. }
    ));
    let limits = fs::read_to_string(dirs.path("out/limits")).unwrap();
    assert_eq!(limit_of(&limits, "Max address space"), "unlimited");
    assert_eq!(
        limit_of(&limits, "Max data size"),
        (100u64 << 20).to_string()
    );
}

#[tokio::test]
async fn relative_job_directories_are_resolved_before_the_job_changes_directory() {
    let dirs = JobDirs::new();
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count() - 1);
    let relative = |name: &str| {
        PathBuf::from(format!(
            "{up}{}",
            dirs.path(name)
                .display()
                .to_string()
                .trim_start_matches('/')
        ))
    };
    let mut req = dirs.request(
        "Relative",
        process_spec(&["sh", "-c", "echo here > \"$CINDER_OUTPUT_DIR/x\""], 30),
    );
    req.input_dir = relative("in");
    req.output_dir = relative("out");
    req.work_dir = relative("work");
    req.log_dir = relative("logs");
    assert!(req.output_dir.is_relative());
    let outcome = runtime().run(&req, CancellationToken::new()).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(fs::read_to_string(dirs.path("out/x")).unwrap(), "here\n");
}

#[tokio::test]
async fn a_spec_built_in_code_is_still_validated() {
    let dirs = JobDirs::new();
    let mut spec = process_spec(&["sh", "-c", "true"], 30);
    spec.env.insert("CINDER_OUTPUT_DIR".into(), "/etc".into());
    let e = runtime()
        .run(&dirs.request("Invalid", spec), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RuntimeError::InvalidSpec(cinder_runner::spec::SpecError::EnvReserved { key }) if key == "CINDER_OUTPUT_DIR"),
        "{e}"
    );
}

#[tokio::test]
async fn a_deterministic_job_runs_with_the_determinism_switches_and_its_seed() {
    let dirs = JobDirs::new();
    let mut spec = process_spec(&["sh", "-c", "env | sort > \"$CINDER_OUTPUT_DIR/env\""], 30);
    spec.deterministic = true;
    spec.env.insert("PYTHONHASHSEED".into(), "7".into());
    let req = dirs.request("DetJob", spec.clone());
    let env = run_for_env(&dirs, &req).await;
    let vars: BTreeMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    for (k, v) in spec.determinism_env("DetJob") {
        assert_eq!(vars.get(k.as_str()), Some(&v.as_str()), "{k}: {env}");
    }
    assert_eq!(vars["CUBLAS_WORKSPACE_CONFIG"], ":4096:8");
    assert!(vars["CINDER_SEED"].parse::<u32>().is_ok(), "{env}");
    assert_eq!(vars["PYTHONHASHSEED"], "7", "the spec's own value stands");
}
