use crate::{
    errors::CinderError,
    events::JobExpired,
    math,
    state::{Job, JobState, Market, Provider},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    /// Anyone: a keeper, the client, another provider.
    pub caller: Signer<'info>,
    #[account(
        mut,
        has_one = market @ CinderError::MarketMismatch,
        constraint = job.state == JobState::Running @ CinderError::JobNotRunning,
    )]
    pub job: Account<'info, Job>,
    pub market: Account<'info, Market>,
    #[account(
        mut,
        constraint = provider.owner == job.provider @ CinderError::ProviderMismatch,
    )]
    pub provider: Account<'info, Provider>,
}

/// A provider went silent past deadline + grace: the job re-opens with its
/// escrow intact. If its `open_until` has passed too, anyone may then cancel
/// it (a keeper sends `expire_job` and `cancel_job` in one transaction).
pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let job = &mut ctx.accounts.job;
    let expires_at = math::add_i64(
        job.deadline,
        ctx.accounts.market.params.expire_grace_secs as i64,
    )?;
    require!(now > expires_at, CinderError::DeadlineNotPassed);
    let provider_key = job.provider;
    job.reopen();
    job.invariant()?;
    let provider = &mut ctx.accounts.provider;
    provider.release_job()?;
    provider.jobs_expired = provider.jobs_expired.saturating_add(1);
    provider.invariant()?;
    emit_cpi!(JobExpired {
        job: job.key(),
        provider: provider_key,
        caller: ctx.accounts.caller.key(),
    });
    Ok(())
}
