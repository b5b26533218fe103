//! The runner on a real NVIDIA GPU. Every test here needs one (and python3 with PyTorch), so
//! each is `#[ignore]`d in the ordinary suite; `scripts/gpu-check.sh` runs them on a GPU host
//! with `--ignored`, where a missing GPU, driver or python is a failure with its reason, never
//! a silent pass. Environment:
//!   CINDER_GPU_PYTHON   python3 with PyTorch (a venv's python by its own path, not resolved)
//!   CINDER_GPU_SCRIPTS  the folder of scripts/gpu (hold_gpu.py)
//!   CINDER_HASH_FILE    a large file for the hashing throughput figure

mod common;

use cinder_runner::{
    gpu::{self, Gpu, GpuPool},
    results::hash_outputs,
    runtime::{ProcessConfig, ProcessRuntime, RunOutcome, Runtime},
};
use common::{process_spec, JobDirs};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};
use tokio_util::sync::CancellationToken;

const NEEDS: &str = "needs an NVIDIA GPU and python3 with PyTorch: run by scripts/gpu-check.sh";

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set ({NEEDS})")))
}

fn gpus() -> Vec<Gpu> {
    let gpus = gpu::inventory().unwrap_or_else(|e| panic!("NVML: {e} ({NEEDS})"));
    assert!(!gpus.is_empty(), "NVML found no GPU ({NEEDS})");
    gpus
}

fn python_runtime() -> ProcessRuntime {
    ProcessRuntime::with_config(ProcessConfig {
        allow: BTreeMap::from([("python3".to_string(), env_path("CINDER_GPU_PYTHON"))]),
        kill_grace: Duration::from_secs(2),
        ..ProcessConfig::default()
    })
}

/// NVML's view of every GPU (index, UUID, name, memory, MIG mode, PCI id) equals what
/// `nvidia-smi` reports.
#[test]
#[ignore = "needs an NVIDIA GPU: run by scripts/gpu-check.sh"]
fn nvml_inventory_equals_nvidia_smi() {
    let gpus = gpus();
    let out = Command::new("nvidia-smi")
        .args([
            "--query-gpu=index,uuid,name,memory.total,mig.mode.current,pci.device_id",
            "--format=csv,noheader,nounits",
        ])
        .output()
        .expect("nvidia-smi runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(|f| f.trim().to_string()).collect())
        .collect();
    assert_eq!(rows.len(), gpus.len(), "nvidia-smi: {text}");
    for (g, r) in gpus.iter().zip(&rows) {
        println!(
            "NVML: {} {} {:?} {} MiB ({} GiB nominal) pci {:#010x} MIG {}",
            g.index,
            g.uuid,
            g.name,
            g.memory_mib,
            g.nominal_vram_gib(),
            g.pci_device_id,
            g.mig_enabled
        );
        println!("smi:  {}", r.join(" | "));
        assert_eq!(r[0], g.index.to_string());
        assert_eq!(r[1], g.uuid);
        assert_eq!(r[2], g.name);
        assert_eq!(r[3], g.memory_mib.to_string());
        assert_eq!(r[4] == "Enabled", g.mig_enabled, "MIG: {}", r[4]);
        assert_eq!(
            u32::from_str_radix(r[5].trim_start_matches("0x"), 16).unwrap(),
            g.pci_device_id
        );
        if NOMINAL_KNOWN.contains(&g.name.as_str()) {
            assert!(
                gpu::NOMINAL_VRAM
                    .iter()
                    .any(|(n, mib, _)| *n == g.name && *mib == g.memory_mib),
                "the nominal-memory table's total for {} is not NVML's {} MiB",
                g.name,
                g.memory_mib
            );
        }
    }
}

/// Cards whose NVML total the table records from a real reading here.
const NOMINAL_KNOWN: &[&str] = &["NVIDIA H200"];

/// A job leased one GPU sees exactly that GPU (by UUID, through CUDA_VISIBLE_DEVICES), the
/// lease is exclusive while held, and the GPU is free again after it.
#[tokio::test]
#[ignore = "needs an NVIDIA GPU: run by scripts/gpu-check.sh"]
async fn a_gpu_job_sees_exactly_its_leased_gpu() {
    let all = gpus();
    let pool = GpuPool::new(all.clone());
    let want = all[0].nominal_vram_gib();
    let lease = pool.take(1, want).expect("a free GPU of its own size");
    assert_eq!(
        pool.free(),
        all.len() - 1,
        "the leased GPU is out of the pool"
    );
    if all.len() == 1 {
        assert!(pool.take(1, 0).is_none(), "one GPU, already leased");
    }
    let dirs = JobDirs::new();
    let code = "import json, os, torch\n\
        p = torch.cuda.get_device_properties(0)\n\
        json.dump({'count': torch.cuda.device_count(), 'uuid': 'GPU-' + str(p.uuid), 'name': p.name,\n\
                   'visible': os.environ.get('CUDA_VISIBLE_DEVICES')},\n\
                  open(os.path.join(os.environ['CINDER_OUTPUT_DIR'], 'seen.json'), 'w'))\n";
    let mut spec = process_spec(&["python3", "-c", code], 120);
    spec.gpus = 1;
    let mut req = dirs.request("GpuSeen", spec);
    req.gpus = lease.gpus().to_vec();
    for d in ["in", "out", "work", "logs"] {
        std::fs::create_dir_all(dirs.path(d)).unwrap();
    }
    let started = Instant::now();
    let outcome = python_runtime()
        .run(&req, CancellationToken::new())
        .await
        .unwrap();
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{outcome:?}; stderr: {}",
        std::fs::read_to_string(dirs.path("logs/stderr.log")).unwrap_or_default()
    );
    let seen: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs.path("out/seen.json")).unwrap()).unwrap();
    println!(
        "the job saw {seen} ({:.1} s with python and CUDA start)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(seen["count"], 1, "exactly one device visible");
    assert_eq!(seen["uuid"], lease.gpus()[0].uuid.as_str());
    assert_eq!(seen["visible"], lease.gpus()[0].uuid.as_str());
    assert_eq!(seen["name"], lease.gpus()[0].name.as_str());
    drop(lease);
    assert_eq!(pool.free(), all.len(), "the GPU is back in the pool");
}

/// A GPU job over its time limit is killed with its whole process group, and no process of it
/// is left on the GPU (NVML's compute processes) afterwards.
#[tokio::test]
#[ignore = "needs an NVIDIA GPU: run by scripts/gpu-check.sh"]
async fn a_gpu_job_over_its_time_limit_is_killed_and_leaves_the_gpu() {
    let all = gpus();
    let target = all[0].clone();
    let before = gpu::compute_processes().unwrap();
    assert!(
        before.get(&target.uuid).is_none_or(|p| p.is_empty()),
        "the GPU is busy before the test: {before:?}"
    );
    let script = env_path("CINDER_GPU_SCRIPTS").join("hold_gpu.py");
    let dirs = JobDirs::new();
    let mut spec = process_spec(&["python3", script.to_str().unwrap()], 60);
    spec.gpus = 1;
    let mut req = dirs.request("GpuHold", spec);
    req.gpus = vec![target.clone()];
    req.time_limit = Duration::from_secs(25);
    for d in ["in", "out", "work", "logs"] {
        std::fs::create_dir_all(dirs.path(d)).unwrap();
    }
    let rt = python_runtime();
    let run = tokio::spawn(async move { rt.run(&req, CancellationToken::new()).await });
    // The job shows up on the GPU while it runs.
    let mut seen_on_gpu = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(24) && seen_on_gpu.is_empty() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        seen_on_gpu = gpu::compute_processes()
            .unwrap()
            .remove(&target.uuid)
            .unwrap_or_default();
    }
    println!(
        "on the GPU after {:.1} s: {seen_on_gpu:?} (pid, bytes)",
        t.elapsed().as_secs_f64()
    );
    assert!(
        !seen_on_gpu.is_empty(),
        "NVML never listed the job's process on its GPU"
    );
    let outcome = run.await.unwrap().unwrap();
    let ended = Instant::now();
    assert!(
        matches!(outcome, RunOutcome::TimedOut),
        "{outcome:?}; stderr: {}",
        std::fs::read_to_string(dirs.path("logs/stderr.log")).unwrap_or_default()
    );
    // The driver frees a killed process's context within moments; poll, bounded.
    let mut left = Vec::new();
    while ended.elapsed() < Duration::from_secs(15) {
        left = gpu::compute_processes()
            .unwrap()
            .remove(&target.uuid)
            .unwrap_or_default();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "GPU free {:.2} s after the kill returned",
        ended.elapsed().as_secs_f64()
    );
    assert!(
        left.is_empty(),
        "processes still on the GPU after the kill: {left:?}"
    );
    for (pid, _) in &seen_on_gpu {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} survived"
        );
    }
}

/// The runner's result hashing (what the worker does to every output before committing)
/// over a large file: the throughput figure for BENCHMARKS.md.
#[test]
#[ignore = "needs a large file: run by scripts/gpu-check.sh (CINDER_HASH_FILE)"]
fn gpu_hash_throughput() {
    let file = env_path("CINDER_HASH_FILE");
    let dir = tempfile::tempdir_in(file.parent().unwrap()).unwrap();
    std::fs::hard_link(&file, dir.path().join("output.bin")).unwrap();
    let bytes = std::fs::metadata(&file).unwrap().len();
    let t = Instant::now();
    let (hash, files) = hash_outputs(dir.path()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(files.len(), 1);
    println!(
        "hash_outputs: {} MiB in {secs:.2} s = {:.2} GiB/s (result hash {})",
        bytes >> 20,
        bytes as f64 / secs / (1u64 << 30) as f64,
        hex::encode(hash)
    );
}
