use crate::{
    constants::{JOB_SEED, MARKET_SEED},
    errors::CinderError,
    events::{BondPaid, VerificationEscalated, VerificationSubmitted},
    instructions::{result_commitment, verifier_commitment},
    math,
    state::{verdict, verify_mode, Job, JobState, Market, Provider, SampleStatus},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// The verifier submits its verdict (issue 17, point 2) with its re-run's result hash in the
/// clear, which must open its `commit_verification` commitment (made before the provider's
/// results server would give it the provider's outputs). An `exact` job's verdict is hash
/// equality: matched iff the hash opens the provider's commitment (sha256(job ‖ provider ‖
/// hash)), checked here, so a verifier who only knows the public commitment cannot match. A
/// `tolerance` job's verdict is the verifier's comparison of the provider's outputs with its
/// own under the job's rule. Match → Verified, and the verifier is paid price × its billed
/// seconds, at most the seconds the provider billed (one more run of the same job): from the
/// market pool, as far as its verification funds go, for a run the slot-hash draw decided
/// ([`verifier_pay`]); from the client's bond for a run its dispute forced; from the
/// provider's pay for a run an unrevealed draw forced ([`forced_rerun_pay`]). A first
/// mismatch → Escalated: a second verifier is raced. The second verdict → Disputed: two
/// mismatches are fraud (`resolve_dispute` by anyone, at once), a split goes to the arbiter.
#[event_cpi]
#[derive(Accounts)]
pub struct SubmitVerification<'info> {
    pub owner: Signer<'info>,
    /// The verifier's provider account.
    #[account(mut, has_one = owner @ CinderError::NotProviderOwner)]
    pub provider: AccountLoader<'info, Provider>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    #[account(
        has_one = payment_mint @ CinderError::MintMismatch,
        has_one = verify_pool @ CinderError::FeeVaultMismatch,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: equal to `market.verify_pool` (has_one); authority: the market PDA.
    #[account(mut)]
    pub verify_pool: UncheckedAccount<'info>,
    /// CHECK: the verifier's payment-mint token account (owner checked in the handler).
    #[account(mut)]
    pub verifier_token: UncheckedAccount<'info>,
    /// CHECK: the job's vault (checked against `job.vault`): pays out a client's bond, or a
    /// forced re-run, on a match.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the provider's payment-mint token account (owner checked when a bond is paid).
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// What the market pool owes a matching verifier of a run the draw decided, that billed
/// `billed_secs` (before the pool's free funds cap it). Every job that reaches settlement pays
/// its verification fee `f × pay` into the pool (settled, accepted, refunded or disputed
/// alike), and a job is drawn with probability `r` (its verify rate), so the pool stays solvent
/// in expectation when a drawn re-run costs it at most `pay × f / r`: expected outflow
/// `r × min(run, pay × f / r) ≤ f × pay`, the income. With `f ≥ r` (the defaults: 6 % and 5 %)
/// that bound never binds and a drawn run is paid in full. What keeps a verifier (with a
/// colluding client and provider) from draining the pool:
/// - the run is paid for at most the seconds the provider billed: a 0-second job pays nothing;
/// - a drawn run is paid at most `pay × f / r`, rounded down (the solvency bound above);
/// - the pool pays for no other run. A run the client forced with a dispute is paid by the
///   client's bond, and a run forced because nobody revealed the draw in time by the provider's
///   pay ([`forced_rerun_pay`]). Paid from the pool, either ate the job's own fee, so a coalition
///   that forced re-runs of exactly its undrawn jobs (disputing them, or letting their reveal
///   window pass) starved the drawn runs: the pool lost about `r × (1 − f)` of each such job's
///   pay (cinder-sim's pool-drain table).
pub fn verifier_pay(job: &Job, billed_secs: u32) -> Result<u64> {
    let run = verifier_run(job, billed_secs)?;
    let pay = math::mul(job.price_per_sec, job.billed_secs as u64)?;
    // A draw needs a non-zero rate; `max(1)` only keeps the division defined. A bound beyond
    // u64 cannot bind.
    let bound = math::mul_div_floor(
        pay,
        job.verification_fee_bps as u64,
        job.verify_rate_bps.max(1) as u64,
    )
    .unwrap_or(u64::MAX);
    Ok(run.min(bound))
}

/// What a matching verifier of a run forced by an unrevealed draw (`SampleStatus::Unrevealed`
/// past the reveal window) is paid out of the job's vault, at the provider's expense: the run,
/// at most the job's own verification fee (`⌈pay × f⌉`) and at most what the provider nets
/// (`pay − ⌈pay × p⌉`). The reveal is anyone's to send within ≈ 200 s of the submit, and the
/// provider's worker sends it: a provider whose draw stayed unknown pays for the re-run that
/// takes its place. The pool pays nothing for it, so withholding reveals drains nothing (issue
/// 15 (b)), and a withheld reveal is never cheaper for a provider than a draw: its job is
/// re-run for sure. Settlement takes the same amount from the provider's share
/// ([`crate::instructions::settle_job::rerun_paid_from_pay`]).
pub fn forced_rerun_pay(job: &Job, billed_secs: u32) -> Result<u64> {
    let run = verifier_run(job, billed_secs)?;
    let pay = math::mul(job.price_per_sec, job.billed_secs as u64)?;
    let own_fee = math::bps_of_ceil(pay, job.verification_fee_bps)?;
    let provider_net = pay.saturating_sub(math::bps_of_ceil(pay, job.protocol_fee_bps)?);
    Ok(run.min(own_fee).min(provider_net))
}

/// The verifier's run at the job's price, for at most the seconds the provider billed.
pub fn verifier_run(job: &Job, billed_secs: u32) -> Result<u64> {
    math::mul(job.price_per_sec, billed_secs.min(job.billed_secs) as u64)
}

pub fn submit_verification(
    ctx: Context<SubmitVerification>,
    result_hash: [u8; 32],
    billed_secs: u32,
    matched: bool,
) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let a = &ctx.accounts;
    let owner = a.owner.key();
    let job_key = a.job.key();
    let (matched, pay, bond, from_vault, job_copy) = {
        let mut job = a.job.load_mut()?;
        require_keys_eq!(job.vault, a.vault.key(), CinderError::VaultMismatch);
        job.check_verifier_may_act(&owner, clock.slot, now)?;
        let elapsed = math::sub_i64(now, job.verifier_claimed_at)?;
        require!(
            (billed_secs as i64) <= elapsed && billed_secs <= job.max_duration_secs,
            CinderError::BilledTooMuch
        );
        // A forced re-run's pay (`forced_rerun_pay`) is the first verifier's billed seconds;
        // a second verifier that decides a challenged match is paid from the bond.
        if !job.contests_a_match() {
            job.verifier_billed_secs = billed_secs;
        }
        require!(
            job.verifier_committed(),
            CinderError::VerificationNotCommitted
        );
        require!(
            verifier_commitment(&job_key, &owner, &result_hash) == job.verifier_commitment,
            CinderError::VerifierCommitmentMismatch
        );
        // An exact job's verdict is hash equality, which the chain checks; a tolerance job's
        // is the verifier's comparison of the outputs under the job's rule.
        if job.verify_mode == verify_mode::EXACT {
            let opens =
                result_commitment(&job_key, &job.provider, &result_hash) == job.result_commitment;
            require!(opens == matched, CinderError::VerdictContradictsResult);
        }
        let second = job.escalated();
        // A match settles the job unless it contradicts a first verifier's mismatch: the
        // first match, or the second verifier's match of a first match the client challenged.
        let settles = matched && (!second || job.contests_a_match());
        if settles {
            job.state = JobState::Verified;
            let mut provider = a.provider.load_mut()?;
            provider.release_job(job.verifier_stake_locked)?;
            provider.invariant()?;
            job.verifier_stake_locked = 0;
            // A tolerance job's match is the verifier's word, not a check of the program's:
            // the client may challenge it for a challenge window (`Job::match_challenge_ends`),
            // unless its own dispute forced this run.
            if !second && job.verify_mode == verify_mode::TOLERANCE && job.client_bond() == 0 {
                job.disputed_at = now;
            }
        } else if !second {
            // One mismatch decides nothing: a second verifier, raced afresh from a slot whose
            // hash nobody knows yet and never this one, re-runs the job. This verifier's stake
            // stays locked: it is slashed if it turns out wrong.
            let stake = job.verifier_stake_locked;
            job.escalate(owner, stake, clock.slot, now)?;
        } else {
            // The second verdict against the first: two mismatches (fraud, anyone resolves it
            // at once) or a split (the arbiter decides). Both verifiers' stakes stay locked
            // until then (a challenged match's first verifier released its stake at the match:
            // the slash takes it from its position, as from any staker's).
            job.state = JobState::Disputed;
            job.verdict = if matched || job.contests_a_match() {
                verdict::SPLIT
            } else {
                verdict::CONFIRMED
            };
            job.disputed_at = now;
        }
        // Only a match that settles is paid; escalation verifiers that contradict the first
        // are paid from the slash of whoever turns out wrong. A client that doubted the result
        // (or challenged a match) pays for the re-run it forced: its bond pays the verifier's
        // run (at most the bond) and the provider the rest. A run forced by an unrevealed draw
        // is paid from the vault out of the provider's pay. Only a run the draw decided is
        // paid from the pool.
        let bond = if settles { job.client_bond() } else { 0 };
        let forced = settles && bond == 0 && job.sample_status == SampleStatus::Unrevealed;
        let pay = if settles && bond == 0 && !forced {
            verifier_pay(&job, billed_secs)?
        } else {
            0
        };
        let from_vault = if bond > 0 {
            job.client_bond = [0; 8];
            verifier_run(&job, billed_secs)?.min(bond)
        } else if forced {
            forced_rerun_pay(&job, billed_secs)?
        } else {
            0
        };
        (matched, pay, bond, from_vault, *job)
    };
    let mut paid = 0;
    if pay > 0 {
        utils::check_token_owner(&a.verifier_token, &a.token_program.key(), &owner)?;
        let (accrued, market_id, bump, decimals) = {
            let m = a.market.load()?;
            (
                m.protocol_fees_accrued,
                m.market_id,
                m.bump,
                m.payment_decimals,
            )
        };
        // The pool also holds unswept protocol fees; only the rest pays verifiers.
        let free = utils::token_amount(&a.verify_pool)?.saturating_sub(accrued);
        paid = pay.min(free);
        let id = market_id.to_le_bytes();
        utils::transfer_checked(
            &a.token_program,
            &a.verify_pool,
            &a.payment_mint,
            &a.verifier_token,
            &a.market.to_account_info(),
            paid,
            decimals,
            &[&[MARKET_SEED, &id, &[bump]]],
        )?;
    }
    if from_vault > 0 || bond > 0 {
        // Out of the job's vault, the job signing: the client's bond (the run, at most the
        // bond, and the rest to the provider), or the provider's pay for a forced re-run.
        let token_program = a.token_program.key();
        utils::check_token_owner(&a.verifier_token, &token_program, &owner)?;
        if bond > 0 {
            utils::check_token_owner(&a.provider_token, &token_program, &job_copy.provider)?;
        }
        let to_provider = math::sub(bond, from_vault.min(bond))?;
        let decimals = a.market.load()?.payment_decimals;
        let nonce = job_copy.nonce.to_le_bytes();
        let seeds: &[&[u8]] = &[
            JOB_SEED,
            job_copy.market.as_ref(),
            job_copy.client.as_ref(),
            &nonce,
            &[job_copy.bump],
        ];
        let job_info = a.job.to_account_info();
        for (destination, amount) in [
            (&a.verifier_token, from_vault),
            (&a.provider_token, to_provider),
        ] {
            if amount == 0 {
                continue;
            }
            utils::transfer_checked(
                &a.token_program,
                &a.vault,
                &a.payment_mint,
                destination,
                &job_info,
                amount,
                decimals,
                &[seeds],
            )?;
        }
        if bond > 0 {
            emit_cpi!(BondPaid {
                job: job_key,
                to_provider,
                to_verifier: from_vault,
            });
        } else {
            paid = from_vault;
        }
    }
    emit_cpi!(VerificationSubmitted {
        job: job_key,
        verifier: owner,
        result_hash,
        matched,
        verifier_paid: paid,
    });
    if job_copy.state == JobState::Escalated {
        emit_cpi!(VerificationEscalated {
            job: job_key,
            first_verifier: owner,
        });
    }
    Ok(())
}
