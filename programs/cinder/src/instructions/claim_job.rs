use crate::{
    errors::CinderError,
    events::JobClaimed,
    math,
    state::{Config, Job, JobState, Market, Provider, ProviderStatus},
};
use anchor_lang::prelude::*;

/// Writes only this job and this provider: claims of different jobs run in parallel.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        has_one = owner @ CinderError::NotProviderOwner,
        constraint = provider.status == ProviderStatus::Active @ CinderError::ProviderNotActive,
    )]
    pub provider: Account<'info, Provider>,
    #[account(constraint = !config.paused @ CinderError::ProtocolPaused)]
    pub config: Account<'info, Config>,
    #[account(constraint = !market.paused @ CinderError::MarketPaused)]
    pub market: Account<'info, Market>,
    #[account(
        mut,
        has_one = market @ CinderError::MarketMismatch,
        constraint = job.state == JobState::Open @ CinderError::JobNotOpen,
    )]
    pub job: Account<'info, Job>,
}

impl ClaimJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let job = &self.job;
        let owner = self.owner.key();
        require!(
            job.assigned_provider == Pubkey::default() || job.assigned_provider == owner,
            CinderError::NotAssignedProvider
        );
        require!(owner != job.client, CinderError::SelfDealing);
        require!(
            job.open_until == 0 || now <= job.open_until,
            CinderError::JobOpenWindowPassed
        );
        require!(
            self.provider.satisfies(&self.market.params),
            CinderError::GpuClassMismatch
        );
        Ok(())
    }
}

pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let job = &mut ctx.accounts.job;
    job.provider = ctx.accounts.owner.key();
    job.state = JobState::Running;
    job.claimed_at = now;
    job.deadline = math::add_i64(now, job.max_duration_secs as i64)?;
    job.invariant()?;
    let provider = &mut ctx.accounts.provider;
    provider.active_jobs = provider
        .active_jobs
        .checked_add(1)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    provider.invariant()?;
    emit_cpi!(JobClaimed {
        job: job.key(),
        provider: job.provider,
        deadline: job.deadline,
    });
    Ok(())
}
