use crate::{
    constants::SAMPLE_DELAY_SLOTS,
    errors::CinderError,
    events::JobDisputed,
    instructions::{must_verify_now, SLOT_HASHES_ID},
    math,
    state::{verify_mode, Job, JobState, Market, SampleStatus},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Client, inside the challenge window: doubts a result. Posts a bond equal to the job's
/// verification fee into the job vault and forces re-execution. If a verifier then matches the
/// provider, the bond pays the verifier's run (at most the bond; the pool pays nothing for a
/// re-run a client forced) and the provider the rest; a provider-right ruling gives it to the
/// provider; otherwise (verifier right, undecidable, a result that stands by the arbiter's
/// silence, or no verifier in time) it returns with the refund at settlement.
///
/// Also, within the challenge window from the verdict, challenges a verifier's match of a
/// `tolerance` job (which only the verifier's comparison decides): the job escalates to a
/// second verifier, the matching one as the first. A second match settles it (the bond pays
/// that run); a mismatch goes to the arbiter, who slashes the side it finds wrong (the matching
/// verifier with the provider when the outputs were wrong); nobody re-running it in time lets
/// the match stand.
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
    /// CHECK: the SlotHashes sysvar (address-checked): an unrevealed draw is decided here.
    #[account(address = SLOT_HASHES_ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

pub fn dispute_job(ctx: Context<DisputeJob>) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let a = &ctx.accounts;
    let job_key = a.job.key();
    let bond = {
        let mut job = a.job.load_mut()?;
        require!(job.client_bond() == 0, CinderError::AlreadyDisputed);
        let bond = job.escrow_verification.max(1);
        if job.state == JobState::Verified {
            // A tolerance job's match is the verifier's word: the client may challenge it
            // within the challenge window from the verdict, and a second verifier decides.
            let ends = job
                .match_challenge_ends()
                .ok_or_else(|| error!(CinderError::MatchNotChallengeable))?;
            require!(now < ends, CinderError::ChallengeWindowClosed);
            // The matching verifier released its stake at the match: a slash, if the match
            // turns out wrong, takes it from its position.
            let first = job.verifier;
            job.escalate(first, 0, clock.slot, now)?;
            job.challenged_match = 1;
            job.client_bond = bond.to_le_bytes();
            bond
        } else {
            require!(
                job.state == JobState::Submitted,
                CinderError::JobNotSubmitted
            );
            let window_end = math::add_i64(job.submitted_at, job.challenge_window_secs as i64)?;
            require!(now < window_end, CinderError::ChallengeWindowClosed);
            require!(
                job.verify_mode != verify_mode::NONE,
                CinderError::JobNotVerifiable
            );
            // A drawn job keeps racing from its draw; an undrawn one (or one whose draw nobody
            // can know yet) races from a slot still in the future, so a client cannot pick a
            // moment whose known seed favours a key of its own, nor dispute a drawn job for a
            // second seed.
            let drawn = clock.slot > math::add(job.submitted_slot, SAMPLE_DELAY_SLOTS)?
                && must_verify_now(&job, &job_key, clock.slot, &a.slot_hashes)?;
            if !drawn {
                let origin = math::add(clock.slot, SAMPLE_DELAY_SLOTS)?;
                job.race_origin = origin.to_le_bytes();
            }
            job.client_bond = bond.to_le_bytes();
            job.sample_status = SampleStatus::Sampled;
            bond
        }
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
    emit_cpi!(JobDisputed { job: job_key, bond });
    Ok(())
}
