//! A real local Solana chain for the worker, the dApp and their tests: Agave's test validator
//! (banking stage, replay, JSON-RPC and websocket pubsub, SlotHashes advancing with real
//! slots), run in-process, with the cinder SBF program in genesis as an upgradeable program
//! and a faucet behind `requestAirdrop`.
//!
//! The validator lives on a thread of its own (it builds and drops tokio runtimes, which must
//! not happen inside the caller's runtime); [`Localnet`] is the handle, and dropping it shuts
//! the validator down.

use solana_account::AccountSharedData;
use solana_faucet::faucet::{run_faucet, Faucet};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_test_validator::{TestValidatorGenesis, UpgradeableProgramInfo};
use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket},
    path::{Path, PathBuf},
    sync::{mpsc, Arc, Mutex},
    thread::JoinHandle,
    time::Duration,
};

/// SPL Token, Token-2022, Associated Token Account and Memo (v3), in genesis.
const SPL_PROGRAMS: [&str; 4] = [
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    "TokenzQdBNbLqP5VEhdkAS6EFDFNgRygD6Y3pVY1kFH",
    "ATokenGPvbdGVxr1b2hvZbsiqW5xWbwiWJ8ZtqrcFJv",
    "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
];

/// The SPL programs every local chain has in genesis.
pub fn spl_programs() -> impl Iterator<Item = Pubkey> {
    SPL_PROGRAMS
        .iter()
        .map(|s| s.parse::<Pubkey>().expect("static key"))
}

/// Lamports the faucet hands out per `requestAirdrop`, at most.
pub const FAUCET_PER_REQUEST_CAP: u64 = 1_000 * solana_native_token::LAMPORTS_PER_SOL;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("program file {0} not found: build it first with `bash scripts/build-sbf.sh`")]
    ProgramMissing(PathBuf),
    #[error("ledger directory {path}: {source}")]
    Ledger {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no free port pair for JSON-RPC and pubsub on 127.0.0.1: {0}")]
    NoFreePort(std::io::Error),
    #[error("the test validator did not start: {0}")]
    Start(String),
    #[error("the faucet did not start: {0}")]
    Faucet(String),
}

/// What to put in genesis and where to listen.
#[derive(Debug, Clone)]
pub struct Options {
    /// Ledger directory. A ledger already there is resumed (accounts, programs and history
    /// survive a restart) unless `reset` is set.
    pub ledger: PathBuf,
    pub reset: bool,
    /// JSON-RPC port; pubsub listens on the next one. `None`: a free pair.
    pub rpc_port: Option<u16>,
    /// Upgradeable programs in genesis: (program id, `.so` path, upgrade authority).
    pub programs: Vec<(Pubkey, PathBuf, Pubkey)>,
    /// System accounts funded in genesis (lamports).
    pub fund: Vec<(Pubkey, u64)>,
    /// Serve `requestAirdrop` from the genesis mint.
    pub faucet: bool,
}

impl Options {
    pub fn new(ledger: impl Into<PathBuf>) -> Self {
        Self {
            ledger: ledger.into(),
            reset: false,
            rpc_port: None,
            programs: Vec::new(),
            fund: Vec::new(),
            faucet: true,
        }
    }
}

/// A running local chain. Dropping it stops the validator.
pub struct Localnet {
    pub rpc_url: String,
    pub ws_url: String,
    pub faucet_addr: Option<SocketAddr>,
    /// The genesis mint (500 M SOL): pays for anything the faucet would.
    pub mint: Keypair,
    pub ledger: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Localnet {
    /// Starts the validator and waits until its first slot and the programs are live
    /// (≈ 3-5 s). Blocking: call it from a plain thread or `spawn_blocking`.
    pub fn start(opts: Options) -> Result<Self, Error> {
        for (_, so, _) in &opts.programs {
            if !so.is_file() {
                return Err(Error::ProgramMissing(so.clone()));
            }
        }
        if opts.reset && opts.ledger.exists() {
            std::fs::remove_dir_all(&opts.ledger).map_err(|source| Error::Ledger {
                path: opts.ledger.clone(),
                source,
            })?;
        }
        std::fs::create_dir_all(&opts.ledger).map_err(|source| Error::Ledger {
            path: opts.ledger.clone(),
            source,
        })?;
        let rpc_port = match opts.rpc_port {
            Some(p) => p,
            None => free_port_pair().map_err(Error::NoFreePort)?,
        };
        let mint = load_or_create_mint(&opts.ledger)?;
        let mint_bytes = mint.to_bytes();
        let program_ids: Vec<Pubkey> = opts.programs.iter().map(|p| p.0).collect();

        let faucet_addr = if opts.faucet {
            Some(start_faucet(
                Keypair::try_from(&mint_bytes[..]).expect("keypair bytes"),
            )?)
        } else {
            None
        };

        let (ready_tx, ready_rx) = mpsc::channel::<Result<(String, String), String>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let ledger = opts.ledger.clone();
        let thread = std::thread::Builder::new()
            .name("cinder-localnet".into())
            .spawn(move || {
                let mut genesis = TestValidatorGenesis::default();
                // A port range of its own, so validators started at once (parallel tests, a
                // dApp run beside a demo) do not race for the same gossip and TPU ports.
                let base = port_range_base();
                genesis
                    .ledger_path(&ledger)
                    .rpc_port(rpc_port)
                    .gossip_port(base)
                    .port_range((base + 1, base + PORT_RANGE_WIDTH));
                let mut rpc = solana_rpc::rpc::JsonRpcConfig::default_for_test();
                // History, so explorers, the dApp and tests can read past transactions.
                rpc.enable_rpc_transaction_history = true;
                rpc.enable_extended_tx_metadata_storage = true;
                rpc.faucet_addr = faucet_addr;
                genesis.rpc_config(rpc);
                if !TestValidatorGenesis::ledger_exists(&ledger) {
                    let programs: Vec<UpgradeableProgramInfo> = opts
                        .programs
                        .iter()
                        .map(|(id, so, authority)| UpgradeableProgramInfo {
                            program_id: *id,
                            loader: solana_sdk_ids::bpf_loader_upgradeable::id(),
                            upgrade_authority: *authority,
                            program_path: so.clone(),
                        })
                        .collect();
                    genesis.add_upgradeable_programs_with_path(&programs);
                    for (who, lamports) in &opts.fund {
                        genesis.add_account(
                            *who,
                            AccountSharedData::new(
                                *lamports,
                                0,
                                &solana_sdk_ids::system_program::id(),
                            ),
                        );
                    }
                }
                let mint = Keypair::try_from(&mint_bytes[..]).expect("keypair bytes");
                let started = genesis.start_with_mint_address(
                    mint.pubkey(),
                    solana_net_utils::SocketAddrSpace::new(true),
                );
                let validator = match started {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((validator.rpc_url(), validator.rpc_pubsub_url())));
                let _ = stop_rx.recv();
                drop(validator);
            })
            .map_err(|e| Error::Start(e.to_string()))?;
        let (rpc_url, ws_url) = match ready_rx.recv() {
            Ok(Ok(urls)) => urls,
            Ok(Err(e)) => return Err(Error::Start(e)),
            Err(_) => {
                let _ = thread.join();
                return Err(Error::Start("the validator thread panicked".into()));
            }
        };
        let net = Self {
            rpc_url,
            ws_url,
            faucet_addr,
            mint,
            ledger: opts.ledger,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        net.wait_for_programs(&program_ids)?;
        deprioritize_spinning_threads();
        Ok(net)
    }

    /// The validator lists a genesis program from the first slot but may not run it yet (the
    /// program cache fills as slots pass): wait until each of our programs, and the token,
    /// token-2022, associated-token and memo programs, is invocable, by simulating an empty
    /// instruction to it until the error is the program's own, not "not deployed" or
    /// "unsupported program id".
    ///
    /// The simulation runs at `confirmed`, the commitment every Cinder client simulates and
    /// reads at: the `processed` bank runs a slot or two ahead of it, so a program that is
    /// invocable there can still be "not deployed" in the confirmed bank a client's preflight
    /// uses (seen in CI as a bootstrap whose first mint failed right after the start).
    fn wait_for_programs(&self, ids: &[Pubkey]) -> Result<(), Error> {
        let all = ids.iter().copied().chain(spl_programs());
        for id in all {
            let mut tries = 0;
            while self.invocable(&id) != Some(true) {
                tries += 1;
                if tries >= 200 {
                    return Err(Error::Start(format!(
                        "program {id} is not invocable after 20 s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// Whether a transaction to `program` would reach the program in the `confirmed` bank:
    /// an empty instruction to it is simulated, and any error but "not deployed" or
    /// "unsupported program id" is the program's own. `None`: the RPC did not answer.
    pub fn invocable(&self, program: &Pubkey) -> Option<bool> {
        use solana_signer::Signer;
        let client = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
            self.rpc_url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let bh = client.get_latest_blockhash().ok()?;
        let ix = solana_instruction::Instruction {
            program_id: *program,
            accounts: vec![],
            data: vec![],
        };
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.mint.pubkey()),
            &[&self.mint],
            bh,
        );
        let r = client.simulate_transaction(&tx).ok()?;
        Some(match r.value.err {
            None => true,
            Some(e) => {
                let text = format!("{e:?}");
                !(text.contains("not deployed") || text.contains("UnsupportedProgramId"))
            }
        })
    }

    /// Stops the validator and waits for it.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A single-node validator is always the leader, and a leader's banking-stage scheduler
/// (`solBnkTxSched`) spins without sleeping, by design, for the lowest latency: on a 2-core
/// machine it would take a core from the tests, workers and builds beside it. Nice it to 19:
/// it still runs whenever a core is idle, and yields to everything else.
fn deprioritize_spinning_threads() {
    #[cfg(target_os = "linux")]
    {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return;
        };
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("solBnkTxSched") {
                continue;
            }
            if let Some(tid) = t
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<libc::id_t>().ok())
            {
                // SAFETY: setpriority on a thread id of this process; no memory is touched.
                let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 19) };
                if rc != 0 {
                    log::debug!(
                        "setpriority({tid}) failed: {}",
                        std::io::Error::last_os_error()
                    );
                }
            }
        }
    }
}

/// The genesis mint keypair is kept beside the ledger, so a resumed ledger keeps its faucet.
fn load_or_create_mint(ledger: &Path) -> Result<Keypair, Error> {
    let path = ledger.join("faucet-keypair.json");
    if let Ok(kp) = solana_keypair::read_keypair_file(&path) {
        return Ok(kp);
    }
    let kp = Keypair::new();
    solana_keypair::write_keypair_file(&kp, &path).map_err(|e| Error::Ledger {
        path,
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(kp)
}

fn start_faucet(keypair: Keypair) -> Result<SocketAddr, Error> {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Faucet(e.to_string()))?
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let faucet = Arc::new(Mutex::new(Faucet::new(
        keypair,
        None,
        None,
        Some(FAUCET_PER_REQUEST_CAP),
    )));
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("cinder-faucet".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("faucet runtime");
            rt.block_on(run_faucet(faucet, addr, Some(tx)));
        })
        .map_err(|e| Error::Faucet(e.to_string()))?;
    rx.recv_timeout(Duration::from_secs(10))
        .map_err(|e| Error::Faucet(e.to_string()))?
        .map_err(Error::Faucet)
}

const PORT_RANGE_WIDTH: u16 = 200;

/// A random multiple of the range width in 20000..60000, probed for a free first port.
fn port_range_base() -> u16 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (std::process::id() << 8))
        .unwrap_or(0);
    let slots = (60_000 - 20_000) / PORT_RANGE_WIDTH as u32;
    for i in 0..slots {
        let base = 20_000 + ((seed.wrapping_add(i * 7919)) % slots) as u16 * PORT_RANGE_WIDTH;
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, base)).is_ok()
            && TcpListener::bind((Ipv4Addr::LOCALHOST, base)).is_ok()
        {
            return base;
        }
    }
    20_000
}

/// A free TCP port whose successor is free too (JSON-RPC and pubsub), checked for UDP as well.
fn free_port_pair() -> std::io::Result<u16> {
    for _ in 0..64 {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let p = l.local_addr()?.port();
        if p == u16::MAX {
            continue;
        }
        let next_free = TcpListener::bind((Ipv4Addr::LOCALHOST, p + 1)).is_ok()
            && UdpSocket::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if next_free {
            return Ok(p);
        }
    }
    Err(std::io::Error::other("64 tries"))
}
