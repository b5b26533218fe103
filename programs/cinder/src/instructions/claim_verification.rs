use crate::{
    errors::CinderError,
    events::VerificationClaimed,
    instructions::{eligible, must_verify_now, slot_hash_at_or_after, SLOT_HASHES_ID},
    math,
    state::{Config, Job, JobState, Market, Provider, SampleStatus, StakePosition},
};
use anchor_lang::prelude::*;

/// Seconds a verifier's deadline allows beyond the job's max duration for the race to close
/// (75 slots are ≈ 30 s at 400 ms; twice that covers slow slots).
pub const RACE_DEADLINE_MARGIN_SECS: i64 = 60;

/// An eligible provider races to re-run a drawn, disputed or escalated job (issue 15, point 1). Its
/// ticket is `-log2(U) / stake` with U from sha256(race seed ‖ job ‖ key): the lowest ticket of
/// the race wins, so each owner verifies with the chance of its share of the racing stake, and
/// neither the provider nor the client can choose who checks the result. A claim with a lower
/// ticket displaces the current verifier until the race closes (pass the displaced verifier's
/// provider account as the first remaining account: its stake is released). The winner's
/// stake is locked like a provider's for a job; it submits after the race closes and before
/// the job's max duration (plus a margin for the race) has passed.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimVerification<'info> {
    pub owner: Signer<'info>,
    /// The verifier's provider account.
    #[account(mut)]
    pub provider: AccountLoader<'info, Provider>,
    /// The verifier's stake position: its active stake is the ticket's weight.
    pub stake: AccountLoader<'info, StakePosition>,
    pub config: AccountLoader<'info, Config>,
    pub market: AccountLoader<'info, Market>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    /// CHECK: the SlotHashes sysvar (address-checked): the race's seed, and an unrevealed
    /// draw decided inline.
    #[account(address = SLOT_HASHES_ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

pub fn claim_verification<'info>(ctx: Context<'info, ClaimVerification<'info>>) -> Result<()> {
    let clock = Clock::get()?;
    let a = &ctx.accounts;
    let owner = a.owner.key();
    let job_key = a.job.key();
    require!(!a.config.load()?.paused.get(), CinderError::ProtocolPaused);
    let market = a.market.load()?;
    require!(!market.paused.get(), CinderError::MarketPaused);
    let mut job = a.job.load_mut()?;
    let displacing = match job.state {
        JobState::Submitted => {
            require!(
                !job.verification_lapsed(clock.unix_timestamp)
                    && must_verify_now(&job, &job_key, clock.slot, &a.slot_hashes)?,
                CinderError::NotSampled
            );
            // Drawn inline, as `reveal_sample` would have recorded it; past the reveal window an
            // unrevealed job stays so (raced as drawn, paid as a forced re-run).
            if job.sample_status == SampleStatus::Unrevealed && !job.must_verify(clock.slot) {
                job.sample_status = SampleStatus::Sampled;
            }
            false
        }
        // The second verification of a first mismatch, raced like the first.
        JobState::Escalated => {
            require!(
                !job.escalation_lapsed(clock.unix_timestamp),
                CinderError::EscalationLapsed
            );
            false
        }
        JobState::Verifying => {
            require!(clock.slot <= job.race_closes(), CinderError::TicketNotLower);
            true
        }
        _ => return err!(CinderError::JobNotSubmitted),
    };
    // Neither party, nor (in an escalation) the verifier whose verdict is being checked.
    require!(
        owner != job.provider && owner != job.client && owner != job.first_verifier,
        CinderError::VerifierConflict
    );
    let (seed_slot, closes) = job
        .race_at(clock.slot)
        .ok_or_else(|| error!(CinderError::SampleNotReady))?;
    let stake = a.stake.load()?;
    let mut provider = a.provider.load_mut()?;
    let stake_locked = eligible(&owner, &provider, &stake, &market, job.stake_per_job)?;
    // Stake that grew once this race's seed could be known might be sized to it.
    require!(stake.grew_slot < seed_slot, CinderError::StakeTooRecent);
    let seed = {
        let data = a.slot_hashes.try_borrow_data()?;
        slot_hash_at_or_after(&data, seed_slot)
            .ok_or_else(|| error!(CinderError::SlotHashNotFound))?
            .1
    };
    let u = math::race_uniform(&seed, &job_key.to_bytes(), &owner.to_bytes());
    // `eligible` holds at least the market's non-zero minimum stake, so the weight is > 0.
    let ticket = math::race_ticket(u, stake.amount)
        .ok_or_else(|| error!(CinderError::StakeBelowMarketMinimum))?;
    if displacing {
        require!(ticket < job.verifier_ticket(), CinderError::TicketNotLower);
        let info = ctx
            .remaining_accounts
            .first()
            .filter(|i| i.is_writable)
            .ok_or_else(|| error!(CinderError::DisplacedVerifierMissing))?;
        let displaced = AccountLoader::<Provider>::try_from(info)?;
        let mut displaced = displaced.load_mut()?;
        require!(
            displaced.owner == job.verifier,
            CinderError::ProviderMismatch
        );
        displaced.release_job(job.verifier_stake_locked)?;
    }
    provider.locked_stake = math::add(provider.locked_stake, stake_locked)?;
    provider.active_jobs = provider
        .active_jobs
        .checked_add(1)
        .ok_or_else(|| error!(CinderError::MathOverflow))?;
    // `sample_status` is left as it is: `Sampled` only ever means the draw (or the client's
    // dispute) chose this job, which decides who pays the verifier (`verifier_pay`).
    job.state = JobState::Verifying;
    job.verifier = owner;
    job.verifier_commitment = [0; 32];
    job.verifier_claimed_at = clock.unix_timestamp;
    job.verify_deadline = math::add_i64(
        clock.unix_timestamp,
        math::add_i64(job.max_duration_secs as i64, RACE_DEADLINE_MARGIN_SECS)?,
    )?;
    job.verifier_stake_locked = stake_locked;
    job.race_closes = closes.to_le_bytes();
    job.verifier_ticket = ticket.to_le_bytes();
    let event = VerificationClaimed {
        job: job_key,
        verifier: owner,
        deadline: job.verify_deadline,
    };
    drop((job, provider, market, stake));
    emit_cpi!(event);
    Ok(())
}
