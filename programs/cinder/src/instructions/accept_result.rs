use crate::{
    errors::CinderError,
    instructions::settle_job::{pay_out, SettleJob},
    state::JobState,
};
use anchor_lang::prelude::*;

/// The client is satisfied before the challenge window ends: settle at once.
pub fn accept_result(ctx: Context<SettleJob>) -> Result<()> {
    require!(ctx.accounts.client.is_signer, CinderError::NotJobClient);
    require!(
        ctx.accounts.job.load()?.state == JobState::Submitted,
        CinderError::JobNotSubmitted
    );
    pay_out(ctx, true)
}
