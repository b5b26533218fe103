//! Worker settings: defaults, then a TOML file, then `CINDER_*` environment variables, then
//! command-line flags (each overriding the one before).

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// JSON-RPC URL of the cluster.
    pub rpc_url: String,
    /// Websocket URL; empty: derived from `rpc_url` (http→ws, port + 1).
    pub ws_url: String,
    /// The provider's keypair (Solana CLI JSON format).
    pub keypair: PathBuf,
    /// Journal, results and job work directories.
    pub data_dir: PathBuf,
    /// Market ids this worker serves (all must share its GPU class).
    pub markets: Vec<u64>,
    /// Public URL of the results server, registered on chain (≤ 128 bytes).
    pub endpoint: String,
    /// Where the results server listens.
    pub listen: SocketAddr,
    /// Where Prometheus metrics are served (`/metrics`); unset: not served.
    pub metrics_listen: Option<SocketAddr>,
    /// `auto` (containers when a container engine answers, else processes), `container`, or
    /// `process`.
    pub runtime: RuntimeKind,
    /// Docker Engine API socket (Podman's `podman system service` or Docker's).
    pub container_socket: String,
    /// Give containers network access (off by default: jobs get their inputs from the worker).
    pub container_network: bool,
    /// A container job's `/dev/shm` (MiB; engines default to 64, too small for PyTorch).
    pub container_shm_mib: u64,
    /// A container job's `/tmp`, a tmpfs counted against its memory (MiB).
    pub container_tmp_mib: u64,
    /// Memory cap of a container job whose spec sets no `memory_limit_mib` (MiB).
    pub container_memory_mib: u64,
    /// `uid:gid` container jobs run as (`nobody`); empty: the image's own user (often root).
    pub container_user: String,
    /// Most log a container job keeps on the engine's disk (MiB; the latest is kept).
    pub container_log_mib: u64,
    /// Most a job may write to its output and scratch directories on `data_dir`'s disk (MiB;
    /// a container's `/scratch` and outputs, a process job's directories). A run that passes
    /// it, or that leaves the disk with less than 256 MiB free, is stopped and given back.
    pub job_disk_mib: u64,
    /// How often a running job's disk use is measured (s).
    pub disk_watch_secs: u64,
    /// A sandboxed process job's `/tmp`, a tmpfs held in memory (MiB).
    pub process_tmp_mib: u64,
    /// Memory limit of a process job whose spec sets no `memory_limit_mib` (MiB; its address
    /// space, or its data segment when it has GPUs).
    pub process_memory_mib: u64,
    /// Run each process job in a cgroup of its own (memory and process caps that count what
    /// the job really holds, one kill for all it started) when the worker may make cgroups:
    /// root on cgroup v1, or a delegated subtree on v2 (systemd `Delegate=yes`). Where it may
    /// not, the worker says so at start and runs process jobs with their rlimits only.
    pub process_cgroup: bool,
    /// Cores a job may use at most, fractions allowed: a container's CPU quota, and a process
    /// job's cgroup's (where the cpu controller is there). 0: the host's cores less one,
    /// shared by `cpu_slots` jobs, at least one core. A job that spins every core must not
    /// starve the worker that submits its result before the deadline.
    pub job_cpus: f64,
    /// Operator allow-list for process jobs: name in the spec → absolute path.
    pub process_allow: BTreeMap<String, PathBuf>,
    /// Run process jobs in the sandbox (bubblewrap: their own namespaces, the host
    /// read-only, data_dir and keypair hidden, an unprivileged user when the worker is root).
    /// Off only for clients you trust: the job then runs as the worker's user.
    pub process_sandbox: bool,
    /// Jobs at once in a market without GPUs (`gpu_model = "cpu"`).
    pub cpu_slots: u32,
    /// Accept `file://` spec and input URIs (local testing only).
    pub allow_file_uris: bool,
    /// Internal networks (CIDR) that job specs and inputs may still be fetched from: loopback,
    /// private and link-local addresses (the clouds' metadata service among them) are refused
    /// otherwise. `["127.0.0.0/8"]` for a local chain's test servers; an operator's own mirror.
    pub fetch_internal_networks: Vec<String>,
    /// Ignore jobs paying less than this per second (base units), on top of the market minimum.
    pub min_price_per_sec: u64,
    /// Re-run other providers' sampled jobs.
    pub verify: bool,
    /// Run the permissionless cranks (reveal, settle, expire) for every job, not only our own.
    pub keeper: bool,
    /// Full rescan of open jobs this often, besides the websocket subscription.
    pub rescan_secs: u64,
    /// On shutdown, wait this long for running jobs before quitting them.
    pub shutdown_grace_secs: u64,
    /// On SIGTERM, after the grace, leave running container jobs running (for the next start
    /// to re-attach: an upgrade) instead of giving them back. A worker that is not started
    /// again lets them expire.
    pub stop_leaves_containers: bool,
    /// How long a job task keeps asking an RPC node that does not answer before it leaves the
    /// job's journal entry open for the reconciler (an outage never reads as "the job is gone").
    pub rpc_patience_secs: u64,
    /// The reconciler re-drives, this often, every journal entry left open by a task that gave
    /// up on the RPC node (claimed, running, ran, submitting), as a restart would.
    pub reconcile_secs: u64,
    /// Keep stored results this many days after settlement.
    pub retention_days: u64,
    /// Optional object store for results (`s3://bucket/prefix`, `file:///dir`).
    pub object_store: Option<String>,
    pub priority_fee: PriorityFeeConfig,
    /// Log format: `pretty` or `json`.
    pub log_format: String,
    /// Demos and tests only: act as a cheating provider for jobs whose spec sets the env key
    /// `DEMO_TAMPER`, committing to fabricated outputs (every `.npy` array zeroed,
    /// every other file replaced) instead of the real ones, so verification can be shown
    /// catching it. Off by default; refused unless `rpc_url` is on this machine (a local
    /// chain).
    pub demo_tamper: bool,
    /// Demos and tests only: act as a lazy verifier of `tolerance` jobs, which commits to a
    /// result hash it made up and says "match" without re-running the job, so the client's
    /// challenge of a match can be shown slashing it. Off by default; refused unless `rpc_url`
    /// is on this machine (a local chain).
    pub demo_lazy_verifier: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    Auto,
    Container,
    Process,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriorityFeeConfig {
    /// Percentile of recent non-zero fees for the written accounts.
    pub percentile: u8,
    pub min_micro_lamports: u64,
    pub max_micro_lamports: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            rpc_url: "http://127.0.0.1:8899".into(),
            ws_url: String::new(),
            keypair: PathBuf::from("provider-keypair.json"),
            data_dir: PathBuf::from(".cinder/worker"),
            markets: vec![1],
            endpoint: "http://127.0.0.1:8950".into(),
            listen: "127.0.0.1:8950".parse().expect("literal"),
            metrics_listen: None,
            runtime: RuntimeKind::Auto,
            container_socket: "unix:///run/podman/podman.sock".into(),
            container_network: false,
            container_shm_mib: 1024,
            container_tmp_mib: 1024,
            container_memory_mib: 32 * 1024,
            container_user: "65534:65534".into(),
            container_log_mib: 16,
            job_disk_mib: 256 * 1024,
            disk_watch_secs: 10,
            process_tmp_mib: 1024,
            process_memory_mib: 32 * 1024,
            process_cgroup: true,
            job_cpus: 0.0,
            process_allow: BTreeMap::new(),
            process_sandbox: true,
            cpu_slots: 1,
            allow_file_uris: false,
            fetch_internal_networks: Vec::new(),
            min_price_per_sec: 0,
            verify: true,
            keeper: true,
            rescan_secs: 15,
            shutdown_grace_secs: 30,
            stop_leaves_containers: false,
            rpc_patience_secs: 600,
            reconcile_secs: 30,
            retention_days: 7,
            object_store: None,
            priority_fee: PriorityFeeConfig {
                percentile: 75,
                min_micro_lamports: 0,
                max_micro_lamports: 1_000_000,
            },
            log_format: "pretty".into(),
            demo_tamper: false,
            demo_lazy_verifier: false,
        }
    }
}

/// Flag values that override the file and the environment (unset: not overridden).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keypair: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markets: Option<Vec<u64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl WorkerConfig {
    /// A job's CPU cap in thousandths of a core on a host with `cores` (see `job_cpus`).
    pub fn job_cpu_millis(&self, cores: usize) -> u64 {
        if self.job_cpus > 0.0 {
            return ((self.job_cpus * 1000.0).round() as u64).max(1);
        }
        let spare = (cores.saturating_sub(1) as u64).saturating_mul(1000);
        (spare / u64::from(self.cpu_slots.max(1))).max(1000)
    }

    /// Defaults ← `file` (if given) ← `CINDER_*` env (e.g. `CINDER_RPC_URL`,
    /// `CINDER_PRIORITY_FEE__PERCENTILE`) ← flags.
    pub fn load(file: Option<&std::path::Path>, flags: &Overrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(WorkerConfig::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Missing(f.to_path_buf()));
            }
            fig = fig.merge(Toml::file(f));
        }
        let fig = fig
            .merge(
                // Only the settings' own keys: other CINDER_* variables (CINDER_CACHE, test
                // switches) are not settings.
                Env::prefixed("CINDER_").split("__").filter(|k| {
                    let key = k.as_str().to_ascii_lowercase();
                    let top = key.split('.').next().unwrap_or("");
                    setting_keys().iter().any(|s| s == top)
                }),
            )
            .merge(Serialized::defaults(flags));
        let cfg: WorkerConfig = fig.extract().map_err(Box::new)?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.markets.is_empty() {
            return Err(ConfigError::Invalid(
                "markets is empty: list the market ids to serve".into(),
            ));
        }
        if self.endpoint.len() > cinder::constants::URI_LEN {
            return Err(ConfigError::Invalid(format!(
                "endpoint is {} bytes; at most {} fit on chain",
                self.endpoint.len(),
                cinder::constants::URI_LEN
            )));
        }
        // Clients sign results requests for this exact endpoint (see the results server).
        cinder_runner::server::endpoint_base(&self.endpoint).map_err(|e| {
            ConfigError::Invalid(format!(
                "{e}: set endpoint to the http(s) URL clients reach the results server at"
            ))
        })?;
        for (name, path) in &self.process_allow {
            if !path.is_absolute() {
                return Err(ConfigError::Invalid(format!(
                    "process_allow.{name} = {}: use an absolute path",
                    path.display()
                )));
            }
        }
        for net in &self.fetch_internal_networks {
            net.parse::<cinder_runner::spec::IpNet>()
                .map_err(|e| ConfigError::Invalid(format!("fetch_internal_networks: {e}")))?;
        }
        if self.cpu_slots == 0 {
            return Err(ConfigError::Invalid("cpu_slots must be at least 1".into()));
        }
        if !self.job_cpus.is_finite() || !(0.0..=4096.0).contains(&self.job_cpus) {
            return Err(ConfigError::Invalid(format!(
                "job_cpus = {}: cores a job may use, between 0 (the host's cores less one, \
                 shared by cpu_slots jobs) and 4096",
                self.job_cpus
            )));
        }
        for (on, name) in [
            (self.demo_tamper, "demo_tamper"),
            (self.demo_lazy_verifier, "demo_lazy_verifier"),
        ] {
            if on && !is_loopback_url(&self.rpc_url) {
                return Err(ConfigError::Invalid(format!(
                    "{name} makes this worker cheat and exists for local demos and tests only; \
                     rpc_url {} is not a local chain (127.0.0.1, ::1 or localhost): turn it off",
                    self.rpc_url
                )));
            }
        }
        if !is_loopback_url(&self.rpc_url) && reachable_only_here(&self.endpoint) {
            return Err(ConfigError::Invalid(format!(
                "endpoint {} is where clients download results (it is registered on chain), but \
                 only this machine can reach it and rpc_url {} is not a local chain: set endpoint \
                 to this host's public URL (e.g. https://gpu1.example.com, behind a TLS proxy)",
                self.endpoint, self.rpc_url
            )));
        }
        if !matches!(self.log_format.as_str(), "pretty" | "json") {
            return Err(ConfigError::Invalid(
                "log_format must be pretty or json".into(),
            ));
        }
        Ok(())
    }

    /// The websocket URL: as configured, or the RPC URL's scheme swapped and port + 1 (the
    /// validator's convention).
    pub fn ws_url(&self) -> String {
        if !self.ws_url.is_empty() {
            return self.ws_url.clone();
        }
        ws_from_rpc(&self.rpc_url)
    }
}

/// The URL's host is this machine (a loopback address or `localhost`).
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The URL's host is this machine or no machine (`0.0.0.0`, `[::]`): fine for a local chain,
/// useless as a public endpoint.
fn reachable_only_here(url: &str) -> bool {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()));
    is_loopback_url(url)
        || match host {
            Some(url::Host::Ipv4(ip)) => ip.is_unspecified(),
            Some(url::Host::Ipv6(ip)) => ip.is_unspecified(),
            _ => false,
        }
}

fn setting_keys() -> Vec<String> {
    match serde_json::to_value(WorkerConfig::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

pub fn ws_from_rpc(rpc: &str) -> String {
    let Ok(mut u) = url::Url::parse(rpc) else {
        return rpc.replacen("http", "ws", 1);
    };
    let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
    let _ = u.set_scheme(scheme);
    if let Some(p) = u.port() {
        let _ = u.set_port(Some(p.saturating_add(1)));
    }
    u.to_string().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // figment's Jail closure returns figment's own (large) error type.
    #[allow(clippy::result_large_err)]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.toml");
        std::fs::write(
            &f,
            "rpc_url = \"http://10.0.0.1:8899\"\nendpoint = \"https://gpu1.example.com\"\nmarkets = [3, 4]\ncpu_slots = 2\n[process_allow]\nsh = \"/bin/sh\"\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("CINDER_CPU_SLOTS", "5");
            jail.set_env("CINDER_CACHE", "/not/a/setting");
            let c = WorkerConfig::load(
                Some(&f),
                &Overrides {
                    markets: Some(vec![9]),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(c.rpc_url, "http://10.0.0.1:8899");
            assert_eq!(c.cpu_slots, 5, "env over file");
            assert_eq!(c.markets, vec![9], "flags over env and file");
            assert_eq!(c.process_allow["sh"], PathBuf::from("/bin/sh"));
            assert_eq!(c.ws_url(), "ws://10.0.0.1:8900");
            Ok(())
        });
    }

    #[test]
    fn invalid_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.toml");
        std::fs::write(&f, "[process_allow]\nsh = \"sh\"\n").unwrap();
        let e = WorkerConfig::load(Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("absolute path"), "{e}");
        std::fs::write(&f, "no_such_key = 1\n").unwrap();
        assert!(WorkerConfig::load(Some(&f), &Overrides::default()).is_err());
        for (url, ok) in [
            ("http://127.0.0.1:8899", true),
            ("http://localhost:8899", true),
            ("http://[::1]:8899", true),
            ("https://api.devnet.solana.com", false),
            ("http://10.0.0.1:8899", false),
            ("http://127.0.0.1.example.com:8899", false),
        ] {
            for switch in ["demo_tamper", "demo_lazy_verifier"] {
                std::fs::write(&f, format!("rpc_url = \"{url}\"\n{switch} = true\n")).unwrap();
                let r = WorkerConfig::load(Some(&f), &Overrides::default());
                assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
                if let Err(e) = r {
                    assert!(e.to_string().contains(switch), "{e}");
                }
            }
        }
        // The results endpoint is registered on chain: on a real cluster it must be public.
        for (rpc, endpoint, ok) in [
            ("http://127.0.0.1:8899", "http://127.0.0.1:8950", true),
            (
                "https://api.devnet.solana.com",
                "https://gpu1.example.com",
                true,
            ),
            (
                "https://api.devnet.solana.com",
                "http://127.0.0.1:8950",
                false,
            ),
            (
                "https://api.devnet.solana.com",
                "http://localhost:8950",
                false,
            ),
            (
                "https://api.devnet.solana.com",
                "http://0.0.0.0:8950",
                false,
            ),
            ("https://api.devnet.solana.com", "http://[::]:8950", false),
            ("http://127.0.0.1:8899", "gpu1.example.com:8950", false),
            ("http://127.0.0.1:8899", "ftp://gpu1.example.com", false),
        ] {
            std::fs::write(
                &f,
                format!("rpc_url = \"{rpc}\"\nendpoint = \"{endpoint}\"\n"),
            )
            .unwrap();
            let r = WorkerConfig::load(Some(&f), &Overrides::default());
            assert_eq!(r.is_ok(), ok, "{rpc} {endpoint}: {r:?}");
            if let Err(e) = r {
                let e = e.to_string();
                assert!(
                    e.contains("public URL") || e.contains("clients reach the results server"),
                    "{e}"
                );
            }
        }
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            WorkerConfig::load(Some(&missing), &Overrides::default()),
            Err(ConfigError::Missing(_))
        ));
    }

    /// A job's CPU cap: the host's cores less one for the worker, shared by the CPU slots, at
    /// least one core; or the operator's figure, fractions kept.
    #[test]
    fn a_jobs_cpu_cap_leaves_the_worker_a_core() {
        let mut c = WorkerConfig::default();
        assert_eq!(c.job_cpu_millis(16), 15_000);
        assert_eq!(c.job_cpu_millis(2), 1_000);
        assert_eq!(c.job_cpu_millis(1), 1_000, "at least one core");
        c.cpu_slots = 4;
        assert_eq!(c.job_cpu_millis(16), 3_750);
        assert_eq!(c.job_cpu_millis(2), 1_000);
        c.job_cpus = 2.5;
        assert_eq!(c.job_cpu_millis(16), 2_500);
        c.job_cpus = 0.0001;
        assert_eq!(c.job_cpu_millis(16), 1, "never 0, which would mean no cap");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.toml");
        for bad in ["-1.0", "5000.0", "nan"] {
            std::fs::write(&f, format!("job_cpus = {bad}\n")).unwrap();
            let e = WorkerConfig::load(Some(&f), &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("job_cpus"), "{bad}: {e}");
        }
        std::fs::write(&f, "job_cpus = 3.5\n").unwrap();
        let c = WorkerConfig::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.job_cpu_millis(64), 3_500);
    }
}
