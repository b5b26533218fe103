//! Taking stake from a provider or verifier: a share to whoever proved the fault, the rest
//! burned, totals in Config, a `Slashed` event. Shared by expire_job, expire_verification and
//! resolve_dispute.

use crate::{
    constants::STAKE_POOL_SEED,
    errors::CinderError,
    math,
    state::{Config, StakePool, StakePosition},
    utils,
};
use anchor_lang::prelude::*;

pub struct SlashAccounts<'a, 'info> {
    pub config: &'a AccountLoader<'info, Config>,
    pub stake_pool: &'a AccountLoader<'info, StakePool>,
    pub position: &'a AccountLoader<'info, StakePosition>,
    pub stake_vault: &'a AccountInfo<'info>,
    pub protocol_mint: &'a AccountInfo<'info>,
    /// Protocol-token account of whoever proved the fault (owner checked here).
    pub winner_token: &'a AccountInfo<'info>,
    pub winner: Pubkey,
    /// A second verifier that proved the fault with the winner: half the reward (rounded
    /// down) goes to its protocol-token account (owner checked here).
    pub co_winner: Option<(&'a AccountInfo<'info>, Pubkey)>,
    pub token_program: &'a AccountInfo<'info>,
}

pub struct Slash {
    pub amount: u64,
    pub reward: u64,
    pub burned: u64,
}

/// Slashes `bps` of `who`'s stake (active, then unbonding); pays `reward_bps` of it to the
/// winner and burns the rest.
pub fn slash(a: SlashAccounts, who: &Pubkey, bps: u16, reward_bps: u16) -> Result<Slash> {
    let (amount, bump, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let mut position = a.position.load_mut()?;
        require!(position.owner == *who, CinderError::StakeMismatch);
        let amount = position.slash(&mut pool, bps)?;
        (amount, pool.bump, pool.decimals)
    };
    let reward = math::bps_of_floor(amount, reward_bps)?;
    let burned = math::sub(amount, reward)?;
    if amount == 0 {
        return Ok(Slash {
            amount,
            reward,
            burned,
        });
    }
    let seeds: &[&[u8]] = &[STAKE_POOL_SEED, &[bump]];
    let pool_info = a.stake_pool.to_account_info();
    let co_share = if a.co_winner.is_some() { reward / 2 } else { 0 };
    let shares = [
        Some((a.winner_token, a.winner, math::sub(reward, co_share)?)),
        a.co_winner.map(|(token, owner)| (token, owner, co_share)),
    ];
    for (token, owner, amount) in shares.into_iter().flatten() {
        if amount == 0 {
            continue;
        }
        utils::check_token_owner(token, a.token_program.key, &owner)?;
        utils::transfer_checked(
            a.token_program,
            a.stake_vault,
            a.protocol_mint,
            token,
            &pool_info,
            amount,
            decimals,
            &[seeds],
        )?;
    }
    utils::burn(
        a.token_program,
        a.stake_vault,
        a.protocol_mint,
        &pool_info,
        burned,
        decimals,
        &[seeds],
    )?;
    let mut config = a.config.load_mut()?;
    config.total_slashed = math::add(config.total_slashed, amount)?;
    config.total_burned = math::add(config.total_burned, burned)?;
    Ok(Slash {
        amount,
        reward,
        burned,
    })
}
