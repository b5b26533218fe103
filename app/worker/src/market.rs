//! Finding jobs: `getProgramAccounts` with memcmp filters (market, state) for a full scan, and
//! a websocket `programSubscribe` with the same filters so a new job is seen within a slot of
//! being posted; choosing the best-paying job this worker can take.

use anchor_lang::prelude::Pubkey;
use cinder::state::{Job, JobState, Market, SampleStatus};
use cinder_client::{
    accounts,
    ix::{self, JobKeys, Payees},
    rpc::{Chain, ChainError},
    token,
};
use futures::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
    filter::{Memcmp, RpcFilterType},
};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why a provider's committed outputs could not be taken.
#[derive(Debug)]
pub enum FetchError {
    /// The provider's server refused or did not answer (it may later): its message.
    Unavailable(String),
    /// It served outputs whose result hash does not open the on-chain commitment.
    NotCommitted([u8; 32]),
}

/// The results endpoint a provider registered on chain.
pub async fn provider_endpoint(chain: &Chain, provider: &Pubkey) -> Result<String, String> {
    match chain
        .zero_copy::<cinder::state::Provider>(&ix::provider_pda(provider))
        .await
    {
        Ok(Some(p)) => Ok(accounts::endpoint(&p)),
        Ok(None) => Err(format!("the provider {provider} is not registered")),
        Err(e) => Err(format!("the provider's account is unreadable: {e}")),
    }
}

/// Downloads the outputs of `job` from the provider's `endpoint` into `dest`, the request
/// signed by `signer` (the job's client, or its committed verifier), and checks that they open
/// the provider's on-chain `commitment` (sha256(job ‖ provider ‖ result hash)). Their result
/// hash; outputs that do not open it are removed. Shared by `cinder job results` and the
/// verifier of a `tolerance` job.
pub async fn fetch_committed_outputs(
    endpoint: &str,
    job: &Pubkey,
    provider: &Pubkey,
    commitment: &[u8; 32],
    signer: &solana_keypair::Keypair,
    dest: &std::path::Path,
) -> Result<[u8; 32], FetchError> {
    use solana_signer::Signer;
    let me = signer.insecure_clone();
    let hash = cinder_runner::server::download_results(
        endpoint,
        &job.to_string(),
        &me.pubkey().to_bytes(),
        move |msg| me.sign_message(msg).into(),
        dest,
    )
    .await
    .map_err(|e| FetchError::Unavailable(format!("{e:#}")))?;
    if accounts::result_commitment(job, provider, &hash) != *commitment {
        let _ = std::fs::remove_dir_all(dest);
        return Err(FetchError::NotCommitted(hash));
    }
    Ok(hash)
}

/// Offset of `Job.sample_status` (right after `state`).
pub const SAMPLE_STATUS_OFFSET: usize = Job::STATE_OFFSET + 1;

/// A market this worker serves, as read from chain.
#[derive(Debug, Clone, Copy)]
pub struct MarketInfo {
    pub id: u64,
    pub key: Pubkey,
    pub market: Market,
}

impl MarketInfo {
    pub async fn load(chain: &Chain, id: u64) -> Result<Option<Self>, ChainError> {
        let key = ix::market_pda(id);
        Ok(chain
            .zero_copy::<Market>(&key)
            .await?
            .map(|market| Self { id, key, market }))
    }

    pub fn gpu_model(&self) -> String {
        accounts::fixed_text(&self.market.params.gpu_model)
    }

    /// A market for machines without GPUs.
    pub fn is_cpu(&self) -> bool {
        is_cpu_model(&self.gpu_model())
    }
}

/// The GPU class name of CPU-only markets.
pub const CPU_MODEL: &str = "cpu";

pub fn is_cpu_model(model: &str) -> bool {
    model.eq_ignore_ascii_case(CPU_MODEL)
}

/// The accounts of a job in its market.
pub fn job_keys(job_key: &Pubkey, job: &Job, market: &Market) -> JobKeys {
    JobKeys {
        job: *job_key,
        vault: job.vault,
        market: job.market,
        client: job.client,
        mint: market.payment_mint,
        token_program: market.payment_token_program,
    }
}

/// Where a settlement of `job` pays: the client's and the provider's associated accounts.
pub fn payees(job: &Job, market: &Market) -> Payees {
    let (mint, tp) = (market.payment_mint, market.payment_token_program);
    Payees {
        client_token: token::ata(&job.client, &mint, &tp),
        provider_owner: job.provider,
        provider_token: token::ata(&job.provider, &mint, &tp),
    }
}

fn state_filters(market: &Pubkey, state: JobState) -> Vec<(usize, Vec<u8>)> {
    vec![
        (Job::MARKET_OFFSET, market.to_bytes().to_vec()),
        (Job::STATE_OFFSET, vec![state.0]),
    ]
}

/// Every job of `market` in `state`.
pub async fn jobs_in_state(
    chain: &Chain,
    market: &Pubkey,
    state: JobState,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    chain
        .program_accounts::<Job>(state_filters(market, state))
        .await
}

/// Jobs of `market` whose result waits for a re-execution (sampled, no verifier yet).
pub async fn sampled_jobs(
    chain: &Chain,
    market: &Pubkey,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    // State and sample status are adjacent bytes: one memcmp for both (RPC nodes allow four
    // filters, and size and discriminator take two).
    let f = vec![
        (Job::MARKET_OFFSET, market.to_bytes().to_vec()),
        (
            Job::STATE_OFFSET,
            vec![JobState::Submitted.0, SampleStatus::Sampled.0],
        ),
    ];
    chain.program_accounts::<Job>(f).await
}

/// Submitted jobs of `market` nobody revealed within the reveal window: in a sampling market
/// they count as sampled (so staying quiet gains a provider nothing) and need a verifier too.
pub async fn unrevealed_overdue(
    chain: &Chain,
    m: &MarketInfo,
    slot: u64,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    let f = vec![
        (Job::MARKET_OFFSET, m.key.to_bytes().to_vec()),
        (
            Job::STATE_OFFSET,
            vec![JobState::Submitted.0, SampleStatus::Unrevealed.0],
        ),
    ];
    Ok(chain
        .program_accounts::<Job>(f)
        .await?
        .into_iter()
        .filter(|(_, j)| j.must_verify(slot))
        .collect())
}

/// Jobs of `market` being verified whose verifier race is still open at `slot`: a key with a
/// lower ticket may take them over (`claim_verification` with the displaced verifier).
pub async fn racing_jobs(
    chain: &Chain,
    market: &Pubkey,
    slot: u64,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    Ok(jobs_in_state(chain, market, JobState::Verifying)
        .await?
        .into_iter()
        .filter(|(_, j)| slot <= j.race_closes())
        .collect())
}

/// Jobs of `market` whose first verifier mismatched and that wait for a second one: from the
/// first slot of their new races (after `race_origin`) until the escalation lapses at chain
/// time `now`.
pub async fn escalated_jobs(
    chain: &Chain,
    market: &Pubkey,
    now: i64,
    slot: u64,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    Ok(jobs_in_state(chain, market, JobState::Escalated)
        .await?
        .into_iter()
        .filter(|(_, j)| !j.escalation_lapsed(now) && slot > j.race_origin())
        .collect())
}

/// Jobs `provider` holds (any state), for recovery and cranks.
pub async fn jobs_of_provider(
    chain: &Chain,
    provider: &Pubkey,
) -> Result<Vec<(Pubkey, Job)>, ChainError> {
    chain
        .program_accounts::<Job>(vec![(Job::PROVIDER_OFFSET, provider.to_bytes().to_vec())])
        .await
}

/// Whether this worker may take `job` now, and why not.
pub fn eligible(job: &Job, me: &Pubkey, now: i64, min_price: u64) -> Result<(), &'static str> {
    if job.state != JobState::Open {
        return Err("not open");
    }
    if job.assigned_provider != Pubkey::default() && job.assigned_provider != *me {
        return Err("assigned to another provider");
    }
    if job.open_until != 0 && now > job.open_until {
        return Err("past its open-until time");
    }
    if job.price_per_sec < min_price {
        return Err("pays less than this worker's minimum");
    }
    Ok(())
}

/// Best first: highest price per second, then the longest-waiting.
pub fn rank(jobs: &mut [(Pubkey, Job)]) {
    jobs.sort_by(|a, b| {
        b.1.price_per_sec
            .cmp(&a.1.price_per_sec)
            .then(a.1.posted_at.cmp(&b.1.posted_at))
            .then(a.0.cmp(&b.0))
    });
}

/// Streams Open jobs of `markets` as they appear (programSubscribe with memcmp filters),
/// reconnecting with backoff until `cancel`. A dropped connection loses nothing the periodic
/// full scan does not find again.
pub fn subscribe_open_jobs(
    ws_url: String,
    markets: Vec<Pubkey>,
    cancel: CancellationToken,
) -> mpsc::Receiver<(Pubkey, Job)> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        while !cancel.is_cancelled() {
            match stream_once(&ws_url, &markets, &tx, &cancel).await {
                Ok(()) => return,
                Err(e) => {
                    metrics::counter!("cinder_ws_reconnects_total").increment(1);
                    tracing::warn!(error = %e, url = %ws_url, "job subscription dropped; reconnecting");
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    });
    rx
}

async fn stream_once(
    ws_url: &str,
    markets: &[Pubkey],
    tx: &mpsc::Sender<(Pubkey, Job)>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let client = PubsubClient::new(ws_url).await?;
    let mut streams = Vec::new();
    for m in markets {
        let filters = vec![
            RpcFilterType::DataSize(Job::SPACE as u64),
            RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                0,
                <Job as anchor_lang::Discriminator>::DISCRIMINATOR.to_vec(),
            )),
            RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                Job::MARKET_OFFSET,
                m.to_bytes().to_vec(),
            )),
            RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                Job::STATE_OFFSET,
                vec![JobState::Open.0],
            )),
        ];
        let cfg = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
                ..Default::default()
            },
            ..Default::default()
        };
        let (stream, _unsub) = client.program_subscribe(&cinder::ID, Some(cfg)).await?;
        streams.push(stream);
    }
    let mut all = futures::stream::select_all(streams);
    tracing::info!(markets = markets.len(), "subscribed to open jobs");
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            item = all.next() => {
                let Some(resp) = item else { anyhow::bail!("subscription stream ended") };
                let keyed = resp.value;
                let Ok(key) = keyed.pubkey.parse::<Pubkey>() else { continue };
                let Some(data) = keyed.account.data.decode() else { continue };
                if let Ok(job) = accounts::zero_copy::<Job>(&data) {
                    if tx.send((key, job)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;

    fn job(price: u64, posted: i64) -> Job {
        let mut j = Job::zeroed();
        j.price_per_sec = price;
        j.posted_at = posted;
        j
    }

    #[test]
    fn best_paying_first_then_oldest() {
        let k = |b| Pubkey::new_from_array([b; 32]);
        let mut v = vec![(k(1), job(5, 10)), (k(2), job(9, 20)), (k(3), job(9, 5))];
        rank(&mut v);
        let order: Vec<_> = v.iter().map(|(key, _)| key.to_bytes()[0]).collect();
        assert_eq!(order, [3, 2, 1]);
    }

    #[test]
    fn eligibility_reasons() {
        let me = Pubkey::new_from_array([1; 32]);
        let other = Pubkey::new_from_array([2; 32]);
        let mut j = job(10, 0);
        assert!(eligible(&j, &me, 100, 0).is_ok());
        assert_eq!(
            eligible(&j, &me, 100, 11),
            Err("pays less than this worker's minimum")
        );
        j.assigned_provider = other;
        assert_eq!(
            eligible(&j, &me, 100, 0),
            Err("assigned to another provider")
        );
        j.assigned_provider = me;
        j.open_until = 50;
        assert_eq!(eligible(&j, &me, 100, 0), Err("past its open-until time"));
        j.open_until = 0;
        j.state = JobState::Running;
        assert_eq!(eligible(&j, &me, 100, 0), Err("not open"));
    }

    #[test]
    fn sample_status_follows_state() {
        assert_eq!(
            core::mem::offset_of!(Job, sample_status) + 8,
            SAMPLE_STATUS_OFFSET
        );
    }
}
