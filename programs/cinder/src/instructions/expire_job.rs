use crate::{
    errors::CinderError,
    events::{JobExpired, Slashed, SLASH_REASON_TIMEOUT},
    instructions::slashing,
    math,
    state::{Config, Job, JobState, Market, Provider, StakePool, StakePosition},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Anyone: a Running job whose provider is past deadline + grace goes back to Open; the
/// provider's stake is slashed the job's `timeout_slash_bps` (fixed at post), the job's
/// `slash_reward_bps` of that paid to the caller and the rest burned.
#[event_cpi]
#[derive(Accounts)]
pub struct ExpireJob<'info> {
    /// Anyone: a keeper, the client, another provider.
    pub caller: Signer<'info>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    /// The job's provider (checked against `job.provider` in the handler).
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    /// The provider's stake position (checked against `job.provider` in the handler).
    #[account(mut)]
    pub stake: AccountLoader<'info, StakePosition>,
    /// Totals of slashed and burned tokens.
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
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one); its supply shrinks by the burn.
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    /// CHECK: the caller's protocol-token account for its share (owner checked in the handler).
    #[account(mut)]
    pub caller_token: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let job_key = a.job.key();
    let (provider_key, slash_bps, reward_bps) = {
        let mut job = a.job.load_mut()?;
        require!(job.state == JobState::Running, CinderError::JobNotRunning);
        let mut provider = a.provider.load_mut()?;
        require!(
            provider.owner == job.provider,
            CinderError::ProviderMismatch
        );
        let expires_at = math::add_i64(job.deadline, job.expire_grace_secs as i64)?;
        require!(now > expires_at, CinderError::DeadlineNotPassed);
        let provider_key = job.provider;
        provider.release_job(job.stake_locked)?;
        provider.jobs_expired = provider.jobs_expired.saturating_add(1);
        provider.invariant()?;
        job.reopen(now);
        job.invariant()?;
        (provider_key, job.timeout_slash_bps, job.slash_reward_bps)
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
        &provider_key,
        slash_bps,
        reward_bps,
    )?;
    let (slashed, reward, burned) = (s.amount, s.reward, s.burned);
    emit_cpi!(JobExpired {
        job: job_key,
        provider: provider_key,
        caller: a.caller.key(),
    });
    if slashed > 0 {
        emit_cpi!(Slashed {
            who: provider_key,
            amount: slashed,
            reward,
            burned,
            reason: SLASH_REASON_TIMEOUT,
            job: job_key,
        });
    }
    Ok(())
}
