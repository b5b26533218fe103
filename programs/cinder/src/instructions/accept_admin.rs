use crate::{errors::CinderError, events::AdminAccepted, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,
    #[account(
        mut,
        constraint = config.load()?.pending_admin != Pubkey::default() @ CinderError::NoPendingAdmin,
        constraint = config.load()?.pending_admin == new_admin.key() @ CinderError::NotPendingAdmin,
    )]
    pub config: AccountLoader<'info, Config>,
}

pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    let old = config.admin;
    let new = ctx.accounts.new_admin.key();
    config.admin = new;
    config.pending_admin = Pubkey::default();
    config.invariant()?;
    drop(config);
    emit_cpi!(AdminAccepted { old, new });
    Ok(())
}
