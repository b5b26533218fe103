use crate::{errors::CinderError, events::ConfigUpdated, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ CinderError::NotAdmin)]
    pub config: Account<'info, Config>,
}

/// Sets every parameter at once (within bounds) and the pause flag.
#[access_control(params.validate())]
pub fn update_config(ctx: Context<UpdateConfig>, params: ConfigParams, paused: bool) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.params;
    let old_paused = config.paused;
    config.params = params;
    config.paused = paused;
    config.invariant()?;
    emit_cpi!(ConfigUpdated {
        old,
        new: params,
        old_paused,
        new_paused: paused,
    });
    Ok(())
}
