use crate::{
    constants::REOPEN_HOLD_SECS,
    errors::CinderError,
    events::JobClaimed,
    math,
    state::{Config, Job, JobState, Market, Provider, ProviderStatus, StakePosition},
};
use anchor_lang::prelude::*;

/// Writes only this job and this provider: claims of different jobs run in parallel.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    pub config: AccountLoader<'info, Config>,
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    /// The provider's stake position `["stake", owner]` (read only: claims of one provider
    /// write its Provider account, where the locked stake is counted).
    pub stake: AccountLoader<'info, StakePosition>,
}

impl ClaimJob<'_> {
    /// Returns the stake this job locks.
    fn validate(&self, job: &Job, provider: &Provider, now: i64) -> Result<u64> {
        let owner = self.owner.key();
        require!(provider.owner == owner, CinderError::NotProviderOwner);
        require!(
            provider.status == ProviderStatus::Active,
            CinderError::ProviderNotActive
        );
        require!(
            !self.config.load()?.paused.get(),
            CinderError::ProtocolPaused
        );
        let market = self.market.load()?;
        require!(!market.paused.get(), CinderError::MarketPaused);
        require!(job.market == self.market.key(), CinderError::MarketMismatch);
        require!(job.state == JobState::Open, CinderError::JobNotOpen);
        require!(
            job.assigned_provider == Pubkey::default() || job.assigned_provider == owner,
            CinderError::NotAssignedProvider
        );
        require!(owner != job.client, CinderError::SelfDealing);
        require!(owner != job.last_provider, CinderError::ClaimAfterLeaving);
        require!(
            job.reopened_at == 0 || now >= job.reopened_at.saturating_add(REOPEN_HOLD_SECS),
            CinderError::ReopenHold
        );
        require!(
            job.open_until == 0 || now <= job.open_until,
            CinderError::JobOpenWindowPassed
        );
        let stake = self.stake.load()?;
        eligible(&owner, provider, &stake, &market, job.stake_per_job)
    }
}

pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
    crate::cu_trace!("claim: accounts loaded");
    let now = Clock::get()?.unix_timestamp;
    let accounts = &ctx.accounts;
    let mut job = accounts.job.load_mut()?;
    let mut provider = accounts.provider.load_mut()?;
    let stake_locked = accounts.validate(&job, &provider, now)?;
    job.stake_locked = stake_locked;
    provider.locked_stake = math::add(provider.locked_stake, stake_locked)?;
    job.provider = provider.owner;
    job.state = JobState::Running;
    job.claimed_at = now;
    job.deadline = math::add_i64(now, job.max_duration_secs as i64)?;
    job.invariant()?;
    provider.active_jobs = provider
        .active_jobs
        .checked_add(1)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    provider.invariant()?;
    let event = JobClaimed {
        job: accounts.job.key(),
        provider: job.provider,
        deadline: job.deadline,
    };
    drop((job, provider));
    crate::cu_trace!("claim: updated");
    emit_cpi!(event);
    crate::cu_trace!("claim: event emitted");
    Ok(())
}

/// Whether `owner` (a provider with `provider` and `stake`) may take on a job of `market`, as
/// provider or as verifier: its GPUs fit the class, its stake is at least the market's minimum,
/// not unbonding, and its free stake covers the job's stake per job (fixed at post). Returns
/// the stake the job locks.
pub fn eligible(
    owner: &Pubkey,
    provider: &Provider,
    stake: &StakePosition,
    market: &Market,
    stake_per_job: u64,
) -> Result<u64> {
    require!(provider.owner == *owner, CinderError::NotProviderOwner);
    require!(
        provider.status == ProviderStatus::Active,
        CinderError::ProviderNotActive
    );
    require!(
        provider.satisfies(&market.params),
        CinderError::GpuClassMismatch
    );
    require!(stake.owner == *owner, CinderError::StakeMismatch);
    require!(stake.unbonding == 0, CinderError::ProviderUnbonding);
    require!(
        stake.amount >= market.params.min_provider_stake,
        CinderError::StakeBelowMarketMinimum
    );
    let free = stake.amount.saturating_sub(provider.locked_stake);
    require!(free >= stake_per_job, CinderError::InsufficientFreeStake);
    Ok(stake_per_job)
}
