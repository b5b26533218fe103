use crate::{
    constants::*,
    errors::CinderError,
    events::StakingInitialized,
    state::{Config, PodU128, StakePool},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Admin: creates the staking pool of the protocol token and its two vaults.
#[event_cpi]
#[derive(Accounts)]
pub struct InitStaking<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ CinderError::NotAdmin, has_one = protocol_mint @ CinderError::MintMismatch)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `["stake_pool"]`; seeds verified by the constraint.
    #[account(mut, seeds = [STAKE_POOL_SEED], bump)]
    pub stake_pool: UncheckedAccount<'info>,
    /// CHECK: token account created here at `["stake_vault"]`.
    #[account(mut, seeds = [STAKE_VAULT_SEED], bump)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: token account created here at `["reward_vault"]`.
    #[account(mut, seeds = [REWARD_VAULT_SEED], bump)]
    pub reward_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `config.protocol_mint` (has_one); checked at init_config.
    pub protocol_mint: UncheckedAccount<'info>,
    #[account(constraint = token_program.key() == *protocol_mint.owner @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn init_staking(ctx: Context<InitStaking>) -> Result<()> {
    let a = &ctx.accounts;
    require!(
        a.stake_pool.data_is_empty(),
        CinderError::AccountAlreadyExists
    );
    let decimals = utils::check_payment_mint(&a.protocol_mint, true)?;
    require!(
        (6..=18).contains(&decimals),
        CinderError::ProtocolMintDecimals
    );
    let pool_key = a.stake_pool.key();
    for (vault, seed, bump) in [
        (&a.stake_vault, STAKE_VAULT_SEED, ctx.bumps.stake_vault),
        (&a.reward_vault, REWARD_VAULT_SEED, ctx.bumps.reward_vault),
    ] {
        utils::create_pda_token_account(
            &a.admin,
            vault,
            &a.protocol_mint,
            &pool_key,
            &a.token_program,
            &a.system_program,
            &[seed, &[bump]],
        )?;
    }
    let pool = StakePool {
        protocol_mint: a.protocol_mint.key(),
        token_program: a.token_program.key(),
        stake_vault: a.stake_vault.key(),
        reward_vault: a.reward_vault.key(),
        acc_reward_per_weight: PodU128::default(),
        total_weight: 0,
        total_staked: 0,
        total_rewards_deposited: 0,
        total_rewards_to_treasury: 0,
        total_rewards_claimed: 0,
        decimals,
        bump: ctx.bumps.stake_pool,
        stake_vault_bump: ctx.bumps.stake_vault,
        reward_vault_bump: ctx.bumps.reward_vault,
        _reserved: [0; 60],
    };
    utils::init_zero_copy_account(
        &a.admin,
        &a.stake_pool,
        &a.system_program,
        &[STAKE_POOL_SEED, &[ctx.bumps.stake_pool]],
        &pool,
    )?;
    emit_cpi!(StakingInitialized {
        stake_pool: pool_key,
        protocol_mint: pool.protocol_mint,
    });
    Ok(())
}
