use crate::{constants::*, errors::CinderError, events::ConfigInitialized, state::*, utils};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    /// CHECK: created here at `["config"]` (prefund-tolerant); the seeds are verified by the signed CPI.
    #[account(mut, seeds = [CONFIG_SEED], bump)]
    pub config: UncheckedAccount<'info>,
    /// CHECK: must be an SPL Token or Token-2022 mint, checked in the handler.
    pub protocol_mint: UncheckedAccount<'info>,
    /// Only the upgrade authority may create the config, so nobody can front-run the deploy.
    #[account(seeds = [crate::ID.as_ref()], bump, seeds::program = anchor_lang::solana_program::bpf_loader_upgradeable::ID)]
    pub program_data: Account<'info, ProgramData>,
    pub system_program: Program<'info, System>,
}

impl InitConfig<'_> {
    fn validate(&self, params: &ConfigParams) -> Result<()> {
        require!(
            self.program_data.upgrade_authority_address == Some(self.admin.key()),
            CinderError::NotUpgradeAuthority
        );
        require!(
            self.config.data_is_empty(),
            CinderError::AccountAlreadyExists
        );
        utils::check_payment_mint(&self.protocol_mint, true)?;
        params.validate()
    }
}

#[access_control(ctx.accounts.validate(&params))]
pub fn init_config(ctx: Context<InitConfig>, params: ConfigParams) -> Result<()> {
    let config = Config {
        admin: ctx.accounts.admin.key(),
        pending_admin: Pubkey::default(),
        protocol_mint: ctx.accounts.protocol_mint.key(),
        params,
        total_burned: 0,
        total_slashed: 0,
        paused: Flag::new(false),
        version: Config::VERSION,
        bump: ctx.bumps.config,
        _reserved: [0; 61],
    };
    config.invariant()?;
    utils::init_zero_copy_account(
        &ctx.accounts.admin,
        &ctx.accounts.config,
        &ctx.accounts.system_program,
        &[CONFIG_SEED, &[ctx.bumps.config]],
        &config,
    )?;
    emit_cpi!(ConfigInitialized {
        admin: config.admin,
        protocol_mint: config.protocol_mint,
        params,
    });
    Ok(())
}
