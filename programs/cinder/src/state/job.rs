use crate::{constants::*, errors::CinderError};
use anchor_lang::prelude::*;

/// A job's state: one byte in the zero-copy account; the states are associated constants
/// (usable in `match` and `matches!`).
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct JobState(pub u8);

#[allow(non_upper_case_globals)]
impl JobState {
    /// Posted and funded; waiting for a provider.
    pub const Open: Self = Self(0);
    /// Claimed; the provider runs it until `deadline`.
    pub const Running: Self = Self(1);
    /// Result committed; the challenge window runs.
    pub const Submitted: Self = Self(2);
    /// Sampled for re-execution; a verifier runs it again.
    pub const Verifying: Self = Self(3);
    /// A verifier matched the commitment (or the arbiter found the provider right).
    pub const Verified: Self = Self(4);
    /// Two verdicts are in and disagree with the provider, or with each other (`verdict`), or
    /// the escalation lapsed: `resolve_dispute` decides (anyone at once when two verifiers
    /// mismatched; otherwise the arbiter).
    pub const Disputed: Self = Self(5);
    /// The arbiter found the verifier right, or could not decide: at settlement the provider
    /// gets nothing and the client everything back but the verification fee on the billed run,
    /// which goes to the pool (the job was re-run).
    pub const Refunded: Self = Self(6);
    /// The first verifier mismatched: a second verifier, raced afresh without it, re-runs the
    /// job (issue 15, point 2). Its stake stays locked until the dispute is resolved.
    pub const Escalated: Self = Self(7);
}

/// Whether a submitted job was drawn for re-execution.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct SampleStatus(pub u8);

/// How the arbiter (or its timeout) decided a dispute.
pub mod resolution {
    pub const PROVIDER_RIGHT: u8 = 1;
    pub const VERIFIER_RIGHT: u8 = 2;
    pub const UNDECIDABLE: u8 = 3;
    /// The arbiter stayed silent past its timeout: the provider's result stands (it is paid,
    /// the client's bond returns), nobody is slashed. Only ever recorded, never a decision.
    pub const RESULT_STANDS: u8 = 4;
}

/// What the verifiers of an escalated job said (`Job::verdict`).
pub mod verdict {
    /// No second verdict: not escalated, or the escalation is still running.
    pub const NONE: u8 = 0;
    /// Both verifiers mismatched the provider's commitment.
    pub const CONFIRMED: u8 = 1;
    /// The verifiers disagree: the first mismatched and the second matched, or, where the
    /// client challenged a first match (`Job::challenged_match`), the other way round.
    pub const SPLIT: u8 = 2;
    /// Nobody claimed the second verification in time: only the first's verdict.
    pub const LAPSED: u8 = 3;
}

/// How a job's re-run is compared with the provider's (`Job::verify_mode`, from the job's
/// spec; the client declares it at post and the provider's worker checks it against the spec
/// before claiming).
pub mod verify_mode {
    /// Byte-identical outputs: a mismatch of two independent verifiers proves fraud.
    pub const EXACT: u8 = 0;
    /// Numeric outputs within a tolerance: hashes differ for honest runs, so the verdict is
    /// the verifier's comparison under the job's rule (two mismatch verdicts prove fraud, as
    /// for an exact job), and its first match is open to the client's challenge.
    pub const TOLERANCE: u8 = 1;
    /// Never re-executed: the client opts out of verification and pays no verification fee;
    /// the job is never drawn and cannot be disputed (shown as unverified).
    pub const NONE: u8 = 2;
}

#[allow(non_upper_case_globals)]
impl SampleStatus {
    pub const Unrevealed: Self = Self(0);
    pub const NotSampled: Self = Self(1);
    pub const Sampled: Self = Self(2);
}

/// One GPU job and its escrow. Zero-copy (`repr(C)`, 744 bytes, no padding): the hot paths
/// read and write fields in place. The first fields sit at fixed offsets for getProgramAccounts
/// memcmp filters (see `Job::STATE_OFFSET`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Job {
    pub market: Pubkey,
    pub client: Pubkey,
    /// `Pubkey::default()` while Open.
    pub provider: Pubkey,
    pub state: JobState,
    pub sample_status: SampleStatus,
    pub bump: u8,
    pub vault_bump: u8,
    pub max_duration_secs: u32,
    /// Private job: only this provider may claim. `Pubkey::default()` = anyone.
    pub assigned_provider: Pubkey,
    /// Token account `["job_vault", job]` holding the escrow.
    pub vault: Pubkey,
    pub spec_hash: [u8; 32],
    pub spec_uri: [u8; URI_LEN],
    pub nonce: u64,
    pub price_per_sec: u64,
    /// Escrowed for compute (price × max duration) and for verification.
    pub escrow_compute: u64,
    pub escrow_verification: u64,
    pub posted_at: i64,
    /// After this time (if non-zero) an unclaimed job may be cancelled by anyone.
    pub open_until: i64,
    pub claimed_at: i64,
    pub deadline: i64,
    pub submitted_at: i64,
    pub submitted_slot: u64,
    /// Provider stake locked by this job while it runs (the market's stake_per_job at claim).
    pub stake_locked: u64,
    /// Verification: when the verifier claimed, its deadline, the stake it locked.
    pub verifier_claimed_at: i64,
    pub verify_deadline: i64,
    pub verifier_stake_locked: u64,
    /// When the last verdict or challenge landed: a verifier's mismatch put the job in
    /// dispute (the arbiter's clock), or a first match of a `tolerance` job opened the
    /// client's window to challenge it (`Job::match_challenge_ends`); 0 while none.
    pub disputed_at: i64,
    /// When a quit or an expiry last put the job back to Open (0 if never): nobody may claim
    /// it for `REOPEN_HOLD_SECS`, so the client can always take its escrow back (`cancel_job`)
    /// from a provider who keeps it running with key after key.
    pub reopened_at: i64,
    // Terms copied from the market and the config at post (`post_job`), so an admin's later
    // change never alters a funded job: fees, sampling, windows, stake, slashes, arbiter.
    /// Provider stake a claim locks (the market's `stake_per_job` at post).
    pub stake_per_job: u64,
    pub challenge_window_secs: u32,
    /// Seconds after the deadline (or a verifier's deadline) before anyone may expire it.
    pub expire_grace_secs: u32,
    /// A drawn job nobody claims to verify within window + this lapses unsampled.
    pub verification_timeout_secs: u32,
    pub billed_secs: u32,
    /// Seconds the verifier billed for its re-run (paid from the market pool on a match).
    pub verifier_billed_secs: u32,
    pub protocol_fee_bps: u16,
    pub verification_fee_bps: u16,
    pub verify_rate_bps: u16,
    pub fraud_slash_bps: u16,
    pub timeout_slash_bps: u16,
    pub slash_reward_bps: u16,
    pub quit_penalty_bps: u16,
    pub spec_uri_len: u8,
    /// How a dispute ended (`Resolution`), 0 while none.
    pub resolution: u8,
    /// sha256(job ‖ provider ‖ result_hash).
    pub result_commitment: [u8; 32],
    /// The provider (wallet) re-running a sampled job; default while none.
    pub verifier: Pubkey,
    /// The provider that last quit this job or let it expire: it may not claim it again.
    pub last_provider: Pubkey,
    /// Decides this job's dispute if one arises (the market's arbiter at post).
    pub arbiter: Pubkey,
    /// Bond the client posted with `dispute_job` (little-endian u64; kept in the vault).
    pub client_bond: [u8; 8],
    /// Verifier sortition (`math::sortition`, `Job::race_at`). The slot races are counted from
    /// (little-endian u64): 0 means the draw slot (`submitted_slot + SAMPLE_DELAY_SLOTS`); a
    /// dispute of an undrawn job or a silent verifier's expiry sets it to a slot whose hash
    /// nobody knew at the time.
    pub race_origin: [u8; 8],
    /// The last slot of the race the current verifier won (little-endian u64; 0 while none):
    /// a lower ticket may displace it up to this slot, and it may submit only after.
    pub race_closes: [u8; 8],
    /// The current verifier's ticket (little-endian u128); lower wins.
    pub verifier_ticket: [u8; 16],
    /// Escalation (`JobState::Escalated`): the verifier that mismatched first, and the stake it
    /// keeps locked (little-endian u64) until the dispute is resolved.
    pub first_verifier: Pubkey,
    pub first_verifier_stake: [u8; 8],
    /// What the second verifier said (`verdict`).
    pub verdict: u8,
    /// `verify_mode` from the job's spec.
    pub verify_mode: u8,
    /// 1 once the client challenged the first verifier's match of a `tolerance` job
    /// (`dispute_job` on a Verified job): `first_verifier` is then the verifier that matched,
    /// and the second verifier re-runs the job to decide between them.
    pub challenged_match: u8,
    pub _reserved: [u8; 1],
    /// The current verifier's commitment to its own re-run, sha256(job ‖ verifier ‖ its result
    /// hash) (`commit_verification`); zero while none. The provider's results server gives
    /// the provider's outputs to the verifier only once it is set, and `submit_verification`
    /// must open it: the verdict is about a re-run fixed before the outputs were seen.
    pub verifier_commitment: [u8; 32],
}

impl Job {
    pub const SPACE: usize = 8 + core::mem::size_of::<Job>();
    /// Byte offsets (after the 8-byte discriminator) for RPC memcmp filters.
    pub const MARKET_OFFSET: usize = 8;
    pub const CLIENT_OFFSET: usize = 8 + 32;
    pub const PROVIDER_OFFSET: usize = 8 + 64;
    pub const STATE_OFFSET: usize = 8 + 96;

    pub fn invariant(&self) -> Result<()> {
        let provider_set = self.provider != Pubkey::default();
        let ok = match self.state {
            JobState::Open => !provider_set && self.claimed_at == 0 && self.submitted_at == 0,
            JobState::Running => provider_set && self.deadline >= self.claimed_at,
            _ => provider_set && self.billed_secs <= self.max_duration_secs,
        };
        require!(
            ok && (self.spec_uri_len as usize) <= URI_LEN,
            CinderError::InvariantViolated
        );
        Ok(())
    }

    /// Back to Open after a quit or an expiry at `now`: nothing of the last run survives but
    /// who ran it (barred from claiming it again) and when (the claim hold starts).
    pub fn reopen(&mut self, now: i64) {
        self.last_provider = self.provider;
        self.reopened_at = now;
        self.state = JobState::Open;
        self.provider = Pubkey::default();
        self.claimed_at = 0;
        self.deadline = 0;
        self.stake_locked = 0;
    }

    /// Whether this submitted job must be re-executed before it settles: drawn by
    /// `reveal_sample`, or, in a market that samples at all, never revealed within the reveal
    /// window (so staying quiet gains nothing).
    pub fn must_verify(&self, slot: u64) -> bool {
        match self.sample_status {
            SampleStatus::Sampled => true,
            SampleStatus::Unrevealed => {
                self.verify_rate_bps > 0
                    && slot
                        > self
                            .submitted_slot
                            .saturating_add(crate::constants::REVEAL_WINDOW_SLOTS)
            }
            _ => false,
        }
    }

    /// The slot verifier races are counted from (see `race_origin`).
    pub fn race_origin(&self) -> u64 {
        match u64::from_le_bytes(self.race_origin) {
            0 => self.submitted_slot.saturating_add(SAMPLE_DELAY_SLOTS),
            origin => origin,
        }
    }

    /// The verifier race running at `slot`: (the slot whose hash seeds it, its last slot).
    /// Races follow each other every `VERIFIER_RACE_SLOTS` from the origin; `None` up to the
    /// origin itself (its hash is not known yet).
    pub fn race_at(&self, slot: u64) -> Option<(u64, u64)> {
        let origin = self.race_origin();
        let since = slot.checked_sub(origin)?.checked_sub(1)?;
        let start = since
            .checked_div(VERIFIER_RACE_SLOTS)?
            .checked_mul(VERIFIER_RACE_SLOTS)?
            .checked_add(origin)?;
        Some((start, start.checked_add(VERIFIER_RACE_SLOTS)?))
    }

    pub fn race_closes(&self) -> u64 {
        u64::from_le_bytes(self.race_closes)
    }

    pub fn verifier_ticket(&self) -> u128 {
        u128::from_le_bytes(self.verifier_ticket)
    }

    /// No verifier and no race won: after an expiry, and before any claim.
    /// A new verifier race: no ticket, no closing slot, and no verifier commitment (the next
    /// verifier commits to its own re-run).
    pub fn clear_race(&mut self) {
        self.race_closes = [0; 8];
        self.verifier_ticket = [0; 16];
        self.verifier_commitment = [0; 32];
    }

    pub fn verifier_committed(&self) -> bool {
        self.verifier_commitment != [0; 32]
    }

    /// `who` may act as this job's verifier (commit, submit) at `slot` and `now`: the job is
    /// being verified, `who` won its race, the race has closed (no lower ticket can displace
    /// it any more) and the verifier's deadline has not passed.
    pub fn check_verifier_may_act(&self, who: &Pubkey, slot: u64, now: i64) -> Result<()> {
        require!(
            self.state == JobState::Verifying,
            CinderError::JobNotVerifying
        );
        require!(self.verifier == *who, CinderError::NotJobVerifier);
        require!(slot > self.race_closes(), CinderError::VerifierRaceOpen);
        require!(now <= self.verify_deadline, CinderError::DeadlinePassed);
        Ok(())
    }

    pub fn first_verifier_stake(&self) -> u64 {
        u64::from_le_bytes(self.first_verifier_stake)
    }

    pub fn escalated(&self) -> bool {
        self.first_verifier != Pubkey::default()
    }

    /// Whether the first verdict was a match that the client challenged: the two verifiers'
    /// roles in a dispute are swapped (the second is the one who found a mismatch).
    pub fn contests_a_match(&self) -> bool {
        self.challenged_match != 0
    }

    /// Until when the client may challenge this job's match (`dispute_job`) and nobody may
    /// settle it: a `tolerance` job's first match, unchallenged, that no dispute of the client
    /// forced, is open to challenge for the job's challenge window from the verdict. An exact
    /// job's match is hash equality, which the program checked; a match the client's own
    /// dispute forced, or one a second verifier or the arbiter reached, is final.
    pub fn match_challenge_ends(&self) -> Option<i64> {
        let open = self.state == JobState::Verified
            && self.verify_mode == verify_mode::TOLERANCE
            && self.resolution == 0
            && !self.escalated()
            && self.disputed_at != 0;
        open.then(|| {
            self.disputed_at
                .saturating_add(self.challenge_window_secs as i64)
        })
    }

    /// The job goes to a second verifier (`JobState::Escalated`): `first` keeps `first_stake`
    /// locked until the dispute is resolved, and the second race starts from a slot whose
    /// hash nobody knows yet. Shared by a first mismatch and a client's challenge of a match.
    pub fn escalate(&mut self, first: Pubkey, first_stake: u64, slot: u64, now: i64) -> Result<()> {
        self.state = JobState::Escalated;
        self.first_verifier = first;
        self.first_verifier_stake = first_stake.to_le_bytes();
        self.verifier = Pubkey::default();
        self.verifier_claimed_at = 0;
        self.verify_deadline = 0;
        self.verifier_stake_locked = 0;
        self.clear_race();
        self.race_origin = crate::math::add(slot, SAMPLE_DELAY_SLOTS)?.to_le_bytes();
        self.disputed_at = now;
        Ok(())
    }

    /// An escalated job nobody claimed to verify a second time within the verification
    /// timeout of the first mismatch (`disputed_at`): it goes to the arbiter on one verdict.
    pub fn escalation_lapsed(&self, now: i64) -> bool {
        self.state == JobState::Escalated
            && now
                >= self
                    .disputed_at
                    .saturating_add(self.verification_timeout_secs as i64)
    }

    /// From when the arbiter's timeout runs (`RESOLVE_TIMEOUT_SECS`): the second verdict, or
    /// the lapse of the escalation.
    pub fn referred_at(&self) -> i64 {
        if self.state == JobState::Escalated {
            self.disputed_at
                .saturating_add(self.verification_timeout_secs as i64)
        } else {
            self.disputed_at
        }
    }

    pub fn client_bond(&self) -> u64 {
        u64::from_le_bytes(self.client_bond)
    }

    /// A job that must be verified but found no verifier in time settles as unsampled.
    pub fn verification_lapsed(&self, now: i64) -> bool {
        self.verifier == Pubkey::default()
            && now
                >= self
                    .submitted_at
                    .saturating_add(self.challenge_window_secs as i64)
                    .saturating_add(self.verification_timeout_secs as i64)
    }
}
