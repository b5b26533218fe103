//! The CLI of clients, providers and keepers: `cinder job …`, `cinder provider …`,
//! `cinder keeper`, `cinder buy`, `cinder gpus`.

use crate::{
    cranks::Keeper,
    daemon::unix_now,
    market::{self, MarketInfo},
};
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use cinder::{
    constants::DAY_SECS,
    events::{JobCancelled, JobPosted, JobSettled, ResultSubmitted},
    instructions::{PostJobArgs, ProviderInfo},
    state::{Auction, Config, Job, JobState, Provider, SampleStatus, StakePool, StakePosition},
};
use cinder_client::{
    accounts, ix,
    rpc::{Chain, Sent},
    token,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};

/// What every command needs: the cluster, the signer, and how to print.
pub struct Ctx {
    pub chain: Chain,
    pub me: Keypair,
    pub json: bool,
    /// Print nothing (the demo prints its own lines).
    pub quiet: bool,
}

impl Ctx {
    pub fn out(&self, human: impl AsRef<str>, machine: serde_json::Value) {
        if self.quiet {
            return;
        }
        if self.json {
            println!("{machine}");
        } else {
            println!("{}", human.as_ref());
        }
    }

    async fn config(&self) -> anyhow::Result<Config> {
        self.chain
            .zero_copy::<Config>(&ix::config_pda())
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "no cinder config on {}: bootstrap the cluster first",
                    self.chain.url()
                )
            })
    }

    async fn protocol(&self) -> anyhow::Result<(ix::Protocol, u8)> {
        let cfg = self.config().await?;
        let (program, decimals) = token::mint_info(&self.chain, &cfg.protocol_mint)
            .await?
            .ok_or_else(|| anyhow!("protocol mint {} missing", cfg.protocol_mint))?;
        Ok((
            ix::Protocol {
                mint: cfg.protocol_mint,
                token_program: program,
            },
            decimals,
        ))
    }

    async fn market(&self, id: u64) -> anyhow::Result<MarketInfo> {
        MarketInfo::load(&self.chain, id)
            .await?
            .ok_or_else(|| anyhow!("market {id} does not exist on {}", self.chain.url()))
    }

    async fn job(&self, key: &Pubkey) -> anyhow::Result<Option<Job>> {
        Ok(self.chain.zero_copy::<Job>(key).await?)
    }

    async fn open_job(&self, key: &Pubkey) -> anyhow::Result<(Job, MarketInfo)> {
        let job = self.job(key).await?.ok_or_else(|| {
            anyhow!("job {key} is not on chain (never posted, or already closed)")
        })?;
        let m = self.market_by_key(&job.market).await?;
        Ok((job, m))
    }

    async fn market_by_key(&self, key: &Pubkey) -> anyhow::Result<MarketInfo> {
        let market = self
            .chain
            .zero_copy::<cinder::state::Market>(key)
            .await?
            .ok_or_else(|| anyhow!("market {key} missing"))?;
        Ok(MarketInfo {
            id: market.market_id,
            key: *key,
            market,
        })
    }

    fn sent(&self, what: &str, s: &Sent) {
        self.out(
            format!("{what}: {} (slot {}, {} CU)", s.signature, s.slot, s.compute_units),
            json!({"action": what, "signature": s.signature.to_string(), "slot": s.slot, "compute_units": s.compute_units}),
        );
    }
}

/// "1.5" of a mint with 6 decimals = 1 500 000 base units; exact, no floating point.
pub fn parse_amount(text: &str, decimals: u8) -> anyhow::Result<u64> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
    {
        bail!("{text:?} is not an amount (digits with an optional decimal point)");
    }
    if frac.len() > decimals as usize {
        bail!("{text:?} has more than {decimals} decimals");
    }
    let scale = 10u128.pow(decimals as u32);
    let w: u128 = if whole.is_empty() { 0 } else { whole.parse()? };
    let f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>()? * 10u128.pow((decimals as usize - frac.len()) as u32)
    };
    u64::try_from(
        w.checked_mul(scale)
            .and_then(|v| v.checked_add(f))
            .ok_or_else(|| anyhow!("{text:?} overflows"))?,
    )
    .map_err(|_| anyhow!("{text:?} is more than a u64 of base units"))
}

/// Base units as a decimal amount ("1500000" with 6 decimals = "1.5").
pub fn format_amount(v: u64, decimals: u8) -> String {
    let scale = 10u64.pow(decimals as u32);
    let frac = v % scale;
    if frac == 0 || decimals == 0 {
        return (v / scale).to_string();
    }
    let f = format!("{frac:0width$}", width = decimals as usize);
    format!("{}.{}", v / scale, f.trim_end_matches('0'))
}

pub fn state_name(s: JobState) -> &'static str {
    match s {
        JobState::Open => "open",
        JobState::Running => "running",
        JobState::Submitted => "submitted",
        JobState::Verifying => "verifying",
        JobState::Verified => "verified",
        JobState::Disputed => "disputed",
        JobState::Refunded => "refunded",
        JobState::Escalated => "escalated",
        _ => "unknown",
    }
}

pub fn sample_name(s: SampleStatus) -> &'static str {
    match s {
        SampleStatus::Unrevealed => "unrevealed",
        SampleStatus::NotSampled => "not sampled",
        SampleStatus::Sampled => "sampled",
        _ => "unknown",
    }
}

fn pubkey(s: &str) -> anyhow::Result<Pubkey> {
    s.parse().map_err(|_| anyhow!("{s:?} is not a public key"))
}

// --- jobs --------------------------------------------------------------------------------------

pub struct PostArgs {
    pub market: u64,
    pub spec: PathBuf,
    pub spec_uri: String,
    pub price: String,
    pub duration_secs: u32,
    pub provider: Option<String>,
    pub open_for_secs: Option<i64>,
    pub nonce: Option<u64>,
    pub check_uri: bool,
}

/// sha256 of the spec's exact bytes, after checking (optionally) that the URI serves them.
pub async fn spec_hash(spec: &Path, uri: &str, check: bool) -> anyhow::Result<[u8; 32]> {
    let bytes = std::fs::read(spec).with_context(|| format!("reading {}", spec.display()))?;
    // The workers' own rules: a spec they would all refuse is never posted (and paid for).
    cinder_runner::spec::JobSpec::parse(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a job spec every worker accepts: {e}; fix it before posting",
            spec.display()
        )
    })?;
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    if check {
        let served = fetch(uri)
            .await
            .with_context(|| format!("checking that {uri} serves the spec"))?;
        if served != bytes {
            bail!("{uri} serves different bytes than {} (sha256 {} vs {}): publish the exact file, or pass --no-check", spec.display(), hex::encode(Sha256::digest(&served)), hex::encode(hash));
        }
    }
    Ok(hash)
}

/// The on-chain `verify_mode` of a spec: its `verify.mode` (exact unless it says otherwise).
/// Providers' workers refuse a job whose on-chain mode differs from its spec's.
pub fn chain_verify_mode(spec: &[u8]) -> anyhow::Result<u8> {
    use cinder::state::verify_mode;
    let v: serde_json::Value = serde_json::from_slice(spec)?;
    match v["verify"]["mode"].as_str() {
        None | Some("exact") => Ok(verify_mode::EXACT),
        Some("tolerance") => Ok(verify_mode::TOLERANCE),
        Some("none") => Ok(verify_mode::NONE),
        Some(other) => bail!(
            "the spec's verify mode {other:?} is not one of \"exact\", \"tolerance\", \"none\""
        ),
    }
}

async fn fetch(uri: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = uri.strip_prefix("file://") {
        return Ok(std::fs::read(path)?);
    }
    let r = reqwest::get(uri).await?.error_for_status()?;
    Ok(r.bytes().await?.to_vec())
}

pub async fn job_post(ctx: &Ctx, a: PostArgs) -> anyhow::Result<Pubkey> {
    let m = ctx.market(a.market).await?;
    let hash = spec_hash(&a.spec, &a.spec_uri, a.check_uri).await?;
    let (_, decimals) = token::mint_info(&ctx.chain, &m.market.payment_mint)
        .await?
        .ok_or_else(|| anyhow!("payment mint missing"))?;
    let price = parse_amount(&a.price, decimals)?;
    let nonce = a.nonce.unwrap_or_else(rand::random);
    let client = ctx.me.pubkey();
    let (job, job_bump) = ix::job_pda(&m.key, &client, nonce);
    let (vault, vault_bump) = ix::vault_pda(&job);
    let keys = ix::JobKeys {
        job,
        vault,
        market: m.key,
        client,
        mint: m.market.payment_mint,
        token_program: m.market.payment_token_program,
    };
    let args = PostJobArgs {
        nonce,
        job_bump,
        vault_bump,
        spec_hash: hash,
        spec_uri: a.spec_uri.clone(),
        price_per_sec: price,
        max_duration_secs: a.duration_secs,
        assigned_provider: a.provider.as_deref().map(pubkey).transpose()?,
        open_until: a.open_for_secs.map(|s| unix_now() + s).unwrap_or(0),
        verify_mode: chain_verify_mode(&std::fs::read(&a.spec)?)?,
    };
    let client_token = token::ata(&client, &keys.mint, &keys.token_program);
    let sent = ctx
        .chain
        .send(&[ix::post_job(&keys, &client_token, args)], &ctx.me, &[])
        .await?;
    ctx.out(
        format!(
            "posted job {job} in market {} ({} per second, up to {} s, escrow sig {})",
            a.market,
            format_amount(price, decimals),
            a.duration_secs,
            sent.signature
        ),
        json!({"job": job.to_string(), "market": a.market, "nonce": nonce, "signature": sent.signature.to_string(), "compute_units": sent.compute_units}),
    );
    Ok(job)
}

pub async fn job_status(ctx: &Ctx, job: &str) -> anyhow::Result<()> {
    let key = pubkey(job)?;
    match ctx.job(&key).await? {
        Some(j) => {
            let sampled = if j.verify_mode == cinder::state::verify_mode::NONE {
                "unverified (verify mode none: never re-executed, no verification fee)"
            } else {
                sample_name(j.sample_status)
            };
            // A tolerance job's match is the verifier's word: the client may challenge it.
            let challenge = j.match_challenge_ends();
            let challenge_line = challenge.map_or(String::new(), |ends| {
                format!("\n  challenge  the verifier's match may be challenged until unix time {ends}: `cinder job dispute {key}`")
            });
            ctx.out(
                format!(
                    "job {key}\n  state      {}\n  market     {}\n  client     {}\n  provider   {}\n  price/s    {}\n  max secs   {}\n  billed     {}\n  sample     {}\n  spec       {}{challenge_line}",
                    state_name(j.state), j.market, j.client,
                    if j.provider == Pubkey::default() { "-".to_string() } else { j.provider.to_string() },
                    j.price_per_sec, j.max_duration_secs, j.billed_secs, sampled, accounts::spec_uri(&j)
                ),
                json!({
                    "job": key.to_string(), "state": state_name(j.state), "market": j.market.to_string(),
                    "client": j.client.to_string(), "provider": j.provider.to_string(),
                    "price_per_sec": j.price_per_sec, "max_duration_secs": j.max_duration_secs,
                    "billed_secs": j.billed_secs, "sample": sampled, "verifier": j.verifier.to_string(),
                    "submitted_at": j.submitted_at, "deadline": j.deadline,
                    "match_challenge_ends": challenge,
                }),
            );
        }
        None => {
            let outcome = closed_outcome(ctx, &key).await?;
            ctx.out(
                format!("job {key}: {}", outcome.0),
                json!({"job": key.to_string(), "state": outcome.1, "detail": outcome.2}),
            );
        }
    }
    Ok(())
}

/// How a closed job ended, from its transactions' events.
async fn closed_outcome(
    ctx: &Ctx,
    key: &Pubkey,
) -> anyhow::Result<(String, &'static str, serde_json::Value)> {
    for (sig, _, ok) in ctx.chain.signatures_for(key, 50).await? {
        if !ok {
            continue;
        }
        let Some(landed) = ctx.chain.landed_listed(&sig).await? else {
            continue;
        };
        if let Some(s) = landed
            .events_of::<JobSettled>()
            .into_iter()
            .find(|e| e.job == *key)
        {
            return Ok((
                format!("settled: provider {} got {}, protocol fee {}, verification fee {}, refund {} (billed {} s)", s.provider, s.provider_amount, s.protocol_fee, s.verification_fee, s.refund, s.billed_secs),
                "settled",
                json!({"provider": s.provider.to_string(), "provider_amount": s.provider_amount, "protocol_fee": s.protocol_fee, "verification_fee": s.verification_fee, "refund": s.refund, "billed_secs": s.billed_secs, "accepted": s.accepted, "signature": sig.to_string()}),
            ));
        }
        if let Some(c) = landed
            .events_of::<JobCancelled>()
            .into_iter()
            .find(|e| e.job == *key)
        {
            return Ok((
                format!("cancelled by {}: refund {}", c.by, c.refund),
                "cancelled",
                json!({"refund": c.refund, "signature": sig.to_string()}),
            ));
        }
    }
    Ok(("not on chain".into(), "unknown", json!(null)))
}

pub async fn job_cancel(ctx: &Ctx, job: &str) -> anyhow::Result<()> {
    let key = pubkey(job)?;
    let (j, m) = ctx.open_job(&key).await?;
    let keys = market::job_keys(&key, &j, &m.market);
    let client_token = token::ata(&j.client, &keys.mint, &keys.token_program);
    let ixs = [
        token::create_ata_ix(&ctx.me.pubkey(), &j.client, &keys.mint, &keys.token_program),
        ix::cancel_job(&keys, &ctx.me.pubkey(), &client_token),
    ];
    let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
    ctx.sent("cancelled", &s);
    Ok(())
}

pub async fn job_extend(ctx: &Ctx, job: &str, secs: u32) -> anyhow::Result<()> {
    let key = pubkey(job)?;
    let (j, m) = ctx.open_job(&key).await?;
    let keys = market::job_keys(&key, &j, &m.market);
    let client_token = token::ata(&j.client, &keys.mint, &keys.token_program);
    let s = ctx
        .chain
        .send(&[ix::extend_job(&keys, &client_token, secs)], &ctx.me, &[])
        .await?;
    ctx.sent("extended", &s);
    Ok(())
}

pub async fn job_accept(ctx: &Ctx, job: &str) -> anyhow::Result<()> {
    let key = pubkey(job)?;
    let (j, m) = ctx.open_job(&key).await?;
    let keys = market::job_keys(&key, &j, &m.market);
    let payees = market::payees(&j, &m.market);
    let me = ctx.me.pubkey();
    let ixs = [
        token::create_ata_ix(&me, &j.provider, &keys.mint, &keys.token_program),
        ix::accept_result(&keys, &payees),
    ];
    let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
    ctx.sent("accepted and settled", &s);
    Ok(())
}

pub async fn job_dispute(ctx: &Ctx, job: &str) -> anyhow::Result<()> {
    let key = pubkey(job)?;
    let (j, m) = ctx.open_job(&key).await?;
    let keys = market::job_keys(&key, &j, &m.market);
    let client_token = token::ata(&j.client, &keys.mint, &keys.token_program);
    let s = ctx
        .chain
        .send(&[ix::dispute_job(&keys, &client_token)], &ctx.me, &[])
        .await?;
    ctx.sent(
        if j.state == JobState::Verified {
            "challenged the verifier's match (bond posted; a second verifier re-runs the job)"
        } else {
            "disputed (bond posted; the job will be re-executed)"
        },
        &s,
    );
    Ok(())
}

/// The provider, result commitment and result URI of a job, from its account or, once it
/// closed, from its `ResultSubmitted` event.
async fn result_ref(ctx: &Ctx, key: &Pubkey) -> anyhow::Result<(Pubkey, [u8; 32], Pubkey)> {
    if let Some(j) = ctx.job(key).await? {
        if j.submitted_at == 0 {
            bail!(
                "job {key} has no result yet (state {})",
                state_name(j.state)
            );
        }
        return Ok((j.provider, j.result_commitment, j.client));
    }
    let (mut result, mut client) = (None, None);
    for (sig, _, ok) in ctx.chain.signatures_for(key, 100).await? {
        if !ok {
            continue;
        }
        let Some(landed) = ctx.chain.landed_listed(&sig).await? else {
            continue;
        };
        if let Some(r) = landed
            .events_of::<ResultSubmitted>()
            .into_iter()
            .find(|e| e.job == *key)
        {
            result = Some((r.provider, r.result_commitment));
        }
        if let Some(p) = landed
            .events_of::<JobPosted>()
            .into_iter()
            .find(|e| e.job == *key)
        {
            client = Some(p.client);
        }
    }
    if let (Some((provider, commitment)), Some(client)) = (result, client) {
        return Ok((provider, commitment, client));
    }
    bail!("job {key} is closed and its history has no ResultSubmitted and JobPosted events")
}

/// Downloads a job's results from its provider with a request signed by the client key,
/// and checks them against the on-chain commitment.
pub async fn job_results(ctx: &Ctx, job: &str, out: &Path) -> anyhow::Result<[u8; 32]> {
    let key = pubkey(job)?;
    let (provider, commitment, client) = result_ref(ctx, &key).await?;
    if client != ctx.me.pubkey() {
        bail!("job {key} belongs to client {client}; run this with that key");
    }
    let endpoint = market::provider_endpoint(&ctx.chain, &provider)
        .await
        .map_err(|e| anyhow!(e))?;
    let hash = match market::fetch_committed_outputs(
        &endpoint,
        &key,
        &provider,
        &commitment,
        &ctx.me,
        out,
    )
    .await
    {
        Ok(hash) => hash,
        Err(market::FetchError::Unavailable(e)) => bail!("downloading from {endpoint}: {e}"),
        Err(market::FetchError::NotCommitted(hash)) => bail!("the results from {endpoint} (result hash {}) do NOT open the on-chain commitment: do not trust them; dispute the job within its window", hex::encode(hash)),
    };
    ctx.out(
        format!("results of {key} in {} (result hash {}, matches the on-chain commitment)", out.display(), hex::encode(hash)),
        json!({"job": key.to_string(), "dir": out.display().to_string(), "result_hash": hex::encode(hash), "verified": true}),
    );
    Ok(hash)
}

pub async fn job_list(ctx: &Ctx, market_id: Option<u64>, mine: bool) -> anyhow::Result<()> {
    let mut filters = Vec::new();
    if let Some(id) = market_id {
        filters.push((Job::MARKET_OFFSET, ix::market_pda(id).to_bytes().to_vec()));
    }
    if mine {
        filters.push((Job::CLIENT_OFFSET, ctx.me.pubkey().to_bytes().to_vec()));
    }
    let mut jobs = ctx.chain.program_accounts::<Job>(filters).await?;
    jobs.sort_by_key(|(_, j)| j.posted_at);
    let rows: Vec<_> = jobs
        .iter()
        .map(|(k, j)| json!({"job": k.to_string(), "state": state_name(j.state), "price_per_sec": j.price_per_sec, "client": j.client.to_string(), "provider": j.provider.to_string()}))
        .collect();
    let human = jobs
        .iter()
        .map(|(k, j)| {
            format!(
                "{k}  {:<10} {:>10}/s  client {}",
                state_name(j.state),
                j.price_per_sec,
                j.client
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    ctx.out(
        if human.is_empty() {
            "no jobs".into()
        } else {
            human
        },
        json!(rows),
    );
    Ok(())
}

// --- providers -------------------------------------------------------------------------------

pub struct RegisterArgs {
    pub market: u64,
    pub endpoint: String,
    pub gpu_model: Option<String>,
    pub vram_gib: Option<u16>,
    pub gpu_count: Option<u8>,
    pub cpu_slots: u8,
}

/// Registers (or updates) this key as a provider for a market's GPU class, with the GPUs
/// NVML finds (or the CPU class when the market has no GPUs).
pub async fn provider_register(ctx: &Ctx, a: RegisterArgs) -> anyhow::Result<()> {
    let m = ctx.market(a.market).await?;
    let class = m.gpu_model();
    // With NVML (or a CPU market): exactly what the worker registers at start.
    let info = match cinder_runner::gpu::inventory() {
        _ if market::is_cpu_model(&class) => {
            crate::exec::provider_info_for(&m, &[], None, a.cpu_slots as usize, &a.endpoint)?
        }
        Ok(gpus) => crate::exec::provider_info_for(&m, &gpus, None, 0, &a.endpoint)?,
        // No NVML here (registering from another machine): the GPUs given on the command line.
        Err(e) => match (&a.gpu_model, a.vram_gib, a.gpu_count) {
            (Some(model), Some(v), Some(c)) => {
                eprintln!("warning: {e}; registering the GPUs given on the command line");
                if *model != class {
                    bail!("--gpu-model {model:?} but market {} asks for {class:?}", a.market);
                }
                let inv: [u8; 32] = Sha256::digest(format!("{model} {v} {c}")).into();
                ProviderInfo {
                    gpu_model: accounts::fixed(model)
                        .ok_or_else(|| anyhow!("GPU model {model:?} is not 1-32 ASCII characters"))?,
                    vram_gib: v,
                    gpu_count: c,
                    inventory_hash: inv,
                    endpoint: a.endpoint.clone(),
                }
            }
            _ => bail!("{e}\nmarket {} ({class}) needs GPUs; pass --gpu-model/--vram-gib/--gpu-count only if you know what you run", a.market),
        },
    };
    let me = ctx.me.pubkey();
    let exists = ctx
        .chain
        .account_data(&ix::provider_pda(&me))
        .await?
        .is_some();
    let ixs = if exists {
        vec![ix::update_provider(&me, info, true)]
    } else {
        vec![ix::register_provider(&me, info)]
    };
    let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
    ctx.sent(
        if exists {
            "provider updated"
        } else {
            "provider registered"
        },
        &s,
    );
    Ok(())
}

/// Points the registration at a new result endpoint, keeping the declared GPUs.
pub async fn provider_set_endpoint(ctx: &Ctx, endpoint: &str) -> anyhow::Result<()> {
    let me = ctx.me.pubkey();
    let p: Provider = ctx
        .chain
        .zero_copy(&ix::provider_pda(&me))
        .await?
        .ok_or_else(|| anyhow!("{me} is not registered: run `cinder provider register` first"))?;
    let info = ProviderInfo {
        gpu_model: p.gpu_model,
        vram_gib: p.vram_gib,
        gpu_count: p.gpu_count,
        inventory_hash: p.inventory_hash,
        endpoint: endpoint.to_string(),
    };
    let s = ctx
        .chain
        .send(&[ix::update_provider(&me, info, true)], &ctx.me, &[])
        .await?;
    ctx.sent("endpoint updated", &s);
    Ok(())
}

pub async fn provider_stake(ctx: &Ctx, amount: &str, lock_days: u32) -> anyhow::Result<()> {
    let (p, decimals) = ctx.protocol().await?;
    let amount = parse_amount(amount, decimals)?;
    let me = ctx.me.pubkey();
    let from = token::ata(&me, &p.mint, &p.token_program);
    let lock = lock_days
        .checked_mul(DAY_SECS)
        .ok_or_else(|| anyhow!("lock too long"))?;
    let s = ctx
        .chain
        .send(&[ix::stake(&me, &from, &p, amount, lock)], &ctx.me, &[])
        .await?;
    let weight = cinder::math::weight_for(amount, lock).unwrap_or(0);
    ctx.sent(
        &format!(
            "staked {} for {lock_days} days (weight {})",
            format_amount(amount, decimals),
            format_amount(weight, decimals)
        ),
        &s,
    );
    Ok(())
}

pub async fn provider_unstake(ctx: &Ctx, amount: &str) -> anyhow::Result<()> {
    let (_, decimals) = ctx.protocol().await?;
    let amount = parse_amount(amount, decimals)?;
    let s = ctx
        .chain
        .send(
            &[ix::request_unstake(&ctx.me.pubkey(), amount)],
            &ctx.me,
            &[],
        )
        .await?;
    ctx.sent("unbonding started", &s);
    Ok(())
}

pub async fn provider_restake(ctx: &Ctx) -> anyhow::Result<()> {
    let s = ctx
        .chain
        .send(&[ix::restake(&ctx.me.pubkey())], &ctx.me, &[])
        .await?;
    ctx.sent("restaked", &s);
    Ok(())
}

pub async fn provider_withdraw(ctx: &Ctx) -> anyhow::Result<()> {
    let (p, _) = ctx.protocol().await?;
    let me = ctx.me.pubkey();
    let to = token::ata(&me, &p.mint, &p.token_program);
    let ixs = [
        token::create_ata_ix(&me, &me, &p.mint, &p.token_program),
        ix::withdraw_stake(&me, &to, &p),
    ];
    let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
    ctx.sent("withdrawn", &s);
    Ok(())
}

pub async fn provider_rewards(ctx: &Ctx, claim: bool) -> anyhow::Result<()> {
    let (p, decimals) = ctx.protocol().await?;
    let me = ctx.me.pubkey();
    let pos: StakePosition = ctx
        .chain
        .zero_copy(&ix::stake_pda(&me))
        .await?
        .ok_or_else(|| anyhow!("{me} has no stake position: stake first"))?;
    let pool: StakePool = ctx
        .chain
        .zero_copy(&ix::stake_pool_pda())
        .await?
        .ok_or_else(|| anyhow!("no staking pool"))?;
    let pending = pos.pending_rewards.saturating_add(
        cinder::math::earned(
            pos.weight,
            pool.acc_reward_per_weight.get(),
            pos.reward_debt.get(),
        )
        .unwrap_or(0),
    );
    ctx.out(
        format!(
            "stake {} (weight {}, unbonding {}, lock {} days), rewards pending {}",
            format_amount(pos.amount, decimals),
            format_amount(pos.weight, decimals),
            format_amount(pos.unbonding, decimals),
            pos.lock_secs / DAY_SECS,
            format_amount(pending, decimals)
        ),
        json!({"amount": pos.amount, "weight": pos.weight, "unbonding": pos.unbonding, "unlock_at": pos.unlock_at, "pending_rewards": pending}),
    );
    if claim {
        let to = token::ata(&me, &p.mint, &p.token_program);
        let ixs = [
            token::create_ata_ix(&me, &me, &p.mint, &p.token_program),
            ix::claim_rewards(&me, &to, &p),
        ];
        let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
        ctx.sent("rewards claimed", &s);
    }
    Ok(())
}

pub async fn provider_status(ctx: &Ctx) -> anyhow::Result<()> {
    let me = ctx.me.pubkey();
    let p: Provider = ctx
        .chain
        .zero_copy(&ix::provider_pda(&me))
        .await?
        .ok_or_else(|| anyhow!("{me} is not registered"))?;
    ctx.out(
        format!(
            "provider {me}\n  class      {} ({} GPUs, {} GiB)\n  endpoint   {}\n  running    {} (stake locked {})\n  done       {}  quit {}  expired {}",
            accounts::fixed_text(&p.gpu_model), p.gpu_count, p.vram_gib, accounts::endpoint(&p),
            p.active_jobs, p.locked_stake, p.jobs_done, p.jobs_quit, p.jobs_expired
        ),
        json!({"owner": me.to_string(), "gpu_model": accounts::fixed_text(&p.gpu_model), "gpu_count": p.gpu_count, "endpoint": accounts::endpoint(&p), "active_jobs": p.active_jobs, "jobs_done": p.jobs_done, "jobs_quit": p.jobs_quit, "jobs_expired": p.jobs_expired}),
    );
    Ok(())
}

// --- keeper and economics ----------------------------------------------------------------------

/// All markets on chain.
pub async fn all_markets(chain: &Chain) -> anyhow::Result<Vec<MarketInfo>> {
    let list = chain
        .program_accounts::<cinder::state::Market>(vec![])
        .await?;
    Ok(list
        .into_iter()
        .map(|(key, market)| MarketInfo {
            id: market.market_id,
            key,
            market,
        })
        .collect())
}

/// `cinder keeper`: settle, expire, reveal and sweep for every job of the markets, and
/// distribute protocol-mint fees; once, or every `interval` until Ctrl-C.
pub async fn keeper(
    ctx: &Ctx,
    markets: Vec<u64>,
    once: bool,
    interval_secs: u64,
) -> anyhow::Result<()> {
    let (protocol, _) = ctx.protocol().await?;
    loop {
        let list = if markets.is_empty() {
            all_markets(&ctx.chain).await?
        } else {
            let mut v = Vec::new();
            for id in &markets {
                v.push(ctx.market(*id).await?);
            }
            v
        };
        let k = Keeper {
            chain: &ctx.chain,
            me: &ctx.me,
            protocol,
        };
        let done = k.pass(&list, None).await;
        for m in &list {
            if let Ok(Some(s)) = k.sweep(m).await {
                ctx.sent(&format!("swept fees of market {}", m.id), &s);
            }
        }
        if let Ok(s) = distribute(ctx, &protocol).await {
            ctx.sent("distributed protocol-token fees", &s);
        }
        for (job, crank) in &done {
            ctx.out(
                format!("{}: {job}", crank.name()),
                json!({"crank": crank.name(), "job": job.to_string()}),
            );
        }
        if once {
            return Ok(());
        }
        tokio::select! {
            _ = crate::shutdown_signal() => return Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_secs(interval_secs.max(1))) => {}
        }
    }
}

async fn distribute(ctx: &Ctx, p: &ix::Protocol) -> anyhow::Result<Sent> {
    let cfg = ctx.config().await?;
    if ctx.chain.token_balance(&ix::fee_vault_pda(&p.mint)).await? == 0 {
        bail!("nothing to distribute");
    }
    let treasury = token::ata(&cfg.params.treasury, &p.mint, &p.token_program);
    Ok(ctx
        .chain
        .send(&[ix::distribute_fees(&treasury, p)], &ctx.me, &[])
        .await?)
}

/// The auction of a payment mint: its price now and what the vault holds.
pub async fn auction_quote(chain: &Chain, mint: &Pubkey) -> anyhow::Result<(Auction, u64, u64)> {
    let a: Auction = chain
        .borsh(&ix::auction_pda(mint))
        .await?
        .ok_or_else(|| anyhow!("no auction for mint {mint}"))?;
    let now = chain.unix_time().await?;
    let price = a.price_at(now).map_err(|e| anyhow!("price: {e}"))?;
    let vault = chain.token_balance(&a.fee_vault).await?;
    Ok((a, price, vault))
}

/// `cinder buy`: buys a payment mint's fee vault at the current auction price.
pub async fn buy(
    ctx: &Ctx,
    mint: &str,
    max_price: Option<&str>,
    min_out: Option<&str>,
) -> anyhow::Result<Sent> {
    let mint = pubkey(mint)?;
    let (protocol, pdec) = ctx.protocol().await?;
    let (auction, price, vault) = auction_quote(&ctx.chain, &mint).await?;
    let (_, mdec) = token::mint_info(&ctx.chain, &mint)
        .await?
        .ok_or_else(|| anyhow!("mint missing"))?;
    let max_price = match max_price {
        Some(t) => parse_amount(t, pdec)?,
        None => price,
    };
    let min_out = match min_out {
        Some(t) => parse_amount(t, mdec)?,
        None => vault,
    };
    let cfg = ctx.config().await?;
    let me = ctx.me.pubkey();
    let pay = ix::PaymentSide {
        payment_mint: mint,
        payment_token_program: auction.payment_token_program,
    };
    let my_payment = token::ata(&me, &mint, &auction.payment_token_program);
    let my_protocol = token::ata(&me, &protocol.mint, &protocol.token_program);
    let treasury = token::ata(
        &cfg.params.treasury,
        &protocol.mint,
        &protocol.token_program,
    );
    let ixs = [
        token::create_ata_ix(&me, &me, &mint, &auction.payment_token_program),
        ix::buy(
            &me,
            &pay,
            &my_payment,
            &my_protocol,
            &treasury,
            &protocol,
            max_price,
            min_out,
        ),
    ];
    let s = ctx.chain.send(&ixs, &ctx.me, &[]).await?;
    ctx.sent(
        &format!(
            "bought {} of fees for {} protocol tokens",
            format_amount(vault, mdec),
            format_amount(price, pdec)
        ),
        &s,
    );
    Ok(s)
}

pub fn gpus(json_out: bool) -> anyhow::Result<()> {
    match cinder_runner::gpu::inventory() {
        Ok(list) => {
            if json_out {
                let rows: Vec<_> = list
                    .iter()
                    .map(|g| {
                        json!({"index": g.index, "uuid": g.uuid, "name": g.name,
                            "memory_mib": g.memory_mib, "nominal_vram_gib": g.nominal_vram_gib(),
                            "pci_device_id": format!("{:#010x}", g.pci_device_id),
                            "mig_enabled": g.mig_enabled})
                    })
                    .collect();
                println!("{}", serde_json::to_string(&rows)?);
            } else if list.is_empty() {
                println!("NVML found no GPUs");
            } else {
                for g in &list {
                    let mig = if g.mig_enabled { "  MIG on" } else { "" };
                    println!(
                        "{}  {}  {}  {} MiB ({} GiB nominal){mig}",
                        g.index,
                        g.uuid,
                        g.name,
                        g.memory_mib,
                        g.nominal_vram_gib()
                    );
                }
            }
            Ok(())
        }
        Err(e) => bail!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spec_the_workers_would_refuse_is_not_posted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.json");
        let good = br#"{"version": 1, "kind": "process", "command": ["sh", "-c", "true"], "time_limit_secs": 60}"#;
        std::fs::write(&path, good).unwrap();
        let hash = spec_hash(&path, "unused", false).await.unwrap();
        assert_eq!(
            hash,
            <[u8; 32]>::from(Sha256::digest(good)),
            "the exact bytes"
        );
        for (bad, why) in [
            (&br#"{"version": 1, "kind": "process", "command": [], "time_limit_secs": 60}"#[..], "command"),
            (br#"{"version": 1, "kind": "container", "image": "busybox:latest", "command": ["sh"], "time_limit_secs": 60}"#, "pinned"),
            (br#"{"version": 1, "kind": "process", "command": ["sh"], "time_limit_secs": 60, "inputs": [{"uri": "https://x.example/a", "sha256": "00", "path": "a"}]}"#, "sha256"),
            (br#"{"version": 1, "kind": "process", "command": ["sh"], "time_limit_secs": 60, "colour": "red"}"#, "colour"),
            (b"not json", "spec"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = spec_hash(&path, "unused", false).await.unwrap_err().to_string();
            assert!(e.contains("not a job spec every worker accepts") && e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn amounts_are_exact() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount("42", 0).unwrap(), 42);
        assert_eq!(parse_amount(".5", 1).unwrap(), 5);
        assert!(parse_amount("0.0000001", 6).is_err());
        assert!(parse_amount("1e3", 6).is_err());
        assert!(parse_amount("", 6).is_err());
        assert!(parse_amount("18446744073709551616", 0).is_err());
        assert_eq!(parse_amount("18446744073709551615", 0).unwrap(), u64::MAX);
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(1, 6), "0.000001");
        assert_eq!(format_amount(3_000_000, 6), "3");
        for v in [0u64, 1, 999, 1_000_000, 123_456_789, u64::MAX] {
            assert_eq!(parse_amount(&format_amount(v, 9), 9).unwrap(), v);
        }
    }
}
