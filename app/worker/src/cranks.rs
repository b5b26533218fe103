//! The permissionless cranks that keep jobs moving (DESIGN "permissionless liveness"): reveal
//! a submitted job's sample, settle it after its window, expire a silent provider or verifier,
//! and sweep accrued protocol fees to the auction. Each is a should-run check (a pure function
//! of the job, its market and the chain's time and slot) and a run step.

use crate::market::{self, MarketInfo};
use anchor_lang::prelude::Pubkey;
use cinder::{
    constants::{RESOLVE_TIMEOUT_SECS, REVEAL_WINDOW_SLOTS, SAMPLE_DELAY_SLOTS},
    state::{resolution, verdict, Job, JobState, SampleStatus},
};
use cinder_client::{
    ix,
    rpc::{Chain, ChainError, Sent},
    token,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// What a job needs next from a keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crank {
    /// The slot hash that decides sampling exists: reveal it.
    Reveal,
    /// Payable: the window passed unsampled (or the sample lapsed), or it was verified or
    /// refunded.
    Settle,
    /// The provider missed deadline + grace.
    ExpireJob,
    /// The verifier missed its deadline.
    ExpireVerification,
    /// The arbiter stayed silent past the resolve timeout, or nobody took up a client's
    /// challenge of a match in time: anyone resolves (the result stands).
    ResolveTimeout,
    /// Two verifiers mismatched an exact job: anyone resolves it at once (fraud).
    ResolveProven,
}

impl Crank {
    pub fn name(self) -> &'static str {
        match self {
            Crank::Reveal => "reveal_sample",
            Crank::Settle => "settle_job",
            Crank::ExpireJob => "expire_job",
            Crank::ExpireVerification => "expire_verification",
            Crank::ResolveTimeout => "resolve_dispute(timeout)",
            Crank::ResolveProven => "resolve_dispute(two mismatches)",
        }
    }
}

/// The crank `job` is ready for at chain time `now` and `slot`, if any, by the terms the job
/// was posted under. Mirrors the program's own conditions, so a keeper never pays for a
/// transaction bound to fail.
pub fn due(job: &Job, now: i64, slot: u64) -> Option<Crank> {
    match job.state {
        JobState::Running => {
            let expires = job.deadline.saturating_add(job.expire_grace_secs as i64);
            (now > expires).then_some(Crank::ExpireJob)
        }
        JobState::Submitted => {
            let reveal_from = job.submitted_slot.saturating_add(SAMPLE_DELAY_SLOTS);
            let reveal_until = job.submitted_slot.saturating_add(REVEAL_WINDOW_SLOTS);
            if job.sample_status == SampleStatus::Unrevealed
                && slot > reveal_from
                && slot <= reveal_until
            {
                return Some(Crank::Reveal);
            }
            let window_end = job
                .submitted_at
                .saturating_add(job.challenge_window_secs as i64);
            if now < window_end {
                return None;
            }
            if !job.must_verify(slot) || job.verification_lapsed(now) {
                Some(Crank::Settle)
            } else {
                None
            }
        }
        JobState::Verifying => {
            let expires = job
                .verify_deadline
                .saturating_add(job.expire_grace_secs as i64);
            (now > expires).then_some(Crank::ExpireVerification)
        }
        // A tolerance job's match waits out the client's window to challenge it.
        JobState::Verified => match job.match_challenge_ends() {
            Some(ends) if now < ends => None,
            _ => Some(Crank::Settle),
        },
        JobState::Refunded => Some(Crank::Settle),
        // A client's challenge of a match nobody re-ran in time: the match stands, at once.
        JobState::Escalated if job.contests_a_match() && job.escalation_lapsed(now) => {
            Some(Crank::ResolveTimeout)
        }
        JobState::Disputed if job.verdict == verdict::CONFIRMED => Some(Crank::ResolveProven),
        JobState::Disputed | JobState::Escalated => {
            let lapsed = job.state == JobState::Disputed || job.escalation_lapsed(now);
            (lapsed && now >= job.referred_at().saturating_add(RESOLVE_TIMEOUT_SECS))
                .then_some(Crank::ResolveTimeout)
        }
        _ => None,
    }
}

/// Protocol-token context the slashing cranks pay the caller's share into.
pub struct Keeper<'a> {
    pub chain: &'a Chain,
    pub me: &'a Keypair,
    pub protocol: ix::Protocol,
}

impl Keeper<'_> {
    /// Sends the crank for `job`. Account creation the payout needs (the client's and the
    /// provider's associated token accounts) is included, paid by the keeper.
    pub async fn run(
        &self,
        crank: Crank,
        job_key: &Pubkey,
        job: &Job,
        m: &MarketInfo,
    ) -> Result<Sent, ChainError> {
        let keys = market::job_keys(job_key, job, &m.market);
        let me = self.me.pubkey();
        let ixs = match crank {
            Crank::Reveal => vec![ix::reveal_sample(&keys)],
            Crank::Settle => {
                let payees = market::payees(job, &m.market);
                vec![
                    token::create_ata_ix(&me, &job.client, &keys.mint, &keys.token_program),
                    token::create_ata_ix(&me, &job.provider, &keys.mint, &keys.token_program),
                    ix::settle_job(&keys, &payees),
                ]
            }
            Crank::ExpireJob => {
                let mine = self.my_protocol_account();
                vec![
                    self.create_my_protocol_account(),
                    ix::expire_job(&keys, &me, &job.provider, &mine, &self.protocol),
                ]
            }
            Crank::ExpireVerification => {
                let mine = self.my_protocol_account();
                vec![
                    self.create_my_protocol_account(),
                    ix::expire_verification(&keys, &me, &job.verifier, &mine, &self.protocol),
                ]
            }
            // The result stands: nobody is slashed, no reward account is paid.
            Crank::ResolveTimeout => vec![ix::resolve_dispute_for(
                &keys,
                job,
                &me,
                &self.protocol,
                resolution::UNDECIDABLE,
            )],
            // Fraud: the provider's slash rewards both verifiers, into accounts that must exist.
            Crank::ResolveProven => {
                let (mint, program) = (&self.protocol.mint, &self.protocol.token_program);
                vec![
                    token::create_ata_ix(&me, &job.first_verifier, mint, program),
                    token::create_ata_ix(&me, &job.verifier, mint, program),
                    ix::resolve_dispute_for(
                        &keys,
                        job,
                        &me,
                        &self.protocol,
                        resolution::VERIFIER_RIGHT,
                    ),
                ]
            }
        };
        let sent = self.chain.send(&ixs, self.me, &[]).await?;
        metrics::counter!("cinder_cranks_total", "crank" => crank.name()).increment(1);
        Ok(sent)
    }

    fn my_protocol_account(&self) -> Pubkey {
        token::ata(
            &self.me.pubkey(),
            &self.protocol.mint,
            &self.protocol.token_program,
        )
    }

    fn create_my_protocol_account(&self) -> anchor_lang::solana_program::instruction::Instruction {
        token::create_ata_ix(
            &self.me.pubkey(),
            &self.me.pubkey(),
            &self.protocol.mint,
            &self.protocol.token_program,
        )
    }

    /// Moves a market's accrued protocol fees to its auction's fee vault, if any accrued.
    pub async fn sweep(&self, m: &MarketInfo) -> Result<Option<Sent>, ChainError> {
        if m.market.protocol_fees_accrued == 0 {
            return Ok(None);
        }
        let ixs = [ix::sweep_fees(
            &m.key,
            &m.market.payment_mint,
            &m.market.payment_token_program,
        )];
        Ok(Some(self.chain.send(&ixs, self.me, &[]).await?))
    }

    /// One pass over every job of `markets` that may need a crank; returns what it did.
    /// Errors of single cranks are logged and skipped (another keeper may have been first).
    pub async fn pass(
        &self,
        markets: &[MarketInfo],
        skip_provider: Option<&Pubkey>,
    ) -> Vec<(Pubkey, Crank)> {
        let mut done = Vec::new();
        let (now, slot) = match (self.chain.unix_time().await, self.chain.slot().await) {
            (Ok(n), Ok(s)) => (n, s),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "keeper: cannot read the clock; skipping this pass");
                return done;
            }
        };
        for m in markets {
            for state in [
                JobState::Running,
                JobState::Submitted,
                JobState::Verifying,
                JobState::Verified,
                JobState::Disputed,
                JobState::Escalated,
                JobState::Refunded,
            ] {
                let jobs = match market::jobs_in_state(self.chain, &m.key, state).await {
                    Ok(j) => j,
                    Err(e) => {
                        tracing::warn!(error = %e, market = m.id, "keeper: scan failed");
                        continue;
                    }
                };
                for (key, job) in jobs {
                    let Some(crank) = due(&job, now, slot) else {
                        continue;
                    };
                    // A worker never expires itself.
                    if matches!(crank, Crank::ExpireJob) && Some(&job.provider) == skip_provider {
                        continue;
                    }
                    if matches!(crank, Crank::ExpireVerification)
                        && Some(&job.verifier) == skip_provider
                    {
                        continue;
                    }
                    match self.run(crank, &key, &job, m).await {
                        Ok(sent) => {
                            tracing::info!(job = %key, crank = crank.name(), sig = %sent.signature, cu = sent.compute_units, "crank");
                            done.push((key, crank));
                        }
                        Err(e) => {
                            tracing::debug!(job = %key, crank = crank.name(), error = %e, "crank not applied")
                        }
                    }
                }
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use cinder::state::verify_mode;

    /// A job posted under a verify rate of `rate` bps, a 30 s grace and a 60 s timeout.
    fn posted(rate: u16) -> Job {
        let mut j = Job::zeroed();
        j.verify_rate_bps = rate;
        j.expire_grace_secs = 30;
        j.verification_timeout_secs = 60;
        j
    }

    fn submitted() -> Job {
        let mut j = posted(5_000);
        j.state = JobState::Submitted;
        j.provider = Pubkey::new_unique();
        j.submitted_at = 1_000;
        j.submitted_slot = 100;
        j.challenge_window_secs = 10;
        j
    }

    #[test]
    fn reveal_only_inside_its_slot_window() {
        let j = submitted();
        assert_eq!(
            due(&j, 1_000, 104),
            None,
            "the deciding slot hash does not exist yet"
        );
        assert_eq!(due(&j, 1_000, 105), Some(Crank::Reveal));
        assert_eq!(due(&j, 1_000, 600), Some(Crank::Reveal));
        // Past the reveal window, inside the challenge window: nothing.
        assert_eq!(due(&j, 1_005, 601), None);
    }

    #[test]
    fn settle_after_window_unless_a_verification_is_pending() {
        let mut j = submitted();
        j.sample_status = SampleStatus::NotSampled;
        assert_eq!(due(&j, 1_009, 200), None);
        assert_eq!(due(&j, 1_010, 200), Some(Crank::Settle));
        j.sample_status = SampleStatus::Sampled;
        assert_eq!(due(&j, 1_010, 200), None, "waits for a verifier");
        assert_eq!(
            due(&j, 1_070, 200),
            Some(Crank::Settle),
            "the sample lapsed"
        );
        // An optimistic market never waits.
        let mut j = submitted();
        j.sample_status = SampleStatus::Unrevealed;
        let optimistic = Job {
            verify_rate_bps: 0,
            ..j
        };
        assert_eq!(due(&optimistic, 1_010, 700), Some(Crank::Settle));
        assert_eq!(
            due(&j, 1_010, 700),
            None,
            "unrevealed = sampled in a sampling market"
        );
    }

    #[test]
    fn expiries() {
        let mut j = posted(0);
        j.state = JobState::Running;
        j.deadline = 500;
        assert_eq!(due(&j, 530, 0), None);
        assert_eq!(due(&j, 531, 0), Some(Crank::ExpireJob));
        j.state = JobState::Verifying;
        j.verify_deadline = 700;
        assert_eq!(due(&j, 730, 0), None, "deadline + grace");
        assert_eq!(due(&j, 731, 0), Some(Crank::ExpireVerification));
        j.state = JobState::Disputed;
        j.disputed_at = 1_000;
        assert_eq!(due(&j, 999 + RESOLVE_TIMEOUT_SECS, 0), None);
        assert_eq!(
            due(&j, 1_000 + RESOLVE_TIMEOUT_SECS, 0),
            Some(Crank::ResolveTimeout)
        );
        j.verdict = verdict::CONFIRMED;
        assert_eq!(
            due(&j, 1_000, 0),
            Some(Crank::ResolveProven),
            "two mismatches"
        );
        j.verify_mode = verify_mode::TOLERANCE;
        assert_eq!(
            due(&j, 1_000, 0),
            Some(Crank::ResolveProven),
            "two mismatch verdicts prove a tolerance job's fraud too"
        );
        j.state = JobState::Escalated;
        j.verdict = verdict::NONE;
        j.verification_timeout_secs = 100;
        let referred = 1_100 + RESOLVE_TIMEOUT_SECS;
        assert_eq!(
            due(&j, referred - 1, 0),
            None,
            "escalation running, then arbiter"
        );
        assert_eq!(due(&j, referred, 0), Some(Crank::ResolveTimeout));
        // A client's challenge of a tolerance match that nobody re-ran: the match stands at
        // once, without the arbiter's timeout.
        j.challenged_match = 1;
        j.first_verifier = Pubkey::new_unique();
        assert_eq!(due(&j, 1_099, 0), None, "the second verifier's race runs");
        assert_eq!(due(&j, 1_100, 0), Some(Crank::ResolveTimeout));
        // A tolerance job's first match settles once the client's window to challenge it
        // (challenge window from the verdict) has passed; an exact job's at once.
        let mut j = submitted();
        j.state = JobState::Verified;
        j.verify_mode = verify_mode::TOLERANCE;
        j.disputed_at = 2_000;
        j.challenge_window_secs = 600;
        assert_eq!(due(&j, 2_599, 0), None, "the match may still be challenged");
        assert_eq!(due(&j, 2_600, 0), Some(Crank::Settle));
        j.verify_mode = verify_mode::EXACT;
        assert_eq!(due(&j, 0, 0), Some(Crank::Settle));
    }
}
