use crate::{
    errors::CinderError,
    events::JobQuit,
    state::{Job, JobState, Provider},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct QuitJob<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ CinderError::NotProviderOwner)]
    pub provider: Account<'info, Provider>,
    #[account(
        mut,
        constraint = job.state == JobState::Running @ CinderError::JobNotRunning,
        constraint = job.provider == owner.key() @ CinderError::NotJobProvider,
    )]
    pub job: Account<'info, Job>,
}

/// The provider gives a running job back; it re-opens for others with its escrow intact.
pub fn quit_job(ctx: Context<QuitJob>) -> Result<()> {
    let job = &mut ctx.accounts.job;
    job.reopen();
    job.invariant()?;
    let provider = &mut ctx.accounts.provider;
    provider.release_job()?;
    provider.jobs_quit = provider.jobs_quit.saturating_add(1);
    provider.invariant()?;
    emit_cpi!(JobQuit {
        job: job.key(),
        provider: provider.owner,
    });
    Ok(())
}
