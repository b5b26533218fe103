use crate::{
    errors::CinderError,
    events::ProviderUpdated,
    instructions::ProviderInfo,
    state::{Provider, ProviderStatus},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ CinderError::NotProviderOwner)]
    pub provider: AccountLoader<'info, Provider>,
}

/// Re-declares the machine and turns claiming on or off. Running jobs are unaffected.
pub fn update_provider(
    ctx: Context<UpdateProvider>,
    info: ProviderInfo,
    active: bool,
) -> Result<()> {
    let endpoint = info.validate()?;
    let mut provider = ctx.accounts.provider.load_mut()?;
    provider.gpu_model = info.gpu_model;
    provider.vram_gib = info.vram_gib;
    provider.gpu_count = info.gpu_count;
    provider.inventory_hash = info.inventory_hash;
    provider.endpoint = endpoint;
    provider.endpoint_len = info.endpoint.len() as u8;
    provider.status = if active {
        ProviderStatus::Active
    } else {
        ProviderStatus::Inactive
    };
    provider.invariant()?;
    drop(provider);
    emit_cpi!(ProviderUpdated {
        provider: ctx.accounts.provider.key(),
        active,
        gpu_model: info.gpu_model,
        vram_gib: info.vram_gib,
        gpu_count: info.gpu_count,
    });
    Ok(())
}
