//! `cinder-worker-bench`: the worker's own cost, measured on a real local chain (not a test).
//!
//! Starts the local validator with the SBF program, one worker (process runtime), and posts
//! jobs one at a time whose own run is a few milliseconds; for each it measures
//! - claim latency: from the post landing (the client's confirmation) to the claim landing, in
//!   milliseconds and in slots (post slot → claim slot);
//! - overhead: claim landed → submit landed, minus the job's own run time (from the stored
//!   manifest): spec/input fetch, hashing, storing and the submit transaction.
//!
//! Writes the "## The worker" section of BENCHMARKS.md (`--write`), or prints it.

use anchor_lang::prelude::Pubkey;
use cinder::state::{Bps, Job, JobState, MarketParams};
use cinder_client::{
    ix,
    rpc::{Chain, SendConfig},
    token,
};
use cinder_worker::{
    cli::{self, Ctx},
    config::{RuntimeKind, WorkerConfig},
    daemon, exec,
    localnet::{self, LocalnetArgs},
};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

const JOBS: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> anyhow::Result<()> {
    let write = std::env::args().any(|a| a == "--write");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir()?;
    eprintln!("[worker-bench] starting the local chain");
    let running = localnet::start(&LocalnetArgs {
        ledger: dir.path().join("ledger"),
        reset: true,
        rpc_port: None,
        program: repo.join("target/deploy/cinder.so"),
        plan: repo.join("migrations/localnet.toml"),
        state_file: None,
    })
    .await?;
    let st = running.state.clone();
    let chain = Chain::new(&st.rpc_url, SendConfig::default());
    let admin = st.admin()?;
    let mint_authority = st.mint_authority()?;
    let usdc: Pubkey = st.mint("usdc").expect("usdc").address.parse()?;

    // An optimistic market (no sampling), so every job settles on the provider's submit.
    let id = 77;
    let mut params = cinder_migrations::market_params(
        &cinder_migrations::Plan::load(&repo.join("migrations/localnet.toml"))?.markets[0],
        &admin.pubkey(),
    )?;
    params.verify_rate_bps = Bps(0);
    create_market(&chain, &admin, id, &usdc, params).await?;

    let client = Keypair::new();
    let provider = Keypair::new();
    let fund: Vec<_> = [&client, &provider]
        .iter()
        .map(|k| {
            anchor_lang::solana_program::system_instruction::transfer(
                &admin.pubkey(),
                &k.pubkey(),
                10_000_000_000,
            )
        })
        .collect();
    chain.send(&fund, &admin, &[]).await?;
    token::mint_to_owner(
        &chain,
        &admin,
        &mint_authority,
        &usdc,
        &client.pubkey(),
        1_000_000_000,
        &token::TOKEN_PROGRAM,
    )
    .await?;
    token::mint_to_owner(
        &chain,
        &admin,
        &mint_authority,
        &st.protocol_mint(),
        &provider.pubkey(),
        5_000_000_000_000,
        &token::TOKEN_PROGRAM,
    )
    .await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let pctx = Ctx {
        chain: Chain::new(&st.rpc_url, SendConfig::default()),
        me: provider.insecure_clone(),
        json: false,
        quiet: true,
    };
    cli::provider_stake(&pctx, "2000", 30).await?;
    cli::provider_register(
        &pctx,
        cli::RegisterArgs {
            market: id,
            endpoint: format!("http://127.0.0.1:{port}"),
            gpu_model: None,
            vram_gib: None,
            gpu_count: None,
            cpu_slots: 1,
        },
    )
    .await?;

    let files = dir.path().join("files");
    std::fs::create_dir_all(&files)?;
    let host = cinder_runner::files::serve_dir(files.clone(), "127.0.0.1:0".parse()?).await?;
    let key = dir.path().join("provider.json");
    solana_keypair::write_keypair_file(&provider, &key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let cfg = WorkerConfig {
        rpc_url: st.rpc_url.clone(),
        ws_url: st.ws_url.clone(),
        keypair: key,
        data_dir: dir.path().join("worker"),
        markets: vec![id],
        endpoint: format!("http://127.0.0.1:{port}"),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        runtime: RuntimeKind::Process,
        process_allow: [("sh".to_string(), PathBuf::from("/bin/sh"))]
            .into_iter()
            .collect(),
        cpu_slots: 1,
        keeper: false,
        ..WorkerConfig::default()
    };
    std::fs::create_dir_all(&cfg.data_dir)?;
    let executor = exec::Executor::new(&cfg).await?;
    let shared = daemon::start(cfg, provider.insecure_clone(), executor).await?;
    exec::serve_results(&shared).await?;
    let store = shared.exec.store().clone();
    let cancel = shared.cancel.clone();
    let worker = tokio::spawn(daemon::run(shared));
    tokio::time::sleep(Duration::from_secs(2)).await; // subscribed

    let cctx = Ctx {
        chain: Chain::new(&st.rpc_url, SendConfig::default()),
        me: client.insecure_clone(),
        json: false,
        quiet: true,
    };
    let input = b"bench".repeat(1000);
    std::fs::write(files.join("in.bin"), &input)?;
    let mut rows = Vec::new();
    for i in 0..JOBS {
        let spec = serde_json::json!({
            "version": 1, "kind": "process",
            "command": ["sh", "-c", "cp \"$CINDER_INPUT_DIR/in.bin\" \"$CINDER_OUTPUT_DIR/out.bin\""],
            "inputs": [{"uri": host.url("in.bin"), "sha256": hex::encode(Sha256::digest(&input)), "path": "in.bin"}],
            "env": {"N": i.to_string()}, "outputs": "/out", "gpus": 0, "time_limit_secs": 60, "deterministic": true
        });
        let name = format!("spec{i}.json");
        std::fs::write(files.join(&name), serde_json::to_vec(&spec)?)?;
        let job = cli::job_post(
            &cctx,
            cli::PostArgs {
                market: id,
                spec: files.join(&name),
                spec_uri: host.url(&name),
                price: "0.001".into(),
                duration_secs: 300,
                provider: None,
                open_for_secs: None,
                nonce: None,
                check_uri: false,
            },
        )
        .await?;
        let posted = Instant::now();
        let post_slot = chain.slot().await?;
        let (claimed, claim_slot) = wait(&chain, &job, |j| {
            j.map(|j| j.state != JobState::Open).unwrap_or(true)
        })
        .await?;
        let (submitted, _) = wait(&chain, &job, |j| {
            j.map(|j| j.state != JobState::Running).unwrap_or(true)
        })
        .await?;
        let manifest = store
            .get(&job.to_string())?
            .ok_or_else(|| anyhow::anyhow!("no stored result"))?;
        let run_ms = manifest
            .finished_unix_ms
            .saturating_sub(manifest.started_unix_ms) as f64;
        let claim_ms = claimed.duration_since(posted).as_secs_f64() * 1e3;
        let to_submit_ms = submitted.duration_since(claimed).as_secs_f64() * 1e3;
        rows.push((
            claim_ms,
            claim_slot.saturating_sub(post_slot),
            run_ms,
            to_submit_ms - run_ms,
        ));
        eprintln!("[worker-bench] job {i}: claim {claim_ms:.0} ms ({} slots), run {run_ms:.0} ms, overhead {:.0} ms", claim_slot.saturating_sub(post_slot), to_submit_ms - run_ms);
    }
    cancel.cancel();
    let _ = worker.await;
    let Running { net, .. } = running;
    tokio::task::spawn_blocking(move || net.shutdown()).await?;

    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let claim: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let slots: Vec<f64> = rows.iter().map(|r| r.1 as f64).collect();
    let run: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let over: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let section = format!(
        "## The worker (`cargo run -p cinder-worker --bin cinder-worker-bench -- --write`)\n\n\
Measured on the local validator (Agave 4.2 test validator, debug build, 400 ms slots) with one worker \
(process runtime) and {JOBS} jobs posted one at a time, each copying a 5 kB input (its own run a few ms). \
Claim latency runs from the post landing to the claim landing (the worker sees the job on its websocket \
subscription, checks its spec, and sends the claim); overhead runs from the claim landing to the submit \
landing, minus the job's own run: input fetch and hash check, output hashing, the crash-safe store, and \
the submit transaction (simulated, then sent and confirmed). Wall-clock figures on a shared 2-core \
machine: indicative, not a budget check.\n\n\
| per job | median | max |\n|---|---:|---:|\n\
| claim latency (ms) | {:.0} | {:.0} |\n\
| claim latency (slots after the post's) | {:.0} | {:.0} |\n\
| job's own run (ms) | {:.0} | {:.0} |\n\
| worker overhead (ms) | {:.0} | {:.0} |\n",
        med(claim.clone()), max(&claim), med(slots.clone()), max(&slots), med(run.clone()), max(&run), med(over.clone()), max(&over)
    );
    if write {
        let path = repo.join("BENCHMARKS.md");
        let doc = std::fs::read_to_string(&path)?;
        let head = "## The worker";
        let doc = match doc.find(head) {
            Some(i) => {
                let rest = &doc[i + head.len()..];
                let tail = rest
                    .find("\n## ")
                    .map(|j| rest[j + 1..].to_string())
                    .unwrap_or_default();
                format!("{}{}", &doc[..i], tail)
            }
            None => doc,
        };
        std::fs::write(&path, format!("{}\n\n{section}", doc.trim_end()))?;
        eprintln!("[worker-bench] wrote {}", path.display());
    }
    print!("{section}");
    Ok(())
}

use cinder_worker::localnet::Running;

async fn create_market(
    chain: &Chain,
    admin: &Keypair,
    id: u64,
    usdc: &Pubkey,
    params: MarketParams,
) -> anyhow::Result<()> {
    let ixs = [ix::create_market(
        &admin.pubkey(),
        id,
        usdc,
        &token::TOKEN_PROGRAM,
        params,
        false,
    )];
    chain.send(&ixs, admin, &[]).await?;
    Ok(())
}

/// Polls the job every 20 ms until `done`; returns when and at which slot.
async fn wait(
    chain: &Chain,
    job: &Pubkey,
    done: impl Fn(Option<&Job>) -> bool,
) -> anyhow::Result<(Instant, u64)> {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let j = chain.zero_copy::<Job>(job).await?;
        if done(j.as_ref()) {
            return Ok((Instant::now(), chain.slot().await?));
        }
        if Instant::now() > end {
            anyhow::bail!("job {job} did not move within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
