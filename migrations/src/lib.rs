//! Bootstrap of a cinder cluster: the config, the staking pool, one Dutch auction (and fee
//! vault) per payment mint and the markets, from a TOML file. Idempotent: each account is
//! created when missing, updated when its parameters differ from the file, and otherwise left
//! alone, so running it twice changes nothing. Every step is reported.
//!
//! On a local chain (`[[dev_mints]]` in the file, and a mint-authority key) it can also create
//! the protocol mint and payment mints, kept as keypair files in a keys directory so that a
//! second run finds them again.

use anchor_lang::prelude::Pubkey;
use cinder::{
    constants::DAY_SECS,
    state::{Auction, AuctionParams, Bps, Config, ConfigParams, Market, MarketParams, StakePool},
};
use cinder_client::{
    accounts::fixed,
    ix,
    rpc::{Chain, ChainError},
    token,
};
use serde::Deserialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    fmt,
    path::{Path, PathBuf},
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid bootstrap file: {0}")]
    Invalid(String),
    #[error("mint {0} does not exist on this cluster: create it first, or list it under [[dev_mints]] on a local chain")]
    MintMissing(Pubkey),
    #[error(
        "the config exists and its admin is {admin}, not the payer {payer}: run with the admin key"
    )]
    NotAdmin { admin: Pubkey, payer: Pubkey },
    #[error("the config's protocol mint is {on_chain}, not {given}")]
    ProtocolMintMismatch { on_chain: Pubkey, given: Pubkey },
    #[error("keys directory {path}: {reason}")]
    Keys { path: PathBuf, reason: String },
    #[error(transparent)]
    Chain(#[from] ChainError),
}

// --- the file -------------------------------------------------------------------------------

/// The bootstrap file (see `migrations/localnet.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub config: ConfigSpec,
    /// Mints a local chain creates (the protocol mint is `name = "protocol"`).
    #[serde(default)]
    pub dev_mints: Vec<DevMint>,
    #[serde(default)]
    pub auctions: Vec<AuctionSpec>,
    #[serde(default)]
    pub markets: Vec<MarketSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigSpec {
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub stakers_bps: u16,
    pub treasury_bps: u16,
    pub min_lock_days: u32,
    pub max_lock_days: u32,
    /// Wallet that receives the treasury share (a key, or "admin").
    pub treasury: String,
}

impl Default for ConfigSpec {
    fn default() -> Self {
        Self {
            protocol_fee_bps: 500,
            burn_bps: 5_000,
            stakers_bps: 4_000,
            treasury_bps: 1_000,
            min_lock_days: 14,
            max_lock_days: 365,
            treasury: "admin".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevMint {
    pub name: String,
    pub decimals: u8,
    /// "spl-token" (default) or "token-2022".
    #[serde(default = "spl_token")]
    pub token_program: String,
}

fn spl_token() -> String {
    "spl-token".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuctionSpec {
    /// A mint: a key, "protocol", or the name of a dev mint.
    pub mint: String,
    pub init_price: u64,
    pub floor_price: u64,
    #[serde(default = "one_day")]
    pub epoch_period_secs: u32,
    #[serde(default = "double")]
    pub price_multiplier_bps: u32,
    pub min_init_price: u64,
    #[serde(default)]
    pub allow_freeze_authority: bool,
}

fn one_day() -> u32 {
    DAY_SECS
}
fn double() -> u32 {
    20_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    pub id: u64,
    pub gpu_model: String,
    /// A mint: a key, "protocol", or the name of a dev mint. It needs an auction.
    pub payment_mint: String,
    #[serde(default)]
    pub min_vram_gib: u16,
    #[serde(default = "one")]
    pub min_gpus_per_job: u8,
    pub min_price_per_sec: u64,
    #[serde(default = "one_day")]
    pub max_duration_secs: u32,
    #[serde(default = "grace")]
    pub expire_grace_secs: u32,
    #[serde(default = "window")]
    pub challenge_window_secs: u32,
    #[serde(default = "one_day")]
    pub verification_timeout_secs: u32,
    pub min_provider_stake: u64,
    pub stake_per_job: u64,
    #[serde(default = "bps_500")]
    pub verify_rate_bps: u16,
    #[serde(default = "bps_600")]
    pub verification_fee_bps: u16,
    #[serde(default = "bps_2000")]
    pub fraud_slash_bps: u16,
    #[serde(default = "bps_100")]
    pub timeout_slash_bps: u16,
    #[serde(default = "bps_5000")]
    pub slash_reward_bps: u16,
    #[serde(default)]
    pub quit_penalty_bps: u16,
    /// Decides disputes re-execution cannot (a key, or "admin").
    #[serde(default = "admin")]
    pub arbiter: String,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub allow_freeze_authority: bool,
}

fn one() -> u8 {
    1
}
fn grace() -> u32 {
    300
}
fn window() -> u32 {
    600
}
fn bps_500() -> u16 {
    500
}
fn bps_600() -> u16 {
    600
}
fn bps_2000() -> u16 {
    2_000
}
fn bps_100() -> u16 {
    100
}
fn bps_5000() -> u16 {
    5_000
}
fn admin() -> String {
    "admin".into()
}

impl Plan {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            Error::Parse { source, .. } => Error::Parse {
                path: path.to_path_buf(),
                source,
            },
            e => e,
        })
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        let plan: Plan = toml::from_str(text).map_err(|e| Error::Parse {
            path: PathBuf::from("<text>"),
            source: Box::new(e),
        })?;
        let mut ids: Vec<u64> = plan.markets.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Invalid("two markets with the same id".into()));
        }
        for m in &plan.markets {
            if !plan.auctions.iter().any(|a| a.mint == m.payment_mint) {
                return Err(Error::Invalid(format!(
                    "market {} pays in {}, which has no [[auctions]] entry (its fee vault)",
                    m.id, m.payment_mint
                )));
            }
        }
        Ok(plan)
    }
}

// --- what happened ----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub what: String,
    pub address: Pubkey,
    pub action: Action,
    pub detail: String,
}

/// What a bootstrap did, and the addresses a client needs.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    pub protocol_mint: Pubkey,
    pub treasury: Pubkey,
    /// Treasury's protocol-token account (buy and distribute_fees pay into it).
    pub treasury_token: Pubkey,
    /// name → (mint, decimals, token program), for "protocol" and every dev mint.
    pub mints: Vec<(String, Pubkey, u8, Pubkey)>,
    /// (id, market address, gpu model, payment mint)
    pub markets: Vec<(u64, Pubkey, String, Pubkey)>,
}

impl Report {
    pub fn changed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .count()
    }

    fn push(&mut self, what: impl Into<String>, address: Pubkey, action: Action, detail: String) {
        let step = Step {
            what: what.into(),
            address,
            action,
            detail,
        };
        println!(
            "[bootstrap] {:<28} {:<9} {}{}",
            step.what,
            step.action.to_string(),
            step.address,
            if step.detail.is_empty() {
                String::new()
            } else {
                format!("  ({})", step.detail)
            }
        );
        self.steps.push(step);
    }
}

// --- doing it -------------------------------------------------------------------------------

/// Who signs and where dev keys live.
pub struct Signers<'a> {
    /// Pays for everything; the config admin (on a fresh program: its upgrade authority).
    pub admin: &'a Keypair,
    /// Mint authority of dev mints (only needed when the plan has `[[dev_mints]]`).
    pub mint_authority: Option<&'a Keypair>,
    /// Where dev mint keypairs are kept (created if missing).
    pub keys_dir: Option<&'a Path>,
}

/// Runs the plan against the cluster behind `chain`. `protocol_mint`: the protocol token;
/// `None` takes the dev mint named "protocol".
pub async fn bootstrap(
    chain: &Chain,
    plan: &Plan,
    signers: &Signers<'_>,
    protocol_mint: Option<Pubkey>,
) -> Result<Report, Error> {
    let admin = signers.admin;
    let mut report = Report::default();

    // Mints first: everything else refers to them.
    for m in &plan.dev_mints {
        let (authority, dir) = match (signers.mint_authority, signers.keys_dir) {
            (Some(a), Some(d)) => (a, d),
            _ => {
                return Err(Error::Invalid(
                    "[[dev_mints]] need a mint authority key and a keys directory".into(),
                ))
            }
        };
        let program = match m.token_program.as_str() {
            "spl-token" => token::TOKEN_PROGRAM,
            "token-2022" => token::TOKEN_2022_PROGRAM,
            other => {
                return Err(Error::Invalid(format!(
                    "dev mint {}: token_program must be spl-token or token-2022, not {other}",
                    m.name
                )))
            }
        };
        let key = load_or_create_key(&dir.join(format!("{}-mint.json", m.name)))?;
        let action = match token::mint_info(chain, &key.pubkey()).await? {
            Some(_) => Action::Unchanged,
            None => {
                token::create_mint(
                    chain,
                    admin,
                    &key,
                    &authority.pubkey(),
                    m.decimals,
                    &program,
                )
                .await?;
                Action::Created
            }
        };
        report.push(
            format!("mint {}", m.name),
            key.pubkey(),
            action,
            format!("{} decimals", m.decimals),
        );
        report
            .mints
            .push((m.name.clone(), key.pubkey(), m.decimals, program));
    }
    let protocol_mint = match protocol_mint {
        Some(k) => k,
        None => report
            .mints
            .iter()
            .find(|m| m.0 == "protocol")
            .map(|m| m.1)
            .ok_or_else(|| {
                Error::Invalid("no protocol mint given and no dev mint named \"protocol\"".into())
            })?,
    };
    let (protocol_program, protocol_decimals) = token::mint_info(chain, &protocol_mint)
        .await?
        .ok_or(Error::MintMissing(protocol_mint))?;
    if !report.mints.iter().any(|m| m.1 == protocol_mint) {
        report.mints.push((
            "protocol".into(),
            protocol_mint,
            protocol_decimals,
            protocol_program,
        ));
    }
    report.protocol_mint = protocol_mint;

    let params = config_params(&plan.config, &admin.pubkey())?;
    report.treasury = params.treasury;
    config_step(chain, admin, protocol_mint, params, &mut report).await?;

    // Staking pool.
    let protocol = ix::Protocol {
        mint: protocol_mint,
        token_program: protocol_program,
    };
    let pool = ix::stake_pool_pda();
    let action = match chain.zero_copy::<StakePool>(&pool).await? {
        Some(_) => Action::Unchanged,
        None => {
            chain
                .send(&[ix::init_staking(&admin.pubkey(), &protocol)], admin, &[])
                .await?;
            Action::Created
        }
    };
    report.push("staking pool", pool, action, String::new());

    // The treasury's protocol-token account.
    let treasury_token = token::ata(&params.treasury, &protocol_mint, &protocol_program);
    let action = if chain.account_data(&treasury_token).await?.is_some() {
        Action::Unchanged
    } else {
        chain
            .send(
                &[token::create_ata_ix(
                    &admin.pubkey(),
                    &params.treasury,
                    &protocol_mint,
                    &protocol_program,
                )],
                admin,
                &[],
            )
            .await?;
        Action::Created
    };
    report.treasury_token = treasury_token;
    report.push(
        "treasury token account",
        treasury_token,
        action,
        String::new(),
    );

    for a in &plan.auctions {
        let mint = resolve_mint(&a.mint, &report)?;
        let (program, _) = token::mint_info(chain, &mint)
            .await?
            .ok_or(Error::MintMissing(mint))?;
        let want = AuctionParams {
            init_price: a.init_price,
            floor_price: a.floor_price,
            epoch_period_secs: a.epoch_period_secs,
            price_multiplier_bps: a.price_multiplier_bps,
            min_init_price: a.min_init_price,
        };
        let key = ix::auction_pda(&mint);
        let (action, detail) = match chain.borsh::<Auction>(&key).await? {
            Some(have) if have.params == want => (Action::Unchanged, String::new()),
            Some(have) => {
                chain
                    .send(
                        &[ix::update_auction(&admin.pubkey(), &mint, want)],
                        admin,
                        &[],
                    )
                    .await?;
                (Action::Updated, diff(&have.params, &want))
            }
            None => {
                let init = ix::init_auction(
                    &admin.pubkey(),
                    &mint,
                    &program,
                    want,
                    a.allow_freeze_authority,
                );
                chain.send(&[init], admin, &[]).await?;
                (Action::Created, String::new())
            }
        };
        report.push(format!("auction {}", a.mint), key, action, detail);
    }

    for m in &plan.markets {
        let mint = resolve_mint(&m.payment_mint, &report)?;
        let (program, _) = token::mint_info(chain, &mint)
            .await?
            .ok_or(Error::MintMissing(mint))?;
        let want = market_params(m, &admin.pubkey())?;
        let key = ix::market_pda(m.id);
        let (action, detail) = match chain.zero_copy::<Market>(&key).await? {
            Some(have) if have.params == want && have.paused.get() == m.paused => {
                (Action::Unchanged, String::new())
            }
            Some(have) => {
                let upd = ix::update_market(&admin.pubkey(), &key, want, m.paused);
                chain.send(&[upd], admin, &[]).await?;
                (Action::Updated, diff(&have.params, &want))
            }
            None => {
                let create = ix::create_market(
                    &admin.pubkey(),
                    m.id,
                    &mint,
                    &program,
                    want,
                    m.allow_freeze_authority,
                );
                let mut ixs = vec![create];
                if m.paused {
                    ixs.push(ix::update_market(&admin.pubkey(), &key, want, true));
                }
                chain.send(&ixs, admin, &[]).await?;
                (Action::Created, String::new())
            }
        };
        report.push(
            format!("market {} ({})", m.id, m.gpu_model),
            key,
            action,
            detail,
        );
        report.markets.push((m.id, key, m.gpu_model.clone(), mint));
    }
    Ok(report)
}

async fn config_step(
    chain: &Chain,
    admin: &Keypair,
    protocol_mint: Pubkey,
    params: ConfigParams,
    report: &mut Report,
) -> Result<(), Error> {
    let key = ix::config_pda();
    let (action, detail) = match chain.zero_copy::<Config>(&key).await? {
        Some(have) => {
            if have.admin != admin.pubkey() {
                return Err(Error::NotAdmin {
                    admin: have.admin,
                    payer: admin.pubkey(),
                });
            }
            if have.protocol_mint != protocol_mint {
                return Err(Error::ProtocolMintMismatch {
                    on_chain: have.protocol_mint,
                    given: protocol_mint,
                });
            }
            if have.params == params {
                (Action::Unchanged, String::new())
            } else {
                let upd = ix::update_config(&admin.pubkey(), params, have.paused.get());
                chain.send(&[upd], admin, &[]).await?;
                (Action::Updated, diff(&have.params, &params))
            }
        }
        None => {
            let init = ix::init_config(&admin.pubkey(), &protocol_mint, params);
            chain.send(&[init], admin, &[]).await?;
            (Action::Created, String::new())
        }
    };
    report.push("config", key, action, detail);
    Ok(())
}

fn resolve_key(text: &str, admin: &Pubkey) -> Result<Pubkey, Error> {
    if text == "admin" {
        return Ok(*admin);
    }
    text.parse()
        .map_err(|_| Error::Invalid(format!("{text:?} is neither \"admin\" nor a public key")))
}

fn resolve_mint(text: &str, report: &Report) -> Result<Pubkey, Error> {
    if let Some(m) = report.mints.iter().find(|m| m.0 == text) {
        return Ok(m.1);
    }
    text.parse().map_err(|_| {
        Error::Invalid(format!(
            "mint {text:?} is neither a public key, \"protocol\", nor a dev mint's name"
        ))
    })
}

pub fn config_params(c: &ConfigSpec, admin: &Pubkey) -> Result<ConfigParams, Error> {
    Ok(ConfigParams {
        protocol_fee_bps: Bps(c.protocol_fee_bps),
        burn_bps: Bps(c.burn_bps),
        stakers_bps: Bps(c.stakers_bps),
        treasury_bps: Bps(c.treasury_bps),
        min_lock_secs: c.min_lock_days.saturating_mul(DAY_SECS),
        max_lock_secs: c.max_lock_days.saturating_mul(DAY_SECS),
        treasury: resolve_key(&c.treasury, admin)?,
    })
}

pub fn market_params(m: &MarketSpec, admin: &Pubkey) -> Result<MarketParams, Error> {
    Ok(MarketParams {
        min_price_per_sec: m.min_price_per_sec,
        min_provider_stake: m.min_provider_stake,
        stake_per_job: m.stake_per_job,
        max_duration_secs: m.max_duration_secs,
        expire_grace_secs: m.expire_grace_secs,
        challenge_window_secs: m.challenge_window_secs,
        verification_timeout_secs: m.verification_timeout_secs,
        min_vram_gib: m.min_vram_gib,
        min_gpus_per_job: m.min_gpus_per_job,
        _reserved: [0; 1],
        verify_rate_bps: Bps(m.verify_rate_bps),
        verification_fee_bps: Bps(m.verification_fee_bps),
        fraud_slash_bps: Bps(m.fraud_slash_bps),
        timeout_slash_bps: Bps(m.timeout_slash_bps),
        slash_reward_bps: Bps(m.slash_reward_bps),
        quit_penalty_bps: Bps(m.quit_penalty_bps),
        gpu_model: fixed(&m.gpu_model).ok_or_else(|| {
            Error::Invalid(format!(
                "market {}: gpu_model must be 1-32 printable ASCII characters",
                m.id
            ))
        })?,
        arbiter: resolve_key(&m.arbiter, admin)?,
    })
}

/// "field: old → new" for the fields that differ (from the Debug forms).
fn diff<T: fmt::Debug>(old: &T, new: &T) -> String {
    let fields = |v: &T| -> Vec<(String, String)> {
        let s = format!("{v:?}");
        let inner = s
            .split_once('{')
            .map(|(_, r)| r.trim_end_matches('}'))
            .unwrap_or("");
        split_top(inner)
            .into_iter()
            .filter_map(|kv| {
                kv.split_once(':')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect()
    };
    let (a, b) = (fields(old), fields(new));
    a.iter()
        .zip(b.iter())
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| format!("{}: {} → {}", x.0, x.1, y.1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits on commas outside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// A keypair file in the Solana CLI format, created when missing.
pub fn load_or_create_key(path: &Path) -> Result<Keypair, Error> {
    if path.exists() {
        return solana_keypair::read_keypair_file(path).map_err(|e| Error::Keys {
            path: path.to_path_buf(),
            reason: e.to_string(),
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Keys {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    let kp = Keypair::new();
    solana_keypair::write_keypair_file(&kp, path).map_err(|e| Error::Keys {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(kp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[config]
protocol_fee_bps = 400

[[dev_mints]]
name = "protocol"
decimals = 9

[[dev_mints]]
name = "usdc"
decimals = 6
token_program = "token-2022"

[[auctions]]
mint = "usdc"
init_price = 1000000
floor_price = 1000
min_init_price = 10000

[[markets]]
id = 7
gpu_model = "NVIDIA H100 80GB HBM3"
payment_mint = "usdc"
min_vram_gib = 80
min_price_per_sec = 10
min_provider_stake = 1000000000
stake_per_job = 100000000
"#;

    #[test]
    fn parses_with_design_defaults() {
        let plan = Plan::parse(SAMPLE).unwrap();
        assert_eq!(plan.config.protocol_fee_bps, 400);
        assert_eq!(plan.config.burn_bps, 5_000);
        let m = &plan.markets[0];
        assert_eq!(
            (
                m.challenge_window_secs,
                m.verify_rate_bps,
                m.verification_fee_bps
            ),
            (600, 500, 600)
        );
        let admin = Pubkey::new_from_array([1; 32]);
        let p = market_params(m, &admin).unwrap();
        assert_eq!(p.arbiter, admin);
        assert_eq!(&p.gpu_model[..4], b"NVID");
        assert!(p.validate().is_ok());
        assert!(config_params(&plan.config, &admin)
            .unwrap()
            .validate()
            .is_ok());
    }

    #[test]
    fn refuses_a_market_without_an_auction_and_duplicate_ids() {
        let no_auction = SAMPLE.replace("mint = \"usdc\"\ninit", "mint = \"protocol\"\ninit");
        let e = Plan::parse(&no_auction).unwrap_err();
        assert!(e.to_string().contains("no [[auctions]]"), "{e}");
        let dup = format!(
            "{SAMPLE}\n{}",
            &SAMPLE[SAMPLE.find("[[markets]]").unwrap()..]
        );
        assert!(Plan::parse(&dup)
            .unwrap_err()
            .to_string()
            .contains("same id"));
        let unknown = SAMPLE.replace("protocol_fee_bps = 400", "protocol_fee = 400");
        assert!(matches!(
            Plan::parse(&unknown).unwrap_err(),
            Error::Parse { .. }
        ));
    }

    #[test]
    fn diff_names_the_changed_fields() {
        let admin = Pubkey::new_from_array([1; 32]);
        let plan = Plan::parse(SAMPLE).unwrap();
        let a = config_params(&plan.config, &admin).unwrap();
        let mut b = a;
        b.protocol_fee_bps = Bps(300);
        let d = diff(&a, &b);
        assert!(d.starts_with("protocol_fee_bps"), "{d}");
        assert!(d.contains("400") && d.contains("300"), "{d}");
        assert_eq!(diff(&a, &a), "");
    }
}
