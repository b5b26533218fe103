use crate::{
    constants::*,
    errors::CinderError,
    state::{Bps, Flag},
};
use anchor_lang::prelude::*;

/// Protocol-wide parameters the admin may change, each within a hard bound.
/// 48 bytes, `repr(C)` without padding (checked by the `Pod` derive).
// `#[zero_copy]` spelled out without its IDL derive: these params are also instruction
// arguments, whose borsh derive describes them to the IDL (two descriptions would conflict
// under `idl-build`). Borsh and the zero-copy layout agree byte for byte: `repr(C)`, no
// padding (the `Pod` derive checks), little-endian fixed-size fields.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Debug, PartialEq, Eq)]
pub struct ConfigParams {
    /// Share of every job payment taken as protocol fee (rounded up). ≤ 2000.
    pub protocol_fee_bps: Bps,
    /// How protocol-token revenue is split. Sums to 10000.
    pub burn_bps: Bps,
    pub stakers_bps: Bps,
    pub treasury_bps: Bps,
    /// Stake lock bounds, 14–365 days.
    pub min_lock_secs: u32,
    pub max_lock_secs: u32,
    /// Wallet that owns the treasury's token accounts.
    pub treasury: Pubkey,
}

impl ConfigParams {
    pub fn validate(&self) -> Result<()> {
        self.protocol_fee_bps
            .check(MAX_PROTOCOL_FEE_BPS, CinderError::FeeTooHigh)?;
        for split in [self.burn_bps, self.stakers_bps, self.treasury_bps] {
            split.check(BPS_DENOMINATOR, CinderError::BpsOutOfRange)?;
        }
        let split_sum: u32 = [self.burn_bps, self.stakers_bps, self.treasury_bps]
            .iter()
            .map(|b| b.0 as u32)
            .sum();
        require!(
            split_sum == BPS_DENOMINATOR as u32,
            CinderError::FeeSplitNot100Percent
        );
        require!(
            MIN_LOCK_SECS <= self.min_lock_secs
                && self.min_lock_secs <= self.max_lock_secs
                && self.max_lock_secs <= MAX_LOCK_SECS,
            CinderError::LockBoundsOutOfRange
        );
        Ok(())
    }
}

/// Zero-copy (`repr(C)`, 224 bytes): instructions read the fields they need in place instead
/// of deserializing the whole account.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Config {
    pub admin: Pubkey,
    /// Proposed next admin; `Pubkey::default()` when no handover is pending.
    pub pending_admin: Pubkey,
    /// The protocol token: staked, bought back and burned.
    pub protocol_mint: Pubkey,
    pub params: ConfigParams,
    pub total_burned: u64,
    pub total_slashed: u64,
    /// New jobs, claims and markets are refused while paused; exits stay open.
    pub paused: Flag,
    pub version: u8,
    pub bump: u8,
    pub _reserved: [u8; 61],
}

impl Config {
    pub const VERSION: u8 = 1;
    pub const SPACE: usize = 8 + core::mem::size_of::<Config>();

    pub fn invariant(&self) -> Result<()> {
        self.params.validate()?;
        require!(
            self.admin != Pubkey::default(),
            CinderError::InvariantViolated
        );
        Ok(())
    }
}
