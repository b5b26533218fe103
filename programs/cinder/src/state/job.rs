use crate::{constants::*, errors::CinderError};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum JobState {
    /// Posted and funded; waiting for a provider.
    Open,
    /// Claimed; the provider runs it until `deadline`.
    Running,
    /// Result committed; the challenge window runs.
    Submitted,
    /// Sampled for re-execution; a verifier runs it again.
    Verifying,
    /// A verifier matched the commitment.
    Verified,
    /// Client disputed or a verifier mismatched; the arbiter decides.
    Disputed,
}

/// Whether a submitted job was drawn for re-execution.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SampleStatus {
    Unrevealed,
    NotSampled,
    Sampled,
}

/// One GPU job and its escrow. Fixed-size fields only, so every offset is
/// stable for getProgramAccounts memcmp filters (see `Job::STATE_OFFSET`).
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub market: Pubkey,
    pub client: Pubkey,
    /// `Pubkey::default()` while Open.
    pub provider: Pubkey,
    pub state: JobState,
    pub sample_status: SampleStatus,
    pub bump: u8,
    pub vault_bump: u8,
    /// Private job: only this provider may claim. `Pubkey::default()` = anyone.
    pub assigned_provider: Pubkey,
    /// Token account `["job_vault", job]` holding the escrow.
    pub vault: Pubkey,
    pub nonce: u64,
    pub spec_hash: [u8; 32],
    pub spec_uri_len: u8,
    pub spec_uri: [u8; URI_LEN],
    pub price_per_sec: u64,
    pub max_duration_secs: u32,
    /// Terms fixed at post, so later parameter changes never alter a funded job.
    pub protocol_fee_bps: u16,
    pub verification_fee_bps: u16,
    pub challenge_window_secs: u32,
    /// Escrowed for compute (price × max duration) and for verification.
    pub escrow_compute: u64,
    pub escrow_verification: u64,
    pub posted_at: i64,
    /// After this time (if non-zero) an unclaimed job may be cancelled by anyone.
    pub open_until: i64,
    pub claimed_at: i64,
    pub deadline: i64,
    pub submitted_at: i64,
    pub submitted_slot: u64,
    pub billed_secs: u32,
    /// sha256(job ‖ provider ‖ result_hash).
    pub result_commitment: [u8; 32],
    pub _reserved: [u8; 32],
}

impl Job {
    /// Byte offsets (after the 8-byte discriminator) for RPC memcmp filters.
    pub const MARKET_OFFSET: usize = 8;
    pub const CLIENT_OFFSET: usize = 8 + 32;
    pub const PROVIDER_OFFSET: usize = 8 + 64;
    pub const STATE_OFFSET: usize = 8 + 96;

    pub fn invariant(&self) -> Result<()> {
        let provider_set = self.provider != Pubkey::default();
        let ok = match self.state {
            JobState::Open => !provider_set && self.claimed_at == 0 && self.submitted_at == 0,
            JobState::Running => provider_set && self.deadline >= self.claimed_at,
            _ => provider_set && self.billed_secs <= self.max_duration_secs,
        };
        require!(
            ok && (self.spec_uri_len as usize) <= URI_LEN,
            CinderError::InvariantViolated
        );
        Ok(())
    }

    /// Back to Open after a quit or an expiry: nothing of the last run survives.
    pub fn reopen(&mut self) {
        self.state = JobState::Open;
        self.provider = Pubkey::default();
        self.claimed_at = 0;
        self.deadline = 0;
    }
}
