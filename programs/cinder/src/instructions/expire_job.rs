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
    )]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
}

/// A provider went silent past deadline + grace: the job re-opens with its
/// escrow intact. If its `open_until` has passed too, anyone may then cancel
/// it (a keeper sends `expire_job` and `cancel_job` in one transaction).
pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &ctx.accounts;
    let mut job = accounts.job.load_mut()?;
    require!(job.state == JobState::Running, CinderError::JobNotRunning);
    let mut provider = accounts.provider.load_mut()?;
    require!(
        provider.owner == job.provider,
        CinderError::ProviderMismatch
    );
    let grace = accounts.market.load()?.params.expire_grace_secs;
    let expires_at = math::add_i64(job.deadline, grace as i64)?;
    require!(now > expires_at, CinderError::DeadlineNotPassed);
    let provider_key = job.provider;
    job.reopen();
    job.invariant()?;
    provider.release_job()?;
    provider.jobs_expired = provider.jobs_expired.saturating_add(1);
    provider.invariant()?;
    drop((job, provider));
    emit_cpi!(JobExpired {
        job: accounts.job.key(),
        provider: provider_key,
        caller: ctx.accounts.caller.key(),
    });
    Ok(())
}
