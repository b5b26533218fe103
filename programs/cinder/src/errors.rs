use anchor_lang::prelude::*;

/// Every message says what was wrong and what the caller can do about it.
#[error_code]
pub enum CinderError {
    // --- authority and configuration -------------------------------------------------
    #[msg("Signer is not the config admin; send this with the admin key")]
    NotAdmin,
    #[msg("Signer is not the pending admin; the proposed admin must sign accept_admin")]
    NotPendingAdmin,
    #[msg("No admin handover is pending; call propose_admin first")]
    NoPendingAdmin,
    #[msg("Signer is not the program's upgrade authority; only it may create the config")]
    NotUpgradeAuthority,
    #[msg("Program data account does not belong to this program")]
    InvalidProgramData,
    #[msg("Protocol is paused by the admin; new jobs and claims are refused until it resumes")]
    ProtocolPaused,
    #[msg("Market is paused by the admin; pick another market or wait until it resumes")]
    MarketPaused,
    #[msg("A fee in basis points is above its bound (protocol ≤ 2000, verification ≤ 2000)")]
    FeeTooHigh,
    #[msg("A basis-points value is above 10000 (100%)")]
    BpsOutOfRange,
    #[msg("burn_bps + stakers_bps + treasury_bps must equal exactly 10000")]
    FeeSplitNot100Percent,
    #[msg("Lock bounds must satisfy 14 days ≤ min_lock ≤ max_lock ≤ 365 days")]
    LockBoundsOutOfRange,
    #[msg("Challenge window must be between 10 seconds and 7 days")]
    ChallengeWindowOutOfRange,
    #[msg("Timeout slash must be at most 2000 bps")]
    TimeoutSlashTooHigh,
    #[msg("Market parameter out of range: price, duration and GPU count must be positive and duration ≤ 30 days")]
    InvalidMarketParams,
    #[msg("GPU model name must be 1-32 bytes of printable ASCII")]
    InvalidGpuModel,
    #[msg("URI must be 1-128 bytes of printable ASCII")]
    InvalidUri,

    // --- tokens ----------------------------------------------------------------------
    #[msg("Mint is not owned by the SPL Token or Token-2022 program")]
    InvalidMintOwner,
    #[msg("Mint has a Token-2022 extension that breaks escrow (permanent delegate, transfer hook, transfer fee, non-transferable, default-frozen, pausable, confidential); use a plain mint")]
    MintExtensionNotAllowed,
    #[msg("Mint has a freeze authority; the admin must allow it explicitly with allow_freeze_authority")]
    MintHasFreezeAuthority,
    #[msg("Token account mint does not match the market's payment mint")]
    MintMismatch,
    #[msg("Token account is not owned by the expected wallet (client, provider or treasury)")]
    TokenOwnerMismatch,
    #[msg("Token program does not match the one of the market's payment mint")]
    TokenProgramMismatch,
    #[msg("Fee vault or auction does not belong to the market's payment mint; call init_auction for that mint first")]
    FeeVaultMismatch,

    // --- jobs ------------------------------------------------------------------------
    #[msg("Price per second is below the market minimum; raise the price")]
    PriceBelowMarketMinimum,
    #[msg("Duration must be positive and at most the market's max job duration")]
    DurationOutOfRange,
    #[msg("open_until must be in the future (or 0 for no limit)")]
    InvalidOpenUntil,
    #[msg("Job is not Open; it was claimed, settled or cancelled already")]
    JobNotOpen,
    #[msg("Job is not Running; only a claimed job can be submitted, quit or expired")]
    JobNotRunning,
    #[msg("Job is not Submitted; there is no result to accept or settle")]
    JobNotSubmitted,
    #[msg("Job is not in a state that can be settled yet (it is open, running or awaiting verification)")]
    JobNotSettleable,
    #[msg("Job is not in a state that can be extended (only Open or Running)")]
    JobNotExtendable,
    #[msg("Job is reserved for another provider (assigned_provider)")]
    NotAssignedProvider,
    #[msg("Job's open_until has passed; it can only be cancelled now")]
    JobOpenWindowPassed,
    #[msg("Only the job's client may do this")]
    NotJobClient,
    #[msg("Only the job's provider may do this")]
    NotJobProvider,
    #[msg("Only the client may cancel an Open job before its open_until")]
    CancelNotAllowed,
    #[msg("The job's deadline has passed; the result can no longer be submitted")]
    DeadlinePassed,
    #[msg("The job's deadline plus grace has not passed yet; it cannot be expired")]
    DeadlineNotPassed,
    #[msg("Billed seconds exceed the time since claim or the job's max duration")]
    BilledTooMuch,
    #[msg("The challenge window is still open; settle after it ends or let the client accept")]
    ChallengeWindowOpen,
    #[msg("Job vault does not match the job")]
    VaultMismatch,
    #[msg("Client account does not match the job's client")]
    ClientMismatch,
    #[msg("Job belongs to another market than the one passed")]
    MarketMismatch,
    #[msg("A client cannot claim its own job")]
    SelfDealing,
    #[msg("Token account is not a token account of the market's token program")]
    InvalidTokenAccount,

    // --- providers -------------------------------------------------------------------
    #[msg("Provider account is not owned by the signer")]
    NotProviderOwner,
    #[msg("Provider is not active; register or re-activate it first")]
    ProviderNotActive,
    #[msg("Provider's GPUs do not satisfy the market's GPU class (model, VRAM or GPU count)")]
    GpuClassMismatch,
    #[msg("Provider still has running jobs; finish or quit them first")]
    ProviderHasActiveJobs,
    #[msg("Provider account does not match the job's provider")]
    ProviderMismatch,

    // --- arithmetic ------------------------------------------------------------------
    #[msg("Arithmetic overflow; amounts or durations are too large")]
    MathOverflow,
    #[msg("Division by zero")]
    DivisionByZero,
    #[msg("An account invariant does not hold; the transaction was rejected to protect funds")]
    InvariantViolated,
    #[msg("The same account was passed for two roles that must differ")]
    DuplicateAccount,
    #[msg("This account already exists (config, market id, auction of this mint, or provider); update it instead")]
    AccountAlreadyExists,
    #[msg("Provider must declare at least one GPU")]
    NoGpus,
    // --- staking ---------------------------------------------------------------------
    #[msg("Amount must be positive")]
    ZeroAmount,
    #[msg("Lock duration must be within the config's bounds (14-365 days by default)")]
    LockOutOfRange,
    #[msg("A position's lock cannot be shortened; stake with the same or a longer lock")]
    LockCannotShorten,
    #[msg("Not enough active stake: the amount exceeds the position's stake not locked by running jobs")]
    StakeLockedByJobs,
    #[msg("Nothing is unbonding; call request_unstake first")]
    NothingToWithdraw,
    #[msg("The unbonding stake is still locked; withdraw after unlock_at")]
    StakeStillLocked,
    #[msg("No rewards to claim yet")]
    NothingToClaim,
    #[msg("The provider has stake unbonding; restake or withdraw it before claiming jobs")]
    ProviderUnbonding,
    #[msg("The provider's stake is below the market's minimum; stake more")]
    StakeBelowMarketMinimum,
    #[msg("The provider's free stake (not locked by running jobs) is below the market's stake per job")]
    InsufficientFreeStake,
    #[msg("Stake position does not belong to this owner or provider")]
    StakeMismatch,
    #[msg("No stake position: stake protocol tokens first, then register as a provider")]
    NoStakePosition,
    #[msg("A position must hold at least one whole protocol token (or nothing); stake more or unstake all")]
    StakeBelowMinimum,
    #[msg("The protocol mint needs at least 6 decimals (a whole token is the minimum stake)")]
    ProtocolMintDecimals,
    // --- attestation -----------------------------------------------------------------
    #[msg("The sampling slot has not passed yet; reveal after submit slot + 4")]
    SampleNotReady,
    #[msg("The sample is already revealed, or the reveal window has passed (the job counts as sampled)")]
    SampleAlreadyDecided,
    #[msg("The SlotHashes sysvar does not hold the sampling slot")]
    SlotHashNotFound,
    #[msg("This job is not sampled for verification (or its verification lapsed)")]
    NotSampled,
    #[msg(
        "The job awaits verification; settle after a verifier matches or the verification lapses"
    )]
    VerificationPending,
    #[msg(
        "The job's own provider or client, or an escalated job's first verifier, cannot verify it"
    )]
    VerifierConflict,
    #[msg("Only the job's verifier may do this")]
    NotJobVerifier,
    #[msg("Job is not in verification")]
    JobNotVerifying,
    #[msg("Job is not disputed")]
    JobNotDisputed,
    #[msg("Only the market's arbiter may resolve a dispute before the resolve timeout")]
    NotArbiter,
    #[msg("Unknown resolution: 1 provider right, 2 verifier right, 3 undecidable")]
    InvalidResolution,
    #[msg("The challenge window has closed; the result can no longer be disputed")]
    ChallengeWindowClosed,
    #[msg("The client has already disputed this job")]
    AlreadyDisputed,
    #[msg("Token account is not the treasury's")]
    NotTreasury,
    #[msg("No protocol fees have accrued in this market since the last sweep")]
    NothingToSweep,
    #[msg("Auction parameters out of range: 0 < min_init_price ≤ init_price, floor ≤ min_init_price, period 1 h – 365 d, multiplier 1.1× – 100×")]
    InvalidAuctionParams,
    // --- buyback and burn --------------------------------------------------------------
    #[msg("The auction price is above your max_price; wait for it to fall or raise max_price")]
    PriceAboveMax,
    #[msg("The fee vault holds less than your min_amount_out (another buy may have taken it)")]
    AmountBelowMin,
    #[msg("The fee vault is empty: nothing to buy or distribute")]
    NothingToBuy,
    #[msg("The protocol mint's fee vault is not auctioned; call distribute_fees to split it")]
    ProtocolMintNotAuctioned,
    #[msg("Only the protocol mint's fee vault can be distributed; buy the others at auction")]
    NotProtocolMintAuction,
    // --- appended after the first audit (codes above are unchanged) ---------------------
    #[msg("The job and its vault must be new program addresses that no key signs for; derive them with the job's seeds")]
    JobAddressSigned,
    // --- appended for attestation against collusion (codes above are unchanged) ----------
    #[msg("A market must require stake: min_provider_stake and stake_per_job must be above zero, or a provider risks nothing by cheating")]
    ZeroStakeTerms,
    #[msg("The auction's floor price must be above zero, or an idle epoch gives the whole fee vault away for nothing")]
    ZeroFloorPrice,
    #[msg("expire_grace_secs is at most 7 days (604800 s); a longer grace keeps a client's escrow hostage")]
    GraceTooLong,
    #[msg("The job is past its deadline and can no longer be quit; once the grace period ends anyone may expire it (expire_job, which applies the timeout slash)")]
    QuitAfterDeadline,
    #[msg("You quit this job or let it expire: another provider must take it")]
    ClaimAfterLeaving,
    #[msg("This job was just given back; it may be claimed 60 s after the quit or expiry (the client may cancel it meanwhile)")]
    ReopenHold,
    #[msg("Stake cannot be withdrawn while a job you run or verify can still slash it; settle or finish your open jobs, then withdraw")]
    StakeBackingJobs,
    #[msg("The verifier race of this job is still open: a lower ticket may yet displace you; submit after the race closes (job.race_closes slot)")]
    VerifierRaceOpen,
    #[msg("Your ticket is not lower than the current verifier's in this race, or the race has closed: another key verifies this job")]
    TicketNotLower,
    #[msg("Stake added or restaked since this verifier race's seed slot does not race in it (it could be sized to the known seed); claim in a later race or job")]
    StakeTooRecent,
    #[msg("Pass the displaced verifier's provider account (its locked stake is released) as the first remaining account")]
    DisplacedVerifierMissing,
    #[msg("verify_mode must be 0 (exact: byte-identical outputs), 1 (tolerance) or 2 (none: never re-executed), as the job's spec says")]
    InvalidVerifyMode,
    #[msg("Nobody claimed the second verification of this escalated job in time: it waits for the arbiter (resolve_dispute)")]
    EscalationLapsed,
    #[msg("This dispute had two verifiers: pass the second verifier's provider account, stake position and protocol-token account as the first three remaining accounts")]
    SecondVerifierMissing,
    #[msg("This job was posted with verify_mode none: it is never re-executed, so it cannot be disputed; accept its result or let it settle (post with exact or tolerance to be able to dispute)")]
    JobNotVerifiable,
    // --- appended for verdicts (issue 17; codes above are unchanged) ----------------------
    #[msg("Commit to your re-run first: send commit_verification with sha256('cinder-verifier' ‖ job ‖ your key ‖ your result hash), then fetch the provider's outputs and submit your verdict")]
    VerificationNotCommitted,
    #[msg("You already committed to your re-run of this job; submit_verification with the result hash you committed to")]
    VerificationAlreadyCommitted,
    #[msg("The result hash does not open your commit_verification commitment: submit the hash of the re-run you committed to")]
    VerifierCommitmentMismatch,
    #[msg("The verifier commitment must not be all zeroes: commit to sha256('cinder-verifier' ‖ job ‖ your key ‖ your result hash)")]
    EmptyVerifierCommitment,
    #[msg("An exact job's verdict is hash equality: say matched iff your result hash opens the provider's commitment")]
    VerdictContradictsResult,
    #[msg("Only a tolerance job's first match can be challenged, by its client, before it settles: an exact job's match is checked on chain, and a match forced by a dispute or reached by a second verifier or the arbiter is final")]
    MatchNotChallengeable,
}
