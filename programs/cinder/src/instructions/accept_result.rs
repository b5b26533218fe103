use crate::{
    errors::CinderError,
    instructions::settle_job::{pay_out, SettleJob},
    state::JobState,
};
use anchor_lang::prelude::*;

/// The client is satisfied before the challenge window ends: settle at once.
pub fn accept_result(ctx: Context<SettleJob>) -> Result<()> {
    require!(ctx.accounts.client.is_signer, CinderError::NotJobClient);
    {
        let job = ctx.accounts.job.load()?;
        let slot = Clock::get()?.slot;
        match job.state {
            JobState::Submitted => {
                // A drawn job is accepted only once verified; an unrevealed one is drawn here.
                require!(
                    !ctx.accounts.must_verify(&job, slot)?,
                    CinderError::VerificationPending
                );
            }
            JobState::Verified => {}
            _ => return err!(CinderError::JobNotSubmitted),
        }
    }
    pay_out(ctx, true)
}
