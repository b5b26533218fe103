//! A plain-Rust reference model of every balance the conservation property touches: each job
//! vault, the market's verification pool (with its unswept protocol fees), the fee vaults of
//! the payment and the protocol mint, the stake and reward vaults, the treasury, every
//! participant's token accounts, the protocol mint's supply and `Config.total_burned`, and the
//! stake positions and reward accumulator that decide what a claim pays.
//!
//! Each *successful* instruction updates the model by its own rule, written here from the
//! program's documented rules with u128 arithmetic (fees round up, payouts round down) and
//! without calling any program function. The test reads only inputs that are not money from
//! the chain before an instruction (a job's state, billed seconds and sample status, the
//! auction's epoch start and init price, the clock) and describes the rule to apply as an
//! [`Effect`]; the amounts are the model's. After every instruction, [`Model::check`]
//! compares the chain with the model exactly.

use cinder::state::{Config, Job, Market, StakePool};
use cinder_tests::{
    ix,
    reference::{accrued, weight_for, REWARD_SCALE},
    World,
};
use proptest::prelude::*;
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

const BPS: u128 = 10_000;
/// `bps` of `x`, rounded up: what the protocol charges.
fn bps_up(x: u128, bps: u16) -> u128 {
    (x * bps as u128).div_ceil(BPS)
}

/// `bps` of `x`, rounded down: what a participant is paid.
fn bps_down(x: u128, bps: u16) -> u128 {
    x * bps as u128 / BPS
}

/// What the model knows of one live job: its vault and the escrow it holds.
#[derive(Clone, Debug)]
pub struct JobBook {
    pub vault: Pubkey,
    pub price: u64,
    pub duration: u32,
    /// Fee rates fixed at posting (the config's protocol fee, the market's verification fee).
    pub protocol_fee_bps: u16,
    pub verification_fee_bps: u16,
    /// The market's verify rate at posting: bounds what a drawn re-run costs the pool.
    pub verify_rate_bps: u16,
    pub escrow_compute: u128,
    pub escrow_verification: u128,
    pub bond: u128,
    /// A re-run forced by an unrevealed draw, paid out of the vault: the provider's to bear
    /// at settlement.
    pub rerun_paid: u128,
}

/// One stake position, as the reward accumulator sees it.
#[derive(Clone, Debug, Default)]
pub struct Position {
    pub amount: u64,
    pub weight: u64,
    pub unbonding: u64,
    pub pending: u128,
    pub debt: u128,
    pub lock_secs: u32,
}

/// The rule a successful instruction applies, with the non-money inputs it needs.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Moves no tokens (claim, submit, reveal, claim_verification, a warp).
    Nothing,
    Post {
        job: Pubkey,
        vault: Pubkey,
        price: u64,
        duration: u32,
        /// `verify_mode` none: the job carries no verification fee and no sampling rate.
        unverified: bool,
    },
    Extend {
        job: Pubkey,
        added_secs: u32,
    },
    Cancel {
        job: Pubkey,
    },
    /// settle_job / accept_result. `refunded`: the arbiter found the verifier right or could
    /// not decide; `verified`: a verified job (a client bond left in the vault is the
    /// provider's).
    Settle {
        job: Pubkey,
        billed_secs: u32,
        refunded: bool,
        verified: bool,
        /// The job's `resolution`: a client bond left in a verified job's vault is the
        /// provider's only when the arbiter found it right (a result that stands by the
        /// arbiter's silence returns it to the client).
        resolution: u8,
    },
    Dispute {
        job: Pubkey,
    },
    /// submit_verification. `drawn_sample`: the job's sample status is Sampled.
    Verify {
        job: Pubkey,
        matched: bool,
        billed_secs: u32,
        verifier_billed_secs: u32,
        drawn_sample: bool,
        /// The verifier's payment-token account.
        verifier_token: Pubkey,
        /// A second verdict (the job was escalated): never paid from the pool or the bond.
        escalated: bool,
    },
    /// expire_job, expire_verification, resolve_dispute: `bps` of `who`'s stake, a share to
    /// `winner`, the rest burned.
    Slash {
        who: Pubkey,
        bps: u16,
        reward_bps: u16,
        winner: Pubkey,
        /// A second verifier on the winner's side: half the reward (rounded down).
        co_winner: Option<Pubkey>,
    },
    /// Several effects of one instruction, in order (resolve_dispute's slashes).
    All(Vec<Effect>),
    /// quit_job: `bps` of the stake the job locked, burned.
    QuitPenalty {
        who: Pubkey,
        stake_locked: u64,
        bps: u16,
    },
    Sweep,
    Stake {
        who: Pubkey,
        token: Pubkey,
        amount: u64,
        lock_secs: u32,
    },
    Unstake {
        who: Pubkey,
        amount: u64,
    },
    Restake {
        who: Pubkey,
    },
    Withdraw {
        who: Pubkey,
        token: Pubkey,
    },
    ClaimRewards {
        who: Pubkey,
        token: Pubkey,
    },
    Deposit {
        from: Pubkey,
        amount: u64,
    },
    /// buy at `price` (from [`cinder_tests::reference::auction_price`]): the buyer pays the reward vault and takes the
    /// whole payment-mint fee vault; the price is split as revenue.
    Buy {
        price: u128,
        buyer_protocol: Pubkey,
        buyer_payment: Pubkey,
    },
    /// A plain transfer of protocol tokens into the protocol mint's fee vault.
    ProtocolFees {
        from: Pubkey,
        amount: u64,
    },
    /// distribute_fees: the protocol mint's fee vault is split as revenue.
    Distribute,
}

/// The accounts with a fixed role.
#[derive(Clone, Debug)]
pub struct Keys {
    pub client: Pubkey,
    pub provider: Pubkey,
    pub verifier: Pubkey,
    pub pool: Pubkey,
    pub fee_vault: Pubkey,
    pub protocol_fee_vault: Pubkey,
    pub stake_vault: Pubkey,
    pub reward_vault: Pubkey,
    pub treasury: Pubkey,
    /// Every other token account an instruction may pay or debit, with a name.
    pub others: Vec<(Pubkey, String)>,
    /// Stake position owners.
    pub stakers: Vec<Pubkey>,
    pub market: Pubkey,
}

pub struct Model {
    pub keys: Keys,
    balances: BTreeMap<Pubkey, u128>,
    jobs: BTreeMap<Pubkey, JobBook>,
    closed_vaults: Vec<Pubkey>,
    positions: BTreeMap<Pubkey, Position>,
    acc: u128,
    total_weight: u64,
    total_staked: u128,
    supply: u128,
    burned: u128,
    /// The market's unswept protocol fees (held in its pool).
    accrued: u128,
    /// Below this total weight rewards go to the treasury (one whole protocol token).
    min_stake: u64,
    /// Config: protocol fee and the revenue split.
    protocol_fee_bps: u16,
    stakers_bps: u16,
    treasury_bps: u16,
    /// Market: verification fee and verify rate.
    verification_fee_bps: u16,
    verify_rate_bps: u16,
}

type Res = Result<(), String>;

impl Model {
    /// What the model paid out of a live job's vault for a re-run forced by an unrevealed
    /// draw (0 for a job it does not know).
    pub fn rerun_paid(&self, job: &Pubkey) -> u128 {
        self.jobs.get(job).map_or(0, |b| b.rerun_paid)
    }

    /// The model of the chain as it is now (the start of a case): balances, positions and
    /// the accumulator are read once; from here on only the model's rules change them.
    pub fn new(w: &mut World, keys: Keys) -> Self {
        let mut fixed = vec![
            keys.client,
            keys.provider,
            keys.verifier,
            keys.pool,
            keys.fee_vault,
            keys.protocol_fee_vault,
            keys.stake_vault,
            keys.reward_vault,
            keys.treasury,
        ];
        fixed.extend(keys.others.iter().map(|o| o.0));
        let balances = fixed.iter().map(|k| (*k, w.balance(k) as u128)).collect();
        let pool: StakePool = w.read(&ix::stake_pool_pda());
        let positions = keys
            .stakers
            .iter()
            .map(|o| {
                let p = w
                    .position_of(o)
                    .map_or_else(Position::default, |p| Position {
                        amount: p.amount,
                        weight: p.weight,
                        unbonding: p.unbonding,
                        pending: p.pending_rewards as u128,
                        debt: p.reward_debt.get(),
                        lock_secs: p.lock_secs,
                    });
                (*o, p)
            })
            .collect();
        let config: Config = w.read(&ix::config_pda());
        let market: Market = w.read(&keys.market);
        Self {
            balances,
            jobs: BTreeMap::new(),
            closed_vaults: Vec::new(),
            positions,
            acc: pool.acc_reward_per_weight.get(),
            total_weight: pool.total_weight,
            total_staked: pool.total_staked as u128,
            supply: w.protocol_supply() as u128,
            burned: config.total_burned as u128,
            accrued: market.protocol_fees_accrued as u128,
            min_stake: 10u64.pow(pool.decimals as u32),
            protocol_fee_bps: config.params.protocol_fee_bps.0,
            stakers_bps: config.params.stakers_bps.0,
            treasury_bps: config.params.treasury_bps.0,
            verification_fee_bps: market.params.verification_fee_bps.0,
            verify_rate_bps: market.params.verify_rate_bps.0,
            keys,
        }
    }

    fn bal(&mut self, key: &Pubkey) -> Result<&mut u128, String> {
        self.balances
            .get_mut(key)
            .ok_or_else(|| format!("token account {key} is not modelled"))
    }

    /// Moves `amount` between two modelled token accounts.
    fn transfer(&mut self, from: &Pubkey, to: &Pubkey, amount: u128) -> Res {
        let src = self.bal(from)?;
        *src = src
            .checked_sub(amount)
            .ok_or_else(|| format!("model: {from} cannot pay {amount}"))?;
        *self.bal(to)? += amount;
        Ok(())
    }

    /// Burns `amount` from a modelled account: supply down, total_burned up.
    fn burn(&mut self, from: &Pubkey, amount: u128) -> Res {
        let src = self.bal(from)?;
        *src = src
            .checked_sub(amount)
            .ok_or_else(|| format!("model: {from} cannot burn {amount}"))?;
        self.supply -= amount;
        self.burned += amount;
        Ok(())
    }

    fn job(&mut self, job: &Pubkey) -> Result<&mut JobBook, String> {
        self.jobs
            .get_mut(job)
            .ok_or_else(|| format!("job {job} is not modelled"))
    }

    /// Escrow of a job of `price` × `duration`: the compute, and its verification fee
    /// rounded up.
    fn escrow(price: u64, duration: u32, verification_fee_bps: u16) -> (u128, u128) {
        let compute = price as u128 * duration as u128;
        (compute, bps_up(compute, verification_fee_bps))
    }

    /// Pays out and closes a job's vault.
    fn close_job(&mut self, job: &Pubkey, payouts: &[(Pubkey, u128)]) -> Res {
        let vault = self.job(job)?.vault;
        for (to, amount) in payouts {
            self.transfer(&vault, to, *amount)?;
        }
        let left = self.balances.remove(&vault).unwrap_or(0);
        if left != 0 {
            return Err(format!("model: vault of {job} closed holding {left}"));
        }
        self.jobs.remove(job);
        self.closed_vaults.push(vault);
        Ok(())
    }

    // --- staking ------------------------------------------------------------------------

    fn position(&mut self, who: &Pubkey) -> Result<&mut Position, String> {
        self.positions
            .get_mut(who)
            .ok_or_else(|| format!("stake position of {who} is not modelled"))
    }

    /// A position's rewards since its last update join its pending rewards: accrued (rounded
    /// down) less its debt (rounded up), never negative; the debt moves to the accumulator.
    fn settle_rewards(&mut self, who: &Pubkey) -> Res {
        let acc = self.acc;
        let p = self.position(who)?;
        p.pending += accrued(p.weight, acc, false).saturating_sub(p.debt);
        p.debt = accrued(p.weight, acc, true);
        Ok(())
    }

    /// Recomputes a position's weight after its amount or lock changed; the pool's total
    /// weight follows and the debt is reset (rounded up).
    fn reweight(&mut self, who: &Pubkey) -> Res {
        let acc = self.acc;
        let p = self.position(who)?;
        let old = p.weight;
        p.weight = weight_for(p.amount, p.lock_secs);
        p.debt = accrued(p.weight, acc, true);
        let new = p.weight;
        self.total_weight = self.total_weight - old + new;
        Ok(())
    }

    /// Takes up to `amount` of `who`'s stake, active first, then unbonding (rewards settled
    /// first). Returns what was taken; the tokens are still in the stake vault.
    fn take_stake(&mut self, who: &Pubkey, amount: u128) -> Result<u128, String> {
        self.settle_rewards(who)?;
        let p = self.position(who)?;
        let taken = amount.min(p.amount as u128 + p.unbonding as u128);
        let from_active = taken.min(p.amount as u128);
        p.amount -= from_active as u64;
        p.unbonding -= (taken - from_active) as u64;
        self.reweight(who)?;
        self.total_staked -= taken;
        Ok(taken)
    }

    /// New rewards: shared by weight (accumulator += amount × 1e18 / total weight, rounded
    /// down) when at least one whole token of weight is staked; else the treasury's.
    fn accrue_rewards(&mut self, amount: u128) -> bool {
        if self.total_weight < self.min_stake {
            return false;
        }
        self.acc += amount * REWARD_SCALE / self.total_weight as u128;
        true
    }

    /// Protocol-token revenue held by `source`: the stakers' and the treasury's shares round
    /// down, the burn takes the rest; the stakers' share goes to the treasury when nobody is
    /// staked, else to the reward vault.
    fn revenue(&mut self, source: &Pubkey, amount: u128) -> Res {
        let stakers = bps_down(amount, self.stakers_bps);
        let treasury = bps_down(amount, self.treasury_bps);
        let burn = amount - stakers - treasury;
        let shared = stakers == 0 || self.accrue_rewards(stakers);
        let to_stakers = if shared { stakers } else { 0 };
        let to_treasury = stakers + treasury - to_stakers;
        let (treasury_key, reward_vault) = (self.keys.treasury, self.keys.reward_vault);
        self.transfer(source, &treasury_key, to_treasury)?;
        if *source != reward_vault {
            self.transfer(source, &reward_vault, to_stakers)?;
        }
        self.burn(source, burn)
    }

    /// Updates the model for a successful instruction.
    pub fn apply(&mut self, effect: &Effect) -> Res {
        let k = self.keys.clone();
        match *effect {
            Effect::Nothing => {}
            Effect::Post {
                job,
                vault,
                price,
                duration,
                unverified,
            } => {
                let (vbps, rate) = if unverified {
                    (0, 0)
                } else {
                    (self.verification_fee_bps, self.verify_rate_bps)
                };
                let (compute, verification) = Self::escrow(price, duration, vbps);
                self.balances.insert(vault, 0);
                self.transfer(&k.client, &vault, compute + verification)?;
                let book = JobBook {
                    vault,
                    price,
                    duration,
                    protocol_fee_bps: self.protocol_fee_bps,
                    verification_fee_bps: vbps,
                    verify_rate_bps: rate,
                    escrow_compute: compute,
                    escrow_verification: verification,
                    bond: 0,
                    rerun_paid: 0,
                };
                self.jobs.insert(job, book);
            }
            // The client tops the escrow up to the longer duration's.
            Effect::Extend { job, added_secs } => {
                let b = self.job(&job)?.clone();
                let duration = b.duration + added_secs;
                let (compute, verification) =
                    Self::escrow(b.price, duration, b.verification_fee_bps);
                let deposit = compute - b.escrow_compute + verification - b.escrow_verification;
                self.transfer(&k.client, &b.vault, deposit)?;
                let b = self.job(&job)?;
                (b.duration, b.escrow_compute, b.escrow_verification) =
                    (duration, compute, verification);
            }
            // The whole vault back to the client.
            Effect::Cancel { job } => {
                let vault = self.job(&job)?.vault;
                let all = *self.bal(&vault)?;
                self.close_job(&job, &[(k.client, all)])?;
            }
            Effect::Settle {
                job,
                billed_secs,
                refunded,
                verified,
                resolution,
            } => {
                let b = self.job(&job)?.clone();
                let vault = *self.bal(&b.vault)?;
                // Refunded: nothing to the provider, no protocol fee; the verification fee on
                // pay (rounded up, at most the vault) to the pool, the rest to the client.
                if refunded {
                    // A forced re-run paid out of the vault (a challenged match overturned or
                    // undecided) was part of that fee: the pool takes the rest of it.
                    let pay = b.price as u128 * billed_secs as u128;
                    let verification =
                        (bps_up(pay, b.verification_fee_bps) - b.rerun_paid).min(vault);
                    return self.close_job(
                        &job,
                        &[(k.pool, verification), (k.client, vault - verification)],
                    );
                }
                // pay = price × billed; the protocol fee rounds up and comes out of the
                // provider's pay; the verification fee on pay (rounded up) goes to the pool
                // with the protocol fee; a verified job's remaining bond is the provider's;
                // the client gets the rest.
                let pay = b.price as u128 * billed_secs as u128;
                let fee = bps_up(pay, b.protocol_fee_bps);
                let verification = bps_up(pay, b.verification_fee_bps);
                let bond = if verified && resolution == cinder::state::resolution::PROVIDER_RIGHT {
                    b.bond
                } else {
                    0
                };
                // A forced re-run already paid out of the vault came out of the provider's
                // pay: the client's refund is what it would have been without it.
                let rerun = b.rerun_paid;
                let refund = (vault + rerun)
                    .checked_sub(pay + verification + bond)
                    .ok_or("model: settlement exceeds the vault")?;
                self.accrued += fee;
                self.close_job(
                    &job,
                    &[
                        (k.provider, pay - fee + bond - rerun),
                        (k.pool, fee + verification),
                        (k.client, refund),
                    ],
                )?;
            }
            // The client's bond: the job's verification escrow, at least one unit.
            Effect::Dispute { job } => {
                let b = self.job(&job)?;
                let bond = b.escrow_verification.max(1);
                b.bond = bond;
                let vault = b.vault;
                self.transfer(&k.client, &vault, bond)?;
            }
            Effect::Verify {
                job,
                matched,
                billed_secs,
                verifier_billed_secs,
                drawn_sample,
                verifier_token,
                escalated,
            } => {
                if !matched || escalated {
                    return Ok(());
                }
                // The verifier's run at the job's price, for at most the provider's billed
                // seconds.
                let b = self.job(&job)?.clone();
                let run = b.price as u128 * verifier_billed_secs.min(billed_secs) as u128;
                if b.bond > 0 {
                    // A re-run the client forced with a dispute is the client's to pay: its
                    // bond pays the run (at most the bond), the provider the rest; the pool
                    // pays nothing.
                    let to_verifier = run.min(b.bond);
                    self.transfer(&b.vault, &verifier_token, to_verifier)?;
                    self.transfer(&b.vault, &k.provider, b.bond - to_verifier)?;
                    self.job(&job)?.bond = 0;
                    return Ok(());
                }
                let job_pay = b.price as u128 * billed_secs as u128;
                if !drawn_sample {
                    // A run forced by an unrevealed draw: out of the vault, at the provider's
                    // expense (settlement takes it from its share); at most the job's own
                    // verification fee and at most the provider's pay net of the protocol fee.
                    let net = job_pay - bps_up(job_pay, b.protocol_fee_bps);
                    let paid = run.min(bps_up(job_pay, b.verification_fee_bps)).min(net);
                    self.transfer(&b.vault, &verifier_token, paid)?;
                    self.job(&job)?.rerun_paid = paid;
                    return Ok(());
                }
                // From the pool, only a run the draw decided: at most pay × fee / rate
                // (rounded down), the pool's expected income from the job over the chance it is
                // drawn, and only what the pool holds beyond the unswept protocol fees.
                let bound =
                    job_pay * b.verification_fee_bps as u128 / b.verify_rate_bps.max(1) as u128;
                let pay = run.min(bound);
                let free = self.bal(&k.pool)?.saturating_sub(self.accrued);
                self.transfer(&k.pool, &verifier_token, pay.min(free))?;
            }
            // bps of active + unbonding stake (rounded down) is taken; reward_bps of it
            // (rounded down) to the winner, the rest burned.
            Effect::Slash {
                who,
                bps,
                reward_bps,
                winner,
                co_winner,
            } => {
                let p = self.position(&who)?;
                let want = bps_down(p.amount as u128 + p.unbonding as u128, bps);
                let taken = self.take_stake(&who, want)?;
                let reward = bps_down(taken, reward_bps);
                let co = if co_winner.is_some() { reward / 2 } else { 0 };
                self.transfer(&k.stake_vault, &winner, reward - co)?;
                if let Some(co_winner) = co_winner {
                    self.transfer(&k.stake_vault, &co_winner, co)?;
                }
                self.burn(&k.stake_vault, taken - reward)?;
            }
            Effect::All(ref effects) => {
                for e in effects {
                    self.apply(e)?;
                }
            }
            Effect::QuitPenalty {
                who,
                stake_locked,
                bps,
            } => {
                let penalty = bps_down(stake_locked as u128, bps);
                if penalty > 0 {
                    let taken = self.take_stake(&who, penalty)?;
                    self.burn(&k.stake_vault, taken)?;
                }
            }
            // All unswept protocol fees from the pool to the fee vault.
            Effect::Sweep => {
                let amount = std::mem::take(&mut self.accrued);
                self.transfer(&k.pool, &k.fee_vault, amount)?;
            }
            Effect::Stake {
                who,
                token,
                amount,
                lock_secs,
            } => {
                self.settle_rewards(&who)?;
                let p = self.position(&who)?;
                p.amount += amount;
                p.lock_secs = lock_secs;
                self.reweight(&who)?;
                self.total_staked += amount as u128;
                self.transfer(&token, &k.stake_vault, amount as u128)?;
            }
            Effect::Unstake { who, amount } => {
                self.settle_rewards(&who)?;
                let p = self.position(&who)?;
                p.amount -= amount;
                p.unbonding += amount;
                self.reweight(&who)?;
            }
            Effect::Restake { who } => {
                self.settle_rewards(&who)?;
                let p = self.position(&who)?;
                p.amount += std::mem::take(&mut p.unbonding);
                self.reweight(&who)?;
            }
            Effect::Withdraw { who, token } => {
                let amount = std::mem::take(&mut self.position(&who)?.unbonding) as u128;
                self.total_staked -= amount;
                self.transfer(&k.stake_vault, &token, amount)?;
            }
            Effect::ClaimRewards { who, token } => {
                self.settle_rewards(&who)?;
                let amount = std::mem::take(&mut self.position(&who)?.pending);
                self.transfer(&k.reward_vault, &token, amount)?;
            }
            Effect::Deposit { from, amount } => {
                let to = if self.accrue_rewards(amount as u128) {
                    k.reward_vault
                } else {
                    k.treasury
                };
                self.transfer(&from, &to, amount as u128)?;
            }
            Effect::Buy {
                price,
                buyer_protocol,
                buyer_payment,
            } => {
                self.transfer(&buyer_protocol, &k.reward_vault, price)?;
                let sold = *self.bal(&k.fee_vault)?;
                self.transfer(&k.fee_vault, &buyer_payment, sold)?;
                self.revenue(&k.reward_vault, price)?;
            }
            Effect::ProtocolFees { from, amount } => {
                self.transfer(&from, &k.protocol_fee_vault, amount as u128)?;
            }
            Effect::Distribute => {
                let amount = *self.bal(&k.protocol_fee_vault)?;
                self.revenue(&k.protocol_fee_vault, amount)?;
            }
        }
        Ok(())
    }

    /// Compares the chain with the model, exactly: every modelled token account, closed
    /// vaults, live jobs' escrow, the mint's supply and total burned, the market's unswept
    /// fees, the stake pool and every position.
    pub fn check(&self, w: &mut World, op: &dyn std::fmt::Debug) -> Result<(), TestCaseError> {
        for (key, want) in &self.balances {
            let got = w.balance(key) as u128;
            prop_assert_eq!(got, *want, "after {:?}: balance of {}", op, self.name(key));
        }
        for vault in &self.closed_vaults {
            prop_assert!(
                !w.exists(vault),
                "after {:?}: vault {} not closed",
                op,
                vault
            );
        }
        for (key, b) in &self.jobs {
            let j: Job = w.read(key);
            let got = (
                j.escrow_compute as u128,
                j.escrow_verification as u128,
                j.client_bond() as u128,
            );
            let want = (b.escrow_compute, b.escrow_verification, b.bond);
            prop_assert_eq!(got, want, "after {:?}: escrow/bond of job {}", op, key);
        }
        let config: Config = w.read(&ix::config_pda());
        prop_assert_eq!(
            w.protocol_supply() as u128,
            self.supply,
            "after {:?}: supply",
            op
        );
        prop_assert_eq!(
            config.total_burned as u128,
            self.burned,
            "after {:?}: burned",
            op
        );
        let market: Market = w.read(&self.keys.market);
        prop_assert_eq!(
            market.protocol_fees_accrued as u128,
            self.accrued,
            "after {:?}: unswept protocol fees",
            op
        );
        let pool: StakePool = w.read(&ix::stake_pool_pda());
        let got = (
            pool.total_staked as u128,
            pool.total_weight,
            pool.acc_reward_per_weight.get(),
        );
        let want = (self.total_staked, self.total_weight, self.acc);
        prop_assert_eq!(
            got,
            want,
            "after {:?}: stake pool (staked, weight, acc)",
            op
        );
        for (owner, p) in &self.positions {
            let got = w.position_of(owner).map_or((0, 0, 0, 0), |c| {
                (c.amount, c.weight, c.unbonding, c.pending_rewards as u128)
            });
            let want = (p.amount, p.weight, p.unbonding, p.pending);
            prop_assert_eq!(
                got,
                want,
                "after {:?}: position of {} (amount, weight, unbonding, pending)",
                op,
                owner
            );
        }
        Ok(())
    }

    /// A readable name for a modelled account in failure messages.
    fn name(&self, key: &Pubkey) -> String {
        let k = &self.keys;
        let role = [
            (k.client, "client"),
            (k.provider, "provider"),
            (k.verifier, "verifier"),
            (k.pool, "market pool"),
            (k.fee_vault, "fee vault"),
            (k.protocol_fee_vault, "protocol-mint fee vault"),
            (k.stake_vault, "stake vault"),
            (k.reward_vault, "reward vault"),
            (k.treasury, "treasury"),
        ]
        .iter()
        .find(|(x, _)| x == key)
        .map(|(_, n)| n.to_string());
        role.or_else(|| {
            let (_, name) = k.others.iter().find(|o| o.0 == *key)?;
            Some(name.clone())
        })
        .or_else(|| {
            let (job, _) = self.jobs.iter().find(|(_, b)| b.vault == *key)?;
            Some(format!("vault of job {job}"))
        })
        .unwrap_or_else(|| key.to_string())
    }
}
