//! Instruction builders and PDA helpers for the cinder program, built from the
//! program crate's own Anchor types so they cannot drift from it.

use anchor_lang::solana_program::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
};
use anchor_lang::{InstructionData, ToAccountMetas};
use cinder::{
    constants::*,
    instructions::{PostJobArgs, ProviderInfo},
    state::{AuctionParams, ConfigParams, MarketParams},
};

pub fn pda(seeds: &[&[u8]]) -> (Pubkey, u8) {
    Pubkey::find_program_address(seeds, &cinder::ID)
}

pub fn config_pda() -> Pubkey {
    pda(&[CONFIG_SEED]).0
}
pub fn market_pda(id: u64) -> Pubkey {
    pda(&[MARKET_SEED, &id.to_le_bytes()]).0
}
pub fn job_pda(market: &Pubkey, client: &Pubkey, nonce: u64) -> (Pubkey, u8) {
    pda(&[
        JOB_SEED,
        market.as_ref(),
        client.as_ref(),
        &nonce.to_le_bytes(),
    ])
}
pub fn vault_pda(job: &Pubkey) -> (Pubkey, u8) {
    pda(&[JOB_VAULT_SEED, job.as_ref()])
}
pub fn provider_pda(owner: &Pubkey) -> Pubkey {
    pda(&[PROVIDER_SEED, owner.as_ref()]).0
}
pub fn auction_pda(mint: &Pubkey) -> Pubkey {
    pda(&[AUCTION_SEED, mint.as_ref()]).0
}
pub fn fee_vault_pda(mint: &Pubkey) -> Pubkey {
    pda(&[FEE_VAULT_SEED, mint.as_ref()]).0
}
pub fn verify_pool_pda(market: &Pubkey) -> Pubkey {
    pda(&[VERIFY_POOL_SEED, market.as_ref()]).0
}
pub fn program_data_pda() -> Pubkey {
    Pubkey::find_program_address(
        &[cinder::ID.as_ref()],
        &anchor_lang::solana_program::bpf_loader_upgradeable::ID,
    )
    .0
}

fn event_authority() -> Pubkey {
    cinder::EVENT_AUTHORITY_AND_BUMP.0
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: cinder::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

const SYSTEM: Pubkey = anchor_lang::solana_program::system_program::ID;

pub fn init_config(admin: &Pubkey, protocol_mint: &Pubkey, params: ConfigParams) -> Instruction {
    build(
        cinder::accounts::InitConfig {
            admin: *admin,
            config: config_pda(),
            protocol_mint: *protocol_mint,
            program_data: program_data_pda(),
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::InitConfig { params },
    )
}

pub fn update_config(admin: &Pubkey, params: ConfigParams, paused: bool) -> Instruction {
    build(
        cinder::accounts::UpdateConfig {
            admin: *admin,
            config: config_pda(),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::UpdateConfig { params, paused },
    )
}

pub fn propose_admin(admin: &Pubkey, proposed: Pubkey) -> Instruction {
    build(
        cinder::accounts::ProposeAdmin {
            admin: *admin,
            config: config_pda(),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ProposeAdmin { proposed },
    )
}

pub fn accept_admin(new_admin: &Pubkey) -> Instruction {
    build(
        cinder::accounts::AcceptAdmin {
            new_admin: *new_admin,
            config: config_pda(),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::AcceptAdmin {},
    )
}

pub fn init_auction(
    admin: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    params: AuctionParams,
    allow_freeze_authority: bool,
) -> Instruction {
    build(
        cinder::accounts::InitAuction {
            admin: *admin,
            config: config_pda(),
            auction: auction_pda(mint),
            fee_vault: fee_vault_pda(mint),
            payment_mint: *mint,
            token_program: *token_program,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::InitAuction {
            params,
            allow_freeze_authority,
        },
    )
}

pub fn create_market(
    admin: &Pubkey,
    market_id: u64,
    mint: &Pubkey,
    token_program: &Pubkey,
    params: MarketParams,
    allow_freeze_authority: bool,
) -> Instruction {
    let market = market_pda(market_id);
    build(
        cinder::accounts::CreateMarket {
            admin: *admin,
            config: config_pda(),
            market,
            payment_mint: *mint,
            auction: auction_pda(mint),
            verify_pool: verify_pool_pda(&market),
            token_program: *token_program,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::CreateMarket {
            market_id,
            params,
            allow_freeze_authority,
        },
    )
}

pub fn update_market(
    admin: &Pubkey,
    market: &Pubkey,
    params: MarketParams,
    paused: bool,
) -> Instruction {
    build(
        cinder::accounts::UpdateMarket {
            admin: *admin,
            config: config_pda(),
            market: *market,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::UpdateMarket { params, paused },
    )
}

pub fn register_provider(owner: &Pubkey, info: ProviderInfo) -> Instruction {
    build(
        cinder::accounts::RegisterProvider {
            owner: *owner,
            provider: provider_pda(owner),
            stake: stake_pda(owner),
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::RegisterProvider { info },
    )
}

pub fn update_provider(owner: &Pubkey, info: ProviderInfo, active: bool) -> Instruction {
    build(
        cinder::accounts::UpdateProvider {
            owner: *owner,
            provider: provider_pda(owner),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::UpdateProvider { info, active },
    )
}

/// Accounts of one job, as the client and keepers see them.
#[derive(Clone, Copy, Debug)]
pub struct JobKeys {
    pub job: Pubkey,
    pub vault: Pubkey,
    pub market: Pubkey,
    pub client: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

pub fn post_job(k: &JobKeys, client_token: &Pubkey, args: PostJobArgs) -> Instruction {
    build(
        cinder::accounts::PostJob {
            client: k.client,
            config: config_pda(),
            market: k.market,
            job: k.job,
            vault: k.vault,
            client_token: *client_token,
            payment_mint: k.mint,
            token_program: k.token_program,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::PostJob { args },
    )
}

pub fn cancel_job(k: &JobKeys, caller: &Pubkey, client_token: &Pubkey) -> Instruction {
    build(
        cinder::accounts::CancelJob {
            caller: *caller,
            job: k.job,
            market: k.market,
            vault: k.vault,
            client: k.client,
            client_token: *client_token,
            payment_mint: k.mint,
            token_program: k.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::CancelJob {},
    )
}

/// A client leaving a job whose provider is past deadline + grace: `expire_job` (the client
/// takes the slash reward into `client_ptoken`, its protocol-token account) and `cancel_job`
/// (the whole escrow back to `client_token`), to send in one transaction. The job re-opens on
/// the expiry and nobody may claim it for `REOPEN_HOLD_SECS`, but in one transaction nobody
/// can come between at all.
pub fn expire_and_cancel(
    k: &JobKeys,
    provider_owner: &Pubkey,
    client_token: &Pubkey,
    client_ptoken: &Pubkey,
    p: &Protocol,
) -> [Instruction; 2] {
    [
        expire_job(k, &k.client, provider_owner, client_ptoken, p),
        cancel_job(k, &k.client, client_token),
    ]
}

pub fn extend_job(k: &JobKeys, client_token: &Pubkey, added_secs: u32) -> Instruction {
    build(
        cinder::accounts::ExtendJob {
            client: k.client,
            job: k.job,
            market: k.market,
            vault: k.vault,
            client_token: *client_token,
            payment_mint: k.mint,
            token_program: k.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ExtendJob { added_secs },
    )
}

pub fn claim_job(k: &JobKeys, provider_owner: &Pubkey) -> Instruction {
    build(
        cinder::accounts::ClaimJob {
            owner: *provider_owner,
            provider: provider_pda(provider_owner),
            config: config_pda(),
            market: k.market,
            job: k.job,
            stake: stake_pda(provider_owner),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ClaimJob {},
    )
}

pub fn quit_job(k: &JobKeys, provider_owner: &Pubkey, p: &Protocol) -> Instruction {
    build(
        cinder::accounts::QuitJob {
            owner: *provider_owner,
            provider: provider_pda(provider_owner),
            job: k.job,
            market: k.market,
            stake: stake_pda(provider_owner),
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::QuitJob {},
    )
}

/// `expire_job`: `caller_token` is the caller's protocol-token account (its slash share).
pub fn expire_job(
    k: &JobKeys,
    caller: &Pubkey,
    provider_owner: &Pubkey,
    caller_token: &Pubkey,
    p: &Protocol,
) -> Instruction {
    build(
        cinder::accounts::ExpireJob {
            caller: *caller,
            job: k.job,
            market: k.market,
            provider: provider_pda(provider_owner),
            stake: stake_pda(provider_owner),
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            caller_token: *caller_token,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ExpireJob {},
    )
}

// --- staking ---------------------------------------------------------------------------

/// The protocol token: its mint and token program.
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

pub fn stake_pool_pda() -> Pubkey {
    pda(&[STAKE_POOL_SEED]).0
}
pub fn stake_vault_pda() -> Pubkey {
    pda(&[STAKE_VAULT_SEED]).0
}
pub fn reward_vault_pda() -> Pubkey {
    pda(&[REWARD_VAULT_SEED]).0
}
pub fn stake_pda(owner: &Pubkey) -> Pubkey {
    pda(&[STAKE_SEED, owner.as_ref()]).0
}

pub fn init_staking(admin: &Pubkey, p: &Protocol) -> Instruction {
    build(
        cinder::accounts::InitStaking {
            admin: *admin,
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            stake_vault: stake_vault_pda(),
            reward_vault: reward_vault_pda(),
            protocol_mint: p.mint,
            token_program: p.token_program,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::InitStaking {},
    )
}

pub fn stake(
    owner: &Pubkey,
    owner_token: &Pubkey,
    p: &Protocol,
    amount: u64,
    lock_secs: u32,
) -> Instruction {
    build(
        cinder::accounts::Stake {
            owner: *owner,
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            position: stake_pda(owner),
            owner_token: *owner_token,
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            token_program: p.token_program,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::Stake { amount, lock_secs },
    )
}

pub fn request_unstake(owner: &Pubkey, amount: u64) -> Instruction {
    build(
        cinder::accounts::RequestUnstake {
            owner: *owner,
            stake_pool: stake_pool_pda(),
            position: stake_pda(owner),
            provider: provider_pda(owner),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::RequestUnstake { amount },
    )
}

pub fn restake(owner: &Pubkey) -> Instruction {
    build(
        cinder::accounts::Restake {
            owner: *owner,
            stake_pool: stake_pool_pda(),
            position: stake_pda(owner),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::Restake {},
    )
}

pub fn withdraw_stake(owner: &Pubkey, owner_token: &Pubkey, p: &Protocol) -> Instruction {
    build(
        cinder::accounts::WithdrawStake {
            owner: *owner,
            stake_pool: stake_pool_pda(),
            position: stake_pda(owner),
            owner_token: *owner_token,
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            token_program: p.token_program,
            provider: provider_pda(owner),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::WithdrawStake {},
    )
}

pub fn deposit_rewards(
    depositor: &Pubkey,
    depositor_token: &Pubkey,
    treasury_token: &Pubkey,
    p: &Protocol,
    amount: u64,
) -> Instruction {
    build(
        cinder::accounts::DepositRewards {
            depositor: *depositor,
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            depositor_token: *depositor_token,
            reward_vault: reward_vault_pda(),
            treasury_token: *treasury_token,
            protocol_mint: p.mint,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::DepositRewards { amount },
    )
}

pub fn claim_rewards(owner: &Pubkey, owner_token: &Pubkey, p: &Protocol) -> Instruction {
    build(
        cinder::accounts::ClaimRewards {
            owner: *owner,
            stake_pool: stake_pool_pda(),
            position: stake_pda(owner),
            owner_token: *owner_token,
            reward_vault: reward_vault_pda(),
            protocol_mint: p.mint,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ClaimRewards {},
    )
}

pub fn submit_result(
    k: &JobKeys,
    provider_owner: &Pubkey,
    result_hash: [u8; 32],
    billed_secs: u32,
    result_uri: &str,
) -> Instruction {
    build(
        cinder::accounts::SubmitResult {
            provider: *provider_owner,
            job: k.job,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::SubmitResult {
            result_hash,
            billed_secs,
            result_uri: result_uri.to_string(),
        },
    )
}

/// Accounts a settlement pays into.
#[derive(Clone, Copy, Debug)]
pub struct Payees {
    pub client_token: Pubkey,
    pub provider_owner: Pubkey,
    pub provider_token: Pubkey,
}

fn settle_accounts(k: &JobKeys, p: &Payees) -> cinder::accounts::SettleJob {
    cinder::accounts::SettleJob {
        job: k.job,
        market: k.market,
        vault: k.vault,
        client: k.client,
        client_token: p.client_token,
        provider: provider_pda(&p.provider_owner),
        provider_token: p.provider_token,
        verify_pool: verify_pool_pda(&k.market),
        payment_mint: k.mint,
        token_program: k.token_program,
        slot_hashes: SLOT_HASHES,
        event_authority: event_authority(),
        program: cinder::ID,
    }
}

pub fn settle_job(k: &JobKeys, p: &Payees) -> Instruction {
    build(settle_accounts(k, p), cinder::instruction::SettleJob {})
}

/// `accept_result`: the client account is the signer.
pub fn accept_result(k: &JobKeys, p: &Payees) -> Instruction {
    let mut ix = build(settle_accounts(k, p), cinder::instruction::AcceptResult {});
    for meta in ix.accounts.iter_mut() {
        if meta.pubkey == k.client {
            meta.is_signer = true;
        }
    }
    ix
}

/// `sweep_fees`: anyone moves a market's accrued protocol fees to the mint's fee vault.
pub fn sweep_fees(market: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Instruction {
    build(
        cinder::accounts::SweepFees {
            market: *market,
            verify_pool: verify_pool_pda(market),
            fee_vault: fee_vault_pda(mint),
            payment_mint: *mint,
            token_program: *token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::SweepFees {},
    )
}

// --- buyback and burn --------------------------------------------------------------------

/// The payment side of a buy: which auction, and where the buyer receives the fee vault.
#[derive(Clone, Copy, Debug)]
pub struct PaymentSide {
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
}

pub fn update_auction(admin: &Pubkey, mint: &Pubkey, params: AuctionParams) -> Instruction {
    build(
        cinder::accounts::UpdateAuction {
            admin: *admin,
            config: config_pda(),
            auction: auction_pda(mint),
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::UpdateAuction { params },
    )
}

/// `buy`: `buyer` pays the current price from `buyer_protocol_token` and receives the fee
/// vault of `payment.payment_mint` in `buyer_payment_token`.
#[allow(clippy::too_many_arguments)]
pub fn buy(
    buyer: &Pubkey,
    payment: &PaymentSide,
    buyer_payment_token: &Pubkey,
    buyer_protocol_token: &Pubkey,
    treasury_token: &Pubkey,
    p: &Protocol,
    max_price: u64,
    min_amount_out: u64,
) -> Instruction {
    build(
        cinder::accounts::Buy {
            buyer: *buyer,
            config: config_pda(),
            auction: auction_pda(&payment.payment_mint),
            fee_vault: fee_vault_pda(&payment.payment_mint),
            payment_mint: payment.payment_mint,
            buyer_payment_token: *buyer_payment_token,
            buyer_protocol_token: *buyer_protocol_token,
            stake_pool: stake_pool_pda(),
            reward_vault: reward_vault_pda(),
            treasury_token: *treasury_token,
            protocol_mint: p.mint,
            payment_token_program: payment.payment_token_program,
            protocol_token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::Buy {
            max_price,
            min_amount_out,
        },
    )
}

/// `distribute_fees`: anyone splits the protocol mint's fee vault.
pub fn distribute_fees(treasury_token: &Pubkey, p: &Protocol) -> Instruction {
    build(
        cinder::accounts::DistributeFees {
            config: config_pda(),
            auction: auction_pda(&p.mint),
            fee_vault: fee_vault_pda(&p.mint),
            stake_pool: stake_pool_pda(),
            reward_vault: reward_vault_pda(),
            treasury_token: *treasury_token,
            protocol_mint: p.mint,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::DistributeFees {},
    )
}

// --- attestation -----------------------------------------------------------------------

pub const SLOT_HASHES: Pubkey = cinder::instructions::reveal_sample::SLOT_HASHES_ID;

pub fn reveal_sample(k: &JobKeys) -> Instruction {
    build(
        cinder::accounts::RevealSample {
            job: k.job,
            market: k.market,
            slot_hashes: SLOT_HASHES,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::RevealSample {},
    )
}

pub fn claim_verification(k: &JobKeys, verifier: &Pubkey) -> Instruction {
    build(
        cinder::accounts::ClaimVerification {
            owner: *verifier,
            provider: provider_pda(verifier),
            stake: stake_pda(verifier),
            config: config_pda(),
            market: k.market,
            job: k.job,
            slot_hashes: SLOT_HASHES,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ClaimVerification {},
    )
}

/// `claim_verification` with a lower ticket than the current verifier `displaced` (whose
/// provider account is passed, writable, so its locked stake is released).
pub fn claim_verification_displacing(
    k: &JobKeys,
    verifier: &Pubkey,
    displaced: &Pubkey,
) -> Instruction {
    let mut ix = claim_verification(k, verifier);
    ix.accounts
        .push(AccountMeta::new(provider_pda(displaced), false));
    ix
}

/// The verifier's commitment to its re-run (`commitment` =
/// [`crate::accounts::verifier_commitment`] of the job, the verifier and its result hash),
/// sent before it fetches the provider's outputs.
pub fn commit_verification(k: &JobKeys, verifier: &Pubkey, commitment: [u8; 32]) -> Instruction {
    build(
        cinder::accounts::CommitVerification {
            owner: *verifier,
            job: k.job,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::CommitVerification { commitment },
    )
}

/// The verifier's verdict (`matched`) on its committed re-run `result_hash`. For an exact job
/// `matched` must be whether the hash opens the provider's commitment.
pub fn submit_verification(
    k: &JobKeys,
    verifier: &Pubkey,
    verifier_token: &Pubkey,
    provider_token: &Pubkey,
    result_hash: [u8; 32],
    billed_secs: u32,
    matched: bool,
) -> Instruction {
    build(
        cinder::accounts::SubmitVerification {
            owner: *verifier,
            provider: provider_pda(verifier),
            job: k.job,
            market: k.market,
            verify_pool: verify_pool_pda(&k.market),
            verifier_token: *verifier_token,
            vault: k.vault,
            provider_token: *provider_token,
            payment_mint: k.mint,
            token_program: k.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::SubmitVerification {
            result_hash,
            billed_secs,
            matched,
        },
    )
}

pub fn expire_verification(
    k: &JobKeys,
    caller: &Pubkey,
    verifier: &Pubkey,
    caller_token: &Pubkey,
    p: &Protocol,
) -> Instruction {
    build(
        cinder::accounts::ExpireVerification {
            caller: *caller,
            job: k.job,
            market: k.market,
            provider: provider_pda(verifier),
            stake: stake_pda(verifier),
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            caller_token: *caller_token,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ExpireVerification {},
    )
}

#[allow(clippy::too_many_arguments)]
pub fn resolve_dispute(
    k: &JobKeys,
    signer: &Pubkey,
    provider: &Pubkey,
    verifier: &Pubkey,
    winner_token: &Pubkey,
    p: &Protocol,
    decision: u8,
) -> Instruction {
    build(
        cinder::accounts::ResolveDispute {
            signer: *signer,
            job: k.job,
            market: k.market,
            provider_stake: stake_pda(provider),
            verifier_provider: provider_pda(verifier),
            verifier_stake: stake_pda(verifier),
            config: config_pda(),
            stake_pool: stake_pool_pda(),
            stake_vault: stake_vault_pda(),
            protocol_mint: p.mint,
            winner_token: *winner_token,
            token_program: p.token_program,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::ResolveDispute { decision },
    )
}

/// `resolve_dispute` of a job two verifiers re-ran (`verdict` CONFIRMED or SPLIT):
/// `first` is `job.first_verifier`, `second` is `job.verifier`, `second_token` the second's
/// protocol-token account (it shares a slash reward when on the winning side).
#[allow(clippy::too_many_arguments)]
pub fn resolve_dispute_escalated(
    k: &JobKeys,
    signer: &Pubkey,
    provider: &Pubkey,
    first: &Pubkey,
    second: &Pubkey,
    winner_token: &Pubkey,
    second_token: &Pubkey,
    p: &Protocol,
    decision: u8,
) -> Instruction {
    let mut ix = resolve_dispute(k, signer, provider, first, winner_token, p, decision);
    ix.accounts.extend([
        AccountMeta::new(provider_pda(second), false),
        AccountMeta::new(stake_pda(second), false),
        AccountMeta::new(*second_token, false),
    ]);
    ix
}

/// `resolve_dispute` for any disputed (or lapsed escalated) job, from the job itself: the
/// first verifier's and, when there is one, the second's accounts. Rewards go to the
/// associated protocol-token accounts of the side the outcome favours: the provider's for
/// provider right, otherwise the verifier that found the mismatch (the first, or the second
/// of a match the client challenged; and the second's when it shares).
#[cfg(feature = "rpc")]
pub fn resolve_dispute_for(
    k: &JobKeys,
    job: &cinder::state::Job,
    signer: &Pubkey,
    p: &Protocol,
    decision: u8,
) -> Instruction {
    use cinder::state::{resolution, verdict, JobState};
    let two = job.state == JobState::Disputed
        && job.escalated()
        && matches!(job.verdict, verdict::CONFIRMED | verdict::SPLIT);
    let first = if job.escalated() {
        job.first_verifier
    } else {
        job.verifier
    };
    let proven = job.verdict == verdict::CONFIRMED;
    let winner = if decision == resolution::PROVIDER_RIGHT && !proven {
        job.provider
    } else if job.contests_a_match() && two {
        // A challenged match: the second verifier is the one that found the mismatch.
        job.verifier
    } else {
        first
    };
    let winner_token = &crate::token::ata(&winner, &p.mint, &p.token_program);
    if two {
        let second_token = crate::token::ata(&job.verifier, &p.mint, &p.token_program);
        resolve_dispute_escalated(
            k,
            signer,
            &job.provider,
            &first,
            &job.verifier,
            winner_token,
            &second_token,
            p,
            decision,
        )
    } else {
        resolve_dispute(k, signer, &job.provider, &first, winner_token, p, decision)
    }
}

/// `dispute_job`: the client posts a bond (the job's verification fee) and forces re-execution.
pub fn dispute_job(k: &JobKeys, client_token: &Pubkey) -> Instruction {
    build(
        cinder::accounts::DisputeJob {
            client: k.client,
            job: k.job,
            market: k.market,
            vault: k.vault,
            client_token: *client_token,
            payment_mint: k.mint,
            token_program: k.token_program,
            slot_hashes: SLOT_HASHES,
            event_authority: event_authority(),
            program: cinder::ID,
        },
        cinder::instruction::DisputeJob {},
    )
}
