use crate::{errors::CinderError, events::AdminAccepted, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,
    #[account(
        mut,
        constraint = config.pending_admin != Pubkey::default() @ CinderError::NoPendingAdmin,
        constraint = config.pending_admin == new_admin.key() @ CinderError::NotPendingAdmin,
    )]
    pub config: Account<'info, Config>,
}

pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.admin;
    config.admin = ctx.accounts.new_admin.key();
    config.pending_admin = Pubkey::default();
    config.invariant()?;
    emit_cpi!(AdminAccepted {
        old,
        new: config.admin,
    });
    Ok(())
}
