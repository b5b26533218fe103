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
            Some(start_faucet(Keypair::try_from(&mint_bytes[..]).expect("keypair bytes"))?)
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
                genesis.ledger_path(&ledger).rpc_port(rpc_port);
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
        Ok(net)
    }

    /// The validator answers `getAccountInfo` for a program from the first slot, but runs it
    /// only once the program cache has it: wait until each program is executable on chain.
    fn wait_for_programs(&self, ids: &[Pubkey]) -> Result<(), Error> {
        let client = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
            self.rpc_url.clone(),
            solana_commitment_config::CommitmentConfig::processed(),
        );
        for id in ids {
            let mut tries = 0;
            loop {
                match client.get_account(id) {
                    Ok(acc) if acc.executable => break,
                    _ if tries >= 100 => {
                        return Err(Error::Start(format!("program {id} is not live after 10 s")))
                    }
                    _ => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }
        Ok(())
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
