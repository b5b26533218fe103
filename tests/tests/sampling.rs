//! Sampling fairness, checked against the published rule rather than the program's own code.
//!
//! The rule (README, "Attestation"): a submitted job is re-executed when
//! `u64_le(sha256(H ‖ job)[0..8]) mod 10 000 < verify_rate_bps`, where H is the hash of the
//! oldest SlotHashes entry whose slot is at or after `submitted_slot + 4`. Every draw below is
//! recomputed here from the SlotHashes sysvar's bytes as the chain holds them (its own parser,
//! a linear scan, the `sha2` crate), and must equal the program's `reveal_sample` outcome
//! exactly; over 20,000 draws the observed rate must stay within a stated binomial bound.

use cinder::state::{Job, SampleStatus};
use cinder_tests::{ix, ix::JobKeys, on_both, World};
use sha2::{Digest, Sha256};
use solana_sdk::pubkey::Pubkey;

const SLOT_HASHES: Pubkey = solana_sdk::pubkey!("SysvarS1otHashes111111111111111111111111111");
/// Draws per block of one slot-hash window; the clock then moves 500 slots on, so each block
/// draws from fresh slot hashes.
const BLOCK: u64 = 400;

/// The published rule, from the sysvar's raw bytes: a u64 count, then (slot u64, hash [32])
/// entries. The deciding entry is the one with the smallest slot at or after `target`.
fn expected_draw(sysvar: &[u8], target: u64, job: &Pubkey, rate_bps: u16) -> bool {
    let count = u64::from_le_bytes(sysvar[..8].try_into().unwrap()) as usize;
    let hash = sysvar[8..8 + count * 40]
        .chunks_exact(40)
        .map(|e| (u64::from_le_bytes(e[..8].try_into().unwrap()), &e[8..]))
        .filter(|(slot, _)| *slot >= target)
        .min_by_key(|(slot, _)| *slot)
        .map(|(_, h)| h)
        .expect("the deciding slot is in SlotHashes");
    let digest = Sha256::new()
        .chain_update(hash)
        .chain_update(job)
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().unwrap()) % 10_000 < u64::from(rate_bps)
}

/// Runs `n` draws through `reveal_sample` at `rate_bps`: one real job is posted, claimed and
/// submitted, then copied to `n` fresh addresses with submitted slots spread over the slot
/// hashes the chain holds. Asserts each outcome equals the published rule; returns how many
/// were sampled.
fn draws(w: &mut World, rate_bps: u16, n: u64) -> u64 {
    w.set_verify_rate(rate_bps);
    let k = w.post(10, 3_600);
    w.claim(&k);
    w.warp(10);
    w.submit(&k, 10);
    let template = w.chain.account(&k.job).unwrap();
    let at = 8 + std::mem::offset_of!(Job, submitted_slot);
    let mut sampled = 0;
    for i in 0..n {
        if i % BLOCK == 0 {
            w.warp(200); // 500 slots: a fresh window of 512 slot hashes
        }
        let slot = w.chain.clock().slot;
        // The deciding slot (submitted + 4) lies 6..=405 slots back: revealable and in range.
        let submitted_slot = slot - 10 - i % BLOCK;
        let job = Pubkey::new_from_array(Sha256::digest(i.to_le_bytes()).into());
        let mut account = template.clone();
        account.data[at..at + 8].copy_from_slice(&submitted_slot.to_le_bytes());
        w.chain.set_account(&job, account);
        let keys = JobKeys { job, ..k };
        w.send(&[ix::reveal_sample(&keys)], &[])
            .unwrap_or_else(|e| panic!("reveal_sample of draw {i}: {e:?}"));
        let sysvar = w.chain.account(&SLOT_HASHES).unwrap().data;
        let expected = expected_draw(&sysvar, submitted_slot + 4, &job, rate_bps);
        let status = w.job(&job).sample_status;
        let want = if expected {
            SampleStatus::Sampled
        } else {
            SampleStatus::NotSampled
        };
        assert_eq!(
            status, want,
            "draw {i} at {rate_bps} bps: the program decided {status:?}, the published rule {want:?}"
        );
        sampled += u64::from(expected);
    }
    sampled
}

on_both!(
    every_draw_is_the_published_rule_recomputed_from_slot_hashes,
    |w| {
        for rate in [0, 500, 5_000, 10_000] {
            let sampled = draws(&mut w, rate, 200);
            match rate {
                0 => assert_eq!(sampled, 0),
                10_000 => assert_eq!(sampled, 200),
                _ => assert!(
                    sampled > 0 && sampled < 200,
                    "{sampled} of 200 at {rate} bps"
                ),
            }
        }
    }
);

/// 20,000 draws through the SBF build's `reveal_sample` at 5 % and at 50 %. The bound is
/// ±0.5 percentage points at 5 % (σ = √(p(1−p)/n) = 0.154 pp, so 3.2 σ) and ±1.5 pp at 50 %
/// (σ = 0.354 pp, 4.2 σ): a fair draw fails it with probability below 0.2 % and 0.003 %.
/// The job keys and slot hashes are fixed, so the run is reproducible, not flaky.
#[test]
fn the_observed_rate_over_20000_draws_is_the_configured_rate() {
    const N: u64 = 20_000;
    for (rate, bound_pp) in [(500u16, 0.5f64), (5_000, 1.5)] {
        let mut w = World::sbf();
        let sampled = draws(&mut w, rate, N);
        let observed = sampled as f64 * 100.0 / N as f64;
        let configured = f64::from(rate) / 100.0;
        println!("{rate} bps: {sampled} of {N} sampled = {observed:.3} % (bound ±{bound_pp} pp)");
        assert!(
            (observed - configured).abs() <= bound_pp,
            "observed {observed:.3} % against the configured {configured} % (bound ±{bound_pp} pp)"
        );
    }
}
