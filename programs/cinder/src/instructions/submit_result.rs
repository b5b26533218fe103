use crate::{
    constants::URI_LEN,
    errors::CinderError,
    events::ResultSubmitted,
    math,
    state::{fixed_ascii, Job, JobState},
};
use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// Writes only the job.
#[event_cpi]
#[derive(Accounts)]
pub struct SubmitResult<'info> {
    pub provider: Signer<'info>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
}

/// The commitment binds the result to this job and this provider, so a
/// verifier who only sees the commitment cannot copy it, and the provider
/// cannot change it after seeing whether it was sampled.
pub fn result_commitment(job: &Pubkey, provider: &Pubkey, result_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[job.as_ref(), provider.as_ref(), result_hash]).to_bytes()
}

pub fn submit_result(
    ctx: Context<SubmitResult>,
    result_hash: [u8; 32],
    billed_secs: u32,
    result_uri: String,
) -> Result<()> {
    crate::cu_trace!("submit: accounts loaded");
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let job_key = ctx.accounts.job.key();
    let provider = ctx.accounts.provider.key();
    let mut job = ctx.accounts.job.load_mut()?;
    require!(job.state == JobState::Running, CinderError::JobNotRunning);
    require!(job.provider == provider, CinderError::NotJobProvider);
    require!(now <= job.deadline, CinderError::DeadlinePassed);
    let elapsed = math::sub_i64(now, job.claimed_at)?;
    require!(
        (billed_secs as i64) <= elapsed && billed_secs <= job.max_duration_secs,
        CinderError::BilledTooMuch
    );
    if !result_uri.is_empty() {
        fixed_ascii::<URI_LEN>(result_uri.as_bytes())
            .ok_or_else(|| error!(CinderError::InvalidUri))?;
    }
    job.result_commitment = result_commitment(&job_key, &provider, &result_hash);
    job.billed_secs = billed_secs;
    job.state = JobState::Submitted;
    job.submitted_at = now;
    job.submitted_slot = clock.slot;
    job.invariant()?;
    let commitment = job.result_commitment;
    drop(job);
    crate::cu_trace!("submit: result committed");
    emit_cpi!(ResultSubmitted {
        job: job_key,
        provider,
        billed_secs,
        result_commitment: commitment,
        submitted_slot: clock.slot,
        result_uri,
    });
    crate::cu_trace!("submit: event emitted");
    Ok(())
}
