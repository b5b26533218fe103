//! The program's error codes as names and messages, for off-chain code that only sees
//! `Custom(6000 + n)`.
//!
//! Anchor numbers `CinderError` variants in declaration order from 6000 and generates no
//! reverse lookup, so the table is read from the program's own `errors.rs` (the single source)
//! at compile time; a test pins it against the enum.

use std::sync::OnceLock;

/// Anchor's first custom error code.
pub const ERROR_CODE_OFFSET: u32 = 6000;

const SOURCE: &str = include_str!("../../../programs/cinder/src/errors.rs");

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
    TABLE.get_or_init(|| parse(SOURCE))
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

fn parse(src: &'static str) -> Vec<ErrorInfo> {
    let body = src
        .split_once("pub enum CinderError")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let mut out = Vec::new();
    let mut msg: Option<&'static str> = None;
    // An attribute may span lines (rustfmt wraps long messages): collect it whole.
    let mut attr: Option<(usize, usize)> = None; // byte range in `body`
    let mut offset = 0usize;
    for line in body.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let t = line.trim();
        if let Some((a, _)) = attr {
            attr = Some((a, offset));
            if t.ends_with(")]") {
                msg = msg_text(&body[a..offset]);
                attr = None;
            }
            continue;
        }
        if t.starts_with("#[msg(") {
            if t.ends_with(")]") {
                msg = msg_text(t);
            } else {
                attr = Some((start, offset));
            }
            continue;
        }
        if t == "}" {
            break;
        }
        if t.is_empty() || t.starts_with("//") || t.starts_with('{') || t.starts_with('#') {
            continue;
        }
        if let Some(name) = t.strip_suffix(',') {
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                let code = ERROR_CODE_OFFSET + out.len() as u32;
                out.push(ErrorInfo {
                    code,
                    name,
                    message: msg.take().unwrap_or(name),
                });
            }
        }
    }
    out
}

/// The string literal of a `#[msg("...")]` attribute.
fn msg_text(attr: &'static str) -> Option<&'static str> {
    let a = attr.find('"')?;
    let b = attr.rfind('"')?;
    (b > a).then(|| &attr[a + 1..b])
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
