use crate::{
    errors::CinderError,
    events::JobDisputed,
    math,
    state::{Job, JobState, Market, SampleStatus},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Client, inside the challenge window: doubts a result. Posts a bond equal to the job's
/// verification fee into the job vault and forces re-execution. If a verifier then matches the
/// provider, the bond goes to provider and verifier; otherwise (verifier right, undecidable, or
/// no verifier in time) it returns with the refund at settlement.
#[event_cpi]
#[derive(Accounts)]
pub struct DisputeJob<'info> {
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
    /// CHECK: debited by `transfer_checked`, which needs the client's signature.
    #[account(mut)]
    pub client_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn dispute_job(ctx: Context<DisputeJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let bond = {
        let mut job = a.job.load_mut()?;
        require!(
            job.state == JobState::Submitted,
            CinderError::JobNotSubmitted
        );
        let window_end = math::add_i64(job.submitted_at, job.challenge_window_secs as i64)?;
        require!(now < window_end, CinderError::ChallengeWindowClosed);
        require!(job.client_bond() == 0, CinderError::AlreadyDisputed);
        let bond = job.escrow_verification.max(1);
        job.client_bond = bond.to_le_bytes();
        job.sample_status = SampleStatus::Sampled;
        bond
    };
    let decimals = a.market.load()?.payment_decimals;
    utils::transfer_checked(
        &a.token_program,
        &a.client_token,
        &a.payment_mint,
        &a.vault,
        &a.client,
        bond,
        decimals,
        &[],
    )?;
    emit_cpi!(JobDisputed {
        job: a.job.key(),
        bond,
    });
    Ok(())
}
