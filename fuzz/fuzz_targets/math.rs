//! The program's money math on arbitrary inputs: it never panics, errors only where the exact
//! result does not fit, and keeps the protocol's invariants — a settlement pays out the vault to
//! the base unit, fees round up and payouts down, stakers are never owed more than was
//! deposited, the auction price only falls and stays in its bounds, and a verifier is never
//! paid for more than the job's own run (the pool: no more than it expects to earn from a drawn
//! job; the provider's pay, for a run an unrevealed draw forced: no more than the job's own
//! verification fee nor the provider's net pay).
#![no_main]

use arbitrary::Arbitrary;
use cinder::{
    constants::{BPS_DENOMINATOR, MAX_LOCK_SECS, MIN_LOCK_SECS, YEAR_SECS},
    instructions::{forced_rerun_pay, verifier_pay},
    math,
    state::{Auction, AuctionParams, Bps, ConfigParams, Job, StakePool, StakePosition},
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Case {
    MulDiv {
        a: u64,
        b: u64,
        d: u64,
    },
    Bps {
        amount: u64,
        bps: u16,
    },
    Settlement {
        price: u64,
        duration: u32,
        billed: u32,
        fee_bps: u16,
        vfee_bps: u16,
        donation: u64,
    },
    Split {
        amount: u64,
        burn: u16,
        stakers: u16,
    },
    Rewards {
        decimals: u8,
        ops: Vec<RewardOp>,
    },
    Auction {
        init: u64,
        floor: u64,
        min_init: u64,
        period: u32,
        multiplier: u32,
        start: i64,
        t: i64,
        dt: i64,
        paid: u64,
    },
    Verifier {
        price: u64,
        billed: u32,
        verifier_billed: u32,
        vfee_bps: u16,
        rate_bps: u16,
        fee_bps: u16,
        bond: u64,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RewardOp {
    Stake { who: u8, amount: u64, lock: u32 },
    Unstake { who: u8, amount: u64 },
    Deposit { amount: u64 },
    Claim { who: u8 },
    Slash { who: u8, bps: u16 },
}

const POSITIONS: usize = 4;

fn exact(a: u64, b: u64) -> u128 {
    a as u128 * b as u128
}

fn mul_div(a: u64, b: u64, d: u64) {
    let floor = math::mul_div_floor(a, b, d);
    let ceil = math::mul_div_ceil(a, b, d);
    if d == 0 {
        assert!(floor.is_err() && ceil.is_err());
        return;
    }
    let q = exact(a, b) / d as u128;
    let q_up = exact(a, b).div_ceil(d as u128);
    assert_eq!(
        floor.ok().map(u128::from),
        (q <= u64::MAX as u128).then_some(q)
    );
    assert_eq!(
        ceil.ok().map(u128::from),
        (q_up <= u64::MAX as u128).then_some(q_up)
    );
}

fn bps(amount: u64, bps: u16) {
    let n = exact(amount, bps as u64);
    let (floor, ceil) = (
        math::bps_of_floor(amount, bps),
        math::bps_of_ceil(amount, bps),
    );
    if bps > BPS_DENOMINATOR {
        // Above 100 % (the program's bounds refuse it) the share may not fit: an error then.
        assert_eq!(floor.is_ok(), n / 10_000 <= u64::MAX as u128);
        assert_eq!(ceil.is_ok(), n.div_ceil(10_000) <= u64::MAX as u128);
        return;
    }
    let floor = floor.expect("a share of at most 100 % fits") as u128;
    let ceil = ceil.expect("a share of at most 100 % fits") as u128;
    assert!(
        floor * 10_000 <= n && n < (floor + 1) * 10_000,
        "payout share rounds down"
    );
    assert!(
        ceil * 10_000 >= n && ceil - floor <= 1,
        "fee share rounds up, by at most one"
    );
    assert!(ceil <= amount as u128);
}

fn settlement(price: u64, duration: u32, billed: u32, fee_bps: u16, vfee_bps: u16, donation: u64) {
    let (fee_bps, vfee_bps) = (fee_bps % 2_001, vfee_bps % 2_001);
    let duration = duration.max(1);
    let billed = (billed as u64 % (duration as u64 + 1)) as u32;
    let compute = exact(price, duration as u64);
    let escrow = math::escrow_for(price, duration, vfee_bps);
    let vfee_exact = (compute * vfee_bps as u128).div_ceil(10_000);
    let fits = compute + vfee_exact <= u64::MAX as u128;
    let Ok(escrow) = escrow else {
        assert!(
            compute > u64::MAX as u128,
            "escrow errs only when price × duration overflows"
        );
        return;
    };
    assert_eq!(escrow.total().is_ok(), fits);
    let Ok(total) = escrow.total() else { return };
    let Some(vault) = total.checked_add(donation) else {
        return;
    };
    let s = math::settlement_for(vault, price, billed, fee_bps, vfee_bps)
        .expect("a job billed within its duration always settles");
    let pay = exact(price, billed as u64);
    let out =
        s.provider as u128 + s.protocol_fee as u128 + s.verification_fee as u128 + s.refund as u128;
    assert_eq!(out, vault as u128, "the vault is paid out to the base unit");
    assert_eq!(s.provider as u128 + s.protocol_fee as u128, pay);
    let fee_n = pay * fee_bps as u128;
    assert!(
        s.protocol_fee as u128 * 10_000 >= fee_n,
        "protocol fee rounds up"
    );
    assert!((s.protocol_fee as u128) * 10_000 < fee_n + 10_000);
    assert!(
        s.verification_fee <= escrow.verification_fee,
        "never more than escrowed"
    );
    assert!(s.refund >= donation, "donations go back to the client");
    // Less in the vault than the payout needs is an error, never a wrap.
    if let Some(short) = (pay as u64)
        .checked_add(s.verification_fee)
        .and_then(|n| n.checked_sub(1))
    {
        assert!(math::settlement_for(short, price, billed, fee_bps, vfee_bps).is_err());
    }
}

fn split(amount: u64, burn: u16, stakers: u16) {
    let burn = burn % 10_001;
    let stakers = stakers % (10_001 - burn);
    let treasury = 10_000 - burn - stakers;
    let params = ConfigParams {
        protocol_fee_bps: Bps(0),
        burn_bps: Bps(burn),
        stakers_bps: Bps(stakers),
        treasury_bps: Bps(treasury),
        min_lock_secs: MIN_LOCK_SECS,
        max_lock_secs: MAX_LOCK_SECS,
        treasury: Default::default(),
    };
    params.validate().expect("a split summing to 100 %");
    let s = math::split_revenue(amount, &params).expect("a split never errs");
    assert_eq!(
        s.burn as u128 + s.stakers as u128 + s.treasury as u128,
        amount as u128
    );
    assert!(s.stakers as u128 * 10_000 <= exact(amount, stakers as u64));
    assert!(s.treasury as u128 * 10_000 <= exact(amount, treasury as u64));
    assert!(
        s.burn as u128 * 10_000 >= exact(amount, burn as u64),
        "dust is burned"
    );
}

/// A small staking pool driven by arbitrary operations, each applied to copies and kept only if
/// it succeeds (as a transaction would be).
fn rewards(decimals: u8, ops: &[RewardOp]) {
    let mut pool: StakePool = bytemuck::Zeroable::zeroed();
    pool.decimals = 6 + decimals % 13;
    let mut positions: [StakePosition; POSITIONS] = [bytemuck::Zeroable::zeroed(); POSITIONS];
    let (mut to_stakers, mut claimed) = (0u128, 0u128);
    for op in ops.iter().take(64) {
        let (mut p, mut pos) = (pool, positions);
        let result: anchor_lang::Result<(u128, u128)> = (|| match *op {
            RewardOp::Stake { who, amount, lock } => {
                let s = &mut pos[who as usize % POSITIONS];
                let lock = MIN_LOCK_SECS + lock % (MAX_LOCK_SECS - MIN_LOCK_SECS + 1);
                s.settle_rewards(&p)?;
                s.amount = math::add(s.amount, amount)?;
                s.lock_secs = s.lock_secs.max(lock);
                s.reweight(&mut p)?;
                p.total_staked = math::add(p.total_staked, amount)?;
                Ok((0, 0))
            }
            RewardOp::Unstake { who, amount } => {
                let s = &mut pos[who as usize % POSITIONS];
                s.settle_rewards(&p)?;
                s.amount = math::sub(s.amount, amount)?;
                s.unbonding = math::add(s.unbonding, amount)?;
                s.reweight(&mut p)?;
                Ok((0, 0))
            }
            RewardOp::Deposit { amount } => {
                // The reward vault is a token account: what it holds fits in a u64.
                if to_stakers - claimed + amount as u128 > u64::MAX as u128 {
                    return Ok((0, 0));
                }
                let shared = p.accrue_rewards(amount)?;
                Ok((if shared { amount as u128 } else { 0 }, 0))
            }
            RewardOp::Claim { who } => {
                let s = &mut pos[who as usize % POSITIONS];
                s.settle_rewards(&p)?;
                let paid = s.pending_rewards as u128;
                s.pending_rewards = 0;
                Ok((0, paid))
            }
            RewardOp::Slash { who, bps } => {
                pos[who as usize % POSITIONS].slash(&mut p, bps % 10_001)?;
                Ok((0, 0))
            }
        })();
        let Ok((deposited, paid)) = result else {
            continue;
        };
        (pool, positions) = (p, pos);
        to_stakers += deposited;
        claimed += paid;
        // Books of the pool agree with its positions.
        let weight: u128 = positions.iter().map(|s| s.weight as u128).sum();
        let staked: u128 = positions
            .iter()
            .map(|s| s.amount as u128 + s.unbonding as u128)
            .sum();
        assert_eq!(weight, pool.total_weight as u128);
        assert_eq!(staked, pool.total_staked as u128);
        for s in &positions {
            s.invariant().expect("position invariant");
        }
        // Never owed more than was deposited for stakers.
        let acc = pool.acc_reward_per_weight.get();
        let owed: u128 = positions
            .iter()
            .map(|s| {
                s.pending_rewards as u128
                    + math::earned(s.weight, acc, s.reward_debt.get()).expect("earned fits") as u128
            })
            .sum();
        assert!(
            claimed + owed <= to_stakers,
            "owed {owed} + claimed {claimed} > deposited {to_stakers}"
        );
    }
    // weight = amount × (1 + 3 × lock / year), rounded down.
    for s in &positions {
        if s.amount > 0 {
            let w = s.amount as u128 + exact(s.amount, 3 * s.lock_secs as u64) / YEAR_SECS as u128;
            assert_eq!(s.weight as u128, w);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn auction(
    init: u64,
    floor: u64,
    min_init: u64,
    period: u32,
    multiplier: u32,
    start: i64,
    t: i64,
    dt: i64,
    paid: u64,
) {
    let params = AuctionParams {
        init_price: init,
        floor_price: floor,
        epoch_period_secs: period,
        price_multiplier_bps: multiplier,
        min_init_price: min_init,
    };
    if params.validate().is_err() {
        return;
    }
    let a = Auction {
        payment_mint: Default::default(),
        payment_token_program: Default::default(),
        fee_vault: Default::default(),
        params,
        epoch: 0,
        epoch_start: start,
        epoch_init_price: init,
        total_paid: 0,
        total_sold: 0,
        last_price: 0,
        bump: 0,
        fee_vault_bump: 0,
        _reserved: [0; 40],
    };
    a.invariant().expect("valid auction");
    let dt = dt.checked_abs().unwrap_or(i64::MAX);
    let p1 = a.price_at(t).expect("price of a valid auction");
    let p2 = a
        .price_at(t.saturating_add(dt))
        .expect("price of a valid auction");
    assert!(p2 <= p1, "the price only falls");
    assert!(
        floor <= p2 && p1 <= init,
        "and stays between floor and init price"
    );
    if t.saturating_sub(start) >= period as i64 {
        assert_eq!(p1, floor);
    }
    let next = a.next_init_price(paid);
    let scaled = (exact(paid, multiplier as u64) / 10_000).min(u64::MAX as u128) as u64;
    assert_eq!(next, scaled.max(min_init));
}

fn verifier(
    price: u64,
    billed: u32,
    verifier_billed: u32,
    vfee_bps: u16,
    rate_bps: u16,
    fee_bps: u16,
    bond: u64,
) {
    let mut job: Job = bytemuck::Zeroable::zeroed();
    job.price_per_sec = price;
    job.billed_secs = billed;
    job.verification_fee_bps = vfee_bps % 2_001;
    job.verify_rate_bps = rate_bps % 10_001;
    job.protocol_fee_bps = fee_bps % 10_001;
    job.client_bond = bond.to_le_bytes();
    let run = exact(price, billed.min(verifier_billed) as u64);
    let job_pay = exact(price, billed as u64);
    let Ok(pay) = verifier_pay(&job, verifier_billed) else {
        assert!(job_pay > u64::MAX as u128, "errs only on overflow");
        return;
    };
    assert!(pay as u128 <= run, "one run of the job at most");
    // The bond plays no part: a disputed job's re-run is paid from the bond by
    // `submit_verification`, never through `verifier_pay` (the pool), which pays only runs the
    // draw decided. The pool's solvency: rate × a drawn run ≤ fee × pay, the job's income.
    let income = job_pay * job.verification_fee_bps as u128;
    assert!(
        pay as u128 * job.verify_rate_bps.max(1) as u128 <= income,
        "a drawn run costs the pool no more than it expects to earn from the job"
    );
    // A run an unrevealed draw forced comes out of the provider's pay: never more than the
    // run, the job's own verification fee, or what the provider nets, so settlement can always
    // take it from the provider's share.
    let forced = forced_rerun_pay(&job, verifier_billed).expect("no overflow once pay fits");
    let own_fee = income.div_ceil(10_000);
    let net = job_pay - (job_pay * job.protocol_fee_bps as u128).div_ceil(10_000);
    assert!(forced as u128 <= run && forced as u128 <= own_fee && forced as u128 <= net);
    assert_eq!(forced as u128, run.min(own_fee).min(net), "exactly that");
}

fuzz_target!(|case: Case| match case {
    Case::MulDiv { a, b, d } => mul_div(a, b, d),
    Case::Bps { amount, bps: b } => bps(amount, b),
    Case::Settlement {
        price,
        duration,
        billed,
        fee_bps,
        vfee_bps,
        donation,
    } => {
        settlement(price, duration, billed, fee_bps, vfee_bps, donation)
    }
    Case::Split {
        amount,
        burn,
        stakers,
    } => split(amount, burn, stakers),
    Case::Rewards { decimals, ops } => rewards(decimals, &ops),
    Case::Auction {
        init,
        floor,
        min_init,
        period,
        multiplier,
        start,
        t,
        dt,
        paid,
    } => {
        auction(
            init, floor, min_init, period, multiplier, start, t, dt, paid,
        )
    }
    Case::Verifier {
        price,
        billed,
        verifier_billed,
        vfee_bps,
        rate_bps,
        fee_bps,
        bond,
    } => verifier(
        price,
        billed,
        verifier_billed,
        vfee_bps,
        rate_bps,
        fee_bps,
        bond,
    ),
});
