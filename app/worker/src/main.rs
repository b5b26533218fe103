//! `cinder`: the provider daemon and the CLI of clients, providers and keepers.

use anyhow::Context;
use cinder_client::rpc::{Chain, SendConfig};
use cinder_worker::{
    cli::{self, Ctx},
    config::{Overrides, WorkerConfig},
    daemon, exec, telemetry,
};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cinder",
    version,
    about = "Cinder: GPU compute settlement on Solana — provider daemon and CLI"
)]
struct Cli {
    /// JSON-RPC URL of the cluster [default: http://127.0.0.1:8899]. For `worker` it
    /// overrides the configuration's rpc_url.
    #[arg(long, global = true, env = "CINDER_RPC_URL")]
    url: Option<String>,
    /// Keypair file that signs (Solana CLI JSON format) [default: ~/.config/solana/id.json].
    /// For `worker` it overrides the configuration's keypair.
    #[arg(long, global = true, env = "CINDER_KEYPAIR")]
    keypair: Option<String>,
    /// Print machine-readable JSON lines.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the provider daemon: claim, run, attest and settle jobs of its markets.
    Worker {
        /// Worker settings (TOML); env CINDER_* and flags override it.
        #[arg(long, env = "CINDER_CONFIG")]
        config: Option<PathBuf>,
        /// Journal, results and work directories.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Market ids to serve (comma-separated).
        #[arg(long, value_delimiter = ',')]
        markets: Option<Vec<u64>>,
    },
    /// Jobs, as a client.
    #[command(subcommand)]
    Job(JobCmd),
    /// Staking and registration, as a provider.
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// Permissionless cranks: settle, expire, reveal, sweep and distribute.
    Keeper {
        /// Market ids (default: every market on chain).
        #[arg(long, value_delimiter = ',')]
        markets: Vec<u64>,
        /// One pass, then exit.
        #[arg(long)]
        once: bool,
        #[arg(long, default_value_t = 2)]
        interval_secs: u64,
    },
    /// Buy a payment mint's fee vault at the buyback auction (paid in protocol tokens, burned).
    Buy {
        /// The payment mint whose fee vault to buy.
        #[arg(long)]
        mint: String,
        /// Most protocol tokens to pay (default: the current price).
        #[arg(long)]
        max_price: Option<String>,
        /// Least payment tokens to receive (default: what the vault holds now).
        #[arg(long)]
        min_out: Option<String>,
    },
    /// List the GPUs NVML finds.
    Gpus,
    /// Check this host and the worker's config against what its markets need, and say what
    /// to fix: keypair, data_dir and disk, container engine and GPU passing (CDI specs, the
    /// NVIDIA runtime), NVML's GPUs and MIG, RPC, markets, stake and registration. Exits 1
    /// when a check fails.
    Doctor {
        /// Worker settings (TOML), as for `cinder worker`.
        #[arg(long, env = "CINDER_CONFIG")]
        config: Option<PathBuf>,
        /// A CUDA image pinned by digest (`name@sha256:…`): started once per GPU with only that
        /// GPU, it must list exactly that GPU's UUID (`nvidia-smi -L`).
        #[arg(long)]
        probe_image: Option<String>,
    },
    /// Run a real local chain (Agave test validator) with the SBF program, bootstrapped.
    #[cfg(feature = "localnet")]
    Localnet {
        #[arg(long, default_value = ".cinder/localnet")]
        ledger: PathBuf,
        /// Start from an empty ledger.
        #[arg(long)]
        reset: bool,
        /// JSON-RPC port (pubsub on the next); default: a free one.
        #[arg(long)]
        rpc_port: Option<u16>,
        #[arg(
            long,
            env = "CINDER_PROGRAM_SO",
            default_value = "target/deploy/cinder.so"
        )]
        program: PathBuf,
        #[arg(long, default_value = "migrations/localnet.toml")]
        plan: PathBuf,
        /// Where to write the state file (default: <ledger>/localnet.json).
        #[arg(long)]
        state_file: Option<PathBuf>,
    },
    /// The whole lifecycle on a local chain: post → claim → run → attest → verify → settle →
    /// buyback-and-burn, with progress.
    #[cfg(feature = "localnet")]
    Demo {
        /// Jobs to post.
        #[arg(long, default_value_t = 4)]
        jobs: u32,
        #[arg(
            long,
            env = "CINDER_PROGRAM_SO",
            default_value = "target/deploy/cinder.so"
        )]
        program: PathBuf,
        #[arg(long, default_value = "migrations/localnet.toml")]
        plan: PathBuf,
        /// Working directory (ledger, keys, worker data); wiped first.
        #[arg(long, default_value = ".cinder/demo")]
        dir: PathBuf,
        /// Run PyTorch jobs on the local NVIDIA GPU (a market of its class that re-executes
        /// every job): a deterministic job verified exactly, one whose outputs differ in their
        /// last bits, and one on which the provider cheats.
        #[arg(long)]
        gpu: bool,
        /// python3 with PyTorch for --gpu (default: python3 on PATH, by that path).
        #[arg(long, requires = "gpu")]
        gpu_python: Option<PathBuf>,
        /// The GPU job scripts for --gpu.
        #[arg(long, default_value = "scripts/gpu", requires = "gpu")]
        gpu_scripts: PathBuf,
        /// Check the outcome from the chain afterwards (every job settled, fees swept, tokens
        /// burned; with --gpu the cheater slashed) and exit non-zero if it is not so.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum JobCmd {
    /// Post a job and escrow its payment.
    Post {
        #[arg(long)]
        market: u64,
        /// The spec file (JSON); its sha256 goes on chain.
        #[arg(long)]
        spec: PathBuf,
        /// Where providers fetch the spec (http(s):// or file://).
        #[arg(long)]
        spec_uri: String,
        /// Price per second, in payment tokens (e.g. 0.0001).
        #[arg(long)]
        price: String,
        /// Most seconds the job may run (and be billed).
        #[arg(long)]
        duration: u32,
        /// Only this provider may claim it.
        #[arg(long)]
        provider: Option<String>,
        /// Anyone may cancel it if unclaimed after this many seconds.
        #[arg(long)]
        open_for: Option<i64>,
        #[arg(long)]
        nonce: Option<u64>,
        /// Do not check that the URI serves the spec file's bytes.
        #[arg(long)]
        no_check: bool,
    },
    /// A job's state (or how it ended).
    Status { job: String },
    /// Cancel an open job (full refund).
    Cancel { job: String },
    /// Buy more time for an open or running job.
    Extend {
        job: String,
        #[arg(long)]
        secs: u32,
    },
    /// Accept a submitted result and settle now.
    Accept { job: String },
    /// Dispute a submitted result within its window (posts a bond, forces re-execution).
    Dispute { job: String },
    /// Download a job's results from its provider and check them against the commitment.
    Results {
        job: String,
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
    /// List jobs.
    List {
        #[arg(long)]
        market: Option<u64>,
        /// Only jobs this key posted.
        #[arg(long)]
        mine: bool,
    },
}

#[derive(Subcommand)]
enum ProviderCmd {
    /// Register (or update) this key as a provider for a market's GPU class.
    Register {
        #[arg(long)]
        market: u64,
        /// Public URL of this provider's results server.
        #[arg(long)]
        endpoint: String,
        /// Where NVML is not available only: the GPUs to register (with NVML the worker's own
        /// rule applies: the market's class, nominal memory, MIG off).
        #[arg(long)]
        gpu_model: Option<String>,
        #[arg(long)]
        vram_gib: Option<u16>,
        #[arg(long)]
        gpu_count: Option<u8>,
        /// Jobs at once, for a CPU market.
        #[arg(long, default_value_t = 1)]
        cpu_slots: u8,
    },
    /// Stake protocol tokens (lock 14-365 days; weight = amount × (1 + 3 × lock / 365 d)).
    Stake {
        #[arg(long)]
        amount: String,
        #[arg(long, default_value_t = 30)]
        lock_days: u32,
    },
    /// Start unbonding (earns nothing from now; withdrawable after the lock).
    Unstake {
        #[arg(long)]
        amount: String,
    },
    /// Cancel unbonding.
    Restake,
    /// Withdraw unbonded stake after its unlock time.
    Withdraw,
    /// Show (and with --claim, claim) staking rewards.
    Rewards {
        #[arg(long)]
        claim: bool,
    },
    /// This provider's registration and counters.
    Status,
}

fn expand(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        None => PathBuf::from(path),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let keypair_path = expand(cli.keypair.as_deref().unwrap_or("~/.config/solana/id.json"));
    let url = cli
        .url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8899".into());
    match cli.cmd {
        Cmd::Worker {
            config,
            data_dir,
            markets,
        } => {
            // --url and --keypair (or CINDER_RPC_URL / CINDER_KEYPAIR) override the file.
            let overrides = Overrides {
                rpc_url: cli.url.clone(),
                keypair: cli.keypair.as_deref().map(expand),
                data_dir,
                markets,
            };
            let cfg = WorkerConfig::load(config.as_deref(), &overrides)?;
            telemetry::init_logs(&cfg.log_format);
            let me = solana_keypair::read_keypair_file(&cfg.keypair)
                .map_err(|e| anyhow::anyhow!("provider keypair {}: {e}", cfg.keypair.display()))?;
            std::fs::create_dir_all(&cfg.data_dir)
                .with_context(|| format!("creating {}", cfg.data_dir.display()))?;
            if let Some(addr) = cfg.metrics_listen {
                let _ = telemetry::metrics_handle();
                tokio::spawn(async move {
                    if let Err(e) = telemetry::serve_metrics(addr).await {
                        tracing::error!(error = %e, "metrics server stopped");
                    }
                });
            } else {
                let _ = telemetry::metrics_handle();
            }
            let executor = exec::Executor::new(&cfg).await?;
            let shared = daemon::start(cfg, me, executor).await?;
            exec::serve_results(&shared).await?;
            let cancel = shared.cancel.clone();
            tokio::spawn(async move {
                cinder_worker::shutdown_signal().await;
                tracing::info!("signal received: stopping (no new claims)");
                cancel.cancel();
            });
            let drain = shared.drain.clone();
            tokio::spawn(async move {
                cinder_worker::drain_signal().await;
                tracing::info!("SIGUSR1: draining (no new claims or verifications; running jobs finish and submit, then the worker stops; SIGTERM now gives them back instead)");
                drain.cancel();
            });
            daemon::run(shared).await
        }
        #[cfg(feature = "localnet")]
        Cmd::Localnet {
            ledger,
            reset,
            rpc_port,
            program,
            plan,
            state_file,
        } => {
            cinder_worker::localnet::main(cinder_worker::localnet::LocalnetArgs {
                ledger,
                reset,
                rpc_port,
                program,
                plan,
                state_file,
            })
            .await
        }
        #[cfg(feature = "localnet")]
        Cmd::Demo {
            jobs,
            program,
            plan,
            dir,
            gpu,
            gpu_python,
            gpu_scripts,
            check,
        } => {
            let gpu = if gpu {
                let python = match gpu_python {
                    Some(p) => p,
                    None => on_path("python3").ok_or_else(|| {
                        anyhow::anyhow!("--gpu: no python3 on PATH; pass --gpu-python")
                    })?,
                };
                anyhow::ensure!(
                    python.is_absolute(),
                    "--gpu-python {}: give an absolute path",
                    python.display()
                );
                Some(cinder_worker::demo::GpuDemo {
                    python,
                    scripts: std::fs::canonicalize(&gpu_scripts).map_err(|e| {
                        anyhow::anyhow!("--gpu-scripts {}: {e}", gpu_scripts.display())
                    })?,
                })
            } else {
                None
            };
            cinder_worker::demo::run(cinder_worker::demo::DemoArgs {
                jobs,
                program,
                plan,
                dir,
                gpu,
                check,
            })
            .await
        }
        Cmd::Gpus => cli::gpus(cli.json),
        Cmd::Doctor {
            config,
            probe_image,
        } => {
            let overrides = Overrides {
                rpc_url: cli.url.clone(),
                keypair: cli.keypair.as_deref().map(expand),
                data_dir: None,
                markets: None,
            };
            let cfg = WorkerConfig::load(config.as_deref(), &overrides)?;
            let checks = cinder_worker::doctor::run(
                &cfg,
                &cinder_worker::doctor::DoctorArgs { probe_image },
            )
            .await;
            if cli.json {
                println!("{}", serde_json::to_string(&checks)?);
            } else {
                print!("{}", cinder_worker::doctor::render(&checks));
            }
            let failed = checks
                .iter()
                .filter(|c| c.level == cinder_worker::doctor::Level::Fail)
                .count();
            anyhow::ensure!(
                failed == 0,
                "{failed} check(s) failed; fix them and run `cinder doctor` again"
            );
            Ok(())
        }
        cmd => {
            let me = solana_keypair::read_keypair_file(&keypair_path).map_err(|e| {
                anyhow::anyhow!("keypair {}: {e} (pass --keypair)", keypair_path.display())
            })?;
            let ctx = Ctx {
                chain: Chain::new(&url, SendConfig::default()),
                me,
                json: cli.json,
                quiet: false,
            };
            client(&ctx, cmd).await
        }
    }
}

async fn client(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Job(j) => match j {
            JobCmd::Post {
                market,
                spec,
                spec_uri,
                price,
                duration,
                provider,
                open_for,
                nonce,
                no_check,
            } => cli::job_post(
                ctx,
                cli::PostArgs {
                    market,
                    spec,
                    spec_uri,
                    price,
                    duration_secs: duration,
                    provider,
                    open_for_secs: open_for,
                    nonce,
                    check_uri: !no_check,
                },
            )
            .await
            .map(|_| ()),
            JobCmd::Status { job } => cli::job_status(ctx, &job).await,
            JobCmd::Cancel { job } => cli::job_cancel(ctx, &job).await,
            JobCmd::Extend { job, secs } => cli::job_extend(ctx, &job, secs).await,
            JobCmd::Accept { job } => cli::job_accept(ctx, &job).await,
            JobCmd::Dispute { job } => cli::job_dispute(ctx, &job).await,
            JobCmd::Results { job, out } => cli::job_results(ctx, &job, &out).await.map(|_| ()),
            JobCmd::List { market, mine } => cli::job_list(ctx, market, mine).await,
        },
        Cmd::Provider(p) => match p {
            ProviderCmd::Register {
                market,
                endpoint,
                gpu_model,
                vram_gib,
                gpu_count,
                cpu_slots,
            } => {
                cli::provider_register(
                    ctx,
                    cli::RegisterArgs {
                        market,
                        endpoint,
                        gpu_model,
                        vram_gib,
                        gpu_count,
                        cpu_slots,
                    },
                )
                .await
            }
            ProviderCmd::Stake { amount, lock_days } => {
                cli::provider_stake(ctx, &amount, lock_days).await
            }
            ProviderCmd::Unstake { amount } => cli::provider_unstake(ctx, &amount).await,
            ProviderCmd::Restake => cli::provider_restake(ctx).await,
            ProviderCmd::Withdraw => cli::provider_withdraw(ctx).await,
            ProviderCmd::Rewards { claim } => cli::provider_rewards(ctx, claim).await,
            ProviderCmd::Status => cli::provider_status(ctx).await,
        },
        Cmd::Keeper {
            markets,
            once,
            interval_secs,
        } => cli::keeper(ctx, markets, once, interval_secs).await,
        Cmd::Buy {
            mint,
            max_price,
            min_out,
        } => cli::buy(ctx, &mint, max_price.as_deref(), min_out.as_deref())
            .await
            .map(|_| ()),
        _ => unreachable!("handled above"),
    }
}

/// The first `name` on PATH, by the PATH entry's own path (not resolved through links: a
/// venv's python finds its packages only when started by its venv path).
#[cfg(feature = "localnet")]
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file() && p.is_absolute())
    })
}
