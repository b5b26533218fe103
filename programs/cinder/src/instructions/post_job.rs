use crate::{
    constants::*,
    errors::CinderError,
    events::JobPosted,
    math,
    state::{fixed_ascii, verify_mode, Config, Job, JobState, Market, SampleStatus},
    utils,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PostJobArgs {
    /// Any number unique among this client's jobs in this market.
    pub nonce: u64,
    /// Canonical bumps of `["job", market, client, nonce]` and `["job_vault", job]`,
    /// found off-chain so the program never searches for them.
    pub job_bump: u8,
    pub vault_bump: u8,
    /// sha256 of the exact spec bytes.
    pub spec_hash: [u8; 32],
    pub spec_uri: String,
    pub price_per_sec: u64,
    pub max_duration_secs: u32,
    /// Only this provider (wallet) may claim it.
    pub assigned_provider: Option<Pubkey>,
    /// Unix time after which an unclaimed job may be cancelled by anyone; 0 = never.
    pub open_until: i64,
    /// How a re-run is compared (`verify_mode`: 0 exact, 1 tolerance, 2 none: never re-run, no
    /// verification fee), as the spec says.
    pub verify_mode: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct PostJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,
    pub config: AccountLoader<'info, Config>,
    #[account(has_one = payment_mint @ CinderError::MintMismatch)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: created here at `["job", market, client, nonce]`: not a signer (checked in
    /// `validate`), so the PDA-signed CPI that creates it fails unless the address matches the
    /// seeds.
    #[account(mut)]
    pub job: UncheckedAccount<'info>,
    /// CHECK: token account created here at `["job_vault", job]`, likewise.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: debited by `transfer_checked`, which requires the client's
    /// signature as its owner and the payment mint.
    #[account(mut)]
    pub client_token: UncheckedAccount<'info>,
    /// CHECK: equal to `market.payment_mint` (has_one).
    pub payment_mint: UncheckedAccount<'info>,
    #[account(address = market.load()?.payment_token_program @ CinderError::TokenProgramMismatch)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl PostJob<'_> {
    fn validate(&self, market: &Market, args: &PostJobArgs, now: i64) -> Result<[u8; URI_LEN]> {
        // The CPIs that create job and vault are signed with their seeds, which proves the
        // addresses only if no key of the transaction signs for them too: a job at an address
        // whose key the client holds would let it sign for the vault's authority and take the
        // escrow back while a provider works (SECURITY.md #23).
        require!(
            !self.job.is_signer && !self.vault.is_signer,
            CinderError::JobAddressSigned
        );
        let params = &market.params;
        require!(!market.paused.get(), CinderError::MarketPaused);
        require!(
            args.price_per_sec >= params.min_price_per_sec,
            CinderError::PriceBelowMarketMinimum
        );
        require!(
            args.max_duration_secs > 0 && args.max_duration_secs <= params.max_duration_secs,
            CinderError::DurationOutOfRange
        );
        require!(
            args.open_until == 0 || args.open_until > now,
            CinderError::InvalidOpenUntil
        );
        require!(
            args.verify_mode <= verify_mode::NONE,
            CinderError::InvalidVerifyMode
        );
        fixed_ascii::<URI_LEN>(args.spec_uri.as_bytes())
            .ok_or_else(|| error!(CinderError::InvalidUri))
    }
}

pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
    crate::cu_trace!("post: accounts loaded");
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    let config = accounts.config.load()?;
    require!(!config.paused.get(), CinderError::ProtocolPaused);
    let protocol_fee_bps = config.params.protocol_fee_bps.0;
    drop(config);
    let market = accounts.market.load()?;
    let spec_uri = accounts.validate(&market, &args, clock.unix_timestamp)?;
    let params = &market.params;
    // A job that is never re-executed pays no verification fee and is never drawn.
    let verified = args.verify_mode != verify_mode::NONE;
    let verification_fee_bps = if verified {
        params.verification_fee_bps.0
    } else {
        0
    };
    let escrow = math::escrow_for(
        args.price_per_sec,
        args.max_duration_secs,
        verification_fee_bps,
    )?;

    let job_key = accounts.job.key();
    utils::create_pda_token_account(
        &accounts.client,
        &accounts.vault,
        &accounts.payment_mint,
        &job_key,
        &accounts.token_program,
        &accounts.system_program,
        &[JOB_VAULT_SEED, job_key.as_ref(), &[args.vault_bump]],
    )?;
    crate::cu_trace!("post: vault created");
    utils::transfer_checked(
        &accounts.token_program,
        &accounts.client_token,
        &accounts.payment_mint,
        &accounts.vault,
        &accounts.client,
        escrow.total()?,
        market.payment_decimals,
        &[],
    )?;

    crate::cu_trace!("post: escrowed");
    let market_key = accounts.market.key();
    let client_key = accounts.client.key();
    let job = Job {
        market: market_key,
        client: client_key,
        provider: Pubkey::default(),
        state: JobState::Open,
        sample_status: SampleStatus::Unrevealed,
        bump: args.job_bump,
        vault_bump: args.vault_bump,
        assigned_provider: args.assigned_provider.unwrap_or_default(),
        vault: accounts.vault.key(),
        nonce: args.nonce,
        spec_hash: args.spec_hash,
        spec_uri,
        price_per_sec: args.price_per_sec,
        max_duration_secs: args.max_duration_secs,
        escrow_compute: escrow.compute,
        escrow_verification: escrow.verification_fee,
        posted_at: clock.unix_timestamp,
        open_until: args.open_until,
        claimed_at: 0,
        deadline: 0,
        submitted_at: 0,
        submitted_slot: 0,
        stake_per_job: params.stake_per_job,
        challenge_window_secs: params.challenge_window_secs,
        expire_grace_secs: params.expire_grace_secs,
        verification_timeout_secs: params.verification_timeout_secs,
        verify_rate_bps: if verified {
            params.verify_rate_bps.0
        } else {
            0
        },
        fraud_slash_bps: params.fraud_slash_bps.0,
        timeout_slash_bps: params.timeout_slash_bps.0,
        slash_reward_bps: params.slash_reward_bps.0,
        quit_penalty_bps: params.quit_penalty_bps.0,
        arbiter: params.arbiter,
        billed_secs: 0,
        protocol_fee_bps,
        verification_fee_bps,
        spec_uri_len: args.spec_uri.len() as u8,
        result_commitment: [0; 32],
        stake_locked: 0,
        verifier_claimed_at: 0,
        verify_deadline: 0,
        verifier_stake_locked: 0,
        disputed_at: 0,
        reopened_at: 0,
        verifier_billed_secs: 0,
        resolution: 0,
        verifier: Pubkey::default(),
        last_provider: Pubkey::default(),
        client_bond: [0; 8],
        race_origin: [0; 8],
        race_closes: [0; 8],
        verifier_ticket: [0; 16],
        first_verifier: Pubkey::default(),
        first_verifier_stake: [0; 8],
        verdict: 0,
        verify_mode: args.verify_mode,
        challenged_match: 0,
        _reserved: [0; 1],
        verifier_commitment: [0; 32],
    };
    drop(market);
    job.invariant()?;
    utils::init_zero_copy_account(
        &accounts.client,
        &accounts.job,
        &accounts.system_program,
        &[
            JOB_SEED,
            market_key.as_ref(),
            client_key.as_ref(),
            &args.nonce.to_le_bytes(),
            &[args.job_bump],
        ],
        &job,
    )?;
    crate::cu_trace!("post: job created");
    emit_cpi!(JobPosted {
        job: job_key,
        market: market_key,
        client: client_key,
        price_per_sec: args.price_per_sec,
        max_duration_secs: args.max_duration_secs,
        escrow_compute: escrow.compute,
        escrow_verification: escrow.verification_fee,
    });
    crate::cu_trace!("post: event emitted");
    Ok(())
}
