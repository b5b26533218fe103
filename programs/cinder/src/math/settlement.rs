//! Escrow and settlement amounts of one job, as pure functions.

use super::{add, bps_of_ceil, mul, sub};
use anchor_lang::prelude::*;

/// What a client deposits when posting (or extending) a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escrow {
    /// price × duration: the most the provider can be paid.
    pub compute: u64,
    /// ceil(compute × verification_fee_bps): funds re-execution if the job is sampled.
    pub verification_fee: u64,
}

impl Escrow {
    pub fn total(&self) -> Result<u64> {
        add(self.compute, self.verification_fee)
    }
}

pub fn escrow_for(
    price_per_sec: u64,
    duration_secs: u32,
    verification_fee_bps: u16,
) -> Result<Escrow> {
    let compute = mul(price_per_sec, duration_secs as u64)?;
    let verification_fee = bps_of_ceil(compute, verification_fee_bps)?;
    Ok(Escrow {
        compute,
        verification_fee,
    })
}

/// How a job's vault is paid out at settlement. Sums to the vault balance exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub provider: u64,
    pub protocol_fee: u64,
    pub verification_fee: u64,
    pub refund: u64,
}

/// pay = price × billed; fee = ceil(pay × fee_bps); provider gets pay − fee;
/// the verification fee on `pay` (rounded up) goes to the market's pool; the
/// client gets everything else in the vault (unused time, unused verification
/// fee, and anything sent to the vault by others).
pub fn settlement_for(
    vault_balance: u64,
    price_per_sec: u64,
    billed_secs: u32,
    protocol_fee_bps: u16,
    verification_fee_bps: u16,
) -> Result<Settlement> {
    let pay = mul(price_per_sec, billed_secs as u64)?;
    let protocol_fee = bps_of_ceil(pay, protocol_fee_bps)?;
    let provider = sub(pay, protocol_fee)?;
    let verification_fee = bps_of_ceil(pay, verification_fee_bps)?;
    let paid_out = add(pay, verification_fee)?;
    let refund = sub(vault_balance, paid_out)?;
    Ok(Settlement {
        provider,
        protocol_fee,
        verification_fee,
        refund,
    })
}
