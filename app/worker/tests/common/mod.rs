//! The worker's test harness: one real local chain (Agave's test validator with the SBF
//! program, bootstrapped from migrations/localnet.toml) per test binary, a market per test,
//! funded clients and staked providers, workers run as real `cinder worker` processes
//! (so a test can kill -9 them), and a file host for specs and inputs.
#![allow(dead_code)]

use anchor_lang::prelude::Pubkey;
use cinder::state::{Bps, Job, JobState};
use cinder_client::{
    ix,
    rpc::{Chain, SendConfig},
    token,
};
use cinder_worker::{
    cli::{self, Ctx},
    localnet::{self, LocalnetArgs, LocalnetState},
};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The program the chain runs: `CINDER_PROGRAM_SO`, or the repo's SBF build.
pub fn program_so() -> PathBuf {
    std::env::var_os("CINDER_PROGRAM_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/deploy/cinder.so"))
}

pub struct Net {
    pub state: LocalnetState,
    pub admin: Keypair,
    pub mint_authority: Keypair,
    pub usdc: Pubkey,
    pub usdc_program: Pubkey,
    pub protocol_mint: Pubkey,
}

static NET: OnceLock<Arc<Net>> = OnceLock::new();
static NEXT_MARKET: AtomicU64 = AtomicU64::new(1000);

/// The shared chain, started on first use (≈ 5-10 s) on a runtime of its own that lives as
/// long as the test process.
pub fn net() -> Arc<Net> {
    NET.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let running = localnet::start(&LocalnetArgs {
                    ledger: ledger_dir().join("ledger"),
                    reset: true,
                    rpc_port: None,
                    program: program_so(),
                    plan: repo().join("migrations/localnet.toml"),
                    state_file: None,
                })
                .await
                .expect("local chain starts");
                let st = running.state.clone();
                let usdc = st.mint("usdc").unwrap();
                let net = Net {
                    admin: st.admin().unwrap(),
                    mint_authority: st.mint_authority().unwrap(),
                    usdc: usdc.address.parse().unwrap(),
                    usdc_program: usdc.token_program.parse().unwrap(),
                    protocol_mint: st.protocol_mint(),
                    state: st,
                };
                tx.send(Arc::new(net)).unwrap();
                // Keep the validator alive for the whole test process.
                std::future::pending::<()>().await;
                drop(running);
            });
        });
        rx.recv().expect("local chain thread")
    })
    .clone()
}

/// This test process's ledger directory, `cinder-test-ledgers/<pid>` under the system's temp
/// dir. The chain lives in a static, which is never dropped, so a `TempDir` there would leave
/// its ledger (≈ 1 GB) behind after every run: 90 of them filled this machine's disk once.
/// Instead each start removes the ledgers of test processes that have ended (passed, failed
/// or killed), and keeps those of processes still running beside it.
fn ledger_dir() -> PathBuf {
    let root = std::env::temp_dir().join("cinder-test-ledgers");
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let alive = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn chain() -> Chain {
    Chain::new(&net().state.rpc_url, SendConfig::default())
}

pub fn ctx(me: &Keypair) -> Ctx {
    Ctx {
        chain: chain(),
        me: me.insecure_clone(),
        json: false,
        quiet: true,
    }
}

/// Market knobs a test changes; the rest as the CPU market of the local plan.
#[derive(Clone)]
pub struct MarketOpts {
    pub verify_rate_bps: u16,
    pub gpu_model: String,
    pub challenge_window_secs: u32,
    pub expire_grace_secs: u32,
}

impl Default for MarketOpts {
    fn default() -> Self {
        Self {
            verify_rate_bps: 0,
            gpu_model: "cpu".into(),
            challenge_window_secs: 10,
            expire_grace_secs: 30,
        }
    }
}

/// A market of its own, a funded client and staked, registered providers.
/// The tests of one binary share one local validator and each starts worker processes: they
/// run one at a time (a fixture holds this lock until the test ends). In parallel on a 2-core
/// machine a Podman container job once stayed unclaimed past its timeout in a clean-clone CI
/// run, and timing-sensitive checks (kill points, backoff) lose their margins.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Fixture {
    pub market_id: u64,
    pub market: Pubkey,
    pub client: Keypair,
    pub providers: Vec<Keypair>,
    pub dir: tempfile::TempDir,
    pub files: FileHost,
    /// Released when the fixture drops, after the test's own workers (declared later, dropped
    /// earlier): then the next test may start.
    _one_at_a_time: tokio::sync::MutexGuard<'static, ()>,
}

pub async fn fixture(opts: MarketOpts, providers: usize) -> Fixture {
    let one_at_a_time = ONE_AT_A_TIME.lock().await;
    let net = net();
    let chain = chain();
    let id = NEXT_MARKET.fetch_add(1, Ordering::SeqCst);
    let params = cinder::state::MarketParams {
        min_price_per_sec: 100,
        min_provider_stake: 1_000_000_000_000,
        stake_per_job: 100_000_000_000,
        max_duration_secs: 3_600,
        expire_grace_secs: opts.expire_grace_secs,
        challenge_window_secs: opts.challenge_window_secs,
        verification_timeout_secs: 120,
        min_vram_gib: 0,
        min_gpus_per_job: 1,
        _reserved: [0; 1],
        verify_rate_bps: Bps(opts.verify_rate_bps),
        verification_fee_bps: Bps(2_000),
        fraud_slash_bps: Bps(2_000),
        timeout_slash_bps: Bps(100),
        slash_reward_bps: Bps(5_000),
        quit_penalty_bps: Bps(0),
        gpu_model: cinder_client::accounts::fixed(&opts.gpu_model).unwrap(),
        arbiter: net.admin.pubkey(),
    };
    let create = ix::create_market(
        &net.admin.pubkey(),
        id,
        &net.usdc,
        &net.usdc_program,
        params,
        false,
    );
    chain
        .send(&[create], &net.admin, &[])
        .await
        .expect("create_market");

    let client = Keypair::new();
    let provs: Vec<Keypair> = (0..providers).map(|_| Keypair::new()).collect();
    let mut ixs = Vec::new();
    for k in std::iter::once(&client).chain(provs.iter()) {
        ixs.push(anchor_lang::solana_program::system_instruction::transfer(
            &net.admin.pubkey(),
            &k.pubkey(),
            10_000_000_000,
        ));
    }
    chain.send(&ixs, &net.admin, &[]).await.expect("fund");
    token::mint_to_owner(
        &chain,
        &net.admin,
        &net.mint_authority,
        &net.usdc,
        &client.pubkey(),
        1_000_000_000,
        &net.usdc_program,
    )
    .await
    .expect("usdc to client");
    let dir = tempfile::tempdir().unwrap();
    for p in &provs {
        token::mint_to_owner(
            &chain,
            &net.admin,
            &net.mint_authority,
            &net.protocol_mint,
            &p.pubkey(),
            5_000_000_000_000,
            &token::TOKEN_PROGRAM,
        )
        .await
        .expect("protocol tokens to provider");
        let c = ctx(p);
        cli::provider_stake(&c, "2000", 30).await.expect("stake");
    }
    let files = FileHost::start(dir.path().join("files")).await;
    Fixture {
        market_id: id,
        market: ix::market_pda(id),
        client,
        providers: provs,
        dir,
        files,
        _one_at_a_time: one_at_a_time,
    }
}

// --- specs --------------------------------------------------------------------------------

pub struct Spec {
    pub path: PathBuf,
    pub uri: String,
}

impl Fixture {
    /// Publishes `bytes` on the file host; returns its URI.
    pub fn publish(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.files.root.join(name), bytes).unwrap();
        format!("{}/{name}", self.files.base)
    }

    /// A process job running `script` under `sh -c`, with one published input.
    pub fn process_spec(&self, name: &str, script: &str, time_limit: u32) -> Spec {
        let input = format!("input of {name}\n").repeat(100);
        let input_uri = self.publish(&format!("{name}.in"), input.as_bytes());
        let spec = serde_json::json!({
            "version": 1, "kind": "process",
            "command": ["sh", "-c", script],
            "env": {},
            "inputs": [{"uri": input_uri, "sha256": hex::encode(Sha256::digest(input.as_bytes())), "path": "input.txt"}],
            "outputs": "/out", "gpus": 0, "min_vram_gib": 0,
            "time_limit_secs": time_limit, "deterministic": true
        });
        self.spec_from(name, &spec)
    }

    pub fn spec_from(&self, name: &str, spec: &serde_json::Value) -> Spec {
        let bytes = serde_json::to_vec_pretty(spec).unwrap();
        let uri = self.publish(&format!("{name}.json"), &bytes);
        Spec {
            path: self.files.root.join(format!("{name}.json")),
            uri,
        }
    }

    /// Posts a job for `spec` (price 0.001 usdc/s, up to 300 s).
    pub async fn post(&self, spec: &Spec) -> Pubkey {
        self.post_for(spec, 300).await
    }

    /// Posts a job for `spec` that may run `duration_secs` (its verifier as long).
    pub async fn post_for(&self, spec: &Spec, duration_secs: u32) -> Pubkey {
        cli::job_post(
            &ctx(&self.client),
            cli::PostArgs {
                market: self.market_id,
                spec: spec.path.clone(),
                spec_uri: spec.uri.clone(),
                price: "0.001".into(),
                duration_secs,
                provider: None,
                open_for_secs: None,
                nonce: None,
                check_uri: false,
            },
        )
        .await
        .expect("post_job")
    }

    /// Starts `cinder worker` for provider `i`.
    pub fn worker(&self, i: usize, env: &[(&str, &str)]) -> Worker {
        Worker::start(self, i, env)
    }
}

pub const DETERMINISTIC: &str = "sha256sum \"$CINDER_INPUT_DIR/input.txt\" | cut -d' ' -f1 > \"$CINDER_OUTPUT_DIR/digest.txt\" && echo ok > \"$CINDER_OUTPUT_DIR/status\"";

// --- workers ------------------------------------------------------------------------------

pub struct Worker {
    pub child: Option<Child>,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub log: Arc<Mutex<Vec<String>>>,
    /// Copies the worker's stderr into `log` until the pipe closes.
    reader: Option<std::thread::JoinHandle<()>>,
    pub port: u16,
}

impl Worker {
    pub fn start(f: &Fixture, i: usize, env: &[(&str, &str)]) -> Self {
        let data_dir = f.dir.path().join(format!("worker{i}"));
        std::fs::create_dir_all(&data_dir).unwrap();
        let key = data_dir.join("provider.json");
        if !key.exists() {
            solana_keypair::write_keypair_file(&f.providers[i], &key).unwrap();
        }
        let config = data_dir.join("worker.toml");
        let port = if config.exists() {
            // A restart keeps its port (the endpoint is on chain).
            std::fs::read_to_string(data_dir.join("port"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        } else {
            let p = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            std::fs::write(data_dir.join("port"), p.to_string()).unwrap();
            let net = net();
            std::fs::write(
                &config,
                format!(
                    "rpc_url = \"{}\"\nws_url = \"{}\"\nkeypair = \"{}\"\ndata_dir = \"{}\"\nmarkets = [{}]\nendpoint = \"http://127.0.0.1:{p}\"\nlisten = \"127.0.0.1:{p}\"\nruntime = \"process\"\ncpu_slots = 2\nrescan_secs = 2\nshutdown_grace_secs = 2\nfetch_internal_networks = [\"127.0.0.0/8\"]\n[process_allow]\nsh = \"/bin/sh\"\nsleep = \"/bin/sleep\"\n",
                    net.state.rpc_url, net.state.ws_url, key.display(), data_dir.display(), f.market_id
                ),
            )
            .unwrap();
            p
        };
        let mut w = Self {
            child: None,
            config,
            data_dir,
            log: Arc::new(Mutex::new(Vec::new())),
            reader: None,
            port,
        };
        w.spawn(env);
        w
    }

    fn spawn(&mut self, env: &[(&str, &str)]) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cinder"));
        cmd.args(["worker", "--config"])
            .arg(&self.config)
            .env("CINDER_LOG", "info,cinder_worker=debug")
            .env_remove("CINDER_FAULT_PAUSE_AT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn cinder worker");
        let stderr = child.stderr.take().unwrap();
        let log = self.log.clone();
        // Kept after the test for post-mortems: target/worker-test-logs/<data dir name>.log
        let keep = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("worker-test-logs");
        let _ = std::fs::create_dir_all(&keep);
        let name = format!(
            "{}-{}.log",
            self.data_dir
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            self.data_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(keep.join(name))
            .ok();
        self.reader = Some(std::thread::spawn(move || {
            use std::io::Write;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(f) = file.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                log.lock().unwrap().push(line);
            }
        }));
        self.child = Some(child);
    }

    /// Waits until the log has a line containing `needle`.
    pub async fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Waits (at most `timeout`) for the stderr reader to reach the end of the pipe.
    async fn drain_log(&mut self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.reader.as_ref().is_some_and(|r| !r.is_finished()) && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(r) = self.reader.take_if(|r| r.is_finished()) {
            let _ = r.join();
        }
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.restart_with(&[]);
    }

    /// Sends signal `name` (`TERM`, `USR1`, …) to the running worker.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("the worker runs").id();
        let sent = Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    }

    /// kill -9, then start again with `env` (as the first start had).
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        self.kill9();
        self.log.lock().unwrap().push("---- restart ----".into());
        self.spawn(env);
    }

    /// Exit status, if it exited within `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(s)) = c.try_wait() {
                    // The exit closes the stderr pipe; the reader thread may still be copying
                    // its last lines into the log: let it finish (bounded, in case a child of
                    // the worker holds the pipe open) so `logs()` has every line.
                    self.drain_log(Duration::from_secs(10)).await;
                    return Some(s);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill9();
    }
}

// --- chain observation -----------------------------------------------------------------------

pub async fn job(key: &Pubkey) -> Option<Job> {
    chain().zero_copy::<Job>(key).await.unwrap()
}

/// Waits until the job is in `state` (or closed, for `None`).
pub async fn wait_state(key: &Pubkey, want: Option<JobState>, timeout: Duration) -> Option<Job> {
    let end = Instant::now() + timeout;
    loop {
        let j = job(key).await;
        let now_state = j.as_ref().map(|j| j.state);
        if now_state == want {
            return j;
        }
        if Instant::now() > end {
            panic!("job {key}: wanted {want:?}, still {now_state:?} after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every successful transaction of `key`, oldest first, once the node's history is complete
/// and `done` holds for it (the node writes history asynchronously, so a just-closed job's
/// last transactions can take a moment to be listed).
pub async fn history(
    key: &Pubkey,
    done: impl Fn(&[cinder_client::rpc::Landed]) -> bool,
) -> Vec<cinder_client::rpc::Landed> {
    let c = chain();
    let end = Instant::now() + Duration::from_secs(60);
    let mut last_len = usize::MAX;
    loop {
        let sigs = c.signatures_for(key, 200).await.unwrap();
        let mut out = Vec::new();
        let mut complete = true;
        for (sig, _, ok) in sigs.iter().rev() {
            if !ok {
                continue;
            }
            match c.landed(sig).await.unwrap() {
                Some(l) => out.push(l),
                None => complete = false,
            }
        }
        if complete && done(&out) && out.len() == last_len {
            return out;
        }
        last_len = if complete { out.len() } else { usize::MAX };
        if Instant::now() > end {
            panic!(
                "history of {key} incomplete after 60 s ({} transactions)",
                out.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Events of type `T` in the job's history, once the history shows the job closed (settled
/// or cancelled) or, with `open`, right away.
pub async fn events<T>(key: &Pubkey) -> Vec<T>
where
    T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator,
{
    let closed = job(key).await.is_none();
    let h = history(key, |h| {
        !closed
            || h.iter().any(|l| {
                !l.events_of::<cinder::events::JobSettled>().is_empty()
                    || !l.events_of::<cinder::events::JobCancelled>().is_empty()
            })
    })
    .await;
    h.iter().flat_map(|l| l.events_of::<T>()).collect()
}

/// How many successful transactions of the job emitted an event of type `T`.
pub async fn count_events<T>(key: &Pubkey) -> usize
where
    T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator,
{
    events::<T>(key).await.len()
}

// --- a file host for specs and inputs --------------------------------------------------------

pub struct FileHost {
    pub root: PathBuf,
    pub base: String,
}

impl FileHost {
    pub async fn start(root: PathBuf) -> Self {
        std::fs::create_dir_all(&root).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = root.clone();
        let app = axum::Router::new().route(
            "/{*path}",
            axum::routing::get(move |axum::extract::Path(p): axum::extract::Path<String>| {
                let dir = dir.clone();
                async move {
                    match std::fs::read(dir.join(p)) {
                        Ok(b) => Ok(b),
                        Err(_) => Err(axum::http::StatusCode::NOT_FOUND),
                    }
                }
            }),
        );
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener.into_std().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Self {
            root,
            base: format!("http://{addr}"),
        }
    }
}

pub fn file_path(p: &Path) -> String {
    p.display().to_string()
}
