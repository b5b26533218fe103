use crate::{
    errors::CinderError,
    events::JobExtended,
    math,
    state::{Job, JobState, Market},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

#[event_cpi]
#[derive(Accounts)]
pub struct ExtendJob<'info> {
    pub client: Signer<'info>,
    #[account(
        mut,
        has_one = market @ CinderError::MarketMismatch,
        has_one = client @ CinderError::NotJobClient,
        has_one = vault @ CinderError::VaultMismatch,
    )]
    pub job: AccountLoader<'info, Job>,
    #[account(has_one = payment_mint @ CinderError::MintMismatch)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equal to `job.vault` (has_one).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: debited by `transfer_checked`, which requires the client's signature.
    #[account(mut)]
    pub client_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// Buys `added_secs` more of GPU time at the job's price (and the matching
/// verification fee); a running job's deadline moves by as much.
pub fn extend_job(ctx: Context<ExtendJob>, added_secs: u32) -> Result<()> {
    let accounts = &ctx.accounts;
    let job = *accounts.job.load()?;
    require!(
        matches!(job.state, JobState::Open | JobState::Running),
        CinderError::JobNotExtendable
    );
    let market = accounts.market.load()?;
    let new_duration = job
        .max_duration_secs
        .checked_add(added_secs)
        .ok_or_else(|| error!(CinderError::DurationOutOfRange))?;
    require!(
        added_secs > 0 && new_duration <= market.params.max_duration_secs,
        CinderError::DurationOutOfRange
    );
    let escrow = math::escrow_for(job.price_per_sec, new_duration, job.verification_fee_bps)?;
    let deposit_compute = math::sub(escrow.compute, job.escrow_compute)?;
    let deposit_verification = math::sub(escrow.verification_fee, job.escrow_verification)?;
    utils::transfer_checked(
        &accounts.token_program,
        &accounts.client_token,
        &accounts.payment_mint,
        &accounts.vault,
        &accounts.client,
        math::add(deposit_compute, deposit_verification)?,
        market.payment_decimals,
        &[],
    )?;
    drop(market);
    let mut job = ctx.accounts.job.load_mut()?;
    job.max_duration_secs = new_duration;
    job.escrow_compute = escrow.compute;
    job.escrow_verification = escrow.verification_fee;
    if job.state == JobState::Running {
        job.deadline = math::add_i64(job.deadline, added_secs as i64)?;
    }
    job.invariant()?;
    drop(job);
    emit_cpi!(JobExtended {
        job: ctx.accounts.job.key(),
        added_secs,
        deposit_compute,
        deposit_verification,
        new_max_duration_secs: new_duration,
    });
    Ok(())
}
