use crate::{
    constants::JOB_SEED,
    errors::CinderError,
    events::JobCancelled,
    state::{Job, JobState, Market},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    /// The client, or anyone once `open_until` has passed.
    pub caller: Signer<'info>,
    #[account(
        mut,
        close = client,
        has_one = market @ CinderError::MarketMismatch,
        has_one = client @ CinderError::ClientMismatch,
        has_one = vault @ CinderError::VaultMismatch,
    )]
    pub job: AccountLoader<'info, Job>,
    #[account(has_one = payment_mint @ CinderError::MintMismatch)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equal to `job.vault` (has_one).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: equal to `job.client` (has_one); receives the rent.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
    /// CHECK: owner checked against `job.client` in the handler; mint by `transfer_checked`.
    #[account(mut)]
    pub client_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl CancelJob<'_> {
    fn validate(&self, job: &Job, now: i64) -> Result<()> {
        require!(job.state == JobState::Open, CinderError::JobNotOpen);
        let open_window_passed = job.open_until != 0 && now > job.open_until;
        require!(
            self.caller.key() == job.client || open_window_passed,
            CinderError::CancelNotAllowed
        );
        utils::check_token_owner(&self.client_token, &self.token_program.key(), &job.client)
    }
}

/// Refunds the whole vault to the client and closes job and vault.
pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
    let accounts = &ctx.accounts;
    // A copy: the job account signs the CPIs below, so it must not stay borrowed.
    let job = *accounts.job.load()?;
    accounts.validate(&job, Clock::get()?.unix_timestamp)?;
    let decimals = accounts.market.load()?.payment_decimals;
    let refund = utils::token_amount(&accounts.vault)?;
    let nonce = job.nonce.to_le_bytes();
    let seeds: &[&[u8]] = &[
        JOB_SEED,
        job.market.as_ref(),
        job.client.as_ref(),
        &nonce,
        &[job.bump],
    ];
    let job_info = accounts.job.to_account_info();
    utils::transfer_checked(
        &accounts.token_program,
        &accounts.vault,
        &accounts.payment_mint,
        &accounts.client_token,
        &job_info,
        refund,
        decimals,
        &[seeds],
    )?;
    utils::close_token_account(
        &accounts.token_program,
        &accounts.vault,
        &accounts.client,
        &job_info,
        &[seeds],
    )?;
    emit_cpi!(JobCancelled {
        job: accounts.job.key(),
        by: accounts.caller.key(),
        refund,
    });
    Ok(())
}
