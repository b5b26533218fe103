//! An async JSON-RPC client for the cinder program: sends transactions the way a production
//! client must (simulate first, compute-unit limit from the simulation, priority fee from
//! recent prioritization fees, retry with backoff, rebroadcast, fresh blockhash when one
//! expires, never a second copy while the first may still land), and reads accounts.

use crate::{accounts, errors};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction, Discriminator};
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{
    client_error::{Error as ClientError, ErrorKind},
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSimulateTransactionConfig},
    filter::{Memcmp, RpcFilterType},
    request::RpcError,
};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::{future::Future, sync::Arc, time::Duration};

pub use solana_rpc_client;

const CLOCK_SYSVAR: Pubkey = anchor_lang::pubkey!("SysvarC1ock11111111111111111111111111111111");
/// Compute units a transaction may use at most.
const MAX_CU: u64 = 1_400_000;
/// How a transaction may fail, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The program refused: its error name and message (from the simulation or the landed
    /// transaction), and the logs.
    #[error("{name} (error {code}): {message}")]
    Program {
        code: u32,
        name: String,
        message: String,
        logs: Vec<String>,
    },
    /// The runtime refused the transaction (fees, account in use, missing account...).
    #[error("transaction refused: {error}{}", last_log(logs))]
    Rejected { error: String, logs: Vec<String> },
    /// The RPC node failed or could not be reached, after every retry.
    #[error("RPC {url} failed after {attempts} attempts: {last}; check the URL and the node")]
    Rpc {
        url: String,
        attempts: u32,
        last: String,
    },
    /// Sent, but not seen on chain before its blockhash expired, on every attempt.
    #[error("transaction not confirmed after {attempts} blockhashes expired (last signature {signature}); the cluster may be congested: raise the priority fee")]
    NotConfirmed { attempts: u32, signature: Signature },
    #[error(transparent)]
    Decode(#[from] accounts::DecodeError),
}

fn last_log(logs: &[String]) -> String {
    logs.last().map(|l| format!(" ({l})")).unwrap_or_default()
}

impl ChainError {
    /// The program's error name, if the program refused.
    pub fn program_error(&self) -> Option<&str> {
        match self {
            ChainError::Program { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// How the priority fee (micro-lamports per compute unit) is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityFee {
    None,
    Fixed(u64),
    /// A percentile of the non-zero fees paid recently for the accounts this transaction
    /// writes (`getRecentPrioritizationFees`), clamped to `[min, max]`.
    Recent {
        percentile: u8,
        min: u64,
        max: u64,
    },
}

#[derive(Debug, Clone)]
pub struct SendConfig {
    pub priority_fee: PriorityFee,
    /// RPC calls retried this many times (exponential backoff from `backoff`).
    pub rpc_attempts: u32,
    pub backoff: Duration,
    /// Fresh blockhashes tried before giving up on a transaction.
    pub blockhash_attempts: u32,
    /// Added to the simulated compute units (percent) for the limit.
    pub cu_margin_pct: u64,
    pub poll: Duration,
    pub commitment: CommitmentConfig,
}

impl Default for SendConfig {
    fn default() -> Self {
        Self {
            priority_fee: PriorityFee::Recent {
                percentile: 75,
                min: 0,
                max: 1_000_000,
            },
            rpc_attempts: 6,
            backoff: Duration::from_millis(200),
            blockhash_attempts: 3,
            cu_margin_pct: 15,
            poll: Duration::from_millis(400),
            commitment: CommitmentConfig::confirmed(),
        }
    }
}

/// A landed transaction.
#[derive(Debug, Clone)]
pub struct Sent {
    pub signature: Signature,
    pub slot: u64,
    /// Compute units the simulation measured (the limit requested is a margin above it).
    pub compute_units: u64,
    pub priority_fee: u64,
    /// Signatures sent (one per blockhash tried).
    pub attempts: u32,
}

/// Told each signature before it is sent, so a caller can journal it: after a crash the
/// signature says whether the transaction landed, and nothing is sent twice blindly.
pub trait TxObserver: Send + Sync {
    fn signed(&self, signature: &Signature, last_valid_block_height: u64);
}

impl TxObserver for () {
    fn signed(&self, _: &Signature, _: u64) {}
}

/// Where a signature stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    /// Landed and succeeded, at this slot.
    Succeeded(u64),
    /// Landed and failed.
    Failed(String),
    /// Not (yet) seen.
    Unknown,
}

pub struct Chain {
    rpc: Arc<RpcClient>,
    url: String,
    cfg: SendConfig,
    /// Lamports of fees paid by the transactions this client saw land (succeeded or failed).
    fees_paid: Arc<std::sync::atomic::AtomicU64>,
}

impl Chain {
    pub fn new(url: impl Into<String>, cfg: SendConfig) -> Self {
        let url = url.into();
        let rpc = RpcClient::new_with_timeout_and_commitment(
            url.clone(),
            Duration::from_secs(30),
            cfg.commitment,
        );
        Self {
            rpc: Arc::new(rpc),
            url,
            cfg,
            fees_paid: Arc::default(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Lamports of fees paid by the transactions this client sent that landed, succeeded or
    /// failed (base fee per signature plus the priority fee on the compute-unit limit).
    pub fn fees_paid(&self) -> u64 {
        self.fees_paid.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn config(&self) -> &SendConfig {
        &self.cfg
    }

    /// The underlying client, for calls this type does not wrap.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Runs an RPC call with retries on transport and server errors (not on answers).
    pub async fn retry<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut delay = self.cfg.backoff;
        let mut last = String::new();
        for attempt in 1..=self.cfg.rpc_attempts.max(1) {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if is_transient(&e) => {
                    last = format!("{what}: {e}");
                    tracing::debug!(attempt, error = %e, "{what}: transient RPC error, retrying");
                    if attempt < self.cfg.rpc_attempts {
                        tokio::time::sleep(jitter(delay)).await;
                        delay = (delay * 2).min(Duration::from_secs(10));
                    }
                }
                Err(e) => {
                    return Err(ChainError::Rpc {
                        url: self.url.clone(),
                        attempts: attempt,
                        last: format!("{what}: {e}"),
                    })
                }
            }
        }
        Err(ChainError::Rpc {
            url: self.url.clone(),
            attempts: self.cfg.rpc_attempts,
            last,
        })
    }

    /// Simulates, then sends and confirms `ixs` paid by `payer` (which signs) and signed by
    /// `signers`. A program error found by the simulation is returned without sending.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Sent, ChainError> {
        self.send_observed(ixs, payer, signers, &()).await
    }

    pub async fn send_observed(
        &self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        observer: &dyn TxObserver,
    ) -> Result<Sent, ChainError> {
        let mut all: Vec<&Keypair> = vec![payer];
        for s in signers {
            if s.pubkey() != payer.pubkey() {
                all.push(s);
            }
        }
        let price = self.priority_fee(ixs).await;
        let units = self.simulate(ixs, &payer.pubkey(), price).await?;
        let limit = units
            .saturating_mul(100 + self.cfg.cu_margin_pct)
            .div_ceil(100)
            .saturating_add(1_000)
            .min(MAX_CU);
        let mut last_sig = Signature::default();
        for attempt in 1..=self.cfg.blockhash_attempts.max(1) {
            let price = escalated(self.cfg.priority_fee, price, attempt);
            let with_budget = with_compute_budget(ixs, limit, price);
            let (blockhash, last_valid) = self
                .retry("getLatestBlockhash", || {
                    self.rpc
                        .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
                })
                .await?;
            let tx = sign(&with_budget, &payer.pubkey(), &all, blockhash)?;
            let sig = tx.signatures[0];
            last_sig = sig;
            observer.signed(&sig, last_valid);
            let status = self.broadcast_until_landed(&tx, last_valid).await?;
            if !matches!(status, TxStatus::Unknown) {
                self.fees_paid.fetch_add(
                    fee_lamports(tx.signatures.len() as u64, limit, price),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
            match status {
                TxStatus::Succeeded(slot) => {
                    return Ok(Sent {
                        signature: sig,
                        slot,
                        compute_units: units,
                        priority_fee: price,
                        attempts: attempt,
                    })
                }
                TxStatus::Failed(_) => {
                    // It landed and failed although the simulation passed (state changed in
                    // between): read its error from the ledger.
                    return Err(self.landed_error(&sig).await);
                }
                TxStatus::Unknown => {
                    tracing::warn!(%sig, attempt, "blockhash expired before the transaction landed; re-signing with a fresh one");
                }
            }
        }
        Err(ChainError::NotConfirmed {
            attempts: self.cfg.blockhash_attempts,
            signature: last_sig,
        })
    }

    /// Sends `tx` and rebroadcasts it every ~2 s until it lands or its blockhash expires
    /// (block height past `last_valid`), then checks once more. Unknown = safe to re-sign.
    async fn broadcast_until_landed(
        &self,
        tx: &Transaction,
        last_valid: u64,
    ) -> Result<TxStatus, ChainError> {
        let cfg = solana_rpc_client_api::config::RpcSendTransactionConfig {
            skip_preflight: true,
            max_retries: Some(0),
            ..Default::default()
        };
        let sig = tx.signatures[0];
        let mut since_send = Duration::MAX;
        loop {
            if since_send >= Duration::from_secs(2) {
                // A send that fails is not fatal: the status poll decides.
                if let Err(e) = self
                    .retry("sendTransaction", || {
                        self.rpc.send_transaction_with_config(tx, cfg)
                    })
                    .await
                {
                    tracing::debug!(%sig, error = %e, "send failed; polling status anyway");
                }
                since_send = Duration::ZERO;
            }
            tokio::time::sleep(self.cfg.poll).await;
            since_send += self.cfg.poll;
            match self.status(&sig).await? {
                TxStatus::Unknown => {}
                done => return Ok(done),
            }
            let height = self
                .retry("getBlockHeight", || {
                    self.rpc
                        .get_block_height_with_commitment(CommitmentConfig::confirmed())
                })
                .await?;
            if height > last_valid {
                return self.status(&sig).await;
            }
        }
    }

    /// Whether a signature landed (confirmed or better), looking through history.
    pub async fn status(&self, sig: &Signature) -> Result<TxStatus, ChainError> {
        let sigs = [*sig];
        let statuses = self
            .retry("getSignatureStatuses", || {
                self.rpc.get_signature_statuses_with_history(&sigs)
            })
            .await?;
        Ok(match statuses.value.into_iter().next().flatten() {
            Some(s) if s.satisfies_commitment(self.cfg.commitment) => match s.err {
                None => TxStatus::Succeeded(s.slot),
                Some(e) => TxStatus::Failed(e.to_string()),
            },
            _ => TxStatus::Unknown,
        })
    }

    async fn landed_error(&self, sig: &Signature) -> ChainError {
        use solana_transaction_status_client_types::UiTransactionEncoding;
        let tx = self
            .retry("getTransaction", || {
                self.rpc.get_transaction_with_config(
                    sig,
                    solana_rpc_client_api::config::RpcTransactionConfig {
                        encoding: Some(UiTransactionEncoding::Base64),
                        commitment: Some(CommitmentConfig::confirmed()),
                        max_supported_transaction_version: Some(0),
                    },
                )
            })
            .await;
        match tx {
            Ok(tx) => {
                let meta = tx.transaction.meta;
                let logs: Vec<String> = meta
                    .as_ref()
                    .and_then(|m| Option::<Vec<String>>::from(m.log_messages.clone()))
                    .unwrap_or_default();
                match meta.and_then(|m| m.err) {
                    Some(e) => classify(e.into(), logs),
                    None => ChainError::Rejected {
                        error: "landed without an error but reported failed".into(),
                        logs,
                    },
                }
            }
            Err(e) => e,
        }
    }

    async fn simulate(
        &self,
        ixs: &[Instruction],
        payer: &Pubkey,
        price: u64,
    ) -> Result<u64, ChainError> {
        let msg = Message::new(&with_compute_budget(ixs, MAX_CU, price), Some(payer));
        let tx = Transaction::new_unsigned(msg);
        let cfg = RpcSimulateTransactionConfig {
            sig_verify: false,
            replace_recent_blockhash: true,
            commitment: Some(CommitmentConfig::confirmed()),
            ..Default::default()
        };
        let res = self
            .retry("simulateTransaction", || {
                self.rpc.simulate_transaction_with_config(&tx, cfg.clone())
            })
            .await?
            .value;
        let logs = res.logs.unwrap_or_default();
        if let Some(err) = res.err {
            return Err(classify(err.into(), logs));
        }
        Ok(res.units_consumed.unwrap_or(200_000))
    }

    async fn priority_fee(&self, ixs: &[Instruction]) -> u64 {
        let (percentile, min, max) = match self.cfg.priority_fee {
            PriorityFee::None => return 0,
            PriorityFee::Fixed(p) => return p,
            PriorityFee::Recent {
                percentile,
                min,
                max,
            } => (percentile, min, max),
        };
        let mut writable: Vec<Pubkey> = ixs
            .iter()
            .flat_map(|ix| {
                ix.accounts
                    .iter()
                    .filter(|m| m.is_writable)
                    .map(|m| m.pubkey)
            })
            .collect();
        writable.sort_unstable();
        writable.dedup();
        writable.truncate(128);
        match self
            .retry("getRecentPrioritizationFees", || {
                self.rpc.get_recent_prioritization_fees(&writable)
            })
            .await
        {
            Ok(fees) => {
                let mut paid: Vec<u64> = fees
                    .iter()
                    .map(|f| f.prioritization_fee)
                    .filter(|f| *f > 0)
                    .collect();
                paid.sort_unstable();
                let pick = if paid.is_empty() {
                    0
                } else {
                    let i = (paid.len() - 1) * percentile.min(100) as usize / 100;
                    paid[i]
                };
                pick.clamp(min, max)
            }
            Err(e) => {
                tracing::debug!(error = %e, "no recent prioritization fees; using the minimum");
                min
            }
        }
    }

    // --- accounts ----------------------------------------------------------------------------

    pub async fn account_data(&self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let res = self
            .retry("getAccountInfo", || {
                self.rpc
                    .get_account_with_commitment(key, self.cfg.commitment)
            })
            .await?;
        Ok(res.value.map(|a| a.data))
    }

    pub async fn lamports(&self, key: &Pubkey) -> Result<u64, ChainError> {
        let res = self
            .retry("getAccountInfo", || {
                self.rpc
                    .get_account_with_commitment(key, self.cfg.commitment)
            })
            .await?;
        Ok(res.value.map(|a| a.lamports).unwrap_or(0))
    }

    /// A zero-copy account of the program (`None` when it does not exist).
    pub async fn zero_copy<T>(&self, key: &Pubkey) -> Result<Option<T>, ChainError>
    where
        T: bytemuck::Pod + Discriminator,
    {
        match self.account_data(key).await? {
            Some(d) => Ok(Some(accounts::zero_copy(&d)?)),
            None => Ok(None),
        }
    }

    /// A borsh account of the program.
    pub async fn borsh<T: anchor_lang::AccountDeserialize>(
        &self,
        key: &Pubkey,
    ) -> Result<Option<T>, ChainError> {
        match self.account_data(key).await? {
            Some(d) => Ok(Some(accounts::borsh(&d)?)),
            None => Ok(None),
        }
    }

    /// Every zero-copy account of type `T` matching `filters` (memcmp at account offsets);
    /// the type's discriminator and size are added as filters.
    pub async fn program_accounts<T>(
        &self,
        filters: Vec<(usize, Vec<u8>)>,
    ) -> Result<Vec<(Pubkey, T)>, ChainError>
    where
        T: bytemuck::Pod + Discriminator,
    {
        let mut f = vec![
            RpcFilterType::DataSize((8 + core::mem::size_of::<T>()) as u64),
            RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec())),
        ];
        f.extend(
            filters
                .into_iter()
                .map(|(off, bytes)| RpcFilterType::Memcmp(Memcmp::new_raw_bytes(off, bytes))),
        );
        let cfg = RpcProgramAccountsConfig {
            filters: Some(f),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                commitment: Some(self.cfg.commitment),
                ..Default::default()
            },
            ..Default::default()
        };
        let raw = self
            .retry("getProgramAccounts", || {
                self.rpc
                    .get_program_ui_accounts_with_config(&cinder::ID, cfg.clone())
            })
            .await?;
        let mut out = Vec::with_capacity(raw.len());
        for (key, ui) in raw {
            if let Some(data) = ui.data.decode() {
                out.push((key, accounts::zero_copy::<T>(&data)?));
            }
        }
        Ok(out)
    }

    /// A token account's balance (0 when it does not exist).
    pub async fn token_balance(&self, key: &Pubkey) -> Result<u64, ChainError> {
        Ok(match self.account_data(key).await? {
            Some(d) if d.len() >= 72 => u64::from_le_bytes(d[64..72].try_into().expect("8 bytes")),
            _ => 0,
        })
    }

    /// A mint's supply (0 when it does not exist).
    pub async fn mint_supply(&self, key: &Pubkey) -> Result<u64, ChainError> {
        Ok(match self.account_data(key).await? {
            Some(d) if d.len() >= 44 => u64::from_le_bytes(d[36..44].try_into().expect("8 bytes")),
            _ => 0,
        })
    }

    /// The cluster's unix time (the Clock sysvar, as the program sees it).
    pub async fn unix_time(&self) -> Result<i64, ChainError> {
        let data = self.account_data(&CLOCK_SYSVAR).await?.unwrap_or_default();
        Ok(data
            .get(32..40)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .unwrap_or(0))
    }

    pub async fn slot(&self) -> Result<u64, ChainError> {
        self.retry("getSlot", || self.rpc.get_slot()).await
    }
}

/// What a landed transaction did, as far as off-chain code cares.
#[derive(Debug, Clone, Default)]
pub struct Landed {
    pub slot: u64,
    pub block_time: Option<i64>,
    pub compute_units: Option<u64>,
    pub fee: u64,
    /// Data of every event the cinder program emitted (`emit_cpi!`): discriminator ‖ borsh.
    pub events: Vec<Vec<u8>>,
    pub logs: Vec<String>,
    pub error: Option<String>,
}

/// Compute units the cinder program's top-level instructions consumed, from the runtime's
/// "Program <id> consumed N of M compute units" log lines (other programs' instructions in
/// the same transaction, such as an associated-account creation, are not counted).
pub fn program_units(logs: &[String]) -> Option<u64> {
    let id = cinder::ID.to_string();
    let mut depth_of_ours: Vec<bool> = Vec::new();
    let mut total = None;
    for l in logs {
        let Some(rest) = l.strip_prefix("Program ") else {
            continue;
        };
        if rest.contains(" invoke [") {
            depth_of_ours.push(rest.starts_with(&id) && rest.ends_with(" invoke [1]"));
        } else if rest.ends_with(" success") || rest.contains(" failed") {
            depth_of_ours.pop();
        } else if let Some(n) = rest
            .strip_prefix(&id)
            .and_then(|r| r.strip_prefix(" consumed "))
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            if depth_of_ours.last() == Some(&true) {
                total = Some(total.unwrap_or(0) + n);
            }
        }
    }
    total
}

impl Landed {
    /// Every event of type `T` in the transaction.
    pub fn events_of<T>(&self) -> Vec<T>
    where
        T: anchor_lang::AnchorDeserialize + Discriminator,
    {
        self.events
            .iter()
            .filter_map(|d| decode_event::<T>(d))
            .collect()
    }
}

/// An event from its data (discriminator ‖ borsh), if it is a `T`.
pub fn decode_event<T>(data: &[u8]) -> Option<T>
where
    T: anchor_lang::AnchorDeserialize + Discriminator,
{
    let disc = T::DISCRIMINATOR;
    if data.len() < disc.len() || &data[..disc.len()] != disc {
        return None;
    }
    T::try_from_slice(&data[disc.len()..]).ok()
}

impl Chain {
    /// A landed transaction's slot, compute units, logs and the program's events (read from
    /// its inner instructions to the program: Anchor's event tag ‖ discriminator ‖ borsh).
    pub async fn landed(&self, sig: &Signature) -> Result<Option<Landed>, ChainError> {
        use solana_transaction_status_client_types::{
            EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction, UiInstruction,
            UiMessage, UiTransactionEncoding,
        };
        let cfg = solana_rpc_client_api::config::RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        // `null` (not confirmed yet, or pruned) is an answer, not a failure.
        let params = serde_json::json!([sig.to_string(), cfg]);
        let got: Option<EncodedConfirmedTransactionWithStatusMeta> = self
            .retry("getTransaction", || {
                self.rpc.send(
                    solana_rpc_client_api::request::RpcRequest::GetTransaction,
                    params.clone(),
                )
            })
            .await?;
        let Some(tx) = got else { return Ok(None) };
        let keys: Vec<String> = match &tx.transaction.transaction {
            EncodedTransaction::Json(ui) => match &ui.message {
                UiMessage::Raw(raw) => raw.account_keys.clone(),
                UiMessage::Parsed(p) => p.account_keys.iter().map(|k| k.pubkey.clone()).collect(),
            },
            _ => Vec::new(),
        };
        let program = cinder::ID.to_string();
        let mut out = Landed {
            slot: tx.slot,
            block_time: tx.block_time,
            ..Default::default()
        };
        if let Some(meta) = tx.transaction.meta {
            out.fee = meta.fee;
            out.error = meta
                .err
                .map(|e| solana_transaction_error::TransactionError::from(e).to_string());
            out.compute_units = meta.compute_units_consumed.into();
            out.logs = Option::<Vec<String>>::from(meta.log_messages).unwrap_or_default();
            let inner = Option::<Vec<_>>::from(meta.inner_instructions).unwrap_or_default();
            for set in inner {
                for ix in set.instructions {
                    let UiInstruction::Compiled(c) = ix else {
                        continue;
                    };
                    if keys.get(c.program_id_index as usize) != Some(&program) {
                        continue;
                    }
                    let Ok(data) = bs58::decode(&c.data).into_vec() else {
                        continue;
                    };
                    if let Some(rest) = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE) {
                        out.events.push(rest.to_vec());
                    }
                }
            }
        }
        Ok(Some(out))
    }

    /// [`Chain::landed`] for a signature the node already listed (in getSignaturesForAddress
    /// or a status): its transaction can lag behind (the node writes statuses
    /// asynchronously); wait up to ~15 s for it.
    pub async fn landed_listed(&self, sig: &Signature) -> Result<Option<Landed>, ChainError> {
        for _ in 0..60 {
            if let Some(l) = self.landed(sig).await? {
                return Ok(Some(l));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(None)
    }

    /// Signatures that touched `address`, newest first (up to `limit`).
    pub async fn signatures_for(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<(Signature, u64, bool)>, ChainError> {
        let cfg = || solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
            limit: Some(limit),
            commitment: Some(CommitmentConfig::confirmed()),
            ..Default::default()
        };
        let list = self
            .retry("getSignaturesForAddress", || {
                self.rpc
                    .get_signatures_for_address_with_config(address, cfg())
            })
            .await?;
        Ok(list
            .into_iter()
            .filter_map(|s| {
                s.signature
                    .parse()
                    .ok()
                    .map(|sig| (sig, s.slot, s.err.is_none()))
            })
            .collect())
    }
}

/// The lowest priority fee (micro-lamports per compute unit) a transaction is re-signed with
/// after one that did not land: ≈ 0.0000005 SOL on a 50k-CU transaction.
pub const ESCALATION_FLOOR: u64 = 10_000;

/// The priority fee for blockhash attempt `attempt` (1-based), from the fee chosen for the
/// first: a transaction whose blockhash expired unlanded is re-signed with twice the fee (at
/// least `ESCALATION_FLOOR`), up to the configured maximum. A fixed fee, or none, is the
/// operator's choice and stays.
pub fn escalated(cfg: PriorityFee, first: u64, attempt: u32) -> u64 {
    match cfg {
        PriorityFee::None => 0,
        PriorityFee::Fixed(p) => p,
        PriorityFee::Recent { max, .. } => (1..attempt.max(1))
            .fold(first, |p, _| p.saturating_mul(2).max(ESCALATION_FLOOR))
            .min(max.max(first)),
    }
}

/// Lamports a landed transaction costs: 5,000 per signature, plus the priority fee
/// (micro-lamports per unit of the requested compute-unit limit), rounded up.
pub fn fee_lamports(signatures: u64, cu_limit: u64, micro_lamports_per_cu: u64) -> u64 {
    let priority = (u128::from(cu_limit) * u128::from(micro_lamports_per_cu)).div_ceil(1_000_000);
    signatures
        .saturating_mul(5_000)
        .saturating_add(priority.min(u128::from(u64::MAX)) as u64)
}

fn with_compute_budget(ixs: &[Instruction], limit: u64, price: u64) -> Vec<Instruction> {
    let mut out = Vec::with_capacity(ixs.len() + 2);
    out.push(ComputeBudgetInstruction::set_compute_unit_limit(
        limit.min(MAX_CU) as u32,
    ));
    if price > 0 {
        out.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    out.extend_from_slice(ixs);
    out
}

fn sign(
    ixs: &[Instruction],
    payer: &Pubkey,
    signers: &[&Keypair],
    blockhash: Hash,
) -> Result<Transaction, ChainError> {
    let mut tx = Transaction::new_unsigned(Message::new(ixs, Some(payer)));
    tx.try_sign(signers, blockhash)
        .map_err(|e| ChainError::Rejected {
            error: format!("signing: {e}"),
            logs: vec![],
        })?;
    Ok(tx)
}

/// Program errors by name and message; everything else as the runtime put it.
pub fn classify(err: solana_transaction_error::TransactionError, logs: Vec<String>) -> ChainError {
    use solana_instruction_error::InstructionError;
    use solana_transaction_error::TransactionError;
    if let TransactionError::InstructionError(_, InstructionError::Custom(code)) = &err {
        let code = *code;
        if let Some(info) = errors::lookup(code) {
            return ChainError::Program {
                code,
                name: info.name.to_string(),
                message: info.message.to_string(),
                logs,
            };
        }
        if let Some(name) = errors::anchor_name(code) {
            let message = anchor_message(&logs).unwrap_or_else(|| name.to_string());
            return ChainError::Program {
                code,
                name: name.to_string(),
                message,
                logs,
            };
        }
    }
    ChainError::Rejected {
        error: err.to_string(),
        logs,
    }
}

/// Anchor logs "AnchorError ... Error Message: <text>." for its own errors.
fn anchor_message(logs: &[String]) -> Option<String> {
    logs.iter().find_map(|l| {
        l.split_once("Error Message: ")
            .map(|(_, m)| m.trim_end_matches('.').to_string())
    })
}

fn is_transient(e: &ClientError) -> bool {
    let by_kind = match e.kind() {
        ErrorKind::Io(_) | ErrorKind::Reqwest(_) | ErrorKind::Middleware(_) => true,
        ErrorKind::RpcError(RpcError::RpcRequestError(_)) => true,
        // -32005 node behind, -32004 block not available, -32603 internal, -32000 server
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => {
            matches!(*code, -32005 | -32004 | -32603 | -32000 | 429)
        }
        ErrorKind::RpcError(RpcError::ParseError(_)) => true,
        ErrorKind::SerdeJson(_) => true,
        _ => false,
    };
    // Some client calls wrap a transport failure into a message (`ForUser`, `Custom`):
    // recognise those by the transport's own words.
    by_kind || is_transient_text(&e.to_string())
}

fn is_transient_text(text: &str) -> bool {
    const MARKERS: &[&str] = &[
        "HTTP status server error",
        "Too Many Requests",
        "429",
        "error sending request",
        "connection closed",
        "Connection refused",
        "connection reset",
        "operation timed out",
        "timed out",
    ];
    MARKERS.iter().any(|m| text.contains(m))
}

fn jitter(d: Duration) -> Duration {
    // ±25 % without a RNG dependency: the low bits of the clock are noise enough here.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0) as u64;
    let ms = d.as_millis() as u64;
    let spread = ms / 2;
    Duration::from_millis(ms - ms / 4 + if spread > 0 { nanos % spread } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_instruction_error::InstructionError;
    use solana_transaction_error::TransactionError;

    #[test]
    fn a_transactions_fee_is_the_base_per_signature_plus_the_priority_fee_rounded_up() {
        assert_eq!(fee_lamports(1, 200_000, 0), 5_000);
        assert_eq!(fee_lamports(2, 200_000, 0), 10_000);
        // 50,000 units at 1,000 µlamports = 50 lamports.
        assert_eq!(fee_lamports(1, 50_000, 1_000), 5_050);
        // 1 unit at 1 µlamport: a millionth of a lamport, charged as 1.
        assert_eq!(fee_lamports(1, 1, 1), 5_001);
        assert_eq!(fee_lamports(1, 1_400_000, u64::MAX), u64::MAX);
    }

    #[test]
    fn the_priority_fee_doubles_on_each_fresh_blockhash_up_to_the_maximum() {
        let recent = PriorityFee::Recent {
            percentile: 75,
            min: 0,
            max: 1_000_000,
        };
        let fees = |first| {
            (1..=5)
                .map(|a| escalated(recent, first, a))
                .collect::<Vec<_>>()
        };
        // Nothing paid recently: the first try is free, then from the floor up.
        assert_eq!(fees(0), [0, 10_000, 20_000, 40_000, 80_000]);
        assert_eq!(
            fees(300_000),
            [300_000, 600_000, 1_000_000, 1_000_000, 1_000_000]
        );
        assert_eq!(escalated(recent, 600_000, 40), 1_000_000, "the cap");
        let unbounded = PriorityFee::Recent {
            percentile: 75,
            min: 0,
            max: u64::MAX,
        };
        assert_eq!(
            escalated(unbounded, u64::MAX / 2 + 1, 40),
            u64::MAX,
            "saturates, never wraps"
        );
        // A maximum of 0 means no priority fee at all, whatever the attempt.
        let off = PriorityFee::Recent {
            percentile: 75,
            min: 0,
            max: 0,
        };
        assert_eq!(escalated(off, 0, 3), 0);
        // Fixed or none: the operator's choice stays.
        assert_eq!(escalated(PriorityFee::Fixed(5), 5, 3), 5);
        assert_eq!(escalated(PriorityFee::None, 0, 3), 0);
    }

    #[test]
    fn program_errors_are_named() {
        let code: u32 = cinder::errors::CinderError::JobNotOpen.into();
        let e = classify(
            TransactionError::InstructionError(0, InstructionError::Custom(code)),
            vec![],
        );
        assert_eq!(e.program_error(), Some("JobNotOpen"));
        assert!(e.to_string().contains("JobNotOpen"), "{e}");
    }

    #[test]
    fn runtime_errors_keep_their_text() {
        let e = classify(TransactionError::AccountNotFound, vec!["log".into()]);
        assert!(matches!(e, ChainError::Rejected { .. }));
        assert!(e.to_string().contains("(log)"), "{e}");
    }

    #[test]
    fn compute_budget_comes_first() {
        let ixs = with_compute_budget(&[], 5_000, 7);
        assert_eq!(ixs.len(), 2);
        assert_eq!(
            ixs[0].program_id,
            solana_compute_budget_interface::ID,
            "limit first"
        );
        assert_eq!(with_compute_budget(&[], 5_000, 0).len(), 1);
    }

    #[test]
    fn wrapped_transport_failures_are_retried_and_answers_are_not() {
        assert!(is_transient_text("AccountNotFound: pubkey=x: HTTP status server error (500 Internal Server Error) for url"));
        assert!(is_transient_text(
            "HTTP status client error (429 Too Many Requests)"
        ));
        assert!(!is_transient_text("AccountNotFound: pubkey=x"));
        assert!(!is_transient_text(
            "Transaction simulation failed: Error processing Instruction 0"
        ));
    }

    #[test]
    fn program_units_counts_only_cinder_top_level_instructions() {
        let id = cinder::ID.to_string();
        let logs: Vec<String> = [
            "Program ComputeBudget111111111111111111111111111111 invoke [1]".to_string(),
            "Program ComputeBudget111111111111111111111111111111 success".into(),
            "Program ATokenGPvbdGVxr1b2hvZbsiqW5xWbwiWJ8ZtqrcFJv invoke [1]".into(),
            "Program ATokenGPvbdGVxr1b2hvZbsiqW5xWbwiWJ8ZtqrcFJv consumed 3000 of 200000 compute units".into(),
            "Program ATokenGPvbdGVxr1b2hvZbsiqW5xWbwiWJ8ZtqrcFJv success".into(),
            format!("Program {id} invoke [1]"),
            format!("Program {id} invoke [2]"),
            format!("Program {id} consumed 900 of 190000 compute units"),
            format!("Program {id} success"),
            format!("Program {id} consumed 14000 of 197000 compute units"),
            format!("Program {id} success"),
        ]
        .into();
        assert_eq!(program_units(&logs), Some(14_000));
        assert_eq!(program_units(&logs[..5]), None);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        for _ in 0..100 {
            let j = jitter(Duration::from_millis(1000)).as_millis();
            assert!((750..1250).contains(&j), "{j}");
        }
    }
}
