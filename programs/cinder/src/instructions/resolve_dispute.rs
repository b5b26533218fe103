use crate::{
    constants::RESOLVE_TIMEOUT_SECS,
    errors::CinderError,
    events::{DisputeResolved, Slashed, SLASH_REASON_FRAUD},
    instructions::slashing,
    math,
    state::{
        resolution, verdict, Config, Job, JobState, Market, Provider, StakePool, StakePosition,
    },
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

/// Decides a disputed job (issue 15, point 2). Who decides depends on the verdicts:
/// - two verifiers' verdicts were mismatch (`verdict::CONFIRMED`): fraud, proven without the
///   arbiter. Anyone resolves it at once, as verifier right; `decision` is ignored.
/// - otherwise (the verifiers split, or the escalation lapsed with one mismatch) the job's
///   arbiter (the market's at post) decides: provider
///   right (the mismatching first verifier is slashed the job's `fraud_slash_bps`, a share to
///   the provider and half of it to a matching second verifier; the job settles as verified),
///   verifier right (the provider is slashed, a share to the first verifier and half of it to
///   a second that mismatched too, a second that matched is slashed as its accomplice; the
///   client is refunded) or undecidable (refund, nobody slashed).
/// - an arbiter silent for 7 days lets anyone resolve: the provider's result stands (a
///   mismatch is only a claim), it is paid, the client's bond returns, nobody is slashed.
/// - a client's challenge of a `tolerance` job's match (`dispute_job` on a Verified job): the
///   matching verifier is the first, the second re-runs. A second match settled it already; a
///   mismatch is a split the arbiter decides with the roles swapped (verifier right slashes
///   the provider and the matching verifier, the reward to the second; provider right slashes
///   the second); nobody re-running it in time lets the match stand, resolved by anyone at
///   once.
///
/// With two verifiers, pass the second's provider account, stake position and protocol-token
/// account as the first three remaining accounts (writable); both verifiers' stakes are
/// released.
#[event_cpi]
#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    pub signer: Signer<'info>,
    #[account(mut, has_one = market @ CinderError::MarketMismatch)]
    pub job: AccountLoader<'info, Job>,
    pub market: AccountLoader<'info, Market>,
    /// The job's provider's stake position.
    #[account(mut)]
    pub provider_stake: AccountLoader<'info, StakePosition>,
    /// The first (or only) verifier's provider account (its locked stake is released).
    #[account(mut)]
    pub verifier_provider: AccountLoader<'info, Provider>,
    /// The first verifier's stake position.
    #[account(mut)]
    pub verifier_stake: AccountLoader<'info, StakePosition>,
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        mut,
        has_one = stake_vault @ CinderError::VaultMismatch,
        has_one = protocol_mint @ CinderError::MintMismatch,
    )]
    pub stake_pool: AccountLoader<'info, StakePool>,
    /// CHECK: equal to `stake_pool.stake_vault` (has_one).
    #[account(mut)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: equal to `stake_pool.protocol_mint` (has_one).
    #[account(mut)]
    pub protocol_mint: UncheckedAccount<'info>,
    /// CHECK: the protocol-token account of the side found right: the provider's (provider
    /// right) or the first verifier's (verifier right); owner checked when paid.
    #[account(mut)]
    pub winner_token: UncheckedAccount<'info>,
    #[account(address = stake_pool.load()?.token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn resolve_dispute<'info>(
    ctx: Context<'info, ResolveDispute<'info>>,
    decision: u8,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let (outcome, by_arbiter, job, second) = {
        let mut job = a.job.load_mut()?;
        match job.state {
            JobState::Disputed => {}
            JobState::Escalated if job.escalation_lapsed(now) => job.verdict = verdict::LAPSED,
            _ => return err!(CinderError::JobNotDisputed),
        }
        // Two independent verifiers' mismatch verdicts, each on a re-run it committed to
        // before it saw the provider's outputs, prove the fraud (issue 17: verdicts, not hash
        // equality, so a tolerance job's too).
        let proven = job.verdict == verdict::CONFIRMED;
        // A client's challenge of a match that no second verifier took up in time leaves one
        // verdict, the match: it stands, and anyone says so at once.
        let unanswered = job.verdict == verdict::LAPSED && job.contests_a_match();
        let by_arbiter = !proven && !unanswered && a.signer.key() == job.arbiter;
        let timed_out = now >= math::add_i64(job.referred_at(), RESOLVE_TIMEOUT_SECS)?;
        require!(
            proven || unanswered || by_arbiter || timed_out,
            CinderError::NotArbiter
        );
        let outcome = if proven {
            resolution::VERIFIER_RIGHT
        } else if by_arbiter {
            decision
        } else {
            resolution::RESULT_STANDS
        };
        let valid = matches!(
            outcome,
            resolution::PROVIDER_RIGHT | resolution::VERIFIER_RIGHT | resolution::UNDECIDABLE
        ) || (!by_arbiter && outcome == resolution::RESULT_STANDS);
        require!(valid, CinderError::InvalidResolution);
        // Before an escalation existed a dispute had one verifier: `verifier`.
        let (first, first_stake) = if job.escalated() {
            (job.first_verifier, job.first_verifier_stake())
        } else {
            (job.verifier, job.verifier_stake_locked)
        };
        let mut vp = a.verifier_provider.load_mut()?;
        require!(vp.owner == first, CinderError::ProviderMismatch);
        // A challenged match's verifier released its stake at the match.
        if !job.contests_a_match() {
            vp.release_job(first_stake)?;
        }
        drop(vp);
        // A second verdict (escalated, then disputed: `CONFIRMED` or `SPLIT`) brings the
        // second verifier's accounts; its locked stake is released here, its stake and token
        // accounts are used by the slashes below.
        let second = if job.escalated() && job.state == JobState::Disputed {
            let second = second_verifier(ctx.remaining_accounts)?;
            let sp = AccountLoader::<Provider>::try_from(second.provider)?;
            let mut sp = sp.load_mut()?;
            require!(sp.owner == job.verifier, CinderError::ProviderMismatch);
            sp.release_job(job.verifier_stake_locked)?;
            Some(second)
        } else {
            None
        };
        job.verifier_stake_locked = 0;
        job.first_verifier_stake = [0; 8];
        job.resolution = outcome;
        if matches!(
            outcome,
            resolution::PROVIDER_RIGHT | resolution::RESULT_STANDS
        ) {
            job.state = JobState::Verified;
            // A challenged match keeps its first verifier's billed seconds: the forced re-run's
            // pay comes out of the provider's share at settlement (`rerun_paid_from_pay`).
            if !job.contests_a_match() {
                job.verifier_billed_secs = 0;
            }
        } else {
            job.state = JobState::Refunded;
        }
        (outcome, by_arbiter, *job, second)
    };
    let job_key = a.job.key();
    emit_cpi!(DisputeResolved {
        job: job_key,
        resolution: outcome,
        by_arbiter,
    });
    let slashes = slashes(&job, outcome);
    for s in slashes.into_iter().flatten() {
        let position = match s.loser {
            Party::Provider => a.provider_stake.clone(),
            Party::First => a.verifier_stake.clone(),
            Party::Second => {
                let second = second
                    .as_ref()
                    .ok_or_else(|| error!(CinderError::SecondVerifierMissing))?;
                AccountLoader::<StakePosition>::try_from(second.stake)?
            }
        };
        let co_winner = match (s.shared, &second) {
            (true, Some(second)) => Some((second.token, job.verifier)),
            _ => None,
        };
        let who = s.loser.key(&job);
        let done = slashing::slash(
            slashing::SlashAccounts {
                config: &a.config,
                stake_pool: &a.stake_pool,
                position: &position,
                stake_vault: &a.stake_vault,
                protocol_mint: &a.protocol_mint,
                winner_token: &a.winner_token,
                winner: s.winner.key(&job),
                co_winner,
                token_program: &a.token_program,
            },
            &who,
            job.fraud_slash_bps,
            job.slash_reward_bps,
        )?;
        if done.amount > 0 {
            emit_cpi!(Slashed {
                who,
                amount: done.amount,
                reward: done.reward,
                burned: done.burned,
                reason: SLASH_REASON_FRAUD,
                job: job_key,
            });
        }
    }
    Ok(())
}

/// A party to a dispute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Party {
    Provider,
    /// The verifier that mismatched first (the only one before escalation), or the one that
    /// matched first where the client challenged its match.
    First,
    /// The escalation's verifier (`job.verifier`).
    Second,
}

impl Party {
    fn key(self, job: &Job) -> Pubkey {
        match self {
            Party::Provider => job.provider,
            Party::First if job.escalated() => job.first_verifier,
            Party::First | Party::Second => job.verifier,
        }
    }
}

/// One slash of a resolution: who loses, whose account takes the reward, and whether the
/// second verifier (on the winner's side) shares it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct SlashOf {
    loser: Party,
    winner: Party,
    shared: bool,
}

/// Who a resolution slashes. A verdict is the verifier's comparison under the job's rule
/// (hash equality for an exact job), so a verifier found wrong is slashed in either mode; a
/// second verifier is on the provider's side when it matched (`SPLIT`) and on the first
/// verifier's when it mismatched too (`CONFIRMED`). Where the client challenged a first
/// match, the verifiers' roles are swapped: the second mismatched and the first matched, and
/// the first (paid for its run at the match) shares no reward.
fn slashes(job: &Job, outcome: u8) -> [Option<SlashOf>; 2] {
    let swap = |p: Party| match p {
        Party::First => Party::Second,
        Party::Second => Party::First,
        Party::Provider => Party::Provider,
    };
    let mut all = verdict_slashes(job, outcome);
    if job.contests_a_match() {
        for s in all.iter_mut().flatten() {
            *s = SlashOf {
                loser: swap(s.loser),
                winner: swap(s.winner),
                shared: false,
            };
        }
    }
    all
}

/// [`slashes`] where the first verifier mismatched (every dispute but a challenged match).
fn verdict_slashes(job: &Job, outcome: u8) -> [Option<SlashOf>; 2] {
    let split = job.verdict == verdict::SPLIT;
    let confirmed = job.verdict == verdict::CONFIRMED;
    match outcome {
        resolution::VERIFIER_RIGHT => [
            Some(SlashOf {
                loser: Party::Provider,
                winner: Party::First,
                shared: confirmed,
            }),
            split.then_some(SlashOf {
                loser: Party::Second,
                winner: Party::First,
                shared: false,
            }),
        ],
        resolution::PROVIDER_RIGHT => [
            Some(SlashOf {
                loser: Party::First,
                winner: Party::Provider,
                shared: split,
            }),
            None,
        ],
        _ => [None, None],
    }
}

/// The second verifier's accounts (remaining accounts 0..3).
struct SecondVerifier<'a, 'info> {
    provider: &'a AccountInfo<'info>,
    stake: &'a AccountInfo<'info>,
    token: &'a AccountInfo<'info>,
}

fn second_verifier<'a, 'info>(
    remaining: &'a [AccountInfo<'info>],
) -> Result<SecondVerifier<'a, 'info>> {
    match remaining {
        [provider, stake, token, ..]
            if provider.is_writable && stake.is_writable && token.is_writable =>
        {
            Ok(SecondVerifier {
                provider,
                stake,
                token,
            })
        }
        _ => err!(CinderError::SecondVerifierMissing),
    }
}
