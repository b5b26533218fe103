//! Seeds, bounds and fixed sizes. Every PDA seed lives here and nowhere else.

pub const CONFIG_SEED: &[u8] = b"config";
pub const MARKET_SEED: &[u8] = b"market";
pub const JOB_SEED: &[u8] = b"job";
pub const JOB_VAULT_SEED: &[u8] = b"job_vault";
pub const PROVIDER_SEED: &[u8] = b"provider";
pub const AUCTION_SEED: &[u8] = b"auction";
pub const FEE_VAULT_SEED: &[u8] = b"fee_vault";
pub const VERIFY_POOL_SEED: &[u8] = b"verify_pool";
pub const STAKE_POOL_SEED: &[u8] = b"stake_pool";
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
pub const REWARD_VAULT_SEED: &[u8] = b"reward_vault";
pub const STAKE_SEED: &[u8] = b"stake";

/// Sampling: the SlotHashes entry of `submitted_slot + SAMPLE_DELAY_SLOTS` decides whether a
/// job is re-run; it must be revealed within `REVEAL_WINDOW_SLOTS` of the submit (SlotHashes
/// keeps 512 slots), or the job counts as sampled.
pub const SAMPLE_DELAY_SLOTS: u64 = 4;
pub const REVEAL_WINDOW_SLOTS: u64 = 500;
/// Verifier sortition: each race runs this many slots (≈ 30 s); its seed is the SlotHashes
/// entry at its first slot, which SlotHashes (512 slots) still holds when the race closes.
/// A claim with a lower ticket displaces the current verifier until the race closes; nobody
/// submits a verification before. Races follow each other from the race origin (the draw slot,
/// or `SAMPLE_DELAY_SLOTS` after a dispute or a silent verifier's expiry), so a job nobody
/// claims in one race is raced again in the next, never first come.
pub const VERIFIER_RACE_SLOTS: u64 = 75;
/// An arbiter silent this long after a dispute counts as "undecidable" (refund, no slash).
pub const RESOLVE_TIMEOUT_SECS: i64 = 7 * DAY_SECS as i64;

/// Fixed-point scale of the reward-per-weight accumulator.
pub const REWARD_SCALE: u128 = 1_000_000_000_000_000_000;
/// A year, for stake weights: weight = amount × (1 + 3 × lock / YEAR).
pub const YEAR_SECS: u32 = 365 * DAY_SECS;

/// 100% in basis points.
pub const BPS_DENOMINATOR: u16 = 10_000;

pub const MAX_PROTOCOL_FEE_BPS: u16 = 2_000;
pub const MAX_VERIFICATION_FEE_BPS: u16 = 2_000;
pub const MAX_TIMEOUT_SLASH_BPS: u16 = 2_000;

pub const DAY_SECS: u32 = 86_400;
pub const MIN_CHALLENGE_WINDOW_SECS: u32 = 10;
pub const MAX_CHALLENGE_WINDOW_SECS: u32 = 7 * DAY_SECS;
pub const MIN_LOCK_SECS: u32 = 14 * DAY_SECS;
pub const MAX_LOCK_SECS: u32 = 365 * DAY_SECS;
/// A job may run at most this long, whatever the market says.
pub const MAX_JOB_DURATION_SECS: u32 = 30 * DAY_SECS;

pub const GPU_MODEL_LEN: usize = 32;
pub const URI_LEN: usize = 128;

/// Size of a token account without extensions (SPL Token and Token-2022 alike).
pub const TOKEN_ACCOUNT_LEN: usize = 165;

/// Dutch auction bounds: an epoch lasts 1 h – 365 d; after a buy the price restarts at
/// 1.1× – 100× what was paid (Euler fee-flow's bounds).
pub const MIN_EPOCH_PERIOD_SECS: u32 = 3_600;
pub const MAX_EPOCH_PERIOD_SECS: u32 = 365 * DAY_SECS;
pub const MIN_PRICE_MULTIPLIER_BPS: u32 = 11_000;
pub const MAX_PRICE_MULTIPLIER_BPS: u32 = 1_000_000;

/// The longest grace after a job's deadline before anyone may expire it: beyond this a silent
/// provider would hold the client's escrow.
pub const MAX_EXPIRE_GRACE_SECS: u32 = 7 * DAY_SECS;

/// After a quit or an expiry, a job waits this long before anyone may claim it again: the
/// client's moment to cancel (a provider holding many keys could otherwise hand the job from
/// key to key in one transaction, and the escrow would never come back).
pub const REOPEN_HOLD_SECS: i64 = 60;
