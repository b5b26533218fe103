//! `cinder doctor`: checks, before a worker is started (or beside a running one), everything a
//! provider host needs to serve its markets, and says what to fix. Each check is one line:
//! ok, warn (works, but worth fixing) or FAIL (the worker would refuse to start, or jobs would
//! fail); the command exits 1 when any check fails.

use crate::{
    config::{RuntimeKind, WorkerConfig},
    exec::Executor,
    market::MarketInfo,
};
use cinder::state::StakePosition;
use cinder_client::{ix, rpc::Chain};
use cinder_runner::{
    gpu::Gpu,
    runtime::{ContainerRuntime, Engine, RunOutcome, RunRequest, Runtime},
    spec::JobSpec,
};
use serde::Serialize;
use solana_signer::Signer;
use std::{
    path::{Path, PathBuf},
    time::Duration,
};
use tokio_util::sync::CancellationToken;

/// Where Podman (and the CDI libraries) look for CDI specs.
pub const CDI_SPEC_DIRS: [&str; 2] = ["/etc/cdi", "/var/run/cdi"];

/// Free disk under `data_dir` below which a warning is given.
const LOW_DISK_BYTES: u64 = 20 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub level: Level,
    pub detail: String,
    /// What to do about it (warn and fail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn bad(
        level: Level,
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            level,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::bad(Level::Fail, name, detail, fix)
    }

    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::bad(Level::Warn, name, detail, fix)
    }
}

/// What `cinder doctor` was asked.
#[derive(Debug, Clone, Default)]
pub struct DoctorArgs {
    /// A CUDA image pinned by digest, started once per GPU with only that GPU; it must list
    /// exactly that GPU (`nvidia-smi -L`).
    pub probe_image: Option<String>,
}

/// Every check, in the order a provider fixes things.
pub async fn run(cfg: &WorkerConfig, args: &DoctorArgs) -> Vec<Check> {
    let mut out = Vec::new();
    let me = match solana_keypair::read_keypair_file(&cfg.keypair) {
        Ok(k) => {
            out.push(Check::ok(
                "keypair",
                format!("{} is {}", cfg.keypair.display(), k.pubkey()),
            ));
            Some(k.pubkey())
        }
        Err(e) => {
            out.push(Check::fail(
                "keypair",
                format!("{}: {e}", cfg.keypair.display()),
                "point `keypair` at the provider's keypair file (solana-keygen new -o ...)",
            ));
            None
        }
    };
    out.push(data_dir(&cfg.data_dir));

    // The executor as the worker builds it (engine, GPUs, allow-list), on a scratch data dir
    // so a running worker's lock is not in the way.
    let scratch = tempdir_under(&std::env::temp_dir());
    let mut probe_cfg = cfg.clone();
    probe_cfg.data_dir = scratch.clone();
    // The doctor changes nothing of the host's cgroups; it only says whether the worker can.
    probe_cfg.process_cgroup = false;
    let exec = match Executor::new(&probe_cfg).await {
        Ok(e) => Some(e),
        Err(e) => {
            out.push(Check::fail(
                "runtime",
                e.to_string(),
                "see docs/operator.md, \"What the host needs\"",
            ));
            None
        }
    };
    if let Some(exec) = &exec {
        out.extend(runtime_checks(cfg, exec).await);
        out.extend(gpu_checks(exec));
        if let (Some(rt), Some(image)) = (exec.container(), &args.probe_image) {
            for g in exec.gpus() {
                out.push(probe_gpu(rt, image, g, exec.gpus(), &scratch).await);
            }
        } else if !exec.gpus().is_empty() && exec.container().is_some() {
            out.push(Check::warn(
                "gpu probe",
                "skipped: no --probe-image",
                "pass --probe-image <a CUDA image pinned by digest> to start each GPU's container and compare what it sees with NVML",
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    out.extend(chain_checks(cfg, me, exec.as_ref()).await);
    out
}

fn tempdir_under(base: &Path) -> PathBuf {
    let dir = base.join(format!(
        "cinder-doctor-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// `data_dir` can be created and written, and has room.
fn data_dir(dir: &Path) -> Check {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Check::fail(
            "data_dir",
            format!("{}: {e}", dir.display()),
            "create it, owned by the worker's user, on a local file system",
        );
    }
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"x") {
        return Check::fail(
            "data_dir",
            format!("{} is not writable: {e}", dir.display()),
            "give the worker's user write access to it",
        );
    }
    let _ = std::fs::remove_file(&probe);
    match cinder_runner::files::free_bytes(dir) {
        Ok(free) if free < LOW_DISK_BYTES => Check::warn(
            "data_dir",
            format!("{}: {} GiB free", dir.display(), free >> 30),
            "jobs' inputs, outputs and images need room: keep well over 20 GiB free",
        ),
        Ok(free) => Check::ok(
            "data_dir",
            format!("{}: writable, {} GiB free", dir.display(), free >> 30),
        ),
        Err(e) => Check::warn(
            "data_dir",
            format!("cannot read free space: {e}"),
            "check the file system",
        ),
    }
}

/// The container engine and its way of passing GPUs; or the process allow-list.
async fn runtime_checks(cfg: &WorkerConfig, exec: &Executor) -> Vec<Check> {
    let mut out = Vec::new();
    match exec.container() {
        Some(rt) => {
            let engine = match rt.engine().await {
                Ok(e) => e,
                Err(e) => {
                    out.push(Check::fail(
                        "engine",
                        e.to_string(),
                        "start the engine's API socket",
                    ));
                    return out;
                }
            };
            out.push(Check::ok(
                "engine",
                format!("{engine:?} on {}", rt.socket()),
            ));
            if !exec.gpus().is_empty() {
                out.push(gpu_passing(rt, engine, exec.gpus()).await);
            }
        }
        None if cfg.runtime == RuntimeKind::Process => out.push(Check::ok(
            "runtime",
            format!(
                "process jobs only; allow-listed: {}",
                cfg.process_allow
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => out.push(Check::warn(
            "engine",
            format!(
                "no container engine answers on {}: process jobs only",
                cfg.container_socket
            ),
            "for container jobs run scripts/podman-setup.sh (Podman) or start dockerd",
        )),
    }
    if !cfg.process_allow.is_empty() && cfg.process_cgroup {
        out.push(match cinder_runner::runtime::CgroupRoot::probe() {
            Ok(version) => Check::ok(
                "process cgroups",
                format!("each process job gets a cgroup of its own (cgroup {version})"),
            ),
            Err(why) => Check::warn(
                "process cgroups",
                format!("process jobs will run without a cgroup: {why}"),
                "run the worker as root, under systemd with Delegate=yes (docs/operator.md)",
            ),
        });
    }
    out
}

/// Podman: a CDI spec names each GPU; Docker: the NVIDIA runtime is installed.
async fn gpu_passing(rt: &ContainerRuntime, engine: Engine, gpus: &[Gpu]) -> Check {
    if let Err(why) = engine.can_pass_gpus() {
        return Check::fail("gpu passing", why, "see docs/operator.md");
    }
    match engine {
        Engine::Podman { .. } => {
            let specs = cdi_specs(&CDI_SPEC_DIRS.map(PathBuf::from));
            let missing = missing_cdi_devices(&specs, rt.cdi_kind(), gpus);
            if missing.is_empty() {
                Check::ok(
                    "gpu passing",
                    format!(
                        "a CDI spec names each GPU as {}=<UUID>",
                        rt.cdi_kind()
                    ),
                )
            } else {
                Check::fail(
                    "gpu passing",
                    format!(
                        "no CDI spec in {} names {}",
                        CDI_SPEC_DIRS.join(", "),
                        missing.join(", ")
                    ),
                    "nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml (NVIDIA Container Toolkit); again after each driver upgrade",
                )
            }
        }
        Engine::Docker => match rt.docker().info().await {
            Ok(info) if info.runtimes.as_ref().is_some_and(|r| r.contains_key("nvidia")) => {
                Check::ok("gpu passing", "Docker has the nvidia runtime")
            }
            Ok(_) => Check::fail(
                "gpu passing",
                "Docker has no nvidia runtime: GPU requests would fail",
                "install the NVIDIA Container Toolkit and run `nvidia-ctk runtime configure --runtime=docker`, then restart dockerd",
            ),
            Err(e) => Check::warn("gpu passing", format!("docker info: {e}"), "check dockerd"),
        },
    }
}

/// The text of every CDI spec file (`.yaml`, `.yml`, `.json`) in `dirs`.
pub fn cdi_specs(dirs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let spec = matches!(
                path.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            );
            if spec {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((path, text));
                }
            }
        }
    }
    out
}

/// The CDI names (`kind=UUID`) of `gpus` that no spec of that kind mentions.
pub fn missing_cdi_devices(specs: &[(PathBuf, String)], kind: &str, gpus: &[Gpu]) -> Vec<String> {
    let of_kind: Vec<&str> = specs
        .iter()
        .filter(|(_, text)| text.contains(kind))
        .map(|(_, text)| text.as_str())
        .collect();
    gpus.iter()
        .filter(|g| !of_kind.iter().any(|text| text.contains(g.uuid.as_str())))
        .map(|g| format!("{kind}={}", g.uuid))
        .collect()
}

/// NVML's view: each GPU with its nominal class; MIG refused.
fn gpu_checks(exec: &Executor) -> Vec<Check> {
    if let Some(e) = exec.gpu_error() {
        // Fine for CPU markets; a GPU market's own check fails with the fix.
        return vec![Check::ok(
            "gpus",
            format!("none: CPU markets only (NVML: {e})"),
        )];
    }
    if exec.gpus().is_empty() {
        return vec![Check::ok("gpus", "NVML found no GPUs (CPU markets only)")];
    }
    exec.gpus()
        .iter()
        .map(|g| {
            let name = format!("gpu {}", g.index);
            let what = format!(
                "{} {} ({} MiB, {} GiB nominal)",
                g.uuid,
                g.name,
                g.memory_mib,
                g.nominal_vram_gib()
            );
            if g.mig_enabled {
                Check::fail(
                    name,
                    format!("{what}: MIG mode is on; whole-GPU jobs cannot use it"),
                    format!("nvidia-smi -i {} -mig 0 (then reset the GPU)", g.index),
                )
            } else {
                Check::ok(name, what)
            }
        })
        .collect()
}

/// Starts `image` with only `gpu`, the way a job's container is started, and compares the
/// GPUs it lists (`nvidia-smi -L`) with NVML: it must see that GPU's UUID and no other.
pub async fn probe_gpu(
    rt: &ContainerRuntime,
    image: &str,
    gpu: &Gpu,
    all: &[Gpu],
    scratch: &Path,
) -> Check {
    let name = format!("gpu {} probe", gpu.index);
    let spec = serde_json::json!({
        "version": 1, "kind": "container", "image": image,
        "command": ["nvidia-smi", "-L"], "time_limit_secs": 120, "gpus": 1,
    });
    let spec = match JobSpec::parse(spec.to_string().as_bytes()) {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                name,
                format!("--probe-image {image}: {e}"),
                "pin the image by digest: name@sha256:<64 hex>",
            )
        }
    };
    let dir = scratch.join(format!("probe-{}", gpu.index));
    let req = RunRequest {
        job: format!("doctor-gpu-{}", gpu.index),
        spec,
        input_dir: dir.join("in"),
        output_dir: dir.join("out"),
        work_dir: dir.join("work"),
        log_dir: dir.clone(),
        gpus: vec![gpu.clone()],
        time_limit: Duration::from_secs(120),
    };
    let outcome = rt.run(&req, CancellationToken::new()).await;
    let stdout = std::fs::read_to_string(req.stdout_log()).unwrap_or_default();
    match outcome {
        Ok(RunOutcome::Completed { .. }) => {}
        Ok(other) => {
            return Check::fail(
                name,
                format!("the probe container did not complete: {other:?}"),
                "see docs/operator.md on CDI specs and the NVIDIA Container Toolkit",
            )
        }
        Err(e) => {
            return Check::fail(
                name,
                e.to_string(),
                "see docs/operator.md on CDI specs and the NVIDIA Container Toolkit",
            )
        }
    }
    let others: Vec<&str> = all
        .iter()
        .filter(|g| g.uuid != gpu.uuid && stdout.contains(g.uuid.as_str()))
        .map(|g| g.uuid.as_str())
        .collect();
    if !stdout.contains(gpu.uuid.as_str()) {
        Check::fail(
            name,
            format!(
                "its container does not see {}: it listed {:?}",
                gpu.uuid,
                stdout.trim()
            ),
            "regenerate the CDI spec (nvidia-ctk cdi generate) and check the driver",
        )
    } else if !others.is_empty() {
        Check::fail(
            name,
            format!("its container also sees {}", others.join(", ")),
            "a job must get only its GPUs: check the engine's default devices and NVIDIA_VISIBLE_DEVICES handling",
        )
    } else {
        Check::ok(name, format!("its container sees exactly {}", gpu.uuid))
    }
}

/// The chain: RPC, the protocol, each market and whether this machine serves it, the
/// provider's stake and registration.
async fn chain_checks(
    cfg: &WorkerConfig,
    me: Option<anchor_lang::prelude::Pubkey>,
    exec: Option<&Executor>,
) -> Vec<Check> {
    let mut out = Vec::new();
    let chain = Chain::new(&cfg.rpc_url, Default::default());
    match chain.slot().await {
        Ok(slot) => out.push(Check::ok(
            "rpc",
            format!("{} answers, slot {slot}", cfg.rpc_url),
        )),
        Err(e) => {
            out.push(Check::fail(
                "rpc",
                format!("{}: {e}", cfg.rpc_url),
                "point rpc_url at a reachable RPC node of the cluster",
            ));
            return out;
        }
    }
    match chain
        .zero_copy::<cinder::state::Config>(&ix::config_pda())
        .await
    {
        Ok(Some(_)) => out.push(Check::ok("protocol", "the Cinder program is initialized")),
        Ok(None) => {
            out.push(Check::fail(
                "protocol",
                format!("no Cinder config account on {}", cfg.rpc_url),
                "rpc_url names another cluster than the markets' one",
            ));
            return out;
        }
        Err(e) => out.push(Check::fail("protocol", e.to_string(), "check the RPC node")),
    }
    let mut min_stake = 0u64;
    for id in &cfg.markets {
        let name = format!("market {id}");
        match MarketInfo::load(&chain, *id).await {
            Ok(Some(m)) => {
                min_stake = min_stake.max(m.market.params.min_provider_stake);
                match exec.map(|e| e.capacity(&m)) {
                    Some(Ok(cap)) => out.push(Check::ok(
                        name,
                        format!("{}: this machine serves it, {cap} at once", m.gpu_model()),
                    )),
                    Some(Err(e)) => out.push(Check::fail(
                        name,
                        e.to_string(),
                        "serve a market of this machine's class, or fix the GPUs above",
                    )),
                    None => out.push(Check::ok(name, m.gpu_model())),
                }
            }
            Ok(None) => out.push(Check::fail(
                name,
                "no such market on this cluster",
                "fix `markets`: the ids of markets on this cluster",
            )),
            Err(e) => out.push(Check::fail(name, e.to_string(), "check the RPC node")),
        }
    }
    let Some(me) = me else {
        return out;
    };
    match chain.zero_copy::<StakePosition>(&ix::stake_pda(&me)).await {
        Ok(Some(s)) if s.amount >= min_stake => out.push(Check::ok(
            "stake",
            format!("{} staked (the markets want {min_stake})", s.amount),
        )),
        Ok(Some(s)) => out.push(Check::fail(
            "stake",
            format!("{} staked; the markets want {min_stake}", s.amount),
            "cinder provider stake --amount <more>",
        )),
        Ok(None) => out.push(Check::fail(
            "stake",
            format!("{me} has no stake"),
            "cinder provider stake --amount <tokens> --lock-days <days>",
        )),
        Err(e) => out.push(Check::fail("stake", e.to_string(), "check the RPC node")),
    }
    match chain
        .zero_copy::<cinder::state::Provider>(&ix::provider_pda(&me))
        .await
    {
        Ok(Some(p)) => out.push(Check::ok(
            "registration",
            format!(
                "registered, {} × {} GiB, endpoint {}",
                p.gpu_count,
                p.vram_gib,
                cinder_client::accounts::endpoint(&p)
            ),
        )),
        Ok(None) => out.push(Check::ok(
            "registration",
            "not registered yet: the worker registers at start",
        )),
        Err(e) => out.push(Check::fail(
            "registration",
            e.to_string(),
            "check the RPC node",
        )),
    }
    out
}

/// The report as text, one line per check and its fix below it.
pub fn render(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks {
        let tag = match c.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        s.push_str(&format!("{tag}  {:<14} {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            s.push_str(&format!("      {:<14} fix: {fix}\n", ""));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(index: u32, uuid: &str) -> Gpu {
        Gpu {
            index,
            uuid: uuid.into(),
            name: "NVIDIA H100 80GB HBM3".into(),
            memory_mib: 81_559,
            pci_device_id: 0x2330_10de,
            mig_enabled: false,
        }
    }

    #[test]
    fn a_gpu_no_cdi_spec_of_its_kind_names_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nvidia.yaml"),
            "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: GPU-aaaa\n- name: \"0\"\n",
        )
        .unwrap();
        // Another kind naming the second GPU does not count; nor does a non-spec file.
        std::fs::write(
            dir.path().join("other.json"),
            r#"{"kind": "amd.com/gpu", "devices": [{"name": "GPU-bbbb"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "nvidia.com/gpu GPU-bbbb").unwrap();
        let specs = cdi_specs(&[dir.path().to_path_buf(), dir.path().join("absent")]);
        assert_eq!(specs.len(), 2);
        let gpus = [gpu(0, "GPU-aaaa"), gpu(1, "GPU-bbbb")];
        assert_eq!(
            missing_cdi_devices(&specs, "nvidia.com/gpu", &gpus),
            vec!["nvidia.com/gpu=GPU-bbbb".to_string()]
        );
        assert!(missing_cdi_devices(&specs, "nvidia.com/gpu", &gpus[..1]).is_empty());
    }

    #[test]
    fn the_report_says_what_to_fix_under_each_failure() {
        let text = render(&[
            Check::ok("rpc", "answers"),
            Check::fail("stake", "none", "cinder provider stake"),
        ]);
        assert_eq!(
            text,
            "ok    rpc            answers\nFAIL  stake          none\n                     fix: cinder provider stake\n"
        );
    }
}
