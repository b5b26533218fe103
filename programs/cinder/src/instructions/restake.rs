use crate::{
    constants::*,
    errors::CinderError,
    events::Restaked,
    math,
    state::{StakePool, StakePosition},
};
use anchor_lang::prelude::*;

/// Owner: cancels unbonding; the stake is active (and earning) again.
#[event_cpi]
#[derive(Accounts)]
pub struct Restake<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub stake_pool: AccountLoader<'info, StakePool>,
    #[account(mut, seeds = [STAKE_SEED, owner.key().as_ref()], bump = position.load()?.bump)]
    pub position: AccountLoader<'info, StakePosition>,
}

pub fn restake(ctx: Context<Restake>) -> Result<()> {
    let mut pool = ctx.accounts.stake_pool.load_mut()?;
    let mut pos = ctx.accounts.position.load_mut()?;
    let amount = pos.unbonding;
    require!(amount > 0, CinderError::NothingToWithdraw);
    pos.settle_rewards(&pool)?;
    pos.amount = math::add(pos.amount, amount)?;
    pos.unbonding = 0;
    pos.grew_slot = Clock::get()?.slot;
    pos.unlock_at = 0;
    pos.reweight(&mut pool)?;
    drop((pool, pos));
    emit_cpi!(Restaked {
        owner: ctx.accounts.owner.key(),
        amount,
    });
    Ok(())
}
