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
    pub provider: AccountLoader<'info, Provider>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
}

/// The provider gives a running job back; it re-opens for others with its escrow intact.
pub fn quit_job(ctx: Context<QuitJob>) -> Result<()> {
    let owner = ctx.accounts.owner.key();
    {
        let mut job = ctx.accounts.job.load_mut()?;
        require!(job.state == JobState::Running, CinderError::JobNotRunning);
        require!(job.provider == owner, CinderError::NotJobProvider);
        let stake_locked = job.stake_locked;
        job.reopen();
        job.invariant()?;
        let mut provider = ctx.accounts.provider.load_mut()?;
        provider.release_job(stake_locked)?;
        provider.jobs_quit = provider.jobs_quit.saturating_add(1);
        provider.invariant()?;
    }
    emit_cpi!(JobQuit {
        job: ctx.accounts.job.key(),
        provider: owner,
    });
    Ok(())
}
