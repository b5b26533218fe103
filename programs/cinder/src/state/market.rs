use crate::{
    constants::*,
    errors::CinderError,
    state::{Bps, Flag},
};
use anchor_lang::prelude::*;

/// What a market asks of its providers and jobs. Changeable by the admin within bounds.
/// 120 bytes, `repr(C)` without padding (checked by the `Pod` derive): widest fields first.
// `#[zero_copy]` spelled out without its IDL derive: these params are also instruction
// arguments, whose borsh derive describes them to the IDL (two descriptions would conflict
// under `idl-build`). Borsh and the zero-copy layout agree byte for byte: `repr(C)`, no
// padding (the `Pod` derive checks), little-endian fixed-size fields.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Minimum price per second of GPU time, in payment-mint base units.
    pub min_price_per_sec: u64,
    pub min_provider_stake: u64,
    pub stake_per_job: u64,
    pub max_duration_secs: u32,
    /// Seconds after a job's deadline before anyone may expire it.
    pub expire_grace_secs: u32,
    /// Seconds after a submit during which the client may dispute.
    pub challenge_window_secs: u32,
    /// A sampled job nobody claims to verify within window + this many seconds of its submit
    /// lapses and settles as unsampled (a thin market is never stuck).
    pub verification_timeout_secs: u32,
    pub min_vram_gib: u16,
    pub min_gpus_per_job: u8,
    /// Reserved for future GPU-class terms; must be zero.
    pub _reserved: [u8; 1],
    pub verify_rate_bps: Bps,
    pub verification_fee_bps: Bps,
    pub fraud_slash_bps: Bps,
    pub timeout_slash_bps: Bps,
    pub slash_reward_bps: Bps,
    pub quit_penalty_bps: Bps,
    /// GPU model name, zero-padded ASCII (e.g. "NVIDIA H100 80GB HBM3").
    pub gpu_model: [u8; GPU_MODEL_LEN],
    /// Decides disputes that re-execution cannot.
    pub arbiter: Pubkey,
}

impl MarketParams {
    pub fn validate(&self) -> Result<()> {
        check_gpu_model(&self.gpu_model)?;
        require!(
            self.min_price_per_sec > 0
                && self.max_duration_secs > 0
                && self.max_duration_secs <= MAX_JOB_DURATION_SECS
                && self.min_gpus_per_job > 0,
            CinderError::InvalidMarketParams
        );
        require!(self._reserved == [0; 1], CinderError::InvalidMarketParams);
        require!(
            self.min_provider_stake > 0 && self.stake_per_job > 0,
            CinderError::ZeroStakeTerms
        );
        require!(
            self.expire_grace_secs <= MAX_EXPIRE_GRACE_SECS,
            CinderError::GraceTooLong
        );
        require!(
            (MIN_CHALLENGE_WINDOW_SECS..=MAX_CHALLENGE_WINDOW_SECS)
                .contains(&self.verification_timeout_secs),
            CinderError::ChallengeWindowOutOfRange
        );
        require!(
            (MIN_CHALLENGE_WINDOW_SECS..=MAX_CHALLENGE_WINDOW_SECS)
                .contains(&self.challenge_window_secs),
            CinderError::ChallengeWindowOutOfRange
        );
        self.verify_rate_bps
            .check(BPS_DENOMINATOR, CinderError::BpsOutOfRange)?;
        self.verification_fee_bps
            .check(MAX_VERIFICATION_FEE_BPS, CinderError::FeeTooHigh)?;
        self.fraud_slash_bps
            .check(BPS_DENOMINATOR, CinderError::BpsOutOfRange)?;
        self.timeout_slash_bps
            .check(MAX_TIMEOUT_SLASH_BPS, CinderError::TimeoutSlashTooHigh)?;
        self.slash_reward_bps
            .check(BPS_DENOMINATOR, CinderError::BpsOutOfRange)?;
        self.quit_penalty_bps
            .check(MAX_TIMEOUT_SLASH_BPS, CinderError::TimeoutSlashTooHigh)?;
        Ok(())
    }
}

/// A GPU model name: 1-32 bytes of printable ASCII, zero-padded.
pub fn check_gpu_model(model: &[u8; GPU_MODEL_LEN]) -> Result<()> {
    let len = model.iter().position(|b| *b == 0).unwrap_or(GPU_MODEL_LEN);
    require!(
        len > 0
            && model[..len].iter().all(|b| (0x20..0x7f).contains(b))
            && model[len..].iter().all(|b| *b == 0),
        CinderError::InvalidGpuModel
    );
    Ok(())
}

/// Zero-copy (`repr(C)`, 320 bytes): read in place on the hot paths.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Market {
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
    /// Where protocol fees of this market go: the auction fee vault of the payment mint.
    pub fee_vault: Pubkey,
    /// Token account of this market (authority: the market PDA). Settlement pays the
    /// verification fee *and* the protocol fee into it in one transfer; `sweep_fees` later
    /// moves the protocol part (`protocol_fees_accrued`) to `fee_vault` for the auction.
    pub verify_pool: Pubkey,
    pub params: MarketParams,
    /// Protocol fees sitting in `verify_pool`, not yet swept to `fee_vault`.
    pub protocol_fees_accrued: u64,
    pub payment_decimals: u8,
    pub paused: Flag,
    pub bump: u8,
    pub verify_pool_bump: u8,
    pub _reserved: [u8; 52],
}

impl Market {
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();

    pub fn invariant(&self) -> Result<()> {
        self.params.validate()
    }
}
