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
    events::{AuctionBought, Burned, DisputeResolved, JobSettled, Slashed, VerificationSubmitted},
    state::{resolution, Config, Job, JobState, SampleStatus},
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
    /// `--gpu`: PyTorch jobs on the local NVIDIA GPU instead of the shell jobs.
    pub gpu: Option<GpuDemo>,
    /// `--check`: after the summary, check the outcome from the chain (every job closed with a
    /// settlement, the fees swept, protocol tokens burned; with `--gpu`, the cheater slashed)
    /// and fail if any is not so.
    pub check: bool,
}

/// The GPU demo: python3 with PyTorch (by the path it is started as: a venv's python finds
/// its packages only so) and the folder of the job scripts (`scripts/gpu`).
#[derive(Debug, Clone)]
pub struct GpuDemo {
    pub python: PathBuf,
    pub scripts: PathBuf,
}

/// One job the demo posts, in which market, and what it shows.
struct DemoJob {
    label: &'static str,
    spec: Vec<u8>,
    market: u64,
}

/// The CPU demo's second market: like the plan's CPU market 1, but every job is re-executed
/// (verify rate 100 %), for the tolerance job and the cheater.
const VERIFY_ALL_MARKET: u64 = 101;

/// The CPU demo's tolerance job: a float reduction whose order changes run to run.
const FLOAT_REDUCTION: &str = include_str!("../assets/float_reduction.sh");

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
    let inventory = cinder_runner::gpu::inventory();
    if let (Some(_), Err(e)) = (&a.gpu, &inventory) {
        bail!("--gpu needs an NVIDIA GPU that NVML reports: {e}");
    }
    let mut gpu = None;
    let market_id = match inventory {
        Ok(gpus) if !gpus.is_empty() => {
            let id = demo_market(
                &chain,
                &admin,
                100,
                &gpus[0].name.chars().take(32).collect::<String>(),
                gpus[0].nominal_vram_gib(),
                &usdc.address,
                if a.gpu.is_some() { 10_000 } else { 5_000 },
            )
            .await?;
            say(format!(
                "    {} GPU(s): {} ({} MiB, sold as {} GB{}) — jobs run on them in market {id}{}",
                gpus.len(),
                gpus[0].name,
                gpus[0].memory_mib,
                gpus[0].nominal_vram_gib(),
                if gpus[0].mig_enabled { ", MIG on" } else { "" },
                if a.gpu.is_some() {
                    ", which re-executes every job (verify rate 100 %)"
                } else {
                    ""
                }
            ));
            gpu = Some(gpus[0].clone());
            id
        }
        Ok(_) if a.gpu.is_some() => bail!("--gpu: NVML found no GPU"),
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
    // Besides the ordinary jobs, the shell demo runs two in a market of the same class that
    // re-executes every job: an honest job whose outputs differ in their last bits, verified
    // under its tolerance rule, and a cheater's, caught.
    let mut markets = vec![market_id];
    if a.gpu.is_none() {
        let class = m.gpu_model();
        demo_market(
            &chain,
            &admin,
            VERIFY_ALL_MARKET,
            &class,
            u64::from(m.market.params.min_vram_gib),
            &usdc.address,
            10_000,
        )
        .await?;
        // A new market's pool holds no verification fees yet: seed it as earlier settlements
        // would have, so its first verifiers are paid.
        let pool = ix::verify_pool_pda(&ix::market_pda(VERIFY_ALL_MARKET));
        chain
            .send(
                &[token::mint_to_ix(
                    &usdc_mint,
                    &pool,
                    &mint_authority.pubkey(),
                    1_000_000,
                    &usdc_program,
                )],
                &admin,
                &[&mint_authority],
            )
            .await?;
        say(format!(
            "    market {VERIFY_ALL_MARKET} ({class}, like market {market_id}) re-executes every job (verify rate 100 %); its verification pool seeded with 1 usdc"
        ));
        markets.push(VERIFY_ALL_MARKET);
    }
    let socket = std::env::var("CINDER_PODMAN_SOCKET")
        .unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    let container = match &a.gpu {
        Some(g) => {
            say(format!(
                "    GPU jobs run as allow-listed processes: python3 = {} (PyTorch)",
                g.python.display()
            ));
            Err("the GPU demo runs process jobs".to_string())
        }
        None => container_image(&socket).await,
    };
    match (&container, &a.gpu) {
        (Ok(image), _) => say(format!("    container engine at {socket}: jobs run in containers ({image})")),
        (Err(why), None) => say(format!("    no container engine ({why}): jobs run as an allow-listed process (/bin/sh) instead")),
        (Err(_), Some(_)) => {}
    }

    // Three providers: a cheater's job needs two verifiers besides its provider (the GPU demo,
    // on one GPU, runs two and lets the arbiter rule on a lapsed escalation).
    let workers_n = if a.gpu.is_some() { 2 } else { 3 };
    say(format!(
        "3/8 funding a client, {workers_n} providers and a buyer; providers stake and register"
    ));
    let client = Keypair::new();
    let providers: Vec<Keypair> = (0..workers_n).map(|_| Keypair::new()).collect();
    let buyer = Keypair::new();
    let mut ixs = Vec::new();
    for k in [&client, &buyer].into_iter().chain(providers.iter()) {
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

    say(format!(
        "4/8 starting {workers_n} workers (claim, run, attest, verify, settle)"
    ));
    let files = dir.join("files");
    std::fs::create_dir_all(&files)?;
    let host = cinder_runner::files::serve_dir(files.clone(), "127.0.0.1:0".parse()?).await?;
    let base = format!("http://{}", host.addr());
    let mut workers = Vec::new();
    let mut worker_state = Vec::new();
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
            markets: markets.clone(),
            endpoint: format!("http://127.0.0.1:{}", ports[i]),
            listen: SocketAddr::from(([127, 0, 0, 1], ports[i])),
            runtime: if container.is_ok() {
                RuntimeKind::Container
            } else {
                RuntimeKind::Process
            },
            container_socket: socket.clone(),
            process_allow: match &a.gpu {
                Some(g) => [("python3".to_string(), g.python.clone())].into(),
                None => [("sh".to_string(), PathBuf::from("/bin/sh"))].into(),
            },
            cpu_slots: 2,
            // The demo's spec and input server is on this machine.
            fetch_internal_networks: vec!["127.0.0.0/8".into()],
            rescan_secs: 5,
            shutdown_grace_secs: 5,
            // The demo shows a cheater caught: every worker cheats on the job whose spec
            // asks for it (DEMO_TAMPER), whichever of them claims it.
            demo_tamper: true,
            ..WorkerConfig::default()
        };
        let executor = Executor::new(&cfg).await?;
        let shared = daemon::start(cfg, p.insecure_clone(), executor).await?;
        exec::serve_results(&shared).await?;
        worker_state.push(shared.clone());
        let cancel = shared.cancel.clone();
        let handle = tokio::spawn(daemon::run(shared));
        workers.push((cancel, handle));
    }

    let client_ctx = Ctx {
        chain: Chain::new(&st.rpc_url, SendConfig::default()),
        me: client.insecure_clone(),
        json: false,
        quiet: true,
    };
    let demo_jobs: Vec<DemoJob> = match (&a.gpu, &gpu) {
        (Some(g), Some(card)) => {
            let list = gpu_jobs(g, &files, &base, card, a.jobs)?;
            say(format!(
                "5/8 the client posts {} PyTorch jobs on the GPU: {}",
                list.len(),
                list.iter().map(|j| j.label).collect::<Vec<_>>().join(", ")
            ));
            list
        }
        _ => {
            say(format!(
                "5/8 the client posts {} jobs (sha256 of an input file, deterministic)",
                a.jobs
            ));
            let input = b"Cinder demo input: GPU compute settlement on Solana.\n".repeat(64);
            std::fs::write(files.join("input.txt"), &input)?;
            let input_hash = hex::encode(Sha256::digest(&input));
            let gpus = if m.is_cpu() { 0 } else { 1 };
            let image = container.as_ref().ok().map(String::as_str);
            let mut list: Vec<DemoJob> = (0..a.jobs)
                .map(|i| DemoJob {
                    label: "sha256",
                    spec: demo_spec(i, &base, &input_hash, image, gpus),
                    market: market_id,
                })
                .collect();
            say(format!(
                "    and 2 in market {VERIFY_ALL_MARKET}: a float reduction whose last bits differ run to run (verified under its tolerance rule), and the same job from a provider that fabricates its outputs (DEMO_TAMPER)"
            ));
            for (label, tamper) in [("tolerance", false), ("tampered", true)] {
                list.push(DemoJob {
                    label,
                    spec: reduction_spec(image, gpus, tamper),
                    market: VERIFY_ALL_MARKET,
                });
            }
            list
        }
    };
    let mut jobs = Vec::new();
    let mut specs = BTreeMap::new();
    for (i, dj) in demo_jobs.iter().enumerate() {
        let spec = &dj.spec;
        let name = format!("spec-{i}.json");
        std::fs::write(files.join(&name), spec)?;
        let spec_path = files.join(&name);
        let job = cli::job_post(
            &client_ctx,
            cli::PostArgs {
                market: dj.market,
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
        specs.insert(job, (dj.label, spec.clone(), dj.market));
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
    let minutes = if a.gpu.is_some() { 8 } else { 6 };
    let deadline = Instant::now() + Duration::from_secs(60 * minutes);
    let mut rulings: BTreeMap<Pubkey, Ruling> = BTreeMap::new();
    while tracked.iter().any(|t| !t.3) {
        if Instant::now() > deadline {
            bars.clear().ok();
            bail!(
                "jobs did not settle within {minutes} minutes; see {}",
                dir.join("workers.log").display()
            );
        }
        let now = chain.unix_time().await?;
        for t in tracked.iter_mut().filter(|t| !t.3) {
            let (stage, msg) = match chain.zero_copy::<Job>(&t.0).await? {
                None => (STAGES.len() - 1, "settled".to_string()),
                Some(j) if awaits_arbiter(&j, now) && !rulings.contains_key(&t.0) => {
                    // The market's arbiter (the admin here) rules on the evidence: both
                    // runs' outputs compared under the job's own verify rule.
                    let (_, spec, market) = &specs[&t.0];
                    let r = arbitrate(
                        &chain,
                        &admin,
                        &fresh_market(&chain, *market).await?,
                        &t.0,
                        &j,
                        spec,
                        &worker_state,
                        protocol_mint,
                    )
                    .await?;
                    let msg = format!("disputed; arbiter: {}", r.summary);
                    rulings.insert(t.0, r);
                    (5, msg)
                }
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

    for (job, r) in &rulings {
        say(format!("    {}: {}", short(job), r.summary));
        for line in &r.details {
            say(format!("        {line}"));
        }
    }

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
    for id in markets.iter().skip(1) {
        k.sweep(&fresh_market(&chain, *id).await?).await?;
    }
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
    let mut mismatched = 0u32;
    let mut slashed = 0u64;
    let mut slashes = 0u32;
    let mut per_job: BTreeMap<Pubkey, JobLine> = BTreeMap::new();
    let mut verifier_paid = 0u64;
    let mut cu: BTreeMap<&'static str, (u64, u32)> = BTreeMap::new();
    for job in &jobs {
        let line = per_job.entry(*job).or_default();
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
                line.paid += s.provider_amount;
                line.refund += s.refund;
                line.settled = true;
            }
            for v in l.events_of::<VerificationSubmitted>() {
                verified += u32::from(v.matched);
                mismatched += u32::from(!v.matched);
                verifier_paid += v.verifier_paid;
                line.verdict = Some(v.matched);
            }
            for r in l.events_of::<DisputeResolved>() {
                line.by_arbiter = Some(r.by_arbiter);
            }
            for s in l.events_of::<Slashed>() {
                slashed += s.amount;
                slashes += 1;
                line.slashed += s.amount;
            }
            match name {
                "claim_job" => line.claimed = l.block_time,
                "submit_result" => line.submitted = l.block_time,
                _ => {}
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
        "  Cinder demo summary ({} jobs in market{} {}, {:.0} s)",
        jobs.len(),
        if markets.len() > 1 { "s" } else { "" },
        markets
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
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
    println!(
        "  results re-executed           {:>12}",
        verified + mismatched
    );
    println!("    verdict: matched            {:>12}", verified);
    println!("    verdict: mismatched         {:>12}", mismatched);
    println!(
        "  providers slashed (fraud)   {:>6} ({} protocol tokens)",
        slashes,
        format_amount(slashed, 9)
    );
    println!(
        "  protocol tokens burned      {:>14}",
        format_amount(config.total_burned, 9)
    );
    println!("  ────────────────────────────────────────────────────────");
    if specs.values().any(|(label, _, _)| *label != "sha256") {
        println!("  per job:");
        println!(
            "    {:<14} {:<10} {:<11} {:>12} {:>12} {:>10}  {:>7} {:>6}  arbiter",
            "job", "kind", "verdict", "paid usdc", "refund usdc", "slashed", "claim→submit", "run"
        );
        for job in &jobs {
            let l = &per_job[job];
            let (label, _, _) = &specs[job];
            let run = run_secs(&worker_state, job);
            let span = match (l.claimed, l.submitted) {
                (Some(c), Some(s)) => format!("{} s", s - c),
                _ => "-".into(),
            };
            println!(
                "    {:<14} {:<10} {:<11} {:>12} {:>12} {:>10}  {:>12} {:>6}  {}",
                short(job),
                label,
                match l.verdict {
                    Some(true) => "matched",
                    Some(false) => "mismatched",
                    None => "-",
                },
                format_amount(l.paid, 6),
                format_amount(l.refund, 6),
                format_amount(l.slashed, 9),
                span,
                run.map(|r| format!("{r:.1} s"))
                    .unwrap_or_else(|| "-".into()),
                match (rulings.get(job), l.by_arbiter) {
                    (Some(r), _) => r.summary.as_str(),
                    (None, Some(false)) => "none: two mismatch verdicts, resolved by a keeper",
                    _ => "-",
                }
            );
        }
        println!(
            "  (run: the provider's process from start to exit{};",
            if a.gpu.is_some() {
                ", python and CUDA start included"
            } else {
                ""
            }
        );
        println!("   claim→submit: block times of the two transactions, whole seconds)");
        println!("  ────────────────────────────────────────────────────────");
    }
    println!("  compute units of the cinder instruction (real runtime, this repo's SBF build):");
    for (name, (units, n)) in &cu {
        println!(
            "    {:<22} {:>4} tx   {:>8} CU avg",
            name,
            n,
            units / (*n).max(1) as u64
        );
    }
    let outcome = if a.check {
        let mut wrong = Vec::new();
        for job in &jobs {
            if chain.zero_copy::<Job>(job).await?.is_some() {
                wrong.push(format!("job {job} is still open"));
            }
            if !per_job[job].settled {
                wrong.push(format!("job {job} has no settlement (JobSettled) on chain"));
            }
        }
        for id in &markets {
            let market = fresh_market(&chain, *id).await?;
            if market.market.protocol_fees_accrued != 0 {
                wrong.push(format!(
                    "market {id} still has {} of protocol fees unswept",
                    market.market.protocol_fees_accrued
                ));
            }
        }
        if supply_after >= supply_before || config.total_burned == 0 {
            wrong.push(format!(
                "no protocol tokens burned: supply {supply_before} -> {supply_after}, total burned {}",
                config.total_burned
            ));
        }
        {
            for (job, (label, _, _)) in &specs {
                let l = &per_job[job];
                match *label {
                    "tampered" if l.slashed == 0 || l.verdict != Some(false) || l.refund == 0 => {
                        wrong.push(format!(
                            "the tampered job {job} was not caught, slashed and refunded"
                        ))
                    }
                    // Three workers: the cheat's two mismatch verdicts convict it, no arbiter.
                    "tampered" if a.gpu.is_none() && l.by_arbiter != Some(false) => {
                        wrong.push(format!(
                            "the tampered job {job} did not get two mismatch verdicts (resolved by the arbiter or not at all)"
                        ))
                    }
                    "exact" if l.verdict != Some(true) || l.paid == 0 => {
                        wrong.push(format!("the exact job {job} was not verified and paid"))
                    }
                    "tolerance" if l.slashed != 0 || l.verdict != Some(true) || l.paid == 0 => {
                        wrong.push(format!(
                            "the honest tolerance job {job} was not matched under its rule and paid"
                        ))
                    }
                    _ => {}
                }
            }
        }
        if wrong.is_empty() {
            say(format!(
                "check: {} jobs closed with a settlement on chain, fees swept, {} protocol tokens burned",
                jobs.len(),
                format_amount(supply_before - supply_after, 9)
            ));
            Ok(())
        } else {
            Err(anyhow!("demo check failed:\n  {}", wrong.join("\n  ")))
        }
    } else {
        Ok(())
    };
    let Running { net, .. } = running;
    tokio::task::spawn_blocking(move || net.shutdown()).await?;
    host.shutdown().await;
    outcome
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
        JobState::Verified if j.match_challenge_ends().is_some() => (
            5,
            "verifier's verdict: match; the client's challenge window runs".into(),
        ),
        JobState::Verified => (5, "verifier's verdict: match".into()),
        JobState::Escalated if j.contests_a_match() => (
            5,
            "the client challenged the match: a second verifier re-runs it".into(),
        ),
        JobState::Escalated => (
            5,
            "verifier's verdict: mismatch; a second verifier re-runs it".into(),
        ),
        JobState::Disputed => (5, "verifiers' verdicts in: disputed".into()),
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
            (VerificationCommitted::DISCRIMINATOR, "commit_verification"),
            (VerificationSubmitted::DISCRIMINATOR, "submit_verification"),
            (JobSettled::DISCRIMINATOR, "settle_job"),
            (JobQuit::DISCRIMINATOR, "quit_job"),
            (JobExpired::DISCRIMINATOR, "expire_job"),
            (DisputeResolved::DISCRIMINATOR, "resolve_dispute"),
        ] {
            if is(d, disc) {
                return name;
            }
        }
    }
    "other"
}

/// A market of the demo's own (`id`), created by the admin: the GPU class `gpu_model` (the
/// local card's NVML name, or the CPU class) with `min_vram_gib` (the card's nominal memory,
/// as sold), re-executing `verify_rate_bps` of its jobs.
async fn demo_market(
    chain: &Chain,
    admin: &Keypair,
    id: u64,
    gpu_model: &str,
    min_vram_gib: u64,
    usdc: &str,
    verify_rate_bps: u16,
) -> anyhow::Result<u64> {
    let plan = cinder_migrations::Plan::parse(&format!(
        "[[auctions]]\nmint = \"{usdc}\"\ninit_price = 100_000_000_000\nfloor_price = 1_000_000\nepoch_period_secs = 3600\nmin_init_price = 10_000_000_000\n\n[[markets]]\nid = {id}\ngpu_model = \"{gpu_model}\"\npayment_mint = \"{usdc}\"\nmin_vram_gib = {min_vram_gib}\nmin_gpus_per_job = 1\nmin_price_per_sec = 100\nmax_duration_secs = 3600\nexpire_grace_secs = 30\nchallenge_window_secs = 10\nverification_timeout_secs = 120\nmin_provider_stake = 1_000_000_000_000\nstake_per_job = 100_000_000_000\nverify_rate_bps = {verify_rate_bps}\nverification_fee_bps = 2000\n",
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
    Ok(id)
}

/// What the summary shows of one job.
#[derive(Default)]
struct JobLine {
    settled: bool,
    verdict: Option<bool>,
    paid: u64,
    refund: u64,
    slashed: u64,
    claimed: Option<i64>,
    submitted: Option<i64>,
    /// How its dispute was resolved: by the arbiter, or by anyone (two mismatch verdicts).
    by_arbiter: Option<bool>,
}

/// The arbiter's ruling on a disputed job, and the evidence.
struct Ruling {
    summary: String,
    details: Vec<String>,
}

async fn fresh_market(chain: &Chain, id: u64) -> anyhow::Result<MarketInfo> {
    MarketInfo::load(chain, id)
        .await?
        .ok_or_else(|| anyhow!("market {id} missing"))
}

/// The market's arbiter (the admin on the local chain) rules on a disputed job from the
/// evidence: the provider's stored outputs against the verifier's re-run, compared under the
/// job's own verify rule. Outside the rule (fabricated, wrong): the verifier was right and the
/// provider is slashed for fraud, the client refunded. Within it (an honest job whose GPU
/// outputs differ in their last bits): provider right, the provider is paid; the verifier of
/// a `tolerance` job is not slashed for its hash (the program never does), that of an `exact`
/// job is.
#[allow(clippy::too_many_arguments)]
async fn arbitrate(
    chain: &Chain,
    arbiter: &Keypair,
    m: &MarketInfo,
    key: &Pubkey,
    job: &Job,
    spec_bytes: &[u8],
    workers: &[std::sync::Arc<daemon::Shared>],
    protocol_mint: Pubkey,
) -> anyhow::Result<Ruling> {
    let spec = cinder_runner::spec::JobSpec::parse(spec_bytes)?;
    let rule = spec.verify_rule();
    let find = |who: &Pubkey, verifier: bool| {
        workers
            .iter()
            .find(|w| w.me.pubkey() == *who)
            .and_then(|w| w.exec.stored_files(key, verifier))
    };
    // The verifier that mismatched first (with two workers nobody else can escalate), or the
    // second where the client challenged the first's match.
    let first = if job.contests_a_match() {
        &job.verifier
    } else if job.escalated() {
        &job.first_verifier
    } else {
        &job.verifier
    };
    let (Some(provider_out), Some(verifier_out)) = (find(&job.provider, false), find(first, true))
    else {
        bail!("the arbiter cannot find both runs' stored outputs of {key}");
    };
    let verdict = cinder_runner::compare::compare_dirs(
        &provider_out,
        &verifier_out,
        &rule.tolerance(),
        &rule.exclude,
        &rule.raw,
    )?;
    let details = verdict
        .files
        .iter()
        .map(|f| {
            format!(
                "{}: {} ({}; max abs {:.3e}, max rel {:.3e})",
                f.path,
                if f.matched {
                    "within the rule"
                } else {
                    "OUTSIDE the rule"
                },
                f.detail,
                f.max_abs,
                f.max_rel
            )
        })
        .collect();
    let (decision, summary) = if verdict.matched {
        (
            resolution::PROVIDER_RIGHT,
            format!(
                "outputs agree under the job's {:?} rule: provider right, provider paid",
                rule.mode
            ),
        )
    } else {
        (
            resolution::VERIFIER_RIGHT,
            format!(
                "provider's outputs fail the job's {:?} rule: fraud, provider slashed, client refunded",
                rule.mode
            ),
        )
    };
    let keys = crate::market::job_keys(key, job, &m.market);
    let protocol = ix::Protocol {
        mint: protocol_mint,
        token_program: token::TOKEN_PROGRAM,
    };
    chain
        .send(
            &[ix::resolve_dispute_for(
                &keys,
                job,
                &arbiter.pubkey(),
                &protocol,
                decision,
            )],
            arbiter,
            &[],
        )
        .await?;
    Ok(Ruling { summary, details })
}

/// Whether the arbiter rules on `job` now: the verifiers' verdicts are in and are not a proven
/// fraud (which anyone resolves), or its escalation found no second verifier in time (unless
/// it was a challenge of a match, which then stands and anyone resolves).
fn awaits_arbiter(job: &Job, now: i64) -> bool {
    use cinder::state::verdict;
    let proven = job.verdict == verdict::CONFIRMED;
    (job.state == JobState::Disputed && !proven)
        || (job.escalation_lapsed(now) && !job.contests_a_match())
}

/// Seconds the provider's process ran (from its stored manifest).
fn run_secs(workers: &[std::sync::Arc<daemon::Shared>], job: &Pubkey) -> Option<f64> {
    workers.iter().find_map(|w| {
        let m = w.exec.store().get(&job.to_string()).ok().flatten()?;
        Some(m.finished_unix_ms.saturating_sub(m.started_unix_ms) as f64 / 1000.0)
    })
}

/// The GPU demo's jobs, each a PyTorch script (an input, pinned by its sha256) run by the
/// allow-listed python3 on one whole GPU of the market's class:
/// - `exact`: a deterministic chain of fp32 matrix products (fixed seeds, deterministic
///   algorithms): the verifier's re-run is byte-identical;
/// - `tolerance`: a float scatter-add whose atomics round differently run to run: the
///   re-run differs in the last bits, within the job's tolerance rule;
/// - `tampered`: the `exact` job again, on which the provider cheats (DEMO_TAMPER);
/// - further `exact` jobs with other seeds, up to `jobs` in all.
fn gpu_jobs(
    g: &GpuDemo,
    files: &std::path::Path,
    base: &str,
    card: &cinder_runner::gpu::Gpu,
    jobs: u32,
) -> anyhow::Result<Vec<DemoJob>> {
    let input = |name: &str, bytes: &[u8]| -> anyhow::Result<serde_json::Value> {
        std::fs::write(files.join(name), bytes)?;
        Ok(serde_json::json!({
            "uri": format!("{base}/{name}"),
            "sha256": hex::encode(Sha256::digest(bytes)),
            "path": if name.ends_with(".py") { "job.py" } else { "params.json" },
        }))
    };
    let script = |name: &str| -> anyhow::Result<serde_json::Value> {
        let path = g.scripts.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        input(name, &bytes)
    };
    let matmul = script("matmul_chain.py")?;
    let scatter = script("scatter_add.py")?;
    let runpy = "import os, runpy, sys; sys.argv = ['job.py']; runpy.run_path(os.path.join(os.environ['CINDER_INPUT_DIR'], 'job.py'), run_name='__main__')";
    let spec = |job: &serde_json::Value,
                params: serde_json::Value,
                verify: serde_json::Value,
                tamper: bool|
     -> anyhow::Result<Vec<u8>> {
        let seed = params["seed"].as_u64().unwrap_or(0);
        let p = input(
            &format!("params-{seed}.json"),
            params.to_string().as_bytes(),
        )?;
        let mut env = serde_json::Map::new();
        if tamper {
            env.insert(exec::TAMPER_ENV.into(), "1".into());
        }
        Ok(serde_json::to_vec_pretty(&serde_json::json!({
            "version": 1,
            "kind": "process",
            "command": ["python3", "-c", runpy],
            "env": env,
            "inputs": [job, p],
            "gpus": 1,
            "min_vram_gib": card.nominal_vram_gib(),
            "time_limit_secs": 240,
            "deterministic": verify["mode"] == "exact",
            "verify": verify,
        }))?)
    };
    let exact = serde_json::json!({"mode": "exact"});
    let mut list = vec![
        DemoJob {
            market: 100,
            label: "exact",
            spec: spec(
                &matmul,
                serde_json::json!({"seed": 7, "n": 4096, "steps": 400}),
                exact.clone(),
                false,
            )?,
        },
        DemoJob {
            market: 100,
            label: "tolerance",
            spec: spec(
                &scatter,
                serde_json::json!({"seed": 11, "values": 50_000_000, "bins": 1024, "rounds": 20}),
                // total.txt prints the sum of the bins, which differs with them: the bins
                // are compared (within the tolerance), their printed sum is not.
                serde_json::json!({"mode": "tolerance", "rtol": 1e-4, "atol": 0.2, "exclude": ["total.txt"]}),
                false,
            )?,
        },
        DemoJob {
            market: 100,
            label: "tampered",
            spec: spec(
                &matmul,
                serde_json::json!({"seed": 8, "n": 4096, "steps": 400}),
                exact.clone(),
                true,
            )?,
        },
    ];
    for seed in 0..jobs.saturating_sub(3) {
        list.push(DemoJob {
            market: 100,
            label: "exact",
            spec: spec(
                &matmul,
                serde_json::json!({"seed": 100 + seed, "n": 4096, "steps": 400}),
                exact.clone(),
                false,
            )?,
        });
    }
    Ok(list)
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

/// The tolerance job ([`FLOAT_REDUCTION`]): its bins compared as 64 raw f64 values within a
/// relative 1e-9 (honest runs differ by ≈ 1e-15), its printed total not compared. `tamper`:
/// the provider's worker fabricates its outputs (DEMO_TAMPER).
fn reduction_spec(image: Option<&str>, gpus: u32, tamper: bool) -> Vec<u8> {
    let mut env = serde_json::Map::new();
    if tamper {
        env.insert(exec::TAMPER_ENV.into(), "1".into());
    }
    let mut spec = serde_json::json!({
        "version": 1,
        "kind": if image.is_some() { "container" } else { "process" },
        "command": ["sh", "-c", FLOAT_REDUCTION],
        "env": env,
        "outputs": "/out",
        "gpus": gpus,
        "min_vram_gib": 0,
        "time_limit_secs": 120,
        "deterministic": false,
        "verify": {
            "mode": "tolerance",
            "rtol": 1e-9,
            "atol": 0.0,
            "exclude": ["total.txt"],
            "raw": [{"pattern": "bins.f64", "dtype": "f64", "shape": [64]}]
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the demo's float reduction as a process job would (`sh -c`, CINDER_OUTPUT_DIR).
    fn run_reduction(out: &std::path::Path) {
        std::fs::create_dir_all(out).unwrap();
        let status = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(FLOAT_REDUCTION)
            .env("CINDER_OUTPUT_DIR", out)
            .status()
            .unwrap();
        assert!(status.success(), "the reduction job failed: {status}");
    }

    /// The CPU demo's tolerance job shows what it claims: two honest runs differ in their
    /// bytes (the summation order is drawn per run) and agree under the job's own rule, and a
    /// cheater's fabricated outputs do not.
    #[test]
    fn the_float_reduction_differs_run_to_run_within_its_rule_and_a_cheat_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        run_reduction(&a);
        run_reduction(&b);
        let (ba, bb) = (
            std::fs::read(a.join("bins.f64")).unwrap(),
            std::fs::read(b.join("bins.f64")).unwrap(),
        );
        assert_eq!((ba.len(), bb.len()), (512, 512));
        assert_ne!(ba, bb, "two runs are not bit-identical");
        let first = f64::from_le_bytes(ba[..8].try_into().unwrap());
        // Bin 0 is the sum of the 4096 values (×1): 176 454 113 358.118…
        assert!((first - 176_454_113_358.118).abs() < 1e-2, "{first}");
        let spec = cinder_runner::spec::JobSpec::parse(&reduction_spec(None, 0, false)).unwrap();
        let rule = spec.verify_rule();
        let compare = |x: &std::path::Path, y: &std::path::Path| {
            cinder_runner::compare::compare_dirs(x, y, &rule.tolerance(), &rule.exclude, &rule.raw)
        };
        assert!(compare(&a, &b).unwrap().matched, "honest runs agree");
        exec::tamper_outputs(&b).unwrap();
        assert!(
            !compare(&a, &b).map(|v| v.matched).unwrap_or(false),
            "fabricated outputs do not"
        );
    }
}
