use crate::{
    constants::{REVEAL_WINDOW_SLOTS, SAMPLE_DELAY_SLOTS},
    errors::CinderError,
    events::SampleRevealed,
    state::{Job, JobState, Market, SampleStatus},
};
use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// The SlotHashes sysvar.
pub const SLOT_HASHES_ID: Pubkey = pubkey!("SysvarS1otHashes111111111111111111111111111");

/// Anyone: decides whether a submitted job is re-executed. The randomness is the hash of the
/// first slot at or after `submitted_slot + 4`, which did not exist when the provider
/// committed; mixed with the job key it samples with probability `verify_rate_bps`.
#[event_cpi]
#[derive(Accounts)]
pub struct RevealSample<'info> {
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the SlotHashes sysvar (address-checked), read as raw bytes.
    #[account(address = SLOT_HASHES_ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

/// The (slot, hash) of the oldest SlotHashes entry at or after `target`. The sysvar is a u64
/// count then (slot u64, hash [32]) entries, newest first: binary search, no deserialization.
pub fn slot_hash_at_or_after(data: &[u8], target: u64) -> Option<(u64, [u8; 32])> {
    const ENTRY: usize = 40;
    let entry = |i: usize| -> Option<&[u8]> {
        let start = i.checked_mul(ENTRY)?.checked_add(8)?;
        data.get(start..start.checked_add(ENTRY)?)
    };
    let slot_of =
        |e: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(e.get(..8)?.try_into().ok()?)) };
    let count = usize::try_from(u64::from_le_bytes(data.get(..8)?.try_into().ok()?)).ok()?;
    let count = count.min(data.len().saturating_sub(8).checked_div(ENTRY)?);
    // Entries descend; find the last index whose slot is >= target.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = lo.checked_add(hi.checked_sub(lo)?.checked_div(2)?)?;
        if slot_of(entry(mid)?)? >= target {
            lo = mid.checked_add(1)?;
        } else {
            hi = mid;
        }
    }
    let e = entry(lo.checked_sub(1)?)?;
    Some((slot_of(e)?, e.get(8..ENTRY)?.try_into().ok()?))
}

/// Whether `job` is sampled given the deciding slot hash: sha256(hash ‖ job) as a number
/// below `verify_rate_bps` out of 10 000.
pub fn is_sampled(slot_hash: &[u8; 32], job: &Pubkey, verify_rate_bps: u16) -> bool {
    let h = hashv(&[slot_hash, job.as_ref()]).to_bytes();
    let x = u64::from_le_bytes(h[..8].try_into().unwrap());
    x % 10_000 < verify_rate_bps as u64
}

/// The draw of a submitted, unrevealed job: whether it is re-executed. Refuses before the
/// deciding slot has passed (`SampleNotReady`) and when SlotHashes no longer holds it.
pub fn draw(job: &Job, job_key: &Pubkey, slot: u64, slot_hashes: &[u8]) -> Result<(u64, bool)> {
    let target = job.submitted_slot.saturating_add(SAMPLE_DELAY_SLOTS);
    require!(slot > target, CinderError::SampleNotReady);
    let (decided_by, hash) = slot_hash_at_or_after(slot_hashes, target)
        .ok_or_else(|| error!(CinderError::SlotHashNotFound))?;
    Ok((decided_by, is_sampled(&hash, job_key, job.verify_rate_bps)))
}

/// Whether a Submitted job must be re-executed before it may pay out, the draw decided inline
/// when nobody revealed it yet: settlement never waits on (or races) a separate reveal, so no
/// challenge window, however short, ends before the draw is known (issue 15c). Unrevealed past
/// the reveal window counts as drawn (`Job::must_verify`).
pub fn must_verify_now(
    job: &Job,
    job_key: &Pubkey,
    slot: u64,
    slot_hashes: &AccountInfo,
) -> Result<bool> {
    if job.sample_status != SampleStatus::Unrevealed
        || job.verify_rate_bps == 0
        || slot > job.submitted_slot.saturating_add(REVEAL_WINDOW_SLOTS)
    {
        return Ok(job.must_verify(slot));
    }
    require_keys_eq!(
        *slot_hashes.key,
        SLOT_HASHES_ID,
        anchor_lang::error::ErrorCode::ConstraintAddress
    );
    let data = slot_hashes.try_borrow_data()?;
    Ok(draw(job, job_key, slot, &data)?.1)
}

pub fn reveal_sample(ctx: Context<RevealSample>) -> Result<()> {
    let slot = Clock::get()?.slot;
    let job_key = ctx.accounts.job.key();
    let mut job = ctx.accounts.job.load_mut()?;
    require!(
        job.state == JobState::Submitted,
        CinderError::JobNotSubmitted
    );
    require!(
        job.sample_status == SampleStatus::Unrevealed
            && slot <= job.submitted_slot.saturating_add(REVEAL_WINDOW_SLOTS),
        CinderError::SampleAlreadyDecided
    );
    let data = ctx.accounts.slot_hashes.try_borrow_data()?;
    let (decided_by, sampled) = draw(&job, &job_key, slot, &data)?;
    drop(data);
    job.sample_status = if sampled {
        SampleStatus::Sampled
    } else {
        SampleStatus::NotSampled
    };
    drop(job);
    emit_cpi!(SampleRevealed {
        job: job_key,
        slot: decided_by,
        sampled,
    });
    Ok(())
}
