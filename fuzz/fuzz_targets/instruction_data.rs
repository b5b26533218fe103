//! Arbitrary instruction data through the program's own entrypoint (Anchor's discriminator
//! dispatch, then each instruction's borsh decoding), with no accounts. It must never panic,
//! must fail with exactly the error the bytes call for, and every decodable instruction must
//! round-trip: re-encoding what was decoded gives back the bytes that were read.
#![no_main]

use anchor_lang::{
    error::ErrorCode, event::EVENT_IX_TAG_LE, solana_program::program_error::ProgramError,
    AnchorDeserialize, AnchorSerialize, Discriminator,
};
use cinder::instruction as ix;
use libfuzzer_sys::fuzz_target;

/// What the dispatcher must answer for `data` when no accounts are passed.
#[derive(Debug, PartialEq)]
enum Expected {
    /// A known instruction whose arguments decode: the accounts are missing.
    NotEnoughAccounts,
    /// A known instruction whose arguments do not decode.
    DidNotDeserialize,
    /// Anchor's event self-CPI tag: refused (no event authority signs).
    AnyError,
    /// No instruction has this discriminator.
    Unknown,
}

/// Decodes `data` as instruction `T` if it carries `T`'s discriminator, checking the round trip.
fn decode<T: Discriminator + AnchorDeserialize + AnchorSerialize>(data: &[u8]) -> Option<Expected> {
    let args = data.strip_prefix(T::DISCRIMINATOR)?;
    let mut rest = args;
    let Ok(decoded) = T::deserialize(&mut rest) else {
        return Some(Expected::DidNotDeserialize);
    };
    let read = args.len() - rest.len();
    let encoded = borsh_bytes(&decoded);
    assert_eq!(
        encoded,
        &args[..read],
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
    let again = T::deserialize(&mut encoded.as_slice()).expect("re-encoded bytes decode");
    assert_eq!(borsh_bytes(&again), encoded);
    Some(Expected::NotEnoughAccounts)
}

fn borsh_bytes<T: AnchorSerialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.serialize(&mut out).expect("serialize to a Vec");
    out
}

/// Every instruction of the program, in the order `lib.rs` declares them.
macro_rules! instructions {
    ($($t:ident),* $(,)?) => {
        const DISCRIMINATORS: &[&[u8]] = &[$(ix::$t::DISCRIMINATOR),*];
        fn expected(data: &[u8]) -> Expected {
            $(if let Some(e) = decode::<ix::$t>(data) { return e; })*
            if data.starts_with(EVENT_IX_TAG_LE) {
                return Expected::AnyError;
            }
            Expected::Unknown
        }
    };
}

instructions!(
    InitConfig,
    UpdateConfig,
    ProposeAdmin,
    AcceptAdmin,
    InitAuction,
    CreateMarket,
    UpdateMarket,
    RegisterProvider,
    UpdateProvider,
    PostJob,
    CancelJob,
    ExtendJob,
    ClaimJob,
    QuitJob,
    ExpireJob,
    SubmitResult,
    AcceptResult,
    SettleJob,
    InitStaking,
    Stake,
    RequestUnstake,
    Restake,
    WithdrawStake,
    DepositRewards,
    ClaimRewards,
    RevealSample,
    DisputeJob,
    ClaimVerification,
    CommitVerification,
    SubmitVerification,
    ExpireVerification,
    ResolveDispute,
    SweepFees,
    UpdateAuction,
    Buy,
    DistributeFees,
);

fn check(data: &[u8]) {
    let program_id = cinder::ID;
    let result = cinder::entry(&program_id, &[], data);
    let code = |e: ErrorCode| ProgramError::Custom(e as u32);
    match (expected(data), result) {
        (Expected::NotEnoughAccounts, Err(e)) => {
            assert_eq!(e, code(ErrorCode::AccountNotEnoughKeys))
        }
        (Expected::DidNotDeserialize, Err(e)) => {
            assert_eq!(e, code(ErrorCode::InstructionDidNotDeserialize))
        }
        (Expected::Unknown, Err(e)) => assert_eq!(e, code(ErrorCode::InstructionFallbackNotFound)),
        (Expected::AnyError, Err(_)) => {}
        (want, Ok(())) => panic!("no accounts, yet {want:?} succeeded"),
    }
}

fuzz_target!(|data: &[u8]| {
    // The raw bytes, and (so every decoder gets inputs from the start) the same bytes behind
    // the discriminator their first byte picks.
    check(data);
    if let Some((pick, rest)) = data.split_first() {
        let disc = DISCRIMINATORS[*pick as usize % DISCRIMINATORS.len()];
        check(&[disc, rest].concat());
    }
});
