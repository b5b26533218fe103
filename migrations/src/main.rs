//! `cinder-bootstrap`: creates (or brings up to date) config, staking, auctions and markets on
//! a cluster from a TOML file. Running it twice changes nothing.
//!
//!   cinder-bootstrap --url https://api.devnet.solana.com --admin ~/.config/solana/id.json \
//!       --protocol-mint <MINT> --plan migrations/devnet.toml

use anyhow::Context;
use cinder_client::rpc::{Chain, SendConfig};
use cinder_migrations::{bootstrap, Plan, Signers};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    version,
    about = "Bootstrap a cinder cluster from a TOML plan (idempotent)"
)]
struct Args {
    /// JSON-RPC URL of the cluster.
    #[arg(long, env = "CINDER_RPC_URL", default_value = "http://127.0.0.1:8899")]
    url: String,
    /// Keypair file of the admin (pays; on a fresh program: its upgrade authority).
    #[arg(long, env = "CINDER_ADMIN_KEYPAIR")]
    admin: PathBuf,
    /// The protocol token's mint; omit to use the plan's dev mint named "protocol".
    #[arg(long)]
    protocol_mint: Option<String>,
    /// The plan (see migrations/localnet.toml).
    #[arg(long, default_value = "migrations/localnet.toml")]
    plan: PathBuf,
    /// Mint authority of dev mints (local chains only).
    #[arg(long)]
    mint_authority: Option<PathBuf>,
    /// Where dev mint keypairs are kept.
    #[arg(long, default_value = ".cinder/keys")]
    keys_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = Plan::load(&args.plan)?;
    let admin = solana_keypair::read_keypair_file(&args.admin)
        .map_err(|e| anyhow::anyhow!("admin keypair {}: {e}", args.admin.display()))?;
    let mint_authority = match &args.mint_authority {
        Some(p) => Some(
            solana_keypair::read_keypair_file(p)
                .map_err(|e| anyhow::anyhow!("mint authority {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let protocol_mint = args
        .protocol_mint
        .as_deref()
        .map(|s| s.parse().context("--protocol-mint is not a public key"))
        .transpose()?;
    let chain = Chain::new(&args.url, SendConfig::default());
    let report = bootstrap(
        &chain,
        &plan,
        &Signers {
            admin: &admin,
            mint_authority: mint_authority.as_ref(),
            keys_dir: Some(&args.keys_dir),
        },
        protocol_mint,
    )
    .await?;
    println!(
        "[bootstrap] done: {} step(s) changed the cluster, {} unchanged",
        report.changed(),
        report.steps.len() - report.changed()
    );
    Ok(())
}
