use crate::{
    constants::JOB_SEED,
    errors::CinderError,
    events::{JobSettled, VerificationLapsed},
    instructions::{reveal_sample::must_verify_now, submit_verification::forced_rerun_pay},
    math,
    state::{resolution, Job, JobState, Market, Provider, SampleStatus},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Pays out a job's vault and closes the job and vault (rent to the client).
/// Shared by `settle_job` (anyone, after the window) and `accept_result`
/// (the client, at once). Writes the job's accounts, the client, the provider
/// and the per-mint fee vault and per-market verification pool.
#[event_cpi]
#[derive(Accounts)]
pub struct SettleJob<'info> {
    #[account(
        mut,
        close = client,
        has_one = market @ CinderError::MarketMismatch,
        has_one = client @ CinderError::ClientMismatch,
        has_one = vault @ CinderError::VaultMismatch,
    )]
    pub job: AccountLoader<'info, Job>,
    #[account(
        mut,
        has_one = payment_mint @ CinderError::MintMismatch,
        has_one = verify_pool @ CinderError::FeeVaultMismatch,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equal to `job.vault` (has_one); a token account owned by the job PDA.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: equal to `job.client` (has_one); receives the rent of job and vault.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,
    /// CHECK: owner checked against `job.client` in the handler; mint by `transfer_checked`.
    #[account(mut)]
    pub client_token: UncheckedAccount<'info>,
    /// The job's provider (checked against `job.provider` in the handler).
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    /// CHECK: owner checked against `job.provider` in the handler; mint by `transfer_checked`.
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.verify_pool` (has_one).
    #[account(mut)]
    pub verify_pool: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    /// CHECK: the SlotHashes sysvar: an unrevealed job's draw is decided here. Its address is
    /// checked only when it is read (`must_verify_now`), so a settlement that needs no draw
    /// pays nothing for it.
    pub slot_hashes: UncheckedAccount<'info>,
}

impl SettleJob<'_> {
    /// Whether this Submitted job must be re-executed before it pays out (see
    /// `must_verify_now`), by the verify rate the job was posted under.
    pub(crate) fn must_verify(&self, job: &Job, slot: u64) -> Result<bool> {
        must_verify_now(job, &self.job.key(), slot, &self.slot_hashes)
    }
}

/// Anyone: settles a Submitted job once its challenge window has passed, or a Verified job.
pub fn settle_job(ctx: Context<SettleJob>) -> Result<()> {
    crate::cu_trace!("settle: accounts loaded");
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let job = ctx.accounts.job.load()?;
    let mut lapsed = false;
    match job.state {
        JobState::Submitted => {
            let window_end = math::add_i64(job.submitted_at, job.challenge_window_secs as i64)?;
            require!(now >= window_end, CinderError::ChallengeWindowOpen);
            // Drawn (now, inline, or never revealed): wait for a verifier, unless none came in
            // time.
            if ctx.accounts.must_verify(&job, clock.slot)? {
                require!(
                    job.verification_lapsed(now),
                    CinderError::VerificationPending
                );
                lapsed = true;
            }
        }
        JobState::Verified => {
            // A tolerance job's match waits out the client's window to challenge it.
            if let Some(ends) = job.match_challenge_ends() {
                require!(now >= ends, CinderError::ChallengeWindowOpen);
            }
        }
        JobState::Refunded => {}
        _ => return err!(CinderError::JobNotSettleable),
    }
    drop(job);
    if lapsed {
        let job = ctx.accounts.job.key();
        let ctx = &ctx;
        emit_cpi!(VerificationLapsed { job });
    }
    pay_out(ctx, false)
}

/// What the verifier of this job was paid out of its vault at the provider's expense: the
/// first match of a run forced by an unrevealed draw ([`forced_rerun_pay`] of the seconds it
/// billed); 0 for every other job. Such a job is still `Unrevealed` (a dispute of a Submitted
/// job marks it `Sampled`) and its first verdict was a match: `Verified` with no escalation and
/// no ruling, or a match the client challenged (`Job::contests_a_match`, whatever came of it;
/// the second verifier keeps the first's billed seconds).
pub fn rerun_paid_from_pay(job: &Job) -> Result<u64> {
    let first_matched = job.contests_a_match()
        || (job.state == JobState::Verified && job.resolution == 0 && !job.escalated());
    if first_matched && job.sample_status == SampleStatus::Unrevealed {
        forced_rerun_pay(job, job.verifier_billed_secs)
    } else {
        Ok(0)
    }
}

/// Splits the vault per `math::settlement_for`, closes the vault, updates the provider.
/// Transfers of zero are skipped (a zero-second job pays nobody but the client).
pub(crate) fn pay_out(ctx: Context<SettleJob>, accepted: bool) -> Result<()> {
    let accounts = &ctx.accounts;
    // Unchecked token accounts in two roles (SECURITY.md #22): the vault (owner: the job PDA)
    // and the pool (owner: the market PDA) can never pass the client/provider owner checks
    // below; the client's and the provider's accounts are compared explicitly.
    require_keys_neq!(
        *accounts.client_token.key,
        *accounts.provider_token.key,
        CinderError::DuplicateAccount
    );
    // A copy: the job account signs the CPIs below, so it must not stay borrowed.
    let job = *accounts.job.load()?;
    {
        let mut provider = accounts.provider.load_mut()?;
        require!(
            provider.owner == job.provider,
            CinderError::ProviderMismatch
        );
        provider.release_job(job.stake_locked)?;
        if job.state != JobState::Refunded {
            provider.jobs_done = provider.jobs_done.saturating_add(1);
        }
        provider.invariant()?;
    }
    let token_program = accounts.token_program.key();
    utils::check_token_owner(&accounts.client_token, &token_program, &job.client)?;
    utils::check_token_owner(&accounts.provider_token, &token_program, &job.provider)?;
    crate::cu_trace!("settle: payout accounts checked");
    let vault_balance = utils::token_amount(&accounts.vault)?;
    let refunded = job.state == JobState::Refunded;
    let split = if refunded {
        // The arbiter found the verifier right, or could not decide: the provider gets nothing,
        // no protocol fee is taken, and the client gets the vault back less the verification
        // fee on the billed run (rounded up; at most the vault). The job was re-run, so it pays
        // the pool like any other: a coalition that disputes its own jobs into a refund cannot
        // make other clients' fees pay for its verifiers (SECURITY.md #34).
        // A forced re-run of a match the client challenged and the arbiter overturned was
        // paid out of this vault: it is part of that fee (it never exceeds it).
        let pay = math::mul(job.price_per_sec, job.billed_secs as u64)?;
        let verification_fee = math::sub(
            math::bps_of_ceil(pay, job.verification_fee_bps)?,
            rerun_paid_from_pay(&job)?,
        )?
        .min(vault_balance);
        math::Settlement {
            provider: 0,
            protocol_fee: 0,
            verification_fee,
            refund: math::sub(vault_balance, verification_fee)?,
        }
    } else {
        // A re-run forced by an unrevealed draw was paid out of this vault at the provider's
        // expense: split the vault as it was, then take that from the provider's share.
        let rerun = rerun_paid_from_pay(&job)?;
        let mut split = math::settlement_for(
            math::add(vault_balance, rerun)?,
            job.price_per_sec,
            job.billed_secs,
            job.protocol_fee_bps,
            job.verification_fee_bps,
        )?;
        split.provider = math::sub(split.provider, rerun)?;
        // A client bond still in the vault of a job the arbiter found the provider right in,
        // against the client's doubt, is the provider's. Otherwise (refunded, or a result that
        // stands because the arbiter was silent) it returns with the refund.
        let bond = job.client_bond();
        if job.state == JobState::Verified
            && job.resolution == resolution::PROVIDER_RIGHT
            && bond > 0
        {
            split.provider = math::add(split.provider, bond)?;
            split.refund = math::sub(split.refund, bond)?;
        }
        split
    };

    let nonce = job.nonce.to_le_bytes();
    let seeds: &[&[u8]] = &[
        JOB_SEED,
        job.market.as_ref(),
        job.client.as_ref(),
        &nonce,
        &[job.bump],
    ];
    let signer = &[seeds];
    let decimals = {
        let mut market = accounts.market.load_mut()?;
        market.protocol_fees_accrued = math::add(market.protocol_fees_accrued, split.protocol_fee)?;
        market.payment_decimals
    };
    let job_info = accounts.job.to_account_info();
    // Protocol and verification fees go to the market pool in one transfer (one CPI less
    // per settlement); `sweep_fees` forwards the protocol part to the auction later.
    let fees = math::add(split.protocol_fee, split.verification_fee)?;
    for (destination, amount) in [
        (&accounts.provider_token, split.provider),
        (&accounts.verify_pool, fees),
        (&accounts.client_token, split.refund),
    ] {
        if amount == 0 {
            continue;
        }
        utils::transfer_checked(
            &accounts.token_program,
            &accounts.vault,
            &accounts.payment_mint,
            destination,
            &job_info,
            amount,
            decimals,
            signer,
        )?;
    }
    crate::cu_trace!("settle: transfers done");
    utils::close_token_account(
        &accounts.token_program,
        &accounts.vault,
        &accounts.client,
        &job_info,
        signer,
    )?;
    crate::cu_trace!("settle: vault closed");
    emit_cpi!(JobSettled {
        job: accounts.job.key(),
        provider: job.provider,
        billed_secs: job.billed_secs,
        provider_amount: split.provider,
        protocol_fee: split.protocol_fee,
        verification_fee: split.verification_fee,
        refund: split.refund,
        accepted,
    });
    crate::cu_trace!("settle: event emitted");
    Ok(())
}
