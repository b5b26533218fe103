use crate::{
    constants::RESOLVE_TIMEOUT_SECS,
    errors::CinderError,
    events::{DisputeResolved, Slashed, SLASH_REASON_FRAUD},
    instructions::slashing,
    math,
    state::{resolution, Config, Job, JobState, Market, Provider, StakePool, StakePosition},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// The job's arbiter (the market's when it was posted) decides a disputed job: provider right
/// (the verifier is slashed the job's `fraud_slash_bps`, a share to the provider, and the job
/// settles as verified), verifier right (the provider is slashed, a share to the verifier, the
/// client is refunded) or undecidable (a non-deterministic job: refund, nobody slashed). An
/// arbiter silent for 7 days after the dispute counts as undecidable, and then anyone may
/// resolve.
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    pub signer: Signer<'info>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    /// The job's provider's stake position.
    #[account(mut)]
    pub provider_stake: AccountLoader<'info, StakePosition>,
    /// The verifier's provider account (its locked stake is released).
    #[account(mut)]
    pub verifier_provider: AccountLoader<'info, Provider>,
    /// The verifier's stake position.
    #[account(mut)]
    pub verifier_stake: AccountLoader<'info, StakePosition>,
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        mut,
        has_one = stake_vault @ CinderError::VaultMismatch,
        has_one = protocol_mint @ CinderError::MintMismatch,
    )]
    pub stake_pool: AccountLoader<'info, StakePool>,
    /// CHECK: equal to `stake_pool.stake_vault` (has_one).
    #[account(mut)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    /// CHECK: the winner's protocol-token account (owner checked when paid).
    #[account(mut)]
    pub winner_token: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn resolve_dispute(ctx: Context<ResolveDispute>, decision: u8) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let (outcome, by_arbiter, provider, verifier, fraud_bps, reward_bps) = {
        let mut job = a.job.load_mut()?;
        require!(job.state == JobState::Disputed, CinderError::JobNotDisputed);
        let by_arbiter = a.signer.key() == job.arbiter;
        let timed_out = now >= math::add_i64(job.disputed_at, RESOLVE_TIMEOUT_SECS)?;
        require!(by_arbiter || timed_out, CinderError::NotArbiter);
        let outcome = if by_arbiter {
            decision
        } else {
            resolution::UNDECIDABLE
        };
        require!(
            matches!(
                outcome,
                resolution::PROVIDER_RIGHT | resolution::VERIFIER_RIGHT | resolution::UNDECIDABLE
            ),
            CinderError::InvalidResolution
        );
        let mut vp = a.verifier_provider.load_mut()?;
        require!(vp.owner == job.verifier, CinderError::ProviderMismatch);
        vp.release_job(job.verifier_stake_locked)?;
        job.verifier_stake_locked = 0;
        job.resolution = outcome;
        if outcome == resolution::PROVIDER_RIGHT {
            job.state = JobState::Verified;
            job.verifier_billed_secs = 0;
        } else {
            job.state = JobState::Refunded;
        }
        (
            outcome,
            by_arbiter,
            job.provider,
            job.verifier,
            job.fraud_slash_bps,
            job.slash_reward_bps,
        )
    };
    let loser = match outcome {
        resolution::PROVIDER_RIGHT => Some((verifier, &a.verifier_stake, provider)),
        resolution::VERIFIER_RIGHT => Some((provider, &a.provider_stake, verifier)),
        _ => None,
    };
    let job_key = a.job.key();
    emit_cpi!(DisputeResolved {
        job: job_key,
        resolution: outcome,
        by_arbiter,
    });
    if let Some((who, position, winner)) = loser {
        let s = slashing::slash(
            slashing::SlashAccounts {
                config: &a.config,
                stake_pool: &a.stake_pool,
                position,
                stake_vault: &a.stake_vault,
                protocol_mint: &a.protocol_mint,
                winner_token: &a.winner_token,
                winner,
                token_program: &a.token_program,
            },
            &who,
            fraud_bps,
            reward_bps,
        )?;
        if s.amount > 0 {
            emit_cpi!(Slashed {
                who,
                amount: s.amount,
                reward: s.reward,
                burned: s.burned,
                reason: SLASH_REASON_FRAUD,
                job: job_key,
            });
        }
    }
    Ok(())
}
