//! `cinder-worker-bench`: the worker's own cost, measured on a real local chain (not a test).
//!
//! Starts the local validator with the SBF program in this process, and `cinder worker` (the
//! process runtime) as a separate process, as a provider runs it; posts `JOBS` jobs one at a
//! time whose own run is a few milliseconds. Every figure comes from the chain: the landing
//! slots and block times of each job's post, claim and submit transactions (getTransaction,
//! found with getSignaturesForAddress on the job), told apart by the events they emitted:
//! - claim latency: post slot → claim slot;
//! - claim → submit: claim slot → submit slot, and the same minus the job's own run time (from
//!   the worker's stored manifest) converted into slots at the measured slot time;
//! - the slot time itself: block-time span / slot span over the whole run.
//!
//! Writes the "## The worker" section of BENCHMARKS.md (`--write`), or prints it.

use anchor_lang::prelude::Pubkey;
use cinder::{
    events::{JobClaimed, JobPosted, ResultSubmitted},
    state::{Bps, Job, JobState, MarketParams},
};
use cinder_client::{
    ix,
    rpc::{Chain, SendConfig},
    token,
};
use cinder_runner::results::ResultStore;
use cinder_worker::{
    cli::{self, Ctx},
    localnet::{self, LocalnetArgs},
};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const JOBS: usize = 50;

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
    // The worker runs as its own process, as a provider runs it: `cinder worker --config`.
    let data_dir = dir.path().join("worker");
    std::fs::create_dir_all(&data_dir)?;
    let config = dir.path().join("worker.toml");
    std::fs::write(
        &config,
        format!(
            "rpc_url = \"{}\"\nws_url = \"{}\"\nkeypair = \"{}\"\ndata_dir = \"{}\"\nmarkets = [{id}]\n\
endpoint = \"http://127.0.0.1:{port}\"\nlisten = \"127.0.0.1:{port}\"\nruntime = \"process\"\ncpu_slots = 1\n\
keeper = false\nfetch_internal_networks = [\"127.0.0.0/8\"]\n[process_allow]\nsh = \"/bin/sh\"\n",
            st.rpc_url,
            st.ws_url,
            key.display(),
            data_dir.display()
        ),
    )?;
    let exe = std::env::current_exe()?.with_file_name("cinder");
    anyhow::ensure!(
        exe.is_file(),
        "{} is not built: cargo build -p cinder-worker --bin cinder",
        exe.display()
    );
    let mut worker = Command::new(&exe)
        .args(["worker", "--config"])
        .arg(&config)
        .env("CINDER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("worker.log"))?)
        .spawn()?;
    // Ready when its results server answers (it subscribes before it listens).
    let ready = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            Instant::now() < ready,
            "the worker did not start within 60 s"
        );
        anyhow::ensure!(worker.try_wait()?.is_none(), "the worker exited at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
        wait(&chain, &job, |j| {
            j.map(|j| j.state != JobState::Open && j.state != JobState::Running)
                .unwrap_or(true)
        })
        .await?;
        let landed = landings(&chain, &job).await?;
        let store = ResultStore::open(data_dir.join("results"))?;
        let manifest = store
            .get(&job.to_string())?
            .ok_or_else(|| anyhow::anyhow!("no stored result for {job}"))?;
        let run_ms = manifest
            .finished_unix_ms
            .saturating_sub(manifest.started_unix_ms);
        eprintln!(
            "[worker-bench] job {i}: post slot {}, claim +{} slots, submit +{} slots, run {run_ms} ms",
            landed.post.0,
            landed.claim.0 - landed.post.0,
            landed.submit.0 - landed.claim.0
        );
        rows.push((landed, run_ms));
    }
    worker.kill()?;
    worker.wait()?;
    let Running { net, .. } = running;
    tokio::task::spawn_blocking(move || net.shutdown()).await?;

    // The slot time over the whole run, from block times (whole seconds) of its first post
    // and last submit.
    let (first, last) = (rows[0].0.post, rows[rows.len() - 1].0.submit);
    let slot_ms = (last.1 - first.1) as f64 * 1e3 / (last.0 - first.0) as f64;
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let col = |f: &dyn Fn(&(Landings, u64)) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let claim = col(&|(l, _)| (l.claim.0 - l.post.0) as f64);
    let to_submit = col(&|(l, _)| (l.submit.0 - l.claim.0) as f64);
    let run = col(&|(_, r)| *r as f64);
    let over = col(&|(l, r)| (l.submit.0 - l.claim.0) as f64 - *r as f64 / slot_ms);
    let section = format!(
        "## The worker (`cargo run -p cinder-worker --bin cinder-worker-bench -- --write`)\n\n\
Measured on the local validator (Agave 4.2 test validator in the bench's process, debug build) with \
`cinder worker` as its own process (process runtime) and {JOBS} jobs posted one at a time, each \
copying a 5 kB input (its own run a few ms). Every figure is from the chain: the landing slot of each \
job's post, claim and submit transaction (getTransaction; found with getSignaturesForAddress on the \
job and told apart by their events). **Claim latency**: post slot → claim slot (the worker sees the \
job on its websocket subscription, checks its spec, simulates and sends the claim). **Claim → \
submit**: claim slot → submit slot, which holds the input fetch and hash check, the job's run, \
output hashing, the crash-safe store and the submit transaction (simulated, sent, confirmed). \
**Worker overhead**: claim → submit minus the job's own run (from the worker's stored manifest) \
converted to slots. Slot time measured over the run: {slot_ms:.0} ms (block times are whole \
seconds, so this is ± 1 s over the run's span). A shared 2-core machine: indicative, not a budget.\n\n\
| per job, in slots | median | max |\n|---|---:|---:|\n\
| claim latency (post → claim) | {:.0} | {:.0} |\n\
| claim → submit | {:.0} | {:.0} |\n\
| worker overhead (claim → submit minus the run) | {:.1} | {:.1} |\n\
| job's own run (ms) | {:.0} | {:.0} |\n",
        med(claim.clone()), max(&claim), med(to_submit.clone()), max(&to_submit),
        med(over.clone()), max(&over), med(run.clone()), max(&run)
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

/// Where (slot, block time in s) each of a job's transactions landed.
struct Landings {
    post: (u64, i64),
    claim: (u64, i64),
    submit: (u64, i64),
}

/// The job's post, claim and submit landings, from its signatures and their events.
async fn landings(chain: &Chain, job: &Pubkey) -> anyhow::Result<Landings> {
    let (mut post, mut claim, mut submit) = (None, None, None);
    for (sig, _, ok) in chain.signatures_for(job, 20).await? {
        if !ok {
            continue;
        }
        let l = chain
            .landed_listed(&sig)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{sig} listed but not found"))?;
        let at = Some((l.slot, l.block_time.unwrap_or_default()));
        if !l.events_of::<JobPosted>().is_empty() {
            post = at;
        } else if !l.events_of::<JobClaimed>().is_empty() {
            claim = at;
        } else if !l.events_of::<ResultSubmitted>().is_empty() {
            submit = at;
        }
    }
    let missing = |what| anyhow::anyhow!("no {what} transaction found for {job}");
    Ok(Landings {
        post: post.ok_or_else(|| missing("post"))?,
        claim: claim.ok_or_else(|| missing("claim"))?,
        submit: submit.ok_or_else(|| missing("submit"))?,
    })
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
