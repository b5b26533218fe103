use crate::{
    constants::STAKE_POOL_SEED,
    errors::CinderError,
    events::{JobQuit, Slashed, SLASH_REASON_QUIT},
    math,
    state::{Config, Job, JobState, Market, Provider, StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Provider: gives a Running job back before its deadline; it re-opens for another provider
/// (not this one) after `REOPEN_HOLD_SECS`. The job's
/// `quit_penalty_bps` of the stake the job locked is slashed and burned (0 by default).
#[event_cpi]
#[derive(Accounts)]
pub struct QuitJob<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ CinderError::NotProviderOwner)]
    pub provider: AccountLoader<'info, Provider>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    #[account(mut, has_one = owner @ CinderError::StakeMismatch)]
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
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one); its supply shrinks by the burn.
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn quit_job(ctx: Context<QuitJob>) -> Result<()> {
    let a = &ctx.accounts;
    let owner = a.owner.key();
    let now = Clock::get()?.unix_timestamp;
    let (stake_locked, penalty_bps) = {
        let mut job = a.job.load_mut()?;
        require!(job.state == JobState::Running, CinderError::JobNotRunning);
        require!(job.provider == owner, CinderError::NotJobProvider);
        // Past the deadline the job is expired (with the timeout slash), never quit: a quit
        // there would dodge the slash and, with a claim after it, hold the escrow forever.
        require!(now <= job.deadline, CinderError::QuitAfterDeadline);
        let stake_locked = job.stake_locked;
        let penalty_bps = job.quit_penalty_bps;
        job.reopen(now);
        job.invariant()?;
        let mut provider = a.provider.load_mut()?;
        provider.release_job(stake_locked)?;
        provider.jobs_quit = provider.jobs_quit.saturating_add(1);
        provider.invariant()?;
        (stake_locked, penalty_bps)
    };
    let penalty = math::bps_of_floor(stake_locked, penalty_bps)?;
    let mut burned = 0;
    if penalty > 0 {
        let (bump, decimals) = {
            let mut pool = a.stake_pool.load_mut()?;
            let mut stake = a.stake.load_mut()?;
            burned = stake.take(&mut pool, penalty)?;
            (pool.bump, pool.decimals)
        };
        utils::burn(
            &a.token_program,
            &a.stake_vault,
            &a.protocol_mint,
            &a.stake_pool.to_account_info(),
            burned,
            decimals,
            &[&[STAKE_POOL_SEED, &[bump]]],
        )?;
        let mut config = a.config.load_mut()?;
        config.total_slashed = math::add(config.total_slashed, burned)?;
        config.total_burned = math::add(config.total_burned, burned)?;
    }
    emit_cpi!(JobQuit {
        job: a.job.key(),
        provider: owner,
    });
    if burned > 0 {
        emit_cpi!(Slashed {
            who: owner,
            amount: burned,
            reward: 0,
            burned,
            reason: SLASH_REASON_QUIT,
            job: a.job.key(),
        });
    }
    Ok(())
}
