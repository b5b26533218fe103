//! `cinder localnet`: a real local chain (Agave's test validator in-process) with the SBF
//! program in genesis, bootstrapped from a plan, and a state file telling clients (the CLI,
//! the dApp, tests) where everything is.

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use cinder_client::rpc::{Chain, SendConfig};
use cinder_localnet::{Localnet, Options};
use cinder_migrations::{load_or_create_key, Plan, Report, Signers};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};

/// Lamports the admin and the mint authority get in genesis.
const GENESIS_SOL: u64 = 10_000 * 1_000_000_000;

#[derive(Debug, Clone)]
pub struct LocalnetArgs {
    pub ledger: PathBuf,
    pub reset: bool,
    pub rpc_port: Option<u16>,
    pub program: PathBuf,
    pub plan: PathBuf,
    pub state_file: Option<PathBuf>,
}

/// Where everything of a running local chain is (written as JSON to the state file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalnetState {
    pub rpc_url: String,
    pub ws_url: String,
    pub program_id: String,
    pub faucet_keypair: PathBuf,
    pub admin_keypair: PathBuf,
    pub mint_authority_keypair: PathBuf,
    pub protocol_mint: String,
    /// The treasury's protocol-token account.
    pub treasury: String,
    pub payment_mints: Vec<MintInfo>,
    pub markets: Vec<MarketEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MintInfo {
    pub name: String,
    pub address: String,
    pub decimals: u8,
    pub token_program: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarketEntry {
    pub id: u64,
    pub address: String,
    pub gpu_model: String,
    pub payment_mint: String,
}

impl LocalnetState {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the localnet state file {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn admin(&self) -> anyhow::Result<Keypair> {
        read_key(&self.admin_keypair)
    }
    pub fn mint_authority(&self) -> anyhow::Result<Keypair> {
        read_key(&self.mint_authority_keypair)
    }
    pub fn faucet(&self) -> anyhow::Result<Keypair> {
        read_key(&self.faucet_keypair)
    }
    pub fn protocol_mint(&self) -> Pubkey {
        self.protocol_mint
            .parse()
            .expect("state file holds valid keys")
    }
    pub fn mint(&self, name: &str) -> Option<&MintInfo> {
        self.payment_mints.iter().find(|m| m.name == name)
    }
}

pub fn read_key(path: &Path) -> anyhow::Result<Keypair> {
    solana_keypair::read_keypair_file(path)
        .map_err(|e| anyhow::anyhow!("keypair {}: {e}", path.display()))
}

/// A started and bootstrapped local chain. Dropping it stops the validator.
pub struct Running {
    pub net: Localnet,
    pub state: LocalnetState,
    pub state_file: PathBuf,
    pub report: Report,
}

/// Starts the validator, bootstraps it from the plan and writes the state file. Blocking
/// start-up runs on a plain thread; call from async code.
pub async fn start(args: &LocalnetArgs) -> anyhow::Result<Running> {
    let program = std::fs::canonicalize(&args.program).map_err(|_| {
        anyhow::anyhow!(
            "program {} not found: build it with `bash scripts/build-sbf.sh`",
            args.program.display()
        )
    })?;
    if args.reset && args.ledger.exists() {
        std::fs::remove_dir_all(&args.ledger)
            .with_context(|| format!("removing {}", args.ledger.display()))?;
    }
    std::fs::create_dir_all(&args.ledger)?;
    let ledger = std::fs::canonicalize(&args.ledger)?;
    let keys = ledger.join("keys");
    let admin = load_or_create_key(&keys.join("admin.json"))?;
    let mint_authority = load_or_create_key(&keys.join("mint-authority.json"))?;

    let mut opts = Options::new(ledger.join("validator"));
    opts.rpc_port = args.rpc_port;
    opts.programs = vec![(cinder::ID, program, admin.pubkey())];
    opts.fund = vec![
        (admin.pubkey(), GENESIS_SOL),
        (mint_authority.pubkey(), GENESIS_SOL),
    ];
    let net = tokio::task::spawn_blocking(move || Localnet::start(opts))
        .await
        .context("the validator thread")??;

    let plan = Plan::load(&args.plan)?;
    let chain = Chain::new(&net.rpc_url, SendConfig::default());
    let report = cinder_migrations::bootstrap(
        &chain,
        &plan,
        &Signers {
            admin: &admin,
            mint_authority: Some(&mint_authority),
            keys_dir: Some(&keys),
        },
        None,
    )
    .await?;

    let state = LocalnetState {
        rpc_url: net.rpc_url.clone(),
        ws_url: net.ws_url.clone(),
        program_id: cinder::ID.to_string(),
        faucet_keypair: net.ledger.join("faucet-keypair.json"),
        admin_keypair: keys.join("admin.json"),
        mint_authority_keypair: keys.join("mint-authority.json"),
        protocol_mint: report.protocol_mint.to_string(),
        treasury: report.treasury_token.to_string(),
        payment_mints: report
            .mints
            .iter()
            .map(|(name, mint, decimals, program)| MintInfo {
                name: name.clone(),
                address: mint.to_string(),
                decimals: *decimals,
                token_program: program.to_string(),
            })
            .collect(),
        markets: report
            .markets
            .iter()
            .map(|(id, key, model, mint)| MarketEntry {
                id: *id,
                address: key.to_string(),
                gpu_model: model.clone(),
                payment_mint: mint.to_string(),
            })
            .collect(),
    };
    let state_file = args
        .state_file
        .clone()
        .unwrap_or_else(|| ledger.join("localnet.json"));
    let tmp = state_file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&state)?)?;
    std::fs::rename(&tmp, &state_file)?;
    Ok(Running {
        net,
        state,
        state_file,
        report,
    })
}

/// `cinder localnet`: runs until SIGINT/SIGTERM.
pub async fn main(args: LocalnetArgs) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    eprintln!(
        "[localnet] starting Agave's test validator with {} (ledger {})",
        args.program.display(),
        args.ledger.display()
    );
    let running = start(&args).await?;
    println!(
        "[localnet] ready in {:.1} s: RPC {} websocket {} (state in {})",
        t0.elapsed().as_secs_f64(),
        running.state.rpc_url,
        running.state.ws_url,
        running.state_file.display()
    );
    crate::shutdown_signal().await;
    eprintln!("[localnet] stopping");
    let Running { net, .. } = running;
    tokio::task::spawn_blocking(move || net.shutdown()).await?;
    Ok(())
}
