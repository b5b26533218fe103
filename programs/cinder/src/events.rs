//! Events off-chain code relies on, emitted with `emit_cpi!`. Every movement of
//! value carries its amounts; every parameter change carries `{old, new}`.

use crate::state::{AuctionParams, ConfigParams, MarketParams};
use anchor_lang::prelude::*;

#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub protocol_mint: Pubkey,
    pub params: ConfigParams,
}

#[event]
pub struct ConfigUpdated {
    pub old: ConfigParams,
    pub new: ConfigParams,
    pub old_paused: bool,
    pub new_paused: bool,
}

#[event]
pub struct AdminProposed {
    pub admin: Pubkey,
    pub proposed: Pubkey,
}

#[event]
pub struct AdminAccepted {
    pub old: Pubkey,
    pub new: Pubkey,
}

#[event]
pub struct MarketCreated {
    pub market: Pubkey,
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub params: MarketParams,
}

#[event]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub old: MarketParams,
    pub new: MarketParams,
    pub old_paused: bool,
    pub new_paused: bool,
}

#[event]
pub struct AuctionInitialized {
    pub auction: Pubkey,
    pub payment_mint: Pubkey,
    pub fee_vault: Pubkey,
    pub params: AuctionParams,
}

#[event]
pub struct AuctionUpdated {
    pub auction: Pubkey,
    pub old: AuctionParams,
    pub new: AuctionParams,
}

/// A buy took the whole fee vault of `auction` for `price` protocol tokens.
#[event]
pub struct AuctionBought {
    pub auction: Pubkey,
    pub buyer: Pubkey,
    /// The epoch the buy closed; the next one starts now at `next_init_price`.
    pub epoch: u64,
    pub price: u64,
    pub amount_out: u64,
    pub next_init_price: u64,
}

/// Protocol-token revenue (a buy's price, or protocol-mint fees) split by the config.
#[event]
pub struct RevenueDistributed {
    /// The auction whose buy paid it, or the protocol mint's auction for its fees.
    pub auction: Pubkey,
    pub amount: u64,
    pub burned: u64,
    pub to_stakers: u64,
    /// The treasury's share, plus the stakers' share when nobody is staked.
    pub to_treasury: u64,
}

/// Protocol tokens burned from a program-owned account.
#[event]
pub struct Burned {
    pub amount: u64,
    /// `Config::total_burned` after this burn.
    pub total_burned: u64,
    pub reason: u8,
}

/// Why protocol tokens were burned (`Burned::reason`).
pub const BURN_REASON_BUYBACK: u8 = 1;
pub const BURN_REASON_PROTOCOL_FEES: u8 = 2;

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub owner: Pubkey,
    pub gpu_model: [u8; 32],
    pub vram_gib: u16,
    pub gpu_count: u8,
}

#[event]
pub struct ProviderUpdated {
    pub provider: Pubkey,
    pub active: bool,
    pub gpu_model: [u8; 32],
    pub vram_gib: u16,
    pub gpu_count: u8,
}

#[event]
pub struct JobPosted {
    pub job: Pubkey,
    pub market: Pubkey,
    pub client: Pubkey,
    pub price_per_sec: u64,
    pub max_duration_secs: u32,
    pub escrow_compute: u64,
    pub escrow_verification: u64,
}

#[event]
pub struct JobExtended {
    pub job: Pubkey,
    pub added_secs: u32,
    pub deposit_compute: u64,
    pub deposit_verification: u64,
    pub new_max_duration_secs: u32,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub by: Pubkey,
    pub refund: u64,
}

#[event]
pub struct JobClaimed {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub deadline: i64,
}

#[event]
pub struct JobQuit {
    pub job: Pubkey,
    pub provider: Pubkey,
}

#[event]
pub struct JobExpired {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub caller: Pubkey,
}

#[event]
pub struct ResultSubmitted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub billed_secs: u32,
    pub result_commitment: [u8; 32],
    pub submitted_slot: u64,
    pub result_uri: String,
}

#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub billed_secs: u32,
    pub provider_amount: u64,
    pub protocol_fee: u64,
    pub verification_fee: u64,
    pub refund: u64,
    /// The client accepted before the window ended.
    pub accepted: bool,
}

/// Protocol fees moved from a market's pool to its mint's auction fee vault.
#[event]
pub struct FeesSwept {
    pub market: Pubkey,
    pub fee_vault: Pubkey,
    pub amount: u64,
}

#[event]
pub struct StakingInitialized {
    pub stake_pool: Pubkey,
    pub protocol_mint: Pubkey,
}

#[event]
pub struct Staked {
    pub owner: Pubkey,
    pub amount: u64,
    pub lock_secs: u32,
    pub new_amount: u64,
    pub new_weight: u64,
}

#[event]
pub struct UnstakeRequested {
    pub owner: Pubkey,
    pub amount: u64,
    pub unlock_at: i64,
}

#[event]
pub struct Restaked {
    pub owner: Pubkey,
    pub amount: u64,
}

#[event]
pub struct StakeWithdrawn {
    pub owner: Pubkey,
    pub amount: u64,
}

#[event]
pub struct RewardsDeposited {
    pub depositor: Pubkey,
    pub amount: u64,
    /// True when nobody was staked and the deposit went to the treasury.
    pub to_treasury: bool,
}

#[event]
pub struct RewardsClaimed {
    pub owner: Pubkey,
    pub amount: u64,
}

/// Why stake was slashed.
pub const SLASH_REASON_TIMEOUT: u8 = 1;
pub const SLASH_REASON_FRAUD: u8 = 2;
pub const SLASH_REASON_QUIT: u8 = 3;

#[event]
pub struct Slashed {
    pub who: Pubkey,
    pub amount: u64,
    /// Paid to whoever proved it (the caller of expire_job, the winner of a dispute).
    pub reward: u64,
    pub burned: u64,
    pub reason: u8,
    pub job: Pubkey,
}

#[event]
pub struct SampleRevealed {
    pub job: Pubkey,
    /// The slot whose hash decided (the first at or after submit slot + delay).
    pub slot: u64,
    pub sampled: bool,
}

#[event]
pub struct VerificationClaimed {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub deadline: i64,
}

#[event]
pub struct VerificationCommitted {
    pub job: Pubkey,
    pub verifier: Pubkey,
    /// sha256("cinder-verifier" ‖ job ‖ verifier ‖ the verifier's result hash).
    pub commitment: [u8; 32],
}

#[event]
pub struct VerificationSubmitted {
    pub job: Pubkey,
    pub verifier: Pubkey,
    /// The verifier's result hash, in the clear (it opens the commitment iff it matches).
    pub result_hash: [u8; 32],
    pub matched: bool,
    pub verifier_paid: u64,
}

#[event]
pub struct VerificationExpired {
    pub job: Pubkey,
    pub verifier: Pubkey,
    pub caller: Pubkey,
}

/// The first verifier mismatched: a second verifier is raced (from `race_origin`).
#[event]
pub struct VerificationEscalated {
    pub job: Pubkey,
    pub first_verifier: Pubkey,
}

#[event]
pub struct DisputeResolved {
    pub job: Pubkey,
    pub resolution: u8,
    /// False when anyone resolved it: a proven fraud, or the arbiter silent past the timeout
    /// (the result stands).
    pub by_arbiter: bool,
}

#[event]
pub struct JobDisputed {
    pub job: Pubkey,
    pub bond: u64,
}

/// A disputed job's bond on a match: the verifier's run (at most the bond), the rest to the
/// provider.
#[event]
pub struct BondPaid {
    pub job: Pubkey,
    pub to_provider: u64,
    pub to_verifier: u64,
}

/// A job that had to be verified found no verifier in time and settled as unsampled.
#[event]
pub struct VerificationLapsed {
    pub job: Pubkey,
}
