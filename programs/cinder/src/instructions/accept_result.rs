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
                // A sampled job is accepted only once verified.
                let rate = ctx.accounts.market.load()?.params.verify_rate_bps.0;
                require!(
                    !job.must_verify(slot, rate),
                    CinderError::VerificationPending
                );
            }
            JobState::Verified => {}
            _ => return err!(CinderError::JobNotSubmitted),
        }
    }
    pay_out(ctx, true)
}
