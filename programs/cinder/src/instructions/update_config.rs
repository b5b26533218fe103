use crate::{errors::CinderError, events::ConfigUpdated, state::*};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ CinderError::NotAdmin)]
    pub config: AccountLoader<'info, Config>,
}

/// Sets every parameter at once (within bounds) and the pause flag.
#[access_control(params.validate())]
pub fn update_config(ctx: Context<UpdateConfig>, params: ConfigParams, paused: bool) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    let old = config.params;
    let old_paused = config.paused.get();
    config.params = params;
    config.paused = Flag::new(paused);
    config.invariant()?;
    drop(config);
    emit_cpi!(ConfigUpdated {
        old,
        new: params,
        old_paused,
        new_paused: paused,
    });
    Ok(())
}
