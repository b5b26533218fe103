//! The program's error codes as names and messages, for off-chain code that only sees
//! `Custom(6000 + n)`.
//!
//! Anchor numbers `CinderError` variants in declaration order from 6000 and generates no
//! reverse lookup, so the table is read from the program's IDL (`idl/cinder.json`, built from
//! the program by `cinder-idl` and checked against it in CI) at compile time; a test pins it
//! against the enum.

use std::sync::OnceLock;

/// Anchor's first custom error code.
pub const ERROR_CODE_OFFSET: u32 = 6000;

const IDL: &str = include_str!("../../../idl/cinder.json");

/// One `CinderError` variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: u32,
    pub name: &'static str,
    /// The `#[msg]` text: what was wrong and what to do (the name when there is none).
    pub message: &'static str,
}

/// Every variant, in code order.
pub fn all() -> &'static [ErrorInfo] {
    static TABLE: OnceLock<Vec<ErrorInfo>> = OnceLock::new();
    TABLE.get_or_init(|| parse(IDL))
}

/// The variant with this error code, if it is one of the program's.
pub fn lookup(code: u32) -> Option<&'static ErrorInfo> {
    let i = code.checked_sub(ERROR_CODE_OFFSET)?;
    all().get(i as usize)
}

/// Anchor's own framework errors (constraint failures and the like), which a caller can also
/// meet: the common ones by name, so a message never reads as a bare number.
pub fn anchor_name(code: u32) -> Option<&'static str> {
    Some(match code {
        100 => "InstructionMissing",
        101 => "InstructionFallbackNotFound",
        102 => "InstructionDidNotDeserialize",
        2000 => "ConstraintMut",
        2001 => "ConstraintHasOne",
        2002 => "ConstraintSigner",
        2003 => "ConstraintRaw",
        2006 => "ConstraintSeeds",
        2012 => "ConstraintAddress",
        2014 => "ConstraintTokenMint",
        2015 => "ConstraintTokenOwner",
        3001 => "AccountDiscriminatorNotFound",
        3002 => "AccountDiscriminatorMismatch",
        3003 => "AccountDidNotDeserialize",
        3005 => "AccountNotEnoughKeys",
        3007 => "AccountOwnedByWrongProgram",
        3008 => "InvalidProgramId",
        3010 => "AccountNotSigner",
        3012 => "AccountNotInitialized",
        _ => return None,
    })
}

/// The IDL's `errors`: code, name and message of each variant, in code order. Built once
/// (`all`), so its strings live as long as the program.
fn parse(idl: &str) -> Vec<ErrorInfo> {
    #[derive(serde::Deserialize)]
    struct Idl {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: u32,
        name: String,
        msg: Option<String>,
    }
    let idl: Idl = serde_json::from_str(idl).expect("idl/cinder.json is the program's IDL");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut out: Vec<ErrorInfo> = idl
        .errors
        .into_iter()
        .map(|e| {
            let name = leak(e.name);
            ErrorInfo {
                code: e.code,
                name,
                message: e.msg.map_or(name, leak),
            }
        })
        .collect();
    out.sort_by_key(|e| e.code);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder::errors::CinderError;

    /// Every variant, checked exhaustively at compile time: a variant added to the program
    /// without being added here is a build error, so the table can never silently drift.
    macro_rules! every_error {
        ($($v:ident),* $(,)?) => {{
            #[allow(dead_code)]
            fn exhaustive(e: CinderError) {
                match e { $(CinderError::$v => {})* }
            }
            vec![$(CinderError::$v),*]
        }};
    }

    #[test]
    fn table_matches_the_program_enum() {
        let every = every_error![
            NotAdmin,
            NotPendingAdmin,
            NoPendingAdmin,
            NotUpgradeAuthority,
            InvalidProgramData,
            ProtocolPaused,
            MarketPaused,
            FeeTooHigh,
            BpsOutOfRange,
            FeeSplitNot100Percent,
            LockBoundsOutOfRange,
            ChallengeWindowOutOfRange,
            TimeoutSlashTooHigh,
            InvalidMarketParams,
            InvalidGpuModel,
            InvalidUri,
            InvalidMintOwner,
            MintExtensionNotAllowed,
            MintHasFreezeAuthority,
            MintMismatch,
            TokenOwnerMismatch,
            TokenProgramMismatch,
            FeeVaultMismatch,
            PriceBelowMarketMinimum,
            DurationOutOfRange,
            InvalidOpenUntil,
            JobNotOpen,
            JobNotRunning,
            JobNotSubmitted,
            JobNotSettleable,
            JobNotExtendable,
            NotAssignedProvider,
            JobOpenWindowPassed,
            NotJobClient,
            NotJobProvider,
            CancelNotAllowed,
            DeadlinePassed,
            DeadlineNotPassed,
            BilledTooMuch,
            ChallengeWindowOpen,
            VaultMismatch,
            ClientMismatch,
            MarketMismatch,
            SelfDealing,
            InvalidTokenAccount,
            NotProviderOwner,
            ProviderNotActive,
            GpuClassMismatch,
            ProviderHasActiveJobs,
            ProviderMismatch,
            MathOverflow,
            DivisionByZero,
            InvariantViolated,
            DuplicateAccount,
            AccountAlreadyExists,
            NoGpus,
            ZeroAmount,
            LockOutOfRange,
            LockCannotShorten,
            StakeLockedByJobs,
            NothingToWithdraw,
            StakeStillLocked,
            NothingToClaim,
            ProviderUnbonding,
            StakeBelowMarketMinimum,
            InsufficientFreeStake,
            StakeMismatch,
            NoStakePosition,
            StakeBelowMinimum,
            ProtocolMintDecimals,
            SampleNotReady,
            SampleAlreadyDecided,
            SlotHashNotFound,
            NotSampled,
            VerificationPending,
            VerifierConflict,
            NotJobVerifier,
            JobNotVerifying,
            JobNotDisputed,
            NotArbiter,
            InvalidResolution,
            ChallengeWindowClosed,
            AlreadyDisputed,
            NotTreasury,
            NothingToSweep,
            InvalidAuctionParams,
            PriceAboveMax,
            AmountBelowMin,
            NothingToBuy,
            ProtocolMintNotAuctioned,
            NotProtocolMintAuction,
            JobAddressSigned,
            ZeroStakeTerms,
            ZeroFloorPrice,
            GraceTooLong,
            QuitAfterDeadline,
            ClaimAfterLeaving,
            ReopenHold,
            StakeBackingJobs,
            VerifierRaceOpen,
            TicketNotLower,
            StakeTooRecent,
            DisplacedVerifierMissing,
            InvalidVerifyMode,
            EscalationLapsed,
            SecondVerifierMissing,
            JobNotVerifiable,
            VerificationNotCommitted,
            VerificationAlreadyCommitted,
            VerifierCommitmentMismatch,
            EmptyVerifierCommitment,
            VerdictContradictsResult,
            MatchNotChallengeable,
        ];
        assert_eq!(
            all().len(),
            every.len(),
            "table and enum list the same variants"
        );
        for e in every {
            let code: u32 = e.into();
            let info = lookup(code).expect("code in table");
            assert_eq!(info.name, e.name());
            assert_eq!(info.message, e.to_string());
        }
        assert!(lookup(ERROR_CODE_OFFSET - 1).is_none());
        assert!(lookup(ERROR_CODE_OFFSET + all().len() as u32).is_none());
    }

    #[test]
    fn every_variant_has_a_distinct_name() {
        let mut names: Vec<_> = all().iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all().len());
    }
}
