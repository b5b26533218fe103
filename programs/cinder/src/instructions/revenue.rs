//! Protocol-token revenue: split by the config into burn, stakers and treasury. Shared by
//! `buy` (the price paid) and `distribute_fees` (fees paid in the protocol mint).

use crate::{
    errors::CinderError,
    math::{self, RevenueSplit},
    state::{Config, StakePool},
    utils,
};
use anchor_lang::prelude::*;

pub struct RevenueAccounts<'a, 'info> {
    pub config: &'a AccountLoader<'info, Config>,
    pub stake_pool: &'a AccountLoader<'info, StakePool>,
    pub reward_vault: &'a AccountInfo<'info>,
    /// A protocol-token account of `config.params.treasury` (checked here).
    pub treasury_token: &'a AccountInfo<'info>,
    pub protocol_mint: &'a AccountInfo<'info>,
    pub token_program: &'a AccountInfo<'info>,
}

/// What `distribute` did.
pub struct Distributed {
    pub split: RevenueSplit,
    /// The treasury's share, plus the stakers' share when nobody is staked.
    pub to_treasury: u64,
    pub to_stakers: u64,
    pub total_burned: u64,
}

/// Splits `amount` protocol tokens held by the program-owned `source` (whose token authority
/// `authority` signs with `seeds`): the burn share is burned from `source`, the stakers' share
/// is booked in the reward pool and moved to the reward vault (unless `source` is the reward
/// vault), the treasury's share is paid to the treasury.
pub fn distribute<'info>(
    a: RevenueAccounts<'_, 'info>,
    source: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    seeds: &[&[u8]],
    amount: u64,
) -> Result<Distributed> {
    let (split, treasury) = {
        let config = a.config.load()?;
        (
            math::split_revenue(amount, &config.params)?,
            config.params.treasury,
        )
    };
    let (to_stakers, decimals) = {
        let mut pool = a.stake_pool.load_mut()?;
        let shared = split.stakers == 0 || pool.accrue_rewards(split.stakers)?;
        (if shared { split.stakers } else { 0 }, pool.decimals)
    };
    let to_treasury = math::sub(math::add(split.stakers, split.treasury)?, to_stakers)?;
    if to_treasury > 0 {
        utils::check_token_owner(a.treasury_token, a.token_program.key, &treasury)
            .map_err(|_| error!(CinderError::NotTreasury))?;
        utils::transfer_checked(
            a.token_program,
            source,
            a.protocol_mint,
            a.treasury_token,
            authority,
            to_treasury,
            decimals,
            &[seeds],
        )?;
    }
    if to_stakers > 0 && source.key != a.reward_vault.key {
        utils::transfer_checked(
            a.token_program,
            source,
            a.protocol_mint,
            a.reward_vault,
            authority,
            to_stakers,
            decimals,
            &[seeds],
        )?;
    }
    utils::burn(
        a.token_program,
        source,
        a.protocol_mint,
        authority,
        split.burn,
        decimals,
        &[seeds],
    )?;
    let total_burned = {
        let mut config = a.config.load_mut()?;
        config.total_burned = math::add(config.total_burned, split.burn)?;
        config.total_burned
    };
    Ok(Distributed {
        split,
        to_treasury,
        to_stakers,
        total_burned,
    })
}
