use crate::{constants::*, errors::CinderError};
use anchor_lang::prelude::*;

/// One byte in the zero-copy account; the variants are associated constants.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct ProviderStatus(pub u8);

#[allow(non_upper_case_globals)]
impl ProviderStatus {
    pub const Active: Self = Self(0);
    /// Claims nothing new; running jobs finish.
    pub const Inactive: Self = Self(1);
}

/// A GPU operator's public identity: what hardware it runs and where it serves results.
/// Zero-copy (`repr(C)`, 328 bytes): claim and settle update counters in place.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Provider {
    pub owner: Pubkey,
    pub status: ProviderStatus,
    pub gpu_count: u8,
    pub vram_gib: u16,
    /// Jobs claimed and not yet settled, quit or expired.
    pub active_jobs: u32,
    pub jobs_done: u64,
    pub jobs_quit: u64,
    pub jobs_expired: u64,
    pub registered_at: i64,
    /// Stake of this provider's position locked by its running jobs (Σ job.stake_locked).
    pub locked_stake: u64,
    pub gpu_model: [u8; GPU_MODEL_LEN],
    /// sha256 of the worker's full GPU inventory (NVML uuids, names, memory).
    pub inventory_hash: [u8; 32],
    pub endpoint: [u8; URI_LEN],
    pub endpoint_len: u8,
    pub bump: u8,
    pub _reserved: [u8; 54],
}

impl Provider {
    pub const SPACE: usize = 8 + core::mem::size_of::<Provider>();

    pub fn invariant(&self) -> Result<()> {
        require!(
            (self.endpoint_len as usize) <= URI_LEN && self.gpu_count > 0,
            CinderError::InvariantViolated
        );
        Ok(())
    }

    /// A job of this provider ended (settled, quit or expired): one fewer running, and the
    /// stake it locked is free again.
    pub fn release_job(&mut self, stake_locked: u64) -> Result<()> {
        self.active_jobs = self
            .active_jobs
            .checked_sub(1)
            .ok_or_else(|| error!(CinderError::InvariantViolated))?;
        self.locked_stake = self
            .locked_stake
            .checked_sub(stake_locked)
            .ok_or_else(|| error!(CinderError::InvariantViolated))?;
        Ok(())
    }

    /// Whether this provider's GPUs fit the market's GPU class.
    pub fn satisfies(&self, params: &crate::state::MarketParams) -> bool {
        self.gpu_model == params.gpu_model
            && self.vram_gib >= params.min_vram_gib
            && self.gpu_count >= params.min_gpus_per_job
    }
}
