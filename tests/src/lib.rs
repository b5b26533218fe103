//! Test harness for the cinder program: the same tests run on the host-compiled
//! program (solana-program-test, real SPL Token / Token-2022 programs) and on
//! the SBF build `target/deploy/cinder.so` (LiteSVM), through one `Chain` trait.
#![allow(deprecated)]

pub mod backend;
pub mod reference;
pub use cinder_client::ix;
pub mod tokens;
pub mod world;

pub use backend::{Chain, NativeChain, SbfChain, TxMeta};
pub use world::{MintKind, World};

use std::sync::atomic::{AtomicU64, Ordering};

/// 0: random keys; otherwise the next seed of the deterministic sequence.
static KEY_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// From now on `keypair()` returns the same sequence of keys in every run, so the PDAs (and
/// the bump searches of the instructions that create them) are the same: the benchmark's
/// figures are then reproducible. Tests keep random keys.
pub fn deterministic_keys() {
    KEY_SEQUENCE.store(1, Ordering::SeqCst);
}

/// A new keypair: random, or the next of the deterministic sequence.
pub fn keypair() -> solana_sdk::signature::Keypair {
    match KEY_SEQUENCE.load(Ordering::SeqCst) {
        0 => solana_sdk::signature::Keypair::new(),
        _ => {
            let n = KEY_SEQUENCE.fetch_add(1, Ordering::SeqCst);
            let mut secret = [0x5a_u8; 32];
            secret[..8].copy_from_slice(&n.to_le_bytes());
            solana_sdk::signature::Keypair::new_from_array(secret)
        }
    }
}

use anchor_lang::error::ERROR_CODE_OFFSET;
use cinder::errors::CinderError;
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};

/// Asserts that a transaction failed with the given named program error.
#[track_caller]
pub fn assert_cinder_error<T: std::fmt::Debug>(
    result: Result<T, TransactionError>,
    expected: CinderError,
) {
    let code = ERROR_CODE_OFFSET + expected as u32;
    match result {
        Err(TransactionError::InstructionError(_, InstructionError::Custom(got)))
            if got == code => {}
        other => panic!("expected CinderError::{expected:?} (custom {code}), got {other:?}"),
    }
}

/// Asserts that a transaction failed with an Anchor framework error (e.g. a
/// failed `has_one`, owner or discriminator check).
#[track_caller]
pub fn assert_anchor_error<T: std::fmt::Debug>(
    result: Result<T, TransactionError>,
    expected: anchor_lang::error::ErrorCode,
) {
    let code = expected as u32;
    match result {
        Err(TransactionError::InstructionError(_, InstructionError::Custom(got)))
            if got == code => {}
        other => panic!("expected anchor {expected:?} ({code}), got {other:?}"),
    }
}

/// Decodes the events of type `T` in a transaction's metadata (see `TxMeta::events`).
pub fn events_of<T: anchor_lang::Discriminator + anchor_lang::AnchorDeserialize>(
    meta: &TxMeta,
) -> Vec<T> {
    meta.events
        .iter()
        .filter(|e| e.starts_with(T::DISCRIMINATOR))
        .map(|e| T::deserialize(&mut &e[T::DISCRIMINATOR.len()..]).expect("event decodes"))
        .collect()
}

/// Runs a test body once on the native build and once on the SBF build.
#[macro_export]
macro_rules! on_both {
    ($name:ident, |$w:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn native() {
                #[allow(unused_mut)]
                let mut $w = $crate::World::native();
                $body
            }
            #[test]
            fn sbf() {
                #[allow(unused_mut)]
                let mut $w = $crate::World::sbf();
                $body
            }
        }
    };
}
