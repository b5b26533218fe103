use crate::{
    errors::CinderError,
    events::VerificationClaimed,
    instructions::eligible,
    math,
    state::{Config, Job, JobState, Market, Provider, StakePosition},
};
use anchor_lang::prelude::*;

/// Another eligible provider takes a sampled job to re-run it; its stake is locked like a
/// provider's for a job, and it has the job's max duration to submit.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimVerification<'info> {
    pub owner: Signer<'info>,
    /// The verifier's provider account.
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    /// The verifier's stake position.
    pub stake: AccountLoader<'info, StakePosition>,
    pub config: AccountLoader<'info, Config>,
    pub market: AccountLoader<'info, Market>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
}

pub fn claim_verification(ctx: Context<ClaimVerification>) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;
    let owner = a.owner.key();
    require!(!a.config.load()?.paused.get(), CinderError::ProtocolPaused);
    let market = a.market.load()?;
    require!(!market.paused.get(), CinderError::MarketPaused);
    let mut job = a.job.load_mut()?;
    require!(
        job.state == JobState::Submitted,
        CinderError::JobNotSubmitted
    );
    require!(
        job.must_verify(clock.slot) && !job.verification_lapsed(clock.unix_timestamp),
        CinderError::NotSampled
    );
    require!(
        owner != job.provider && owner != job.client,
        CinderError::VerifierConflict
    );
    let mut provider = a.provider.load_mut()?;
    let stake_locked = eligible(
        &owner,
        &provider,
        &*a.stake.load()?,
        &market,
        job.stake_per_job,
    )?;
    provider.locked_stake = math::add(provider.locked_stake, stake_locked)?;
    provider.active_jobs = provider
        .active_jobs
        .checked_add(1)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    // `sample_status` is left as it is: `Sampled` only ever means the draw (or the client's
    // dispute) chose this job, which decides who pays the verifier (`verifier_pay`).
    job.state = JobState::Verifying;
    job.verifier = owner;
    job.verifier_claimed_at = clock.unix_timestamp;
    job.verify_deadline = math::add_i64(clock.unix_timestamp, job.max_duration_secs as i64)?;
    job.verifier_stake_locked = stake_locked;
    let event = VerificationClaimed {
        job: a.job.key(),
        verifier: owner,
        deadline: job.verify_deadline,
    };
    drop((job, provider, market));
    emit_cpi!(event);
    Ok(())
}
