use crate::{
    constants::*,
    errors::CinderError,
    events::ProviderRegistered,
    state::{check_gpu_model, fixed_ascii, Provider, ProviderStatus},
    utils,
};
use anchor_lang::prelude::*;

/// What a provider declares about its machine.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    pub gpu_model: [u8; GPU_MODEL_LEN],
    pub vram_gib: u16,
    pub gpu_count: u8,
    pub inventory_hash: [u8; 32],
    /// Where the worker serves results, e.g. `https://gpu1.example.com:8443`.
    pub endpoint: String,
}

impl ProviderInfo {
    /// Checks the fields and returns the endpoint as fixed bytes.
    pub fn validate(&self) -> Result<[u8; URI_LEN]> {
        require!(self.gpu_count > 0, CinderError::NoGpus);
        check_gpu_model(&self.gpu_model)?;
        fixed_ascii::<URI_LEN>(self.endpoint.as_bytes())
            .ok_or_else(|| error!(CinderError::InvalidUri))
    }
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    /// CHECK: created here at `["provider", owner]`; seeds verified by the constraint.
    #[account(mut, seeds = [PROVIDER_SEED, owner.key().as_ref()], bump)]
    pub provider: UncheckedAccount<'info>,
    /// CHECK: the owner's stake position `["stake", owner]`, which must exist: a provider is
    /// bound to it (stake first). Owner, type and owner field checked in the handler.
    pub stake: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn register_provider(ctx: Context<RegisterProvider>, info: ProviderInfo) -> Result<()> {
    require!(
        ctx.accounts.provider.data_is_empty(),
        CinderError::AccountAlreadyExists
    );
    require!(
        *ctx.accounts.stake.owner == crate::ID && !ctx.accounts.stake.data_is_empty(),
        CinderError::NoStakePosition
    );
    let stake = utils::load_zero_copy_mut::<crate::state::StakePosition>(&ctx.accounts.stake)?;
    require!(
        stake.owner == ctx.accounts.owner.key(),
        CinderError::StakeMismatch
    );
    drop(stake);
    let endpoint = info.validate()?;
    let owner = ctx.accounts.owner.key();
    let provider = Provider {
        owner,
        status: ProviderStatus::Active,
        gpu_count: info.gpu_count,
        vram_gib: info.vram_gib,
        active_jobs: 0,
        jobs_done: 0,
        jobs_quit: 0,
        jobs_expired: 0,
        registered_at: Clock::get()?.unix_timestamp,
        locked_stake: 0,
        gpu_model: info.gpu_model,
        inventory_hash: info.inventory_hash,
        endpoint,
        endpoint_len: info.endpoint.len() as u8,
        bump: ctx.bumps.provider,
        _reserved: [0; 54],
    };
    provider.invariant()?;
    utils::init_zero_copy_account(
        &ctx.accounts.owner,
        &ctx.accounts.provider,
        &ctx.accounts.system_program,
        &[PROVIDER_SEED, owner.as_ref(), &[ctx.bumps.provider]],
        &provider,
    )?;
    emit_cpi!(ProviderRegistered {
        provider: ctx.accounts.provider.key(),
        owner,
        gpu_model: info.gpu_model,
        vram_gib: info.vram_gib,
        gpu_count: info.gpu_count,
    });
    Ok(())
}
