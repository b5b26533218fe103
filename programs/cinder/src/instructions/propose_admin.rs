use crate::{errors::CinderError, events::AdminProposed, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
}

/// Step one of two: the new admin only takes over once it signs `accept_admin`,
/// so a typo can never hand the protocol to a key nobody holds.
/// Proposing `Pubkey::default()` withdraws a pending proposal.
pub fn propose_admin(ctx: Context<ProposeAdmin>, proposed: Pubkey) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    config.pending_admin = proposed;
    config.invariant()?;
    let admin = config.admin;
    drop(config);
    emit_cpi!(AdminProposed { admin, proposed });
    Ok(())
}
