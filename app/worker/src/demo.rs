//! `cinder demo`: the whole lifecycle on a real local chain, with progress. Starts Agave's
//! test validator with the SBF program, bootstraps it, funds a client and two providers,
//! starts two workers (one runs each job, the other re-executes the sampled ones), posts jobs,
//! follows each through claim → run → attest → sample → verify → settle on chain, downloads
//! and checks a result, sweeps the fees and buys them back at the auction, burning the
//! protocol tokens paid, and ends with a summary table.

use crate::{
    cli::{self, format_amount, Ctx},
    config::{RuntimeKind, WorkerConfig},
    daemon,
    exec::{self, Executor},
    localnet::{self, LocalnetArgs},
    market::MarketInfo,
};
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use cinder::{
    events::{AuctionBought, Burned, JobSettled, VerificationSubmitted},
    state::{Config, Job, JobState, SampleStatus},
};
use cinder_client::{
    ix,
    rpc::{Chain, SendConfig},
    token,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

pub struct DemoArgs {
    pub jobs: u32,
    pub program: PathBuf,
    pub plan: PathBuf,
    pub dir: PathBuf,
}

const STAGES: &[&str] = &[
    "posted",
    "claimed",
    "ran+attested",
    "sample revealed",
    "verifying",
    "verified",
    "settled",
];

fn say(msg: impl AsRef<str>) {
    println!("[demo] {}", msg.as_ref());
}

pub async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if a.dir.exists() {
        std::fs::remove_dir_all(&a.dir).with_context(|| format!("wiping {}", a.dir.display()))?;
    }
    std::fs::create_dir_all(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    crate::telemetry::init_logs_to_file(&dir.join("workers.log"));
    let _ = crate::telemetry::metrics_handle();
    say(format!(
        "working in {} (worker logs: {})",
        dir.display(),
        dir.join("workers.log").display()
    ));

    say("1/8 starting a local chain: Agave's test validator with target/deploy/cinder.so (≈ 5 s)");
    let running = localnet::start(&LocalnetArgs {
        ledger: dir.join("ledger"),
        reset: true,
        rpc_port: None,
        program: a.program.clone(),
        plan: a.plan.clone(),
        state_file: None,
    })
    .await?;
    let st = running.state.clone();
    say(format!("    RPC {}  websocket {}", st.rpc_url, st.ws_url));
    let chain = Chain::new(&st.rpc_url, SendConfig::default());
    let admin = st.admin()?;
    let mint_authority = st.mint_authority()?;
    let usdc = st
        .mint("usdc")
        .ok_or_else(|| anyhow!("the plan has no usdc mint"))?;
    let usdc_mint: Pubkey = usdc.address.parse()?;
    let usdc_program: Pubkey = usdc.token_program.parse()?;
    let protocol_mint = st.protocol_mint();

    // GPU class: the local GPUs if NVML finds any (a market for them is created), else the
    // CPU market of the plan.
    say("2/8 looking for GPUs (NVML) and a container engine");
    let market_id = match cinder_runner::gpu::inventory() {
        Ok(gpus) if !gpus.is_empty() => {
            let id = gpu_market(&chain, &admin, &gpus[0], &usdc.address).await?;
            say(format!(
                "    {} GPU(s): {} — jobs run on them in market {id}",
                gpus.len(),
                gpus[0].name
            ));
            id
        }
        Ok(_) => {
            say("    NVML found no GPUs: running in the CPU market (1)");
            1
        }
        Err(e) => {
            say(format!(
                "    no NVIDIA GPU here ({e}): running in the CPU market (1)"
            ));
            1
        }
    };
    let m = MarketInfo::load(&chain, market_id)
        .await?
        .ok_or_else(|| anyhow!("market {market_id} missing"))?;
    let socket = std::env::var("CINDER_PODMAN_SOCKET")
        .unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    let container = container_image(&socket).await;
    match &container {
        Ok(image) => say(format!("    container engine at {socket}: jobs run in containers ({image})")),
        Err(why) => say(format!("    no container engine ({why}): jobs run as an allow-listed process (/bin/sh) instead")),
    }

    say("3/8 funding a client, two providers and a buyer; providers stake and register");
    let client = Keypair::new();
    let providers = [Keypair::new(), Keypair::new()];
    let buyer = Keypair::new();
    let mut ixs = Vec::new();
    for k in [&client, &providers[0], &providers[1], &buyer] {
        ixs.push(anchor_lang::solana_program::system_instruction::transfer(
            &admin.pubkey(),
            &k.pubkey(),
            20_000_000_000,
        ));
    }
    chain.send(&ixs, &admin, &[]).await?;
    token::mint_to_owner(
        &chain,
        &admin,
        &mint_authority,
        &usdc_mint,
        &client.pubkey(),
        1_000_000_000,
        &usdc_program,
    )
    .await?;
    for p in providers.iter().chain([&buyer]) {
        token::mint_to_owner(
            &chain,
            &admin,
            &mint_authority,
            &protocol_mint,
            &p.pubkey(),
            5_000_000_000_000,
            &token::TOKEN_PROGRAM,
        )
        .await?;
    }
    let mut ports = Vec::new();
    for (i, p) in providers.iter().enumerate() {
        let port = free_port()?;
        ports.push(port);
        let ctx = Ctx {
            chain: Chain::new(&st.rpc_url, SendConfig::default()),
            me: p.insecure_clone(),
            json: false,
            quiet: true,
        };
        cli::provider_stake(&ctx, "2000", 30).await?;
        cli::provider_register(
            &ctx,
            cli::RegisterArgs {
                market: market_id,
                endpoint: format!("http://127.0.0.1:{port}"),
                gpu_model: None,
                vram_gib: None,
                gpu_count: None,
                cpu_slots: 2,
            },
        )
        .await?;
        say(format!(
            "    provider {} ({}) staked 2000 and registered",
            i + 1,
            p.pubkey()
        ));
    }

    say("4/8 starting two workers (claim, run, attest, verify, settle)");
    let files = dir.join("files");
    std::fs::create_dir_all(&files)?;
    let host = cinder_runner::files::serve_dir(files.clone(), "127.0.0.1:0".parse()?).await?;
    let base = format!("http://{}", host.addr());
    let mut workers = Vec::new();
    for (i, p) in providers.iter().enumerate() {
        let wdir = dir.join(format!("worker{}", i + 1));
        std::fs::create_dir_all(&wdir)?;
        let key = wdir.join("provider.json");
        solana_keypair::write_keypair_file(p, &key).map_err(|e| anyhow!("{e}"))?;
        let cfg = WorkerConfig {
            rpc_url: st.rpc_url.clone(),
            ws_url: st.ws_url.clone(),
            keypair: key,
            data_dir: wdir.clone(),
            markets: vec![market_id],
            endpoint: format!("http://127.0.0.1:{}", ports[i]),
            listen: SocketAddr::from(([127, 0, 0, 1], ports[i])),
            runtime: if container.is_ok() {
                RuntimeKind::Container
            } else {
                RuntimeKind::Process
            },
            container_socket: socket.clone(),
            process_allow: [("sh".to_string(), PathBuf::from("/bin/sh"))]
                .into_iter()
                .collect(),
            cpu_slots: 2,
            rescan_secs: 5,
            shutdown_grace_secs: 5,
            ..WorkerConfig::default()
        };
        let executor = Executor::new(&cfg).await?;
        let shared = daemon::start(cfg, p.insecure_clone(), executor).await?;
        exec::serve_results(&shared).await?;
        let cancel = shared.cancel.clone();
        let handle = tokio::spawn(daemon::run(shared));
        workers.push((cancel, handle));
    }

    say(format!(
        "5/8 the client posts {} jobs (sha256 of an input file, deterministic)",
        a.jobs
    ));
    let input = b"Cinder demo input: GPU compute settlement on Solana.\n".repeat(64);
    std::fs::write(files.join("input.txt"), &input)?;
    let input_hash = hex::encode(Sha256::digest(&input));
    let client_ctx = Ctx {
        chain: Chain::new(&st.rpc_url, SendConfig::default()),
        me: client.insecure_clone(),
        json: false,
        quiet: true,
    };
    let mut jobs = Vec::new();
    for i in 0..a.jobs {
        let gpus = if m.is_cpu() { 0 } else { 1 };
        let spec = demo_spec(
            i,
            &base,
            &input_hash,
            container.as_ref().ok().map(String::as_str),
            gpus,
        );
        let name = format!("spec-{i}.json");
        std::fs::write(files.join(&name), &spec)?;
        let spec_path = files.join(&name);
        let job = cli::job_post(
            &client_ctx,
            cli::PostArgs {
                market: market_id,
                spec: spec_path,
                spec_uri: format!("{base}/{name}"),
                price: "0.001".into(),
                duration_secs: 300,
                provider: None,
                open_for_secs: None,
                nonce: None,
                check_uri: true,
            },
        )
        .await?;
        jobs.push(job);
    }

    say("6/8 following each job on chain");
    let bars = MultiProgress::new();
    let style =
        ProgressStyle::with_template("  {prefix:.bold} [{bar:28.cyan/blue}] {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> ");
    let mut tracked: Vec<(Pubkey, ProgressBar, usize, bool)> = jobs
        .iter()
        .map(|j| {
            let pb = bars.add(ProgressBar::new((STAGES.len() - 1) as u64));
            pb.set_style(style.clone());
            pb.set_prefix(short(j));
            pb.set_message("posted");
            (*j, pb, 0usize, false)
        })
        .collect();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let deadline = Instant::now() + Duration::from_secs(240);
    while tracked.iter().any(|t| !t.3) {
        if Instant::now() > deadline {
            bars.clear().ok();
            bail!(
                "jobs did not settle within 4 minutes; see {}",
                dir.join("workers.log").display()
            );
        }
        for t in tracked.iter_mut().filter(|t| !t.3) {
            let (stage, msg) = match chain.zero_copy::<Job>(&t.0).await? {
                None => (STAGES.len() - 1, "settled".to_string()),
                Some(j) => stage_of(&j),
            };
            if stage > t.2 || (stage == STAGES.len() - 1 && !t.3) {
                t.2 = stage.max(t.2);
                t.1.set_position(t.2 as u64);
                if !tty {
                    // No terminal (CI logs): one line per step instead of bars.
                    say(format!(
                        "    {} [{}/{}] {msg}",
                        short(&t.0),
                        t.2,
                        STAGES.len() - 1
                    ));
                }
                t.1.set_message(msg);
            }
            if stage == STAGES.len() - 1 {
                t.1.finish();
                t.3 = true;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(bars);

    say("7/8 downloading the first job's results with a client-signed request and checking the commitment");
    let out = dir.join("results");
    let hash = cli::job_results(&client_ctx, &jobs[0].to_string(), &out).await?;
    say(format!(
        "    result hash {} opens the on-chain commitment; files in {}",
        hex::encode(hash),
        out.display()
    ));

    say("8/8 buyback and burn: sweep the protocol fees to the auction, buy the fee vault with protocol tokens");
    let keeper_ctx = Ctx {
        chain: Chain::new(&st.rpc_url, SendConfig::default()),
        me: buyer.insecure_clone(),
        json: false,
        quiet: true,
    };
    let fresh = MarketInfo::load(&chain, market_id).await?.unwrap_or(m);
    let protocol = ix::Protocol {
        mint: protocol_mint,
        token_program: token::TOKEN_PROGRAM,
    };
    let k = crate::cranks::Keeper {
        chain: &chain,
        me: &buyer,
        protocol,
    };
    k.sweep(&fresh).await?;
    let supply_before = chain.mint_supply(&protocol_mint).await?;
    let (_, price, vault) = cli::auction_quote(&chain, &usdc_mint).await?;
    let bought = cli::buy(&keeper_ctx, &usdc_mint.to_string(), None, None).await?;
    let supply_after = chain.mint_supply(&protocol_mint).await?;
    let config: Config = chain
        .zero_copy(&ix::config_pda())
        .await?
        .ok_or_else(|| anyhow!("config missing"))?;

    // Summary: value movements from the events, compute units per instruction from the
    // transactions of every job.
    let mut paid = 0u64;
    let mut fees = 0u64;
    let mut vfees = 0u64;
    let mut refunds = 0u64;
    let mut verified = 0u32;
    let mut verifier_paid = 0u64;
    let mut cu: BTreeMap<&'static str, (u64, u32)> = BTreeMap::new();
    for job in &jobs {
        for (sig, _, ok) in chain.signatures_for(job, 50).await? {
            if !ok {
                continue;
            }
            let Some(l) = chain.landed_listed(&sig).await? else {
                continue;
            };
            let name = instruction_of(&l.events);
            if let Some(units) = cinder_client::rpc::program_units(&l.logs) {
                let e = cu.entry(name).or_default();
                e.0 += units;
                e.1 += 1;
            }
            for s in l.events_of::<JobSettled>() {
                paid += s.provider_amount;
                fees += s.protocol_fee;
                vfees += s.verification_fee;
                refunds += s.refund;
            }
            for v in l.events_of::<VerificationSubmitted>() {
                verified += u32::from(v.matched);
                verifier_paid += v.verifier_paid;
            }
        }
    }
    if let Some(l) = chain.landed_listed(&bought.signature).await? {
        let burned: u64 = l.events_of::<Burned>().iter().map(|b| b.amount).sum();
        if let Some(units) = cinder_client::rpc::program_units(&l.logs) {
            let e = cu.entry("buy").or_default();
            e.0 += units;
            e.1 += 1;
        }
        for b in l.events_of::<AuctionBought>() {
            say(format!(
                "    bought {} usdc of fees for {} protocol tokens (next epoch starts at {})",
                format_amount(b.amount_out, 6),
                format_amount(b.price, 9),
                format_amount(b.next_init_price, 9)
            ));
        }
        say(format!(
            "    burned {} protocol tokens: supply {} → {}",
            format_amount(burned, 9),
            format_amount(supply_before, 9),
            format_amount(supply_after, 9)
        ));
    }
    let _ = (price, vault);

    for (cancel, handle) in workers {
        cancel.cancel();
        let _ = handle.await;
    }
    println!();
    println!(
        "  Cinder demo summary ({} jobs in market {market_id}, {:.0} s)",
        jobs.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("  ────────────────────────────────────────────────────────");
    println!(
        "  paid to providers           {:>14} usdc",
        format_amount(paid, 6)
    );
    println!(
        "  protocol fees               {:>14} usdc",
        format_amount(fees, 6)
    );
    println!(
        "  verification fees           {:>14} usdc",
        format_amount(vfees, 6)
    );
    println!(
        "  paid to verifiers (pool)    {:>14} usdc",
        format_amount(verifier_paid, 6)
    );
    println!(
        "  refunded to the client      {:>14} usdc",
        format_amount(refunds, 6)
    );
    println!("  results re-executed, matched{:>14}", verified);
    println!(
        "  protocol tokens burned      {:>14}",
        format_amount(config.total_burned, 9)
    );
    println!("  ────────────────────────────────────────────────────────");
    println!("  compute units of the cinder instruction (real runtime, this repo's SBF build):");
    for (name, (units, n)) in &cu {
        println!(
            "    {:<22} {:>4} tx   {:>8} CU avg",
            name,
            n,
            units / (*n).max(1) as u64
        );
    }
    let Running { net, .. } = running;
    tokio::task::spawn_blocking(move || net.shutdown()).await?;
    host.shutdown().await;
    Ok(())
}

use crate::localnet::Running;

fn short(k: &Pubkey) -> String {
    let s = k.to_string();
    format!("job {}…", &s[..8])
}

/// Which step a job is at, from its account.
fn stage_of(j: &Job) -> (usize, String) {
    match j.state {
        JobState::Open => (0, "posted, waiting for a provider".into()),
        JobState::Running => (
            1,
            format!("claimed by {}…, running", &j.provider.to_string()[..6]),
        ),
        JobState::Submitted => match j.sample_status {
            SampleStatus::Unrevealed => (2, "result committed; sample not revealed yet".into()),
            SampleStatus::NotSampled => (3, "not sampled; challenge window running".into()),
            _ => (3, "sampled: waiting for a verifier".into()),
        },
        JobState::Verifying => (
            4,
            format!("verifier {}… re-running it", &j.verifier.to_string()[..6]),
        ),
        JobState::Verified => (5, "verifier matched the commitment".into()),
        JobState::Disputed => (5, "verifier mismatched: disputed".into()),
        JobState::Refunded => (5, "refunded".into()),
        _ => (0, "?".into()),
    }
}

/// The instruction a cinder transaction ran, told by the event it emitted.
fn instruction_of(events: &[Vec<u8>]) -> &'static str {
    use anchor_lang::Discriminator;
    use cinder::events::*;
    let is = |d: &[u8], disc: &[u8]| d.starts_with(disc);
    for e in events {
        let d = e.as_slice();
        for (disc, name) in [
            (JobPosted::DISCRIMINATOR, "post_job"),
            (JobClaimed::DISCRIMINATOR, "claim_job"),
            (ResultSubmitted::DISCRIMINATOR, "submit_result"),
            (SampleRevealed::DISCRIMINATOR, "reveal_sample"),
            (VerificationClaimed::DISCRIMINATOR, "claim_verification"),
            (VerificationSubmitted::DISCRIMINATOR, "submit_verification"),
            (JobSettled::DISCRIMINATOR, "settle_job"),
            (JobQuit::DISCRIMINATOR, "quit_job"),
            (JobExpired::DISCRIMINATOR, "expire_job"),
        ] {
            if is(d, disc) {
                return name;
            }
        }
    }
    "other"
}

/// A market for the local GPU model (id 100), created by the admin.
async fn gpu_market(
    chain: &Chain,
    admin: &Keypair,
    gpu: &cinder_runner::gpu::Gpu,
    usdc: &str,
) -> anyhow::Result<u64> {
    let plan = cinder_migrations::Plan::parse(&format!(
        "[[auctions]]\nmint = \"{usdc}\"\ninit_price = 100_000_000_000\nfloor_price = 1_000_000\nepoch_period_secs = 3600\nmin_init_price = 10_000_000_000\n\n[[markets]]\nid = 100\ngpu_model = \"{}\"\npayment_mint = \"{usdc}\"\nmin_vram_gib = {}\nmin_gpus_per_job = 1\nmin_price_per_sec = 100\nmax_duration_secs = 3600\nexpire_grace_secs = 30\nchallenge_window_secs = 10\nverification_timeout_secs = 60\nmin_provider_stake = 1_000_000_000_000\nstake_per_job = 100_000_000_000\nverify_rate_bps = 5000\nverification_fee_bps = 2000\n",
        gpu.name.chars().take(32).collect::<String>(),
        gpu.memory_mib / 1024
    ))?;
    let cfg: Config = chain
        .zero_copy(&ix::config_pda())
        .await?
        .ok_or_else(|| anyhow!("no config"))?;
    cinder_migrations::bootstrap(
        chain,
        &plan,
        &cinder_migrations::Signers {
            admin,
            mint_authority: None,
            keys_dir: None,
        },
        Some(cfg.protocol_mint),
    )
    .await?;
    Ok(100)
}

/// The pinned image of the demo's container jobs, if a container engine answers.
async fn container_image(socket: &str) -> Result<String, String> {
    use cinder_runner::runtime::Runtime;
    let rt = cinder_runner::runtime::ContainerRuntime::connect(socket, false)
        .map_err(|e| e.to_string())?;
    rt.check().await.map_err(|e| e.to_string())?;
    rt.pinned("localhost/cinder-busybox:latest")
        .await
        .map_err(|e| format!("{e} (run scripts/podman-setup.sh to create the image)"))
}

/// A deterministic job: the sha256 of its input and a line count, in its outputs.
fn demo_spec(i: u32, base: &str, input_hash: &str, image: Option<&str>, gpus: u32) -> Vec<u8> {
    let script = "sha256sum \"$CINDER_INPUT_DIR/input.txt\" | cut -d' ' -f1 > \"$CINDER_OUTPUT_DIR/digest.txt\" && wc -l < \"$CINDER_INPUT_DIR/input.txt\" > \"$CINDER_OUTPUT_DIR/lines.txt\"";
    let mut spec = serde_json::json!({
        "version": 1,
        "kind": if image.is_some() { "container" } else { "process" },
        "command": ["sh", "-c", script],
        "env": {"DEMO_JOB": i.to_string()},
        "inputs": [{"uri": format!("{base}/input.txt"), "sha256": input_hash, "path": "input.txt"}],
        "outputs": "/out",
        "gpus": gpus,
        "min_vram_gib": 0,
        "time_limit_secs": 120,
        "deterministic": true
    });
    if let Some(img) = image {
        spec["image"] = serde_json::Value::String(img.to_string());
    }
    serde_json::to_vec_pretty(&spec).expect("json")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
