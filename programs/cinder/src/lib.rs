//! Cinder: GPU compute settlement on Solana.
//!
//! Clients escrow payment for GPU jobs, staked providers claim and run them and
//! commit to results, and protocol fees are sold for the protocol token and
//! burned. The repository's README explains the protocol, its design notes and how to
//! build and test it; SECURITY.md its threat model.
#![allow(unexpected_cfgs)]
// Every arithmetic operation in the program is checked (see `math`); tests may use plain ops.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod utils;

#[cfg(target_arch = "bpf")]
use sbf_i128_shim as _;

use anchor_lang::prelude::*;
use instructions::*;
use state::{AuctionParams, ConfigParams, MarketParams};

declare_id!("4QxkF2xJdxnV9mXCKYg5jP5Xi1GANdySXa8P8gSig7S8");

#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "Cinder",
    project_url: "https://github.com/cinder-compute/cinder",
    contacts: "email:security@cinder.dev",
    policy: "https://github.com/cinder-compute/cinder/blob/main/SECURITY.md",
    source_code: "https://github.com/cinder-compute/cinder"
}

#[program]
pub mod cinder {
    use super::*;

    // --- config and markets ----------------------------------------------------------

    /// Upgrade authority: creates the config (admin = signer) once.
    pub fn init_config(ctx: Context<InitConfig>, params: ConfigParams) -> Result<()> {
        instructions::init_config(ctx, params)
    }

    /// Admin: sets protocol parameters within their bounds, and pause.
    pub fn update_config(
        ctx: Context<UpdateConfig>,
        params: ConfigParams,
        paused: bool,
    ) -> Result<()> {
        instructions::update_config(ctx, params, paused)
    }

    /// Admin: proposes a new admin (step one of two).
    pub fn propose_admin(ctx: Context<ProposeAdmin>, proposed: Pubkey) -> Result<()> {
        instructions::propose_admin(ctx, proposed)
    }

    /// Proposed admin: takes over (step two of two).
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        instructions::accept_admin(ctx)
    }

    /// Admin: creates the fee vault and Dutch auction of a payment mint.
    pub fn init_auction(
        ctx: Context<InitAuction>,
        params: AuctionParams,
        allow_freeze_authority: bool,
    ) -> Result<()> {
        instructions::init_auction(ctx, params, allow_freeze_authority)
    }

    /// Admin: creates a market (GPU class, prices, durations) paying in one mint.
    pub fn create_market(
        ctx: Context<CreateMarket>,
        market_id: u64,
        params: MarketParams,
        allow_freeze_authority: bool,
    ) -> Result<()> {
        instructions::create_market(ctx, market_id, params, allow_freeze_authority)
    }

    /// Admin: sets a market's parameters within bounds, and its pause flag.
    pub fn update_market(
        ctx: Context<UpdateMarket>,
        params: MarketParams,
        paused: bool,
    ) -> Result<()> {
        instructions::update_market(ctx, params, paused)
    }

    // --- providers -------------------------------------------------------------------

    /// Provider: registers its GPUs and result endpoint.
    pub fn register_provider(ctx: Context<RegisterProvider>, info: ProviderInfo) -> Result<()> {
        instructions::register_provider(ctx, info)
    }

    /// Provider: re-declares its GPUs and endpoint; turns claiming on or off.
    pub fn update_provider(
        ctx: Context<UpdateProvider>,
        info: ProviderInfo,
        active: bool,
    ) -> Result<()> {
        instructions::update_provider(ctx, info, active)
    }

    // --- jobs ------------------------------------------------------------------------

    /// Client: posts a job and escrows price × max duration + verification fee.
    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job(ctx, args)
    }

    /// Client (or anyone after open_until): cancels an Open job; full refund.
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job(ctx)
    }

    /// Client: buys more time for an Open or Running job.
    pub fn extend_job(ctx: Context<ExtendJob>, added_secs: u32) -> Result<()> {
        instructions::extend_job(ctx, added_secs)
    }

    /// Provider: claims an Open job; its deadline starts now.
    pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
        instructions::claim_job(ctx)
    }

    /// Provider: gives a Running job back; it re-opens.
    pub fn quit_job(ctx: Context<QuitJob>) -> Result<()> {
        instructions::quit_job(ctx)
    }

    /// Anyone: re-opens a Running job whose provider is past deadline + grace.
    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        instructions::expire_job(ctx)
    }

    /// Provider: commits to the result and the seconds billed.
    pub fn submit_result(
        ctx: Context<SubmitResult>,
        result_hash: [u8; 32],
        billed_secs: u32,
        result_uri: String,
    ) -> Result<()> {
        instructions::submit_result(ctx, result_hash, billed_secs, result_uri)
    }

    /// Client: accepts a Submitted result and settles at once.
    pub fn accept_result(ctx: Context<SettleJob>) -> Result<()> {
        instructions::accept_result(ctx)
    }

    /// Anyone: settles a job after its challenge window (or once Verified).
    pub fn settle_job(ctx: Context<SettleJob>) -> Result<()> {
        instructions::settle_job(ctx)
    }

    // --- staking ---------------------------------------------------------------------

    /// Admin: creates the staking pool and its stake and reward vaults.
    pub fn init_staking(ctx: Context<InitStaking>) -> Result<()> {
        instructions::init_staking(ctx)
    }

    /// Anyone: stakes protocol tokens with a lock of `lock_secs` (14-365 days, never shorter).
    pub fn stake(ctx: Context<Stake>, amount: u64, lock_secs: u32) -> Result<()> {
        instructions::stake(ctx, amount, lock_secs)
    }

    /// Owner: starts unbonding `amount` (earns nothing; unlocks after the lock; slashable).
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        instructions::request_unstake(ctx, amount)
    }

    /// Owner: cancels unbonding.
    pub fn restake(ctx: Context<Restake>) -> Result<()> {
        instructions::restake(ctx)
    }

    /// Owner: withdraws unbonded stake after its unlock time.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        instructions::withdraw_stake(ctx)
    }

    /// Anyone: deposits protocol tokens as stakers' rewards (treasury if nobody stakes).
    pub fn deposit_rewards(ctx: Context<DepositRewards>, amount: u64) -> Result<()> {
        instructions::deposit_rewards(ctx, amount)
    }

    /// Owner: claims its position's rewards.
    pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
        instructions::claim_rewards(ctx)
    }

    // --- attestation -----------------------------------------------------------------

    /// Anyone: decides from a later slot hash whether a submitted job is re-executed.
    pub fn reveal_sample(ctx: Context<RevealSample>) -> Result<()> {
        instructions::reveal_sample(ctx)
    }

    /// Client, within the challenge window: posts a bond and forces re-execution.
    pub fn dispute_job(ctx: Context<DisputeJob>) -> Result<()> {
        instructions::dispute_job(ctx)
    }

    /// Another eligible provider: takes a sampled job to re-run it.
    pub fn claim_verification<'info>(ctx: Context<'info, ClaimVerification<'info>>) -> Result<()> {
        instructions::claim_verification(ctx)
    }

    /// The verifier, after its re-run and before it reads the provider's outputs: commits to
    /// its result hash (sha256("cinder-verifier" ‖ job ‖ verifier ‖ hash)), once.
    pub fn commit_verification(
        ctx: Context<CommitVerification>,
        commitment: [u8; 32],
    ) -> Result<()> {
        instructions::commit_verification(ctx, commitment)
    }

    /// The verifier: its verdict and the result hash it committed to. An exact job's verdict
    /// is hash equality (checked); a tolerance job's is the verifier's comparison under the
    /// job's rule. Match → Verified, a first mismatch → Escalated (a second verifier is
    /// raced), the second verdict → Disputed.
    pub fn submit_verification(
        ctx: Context<SubmitVerification>,
        result_hash: [u8; 32],
        billed_secs: u32,
        matched: bool,
    ) -> Result<()> {
        instructions::submit_verification(ctx, result_hash, billed_secs, matched)
    }

    /// Anyone: slashes a silent verifier and re-opens the verification.
    pub fn expire_verification(ctx: Context<ExpireVerification>) -> Result<()> {
        instructions::expire_verification(ctx)
    }

    /// Decides a dispute: anyone at once when two verifiers' verdicts were mismatch, otherwise
    /// the job's arbiter (anyone after the resolve timeout: the result stands).
    pub fn resolve_dispute<'info>(
        ctx: Context<'info, ResolveDispute<'info>>,
        decision: u8,
    ) -> Result<()> {
        instructions::resolve_dispute(ctx, decision)
    }

    /// Anyone: moves a market's accrued protocol fees to its mint's auction fee vault.
    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::sweep_fees(ctx)
    }

    // --- buyback and burn ----------------------------------------------------------------

    /// Admin: changes an auction's parameters (within bounds).
    pub fn update_auction(ctx: Context<UpdateAuction>, params: AuctionParams) -> Result<()> {
        instructions::update_auction(ctx, params)
    }

    /// Anyone: buys a payment mint's whole fee vault at the current Dutch-auction price in
    /// protocol tokens, bounded by `max_price` and `min_amount_out`; the price is burned /
    /// paid to stakers / to the treasury by the config's split.
    pub fn buy(ctx: Context<Buy>, max_price: u64, min_amount_out: u64) -> Result<()> {
        instructions::buy(ctx, max_price, min_amount_out)
    }

    /// Anyone: splits the protocol mint's own fee vault (burn / stakers / treasury).
    pub fn distribute_fees(ctx: Context<DistributeFees>) -> Result<()> {
        instructions::distribute_fees(ctx)
    }
}
