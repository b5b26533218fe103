use crate::{
    constants::SAMPLE_DELAY_SLOTS,
    errors::CinderError,
    events::{Slashed, VerificationExpired, SLASH_REASON_TIMEOUT},
    instructions::slashing,
    math,
    state::{Config, Job, JobState, Market, Provider, StakePool, StakePosition},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone: a verifier silent past its deadline + grace is slashed like a silent provider
/// (`timeout_slash_bps`, a share to the caller) and the job waits for another verifier.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireVerification<'info> {
    pub caller: Signer<'info>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    /// The verifier's provider account (checked against `job.verifier`).
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    /// The verifier's stake position.
    #[account(mut)]
    pub stake: AccountLoader<'info, StakePosition>,
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
    /// CHECK: the caller's protocol-token account (owner checked when paid).
    #[account(mut)]
    pub caller_token: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn expire_verification(ctx: Context<ExpireVerification>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let (verifier, slash_bps, reward_bps) = {
        let mut job = a.job.load_mut()?;
        require!(
            job.state == JobState::Verifying,
            CinderError::JobNotVerifying
        );
        let expires_at = math::add_i64(job.verify_deadline, job.expire_grace_secs as i64)?;
        require!(now > expires_at, CinderError::DeadlineNotPassed);
        let mut provider = a.provider.load_mut()?;
        require!(
            provider.owner == job.verifier,
            CinderError::ProviderMismatch
        );
        provider.release_job(job.verifier_stake_locked)?;
        provider.jobs_expired = provider.jobs_expired.saturating_add(1);
        let verifier = job.verifier;
        // Back to Submitted: it still must be verified (sampled, disputed or never revealed);
        // an escalation goes back to waiting for its second verifier.
        job.state = if job.escalated() {
            JobState::Escalated
        } else {
            JobState::Submitted
        };
        job.verifier = Pubkey::default();
        job.verifier_claimed_at = 0;
        job.verify_deadline = 0;
        job.verifier_stake_locked = 0;
        // A challenged match keeps its first verifier's billed seconds (its forced re-run's
        // pay, `rerun_paid_from_pay`).
        if !job.contests_a_match() {
            job.verifier_billed_secs = 0;
        }
        // The replacement is raced afresh, from a slot whose hash nobody knows yet.
        job.clear_race();
        let origin = math::add(Clock::get()?.slot, SAMPLE_DELAY_SLOTS)?;
        job.race_origin = origin.to_le_bytes();
        (verifier, job.timeout_slash_bps, job.slash_reward_bps)
    };
    let s = slashing::slash(
        slashing::SlashAccounts {
            config: &a.config,
            stake_pool: &a.stake_pool,
            position: &a.stake,
            stake_vault: &a.stake_vault,
            protocol_mint: &a.protocol_mint,
            winner_token: &a.caller_token,
            winner: a.caller.key(),
            co_winner: None,
            token_program: &a.token_program,
        },
        &verifier,
        slash_bps,
        reward_bps,
    )?;
    let job_key = a.job.key();
    emit_cpi!(VerificationExpired {
        job: job_key,
        verifier,
        caller: a.caller.key(),
    });
    if s.amount > 0 {
        emit_cpi!(Slashed {
            who: verifier,
            amount: s.amount,
            reward: s.reward,
            burned: s.burned,
            reason: SLASH_REASON_TIMEOUT,
            job: job_key,
        });
    }
    Ok(())
}
