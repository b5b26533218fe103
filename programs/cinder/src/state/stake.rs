use crate::errors::CinderError;
use anchor_lang::prelude::*;

/// A `u128` stored as 16 little-endian bytes: `u128`'s alignment differs between the host
/// (16) and SBF (8), so it cannot sit in a zero-copy account as is.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct PodU128(pub [u8; 16]);

impl PodU128 {
    pub fn get(self) -> u128 {
        u128::from_le_bytes(self.0)
    }

    pub fn set(&mut self, v: u128) {
        self.0 = v.to_le_bytes();
    }
}

/// The staking pool of the protocol token `["stake_pool"]`: staked tokens sit in `stake_vault`,
/// rewards in `reward_vault` (both owned by this PDA). Rewards use an O(1) accumulator:
/// `acc_reward_per_weight` grows by `deposit × 1e18 / total_weight` on every deposit.
#[account(zero_copy)]
#[derive(Debug)]
pub struct StakePool {
    pub protocol_mint: Pubkey,
    pub token_program: Pubkey,
    pub stake_vault: Pubkey,
    pub reward_vault: Pubkey,
    pub acc_reward_per_weight: PodU128,
    /// Σ weight of active stake.
    pub total_weight: u64,
    /// Tokens in `stake_vault`: active + unbonding of every position.
    pub total_staked: u64,
    /// Rewards deposited into `reward_vault`, sent to the treasury (no stakers), and claimed.
    pub total_rewards_deposited: u64,
    pub total_rewards_to_treasury: u64,
    pub total_rewards_claimed: u64,
    pub decimals: u8,
    pub bump: u8,
    pub stake_vault_bump: u8,
    pub reward_vault_bump: u8,
    pub _reserved: [u8; 60],
}

impl StakePool {
    pub const SPACE: usize = 8 + core::mem::size_of::<StakePool>();

    /// One whole protocol token: the smallest non-empty position, and the least total weight
    /// that rewards are shared over. It bounds how far one deposit can move the accumulator
    /// (amount × 1e18 / total_weight), so no dust-sized stake can push it to overflow and
    /// lock every position out of staking.
    pub fn min_stake(&self) -> u64 {
        10u64.pow(self.decimals as u32)
    }

    /// Books `amount` of new rewards: shared by weight from now on (returns true; the caller
    /// moves the tokens into the reward vault), or, with less than `min_stake` of weight,
    /// recorded as the treasury's (returns false; the caller pays the treasury).
    pub fn accrue_rewards(&mut self, amount: u64) -> Result<bool> {
        if self.total_weight < self.min_stake() {
            self.total_rewards_to_treasury =
                crate::math::add(self.total_rewards_to_treasury, amount)?;
            return Ok(false);
        }
        let acc = self
            .acc_reward_per_weight
            .get()
            .checked_add(crate::math::acc_increment(amount, self.total_weight)?)
            .ok_or_else(|| error!(CinderError::MathOverflow))?;
        self.acc_reward_per_weight.set(acc);
        self.total_rewards_deposited = crate::math::add(self.total_rewards_deposited, amount)?;
        Ok(true)
    }
}

/// One owner's stake `["stake", owner]`. A provider's position is the one of its owner.
#[account(zero_copy)]
#[derive(Debug)]
pub struct StakePosition {
    pub owner: Pubkey,
    /// Active stake: earns rewards, counts for claims, slashable.
    pub amount: u64,
    /// amount × (1 + 3 × lock / 365 d), rounded down.
    pub weight: u64,
    /// Requested for withdrawal: earns nothing, still slashable until withdrawn.
    pub unbonding: u64,
    pub unlock_at: i64,
    /// Rewards earned and not yet claimed.
    pub pending_rewards: u64,
    /// weight × acc / 1e18 at the last update (u128: it can exceed u64).
    pub reward_debt: PodU128,
    pub lock_secs: u32,
    pub bump: u8,
    pub _pad: [u8; 3],
    /// The slot active stake last grew (stake, restake): stake that grew at or after a verifier
    /// race's seed slot does not race in it (it could be sized to the known seed).
    pub grew_slot: u64,
    pub _reserved: [u8; 24],
}

impl StakePosition {
    pub const SPACE: usize = 8 + core::mem::size_of::<StakePosition>();

    /// Brings `pending_rewards` up to the pool's accumulator. Must run before any change of
    /// weight, or the position would earn on time it was not staked (or lose time it was).
    pub fn settle_rewards(&mut self, pool: &StakePool) -> Result<()> {
        let acc = pool.acc_reward_per_weight.get();
        let earned = crate::math::earned(self.weight, acc, self.reward_debt.get())?;
        self.pending_rewards = crate::math::add(self.pending_rewards, earned)?;
        self.reward_debt
            .set(crate::math::reward_debt(self.weight, acc)?);
        Ok(())
    }

    /// Recomputes the weight after `amount` or `lock_secs` changed (rewards settled first),
    /// keeping the pool's total weight in step.
    pub fn reweight(&mut self, pool: &mut StakePool) -> Result<()> {
        let new = crate::math::weight_for(self.amount, self.lock_secs)?;
        let total = crate::math::sub(pool.total_weight, self.weight)?;
        pool.total_weight = crate::math::add(total, new)?;
        self.weight = new;
        self.reward_debt.set(crate::math::reward_debt(
            new,
            pool.acc_reward_per_weight.get(),
        )?);
        self.invariant()
    }

    /// Takes `bps` of active + unbonding stake (rounded down), active first. Returns the
    /// amount taken; the caller moves the tokens out of the stake vault.
    pub fn slash(&mut self, pool: &mut StakePool, bps: u16) -> Result<u64> {
        let total = crate::math::add(self.amount, self.unbonding)?;
        self.take(pool, crate::math::bps_of_floor(total, bps)?)
    }

    /// Takes up to `amount` of stake, active first, then unbonding (rewards settled first,
    /// weight and pool totals updated). Returns what was taken.
    pub fn take(&mut self, pool: &mut StakePool, amount: u64) -> Result<u64> {
        self.settle_rewards(pool)?;
        let total = crate::math::add(self.amount, self.unbonding)?;
        let taken = amount.min(total);
        let from_active = taken.min(self.amount);
        self.amount = crate::math::sub(self.amount, from_active)?;
        self.unbonding = crate::math::sub(self.unbonding, crate::math::sub(taken, from_active)?)?;
        self.reweight(pool)?;
        pool.total_staked = crate::math::sub(pool.total_staked, taken)?;
        Ok(taken)
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            (self.amount == 0) == (self.weight == 0) && self.weight >= self.amount,
            CinderError::InvariantViolated
        );
        Ok(())
    }
}
