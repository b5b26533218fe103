use crate::{errors::CinderError, events::VerificationCommitted, state::Job};
use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// The verifier commits to its own re-run before it may read the provider's outputs (issue 17,
/// point 2): sha256(job ‖ verifier ‖ its result hash), once per verifier. The provider's
/// results server serves the provider's outputs to the job's verifier only once this is on
/// chain, and `submit_verification` must open it, so a verdict is about a re-run fixed before
/// the outputs were seen: a verifier cannot copy the provider's outputs and call them its own.
#[event_cpi]
#[derive(Accounts)]
pub struct CommitVerification<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
}

/// What a verifier commits to: sha256(job ‖ verifier ‖ result_hash).
pub fn verifier_commitment(job: &Pubkey, verifier: &Pubkey, result_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[
        b"cinder-verifier",
        job.as_ref(),
        verifier.as_ref(),
        result_hash,
    ])
    .to_bytes()
}

pub fn commit_verification(ctx: Context<CommitVerification>, commitment: [u8; 32]) -> Result<()> {
    let clock = Clock::get()?;
    let owner = ctx.accounts.owner.key();
    {
        let mut job = ctx.accounts.job.load_mut()?;
        job.check_verifier_may_act(&owner, clock.slot, clock.unix_timestamp)?;
        require!(commitment != [0; 32], CinderError::EmptyVerifierCommitment);
        require!(
            !job.verifier_committed(),
            CinderError::VerificationAlreadyCommitted
        );
        job.verifier_commitment = commitment;
    }
    emit_cpi!(VerificationCommitted {
        job: ctx.accounts.job.key(),
        verifier: owner,
        commitment,
    });
    Ok(())
}
