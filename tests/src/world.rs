//! The world in one call: config, mints, auction, market, a funded client and
//! a registered provider, on either chain, with clock warping.

use crate::{
    backend::{Chain, NativeChain, SbfChain, TxMeta},
    ix::{self, JobKeys, Payees},
    tokens::{self, MintExt},
};
use cinder::{
    constants::DAY_SECS,
    instructions::{PostJobArgs, ProviderInfo},
    state::{AuctionParams, Bps, ConfigParams, Job, MarketParams, Provider},
};
use solana_sdk::{
    account::Account, instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer,
    transaction::TransactionError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintKind {
    Legacy,
    /// Token-2022 with a harmless extension (metadata pointer).
    Token2022,
}

pub const GPU_MODEL: &str = "NVIDIA H100 80GB HBM3";
pub const CLIENT_FUNDS: u64 = 1_000_000_000_000_000;
pub const START_TIME: i64 = 1_800_000_000;
/// Protocol tokens (9 decimals) minted to the provider, and what it stakes (30-day lock).
pub const PROVIDER_PROTOCOL_FUNDS: u64 = 10_000_000_000_000;
pub const PROVIDER_STAKE: u64 = 1_000_000_000_000;
pub const LOCK_30D: u32 = 30 * DAY_SECS;

pub fn gpu_model(name: &str) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[..name.len()].copy_from_slice(name.as_bytes());
    m
}

pub fn default_config_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: Bps(500),
        burn_bps: Bps(5_000),
        stakers_bps: Bps(4_000),
        treasury_bps: Bps(1_000),
        min_lock_secs: 14 * DAY_SECS,
        max_lock_secs: 365 * DAY_SECS,
        treasury: Pubkey::new_from_array([7; 32]),
    }
}

pub fn default_market_params(arbiter: Pubkey) -> MarketParams {
    MarketParams {
        gpu_model: gpu_model(GPU_MODEL),
        min_vram_gib: 80,
        min_gpus_per_job: 1,
        verification_timeout_secs: DAY_SECS,
        _reserved: [0; 1],
        min_price_per_sec: 10,
        max_duration_secs: DAY_SECS,
        expire_grace_secs: 300,
        challenge_window_secs: 600,
        min_provider_stake: 500_000_000_000,
        stake_per_job: 10_000_000_000,
        // The escrow tests run optimistically; attestation tests set a rate.
        verify_rate_bps: Bps(0),
        verification_fee_bps: Bps(600),
        fraud_slash_bps: Bps(2_000),
        timeout_slash_bps: Bps(100),
        slash_reward_bps: Bps(5_000),
        quit_penalty_bps: Bps(0),
        arbiter,
    }
}

pub fn default_auction_params() -> AuctionParams {
    AuctionParams {
        init_price: 1_000_000,
        floor_price: 1_000,
        epoch_period_secs: DAY_SECS,
        price_multiplier_bps: 20_000,
        min_init_price: 10_000,
    }
}

pub fn default_provider_info() -> ProviderInfo {
    ProviderInfo {
        gpu_model: gpu_model(GPU_MODEL),
        vram_gib: 80,
        gpu_count: 8,
        inventory_hash: [9; 32],
        endpoint: "https://gpu.example.com:8443".to_string(),
    }
}

fn funded(lamports: u64) -> Account {
    Account {
        lamports,
        data: vec![],
        owner: anchor_lang::solana_program::system_program::ID,
        executable: false,
        rent_epoch: 0,
    }
}

pub struct World {
    pub chain: Box<dyn Chain>,
    /// Fee payer, admin and the program's upgrade authority.
    pub admin: Keypair,
    pub mint_authority: Keypair,
    pub protocol_mint: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub market_id: u64,
    pub market: Pubkey,
    pub client: Keypair,
    pub client_token: Pubkey,
    pub provider: Keypair,
    pub provider_token: Pubkey,
    /// The provider's protocol-token account (it staked from here).
    pub provider_ptoken: Pubkey,
    /// Protocol-token account of the config's treasury wallet.
    pub treasury_ptoken: Pubkey,
    next_nonce: u64,
}

impl World {
    pub fn native() -> Self {
        Self::build(false, MintKind::Legacy)
    }
    pub fn sbf() -> Self {
        Self::build(true, MintKind::Legacy)
    }
    pub fn with_mint(sbf: bool, kind: MintKind) -> Self {
        Self::build(sbf, kind)
    }

    /// A chain with funded admin, client and provider and the program's
    /// ProgramData naming `admin` as upgrade authority, but no config yet.
    pub fn bare(sbf: bool) -> (Box<dyn Chain>, Keypair, Keypair, Keypair) {
        let admin = crate::keypair();
        let client = crate::keypair();
        let provider = crate::keypair();
        let genesis: Vec<(Pubkey, Account)> = [&admin, &client, &provider]
            .iter()
            .map(|k| (k.pubkey(), funded(1_000_000_000_000)))
            .collect();
        let mut chain: Box<dyn Chain> = if sbf {
            Box::new(SbfChain::new(genesis))
        } else {
            Box::new(NativeChain::new(genesis))
        };
        set_upgrade_authority(chain.as_mut(), Some(admin.pubkey()));
        let mut clock = chain.clock();
        clock.unix_timestamp = START_TIME;
        chain.set_clock(&clock);
        (chain, admin, client, provider)
    }

    fn build(sbf: bool, kind: MintKind) -> Self {
        let (mut chain, admin, client, provider) = Self::bare(sbf);
        let mint_authority = crate::keypair();
        let c = chain.as_mut();
        let protocol_mint = tokens::create_mint(
            c,
            &admin,
            &mint_authority.pubkey(),
            None,
            9,
            &tokens::LEGACY,
            &[],
        );
        let (token_program, exts): (Pubkey, &[MintExt]) = match kind {
            MintKind::Legacy => (tokens::LEGACY, &[]),
            MintKind::Token2022 => (tokens::TOKEN_2022, &[MintExt::MetadataPointer]),
        };
        let mint = tokens::create_mint(
            c,
            &admin,
            &mint_authority.pubkey(),
            None,
            6,
            &token_program,
            exts,
        );
        let client_token =
            tokens::create_token_account(c, &admin, &mint, &client.pubkey(), &token_program);
        let provider_token =
            tokens::create_token_account(c, &admin, &mint, &provider.pubkey(), &token_program);
        tokens::mint_to(
            c,
            &admin,
            &mint,
            &client_token,
            &mint_authority,
            CLIENT_FUNDS,
            &token_program,
        );

        let a = admin.pubkey();
        c.send(
            &[ix::init_config(&a, &protocol_mint, default_config_params())],
            &admin,
            &[],
        )
        .expect("init_config");
        c.send(
            &[ix::init_auction(
                &a,
                &mint,
                &token_program,
                default_auction_params(),
                false,
            )],
            &admin,
            &[],
        )
        .expect("init_auction");
        let market_id = 1;
        c.send(
            &[ix::create_market(
                &a,
                market_id,
                &mint,
                &token_program,
                default_market_params(a),
                false,
            )],
            &admin,
            &[],
        )
        .expect("create_market");

        let protocol = ix::Protocol {
            mint: protocol_mint,
            token_program: tokens::LEGACY,
        };
        c.send(&[ix::init_staking(&a, &protocol)], &admin, &[])
            .expect("init_staking");
        let provider_ptoken = tokens::create_token_account(
            c,
            &admin,
            &protocol_mint,
            &provider.pubkey(),
            &tokens::LEGACY,
        );
        tokens::mint_to(
            c,
            &admin,
            &protocol_mint,
            &provider_ptoken,
            &mint_authority,
            PROVIDER_PROTOCOL_FUNDS,
            &tokens::LEGACY,
        );
        let treasury = default_config_params().treasury;
        let treasury_ptoken =
            tokens::create_token_account(c, &admin, &protocol_mint, &treasury, &tokens::LEGACY);
        let stake = ix::stake(
            &provider.pubkey(),
            &provider_ptoken,
            &protocol,
            PROVIDER_STAKE,
            LOCK_30D,
        );
        c.send(&[stake], &provider, &[]).expect("provider stakes");
        c.send(
            &[ix::register_provider(
                &provider.pubkey(),
                default_provider_info(),
            )],
            &provider,
            &[],
        )
        .expect("register_provider");
        Self {
            chain,
            admin,
            mint_authority,
            protocol_mint,
            mint,
            token_program,
            market_id,
            market: ix::market_pda(market_id),
            client,
            client_token,
            provider,
            provider_token,
            provider_ptoken,
            treasury_ptoken,
            next_nonce: 1,
        }
    }

    // --- chain access --------------------------------------------------------------------

    /// Sends with the admin paying fees; `signers` sign too.
    pub fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxMeta, TransactionError> {
        let admin = self.admin.insecure_clone();
        self.chain.send(ixs, &admin, signers)
    }

    pub fn balance(&mut self, token_account: &Pubkey) -> u64 {
        tokens::balance(self.chain.as_mut(), token_account)
    }

    /// Gives `key` 1 000 SOL (a new wallet that pays rent).
    pub fn fund(&mut self, key: &Pubkey) {
        self.chain.set_account(key, funded(1_000_000_000_000));
    }

    pub fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.chain.account(key).map(|a| a.lamports).unwrap_or(0)
    }

    pub fn exists(&mut self, key: &Pubkey) -> bool {
        self.chain.account(key).is_some()
    }

    pub fn now(&mut self) -> i64 {
        self.chain.clock().unix_timestamp
    }

    /// Moves the clock forward by `secs` (and the slot by 2.5 per second).
    pub fn warp(&mut self, secs: i64) {
        let mut clock = self.chain.clock();
        clock.unix_timestamp += secs;
        clock.slot += (secs as u64 * 5).div_ceil(2);
        self.chain.set_clock(&clock);
        self.refresh_slot_hashes(clock.slot);
    }

    /// Moves the slot (not the time) forward by `n`.
    pub fn pass_slots(&mut self, n: u64) {
        let mut clock = self.chain.clock();
        clock.slot += n;
        self.chain.set_clock(&clock);
        self.refresh_slot_hashes(clock.slot);
    }

    /// A new staker's stake races only from the next verifier race on (stake that grew once a
    /// race's seed could be known might be sized to it): moves the slot one race forward.
    pub fn wait_one_race(&mut self) {
        self.pass_slots(cinder::constants::VERIFIER_RACE_SLOTS + 1);
    }

    /// Moves the slot (not the time) past `job`'s race origin, so its first verifier race is
    /// open: after a dispute of an undrawn job the origin is `SAMPLE_DELAY_SLOTS` ahead.
    pub fn open_race(&mut self, job: &Pubkey) {
        let origin = self.job(job).race_origin();
        self.pass_slot(origin);
    }

    /// Moves the slot (not the time) past the verifier race `job`'s verifier won, so it may
    /// submit: a race runs `VERIFIER_RACE_SLOTS` (≈ 30 s) and nobody submits before it closes.
    pub fn close_race(&mut self, job: &Pubkey) {
        let closes = self.job(job).race_closes();
        self.pass_slot(closes);
    }

    /// Moves the clock to the end of `job`'s escalation (its first mismatch + the verification
    /// timeout) with no second verifier: the one mismatch goes to the arbiter.
    pub fn lapse_escalation(&mut self, job: &Pubkey) {
        let j = self.job(job);
        assert_eq!(j.state, cinder::state::JobState::Escalated, "not escalated");
        let ends = j.disputed_at + j.verification_timeout_secs as i64;
        let now = self.now();
        if now < ends {
            self.warp(ends - now);
        }
    }

    /// Moves the slot (not the time) just past `slot`, unless it is past already.
    fn pass_slot(&mut self, slot: u64) {
        let now = self.chain.clock().slot;
        if now <= slot {
            self.pass_slots(slot + 1 - now);
        }
    }

    /// SlotHashes as a cluster would hold it at `slot`: the 512 previous slots, newest first,
    /// with a hash per slot (sha256 of the slot number: fixed, so tests are reproducible).
    pub fn refresh_slot_hashes(&mut self, slot: u64) {
        use sha2::Digest;
        let entries: Vec<(u64, [u8; 32])> = (1..=512u64)
            .filter_map(|i| slot.checked_sub(i))
            .map(|s| (s, sha2::Sha256::digest(s.to_le_bytes()).into()))
            .collect();
        self.chain.set_slot_hashes(&entries);
    }

    pub fn job(&mut self, key: &Pubkey) -> Job {
        self.read(key)
    }

    pub fn provider_account(&mut self) -> Provider {
        let key = ix::provider_pda(&self.provider.pubkey());
        self.read(&key)
    }

    pub fn read<T: anchor_lang::AccountDeserialize>(&mut self, key: &Pubkey) -> T {
        let a = self
            .chain
            .account(key)
            .unwrap_or_else(|| panic!("account {key} missing"));
        T::try_deserialize(&mut a.data.as_slice()).expect("deserialize")
    }

    // --- staking helpers -----------------------------------------------------------------

    pub fn protocol(&self) -> ix::Protocol {
        ix::Protocol {
            mint: self.protocol_mint,
            token_program: tokens::LEGACY,
        }
    }

    /// A funded wallet with a protocol-token account holding `amount`.
    pub fn staker(&mut self, amount: u64) -> (Keypair, Pubkey) {
        let k = crate::keypair();
        self.fund(&k.pubkey());
        let token = self.protocol_account(&k.pubkey());
        let (admin, auth, mint) = (
            self.admin.insecure_clone(),
            self.mint_authority.insecure_clone(),
            self.protocol_mint,
        );
        if amount > 0 {
            tokens::mint_to(
                self.chain.as_mut(),
                &admin,
                &mint,
                &token,
                &auth,
                amount,
                &tokens::LEGACY,
            );
        }
        (k, token)
    }

    /// Makes `who` (funded by the caller) a provider: gives it protocol tokens, stakes
    /// `PROVIDER_STAKE` for 30 days and registers the default GPUs.
    pub fn make_provider(&mut self, who: &Keypair) {
        let token = self.protocol_account(&who.pubkey());
        let (admin, auth, mint) = (
            self.admin.insecure_clone(),
            self.mint_authority.insecure_clone(),
            self.protocol_mint,
        );
        tokens::mint_to(
            self.chain.as_mut(),
            &admin,
            &mint,
            &token,
            &auth,
            PROVIDER_STAKE,
            &tokens::LEGACY,
        );
        let p = self.protocol();
        let st = ix::stake(&who.pubkey(), &token, &p, PROVIDER_STAKE, LOCK_30D);
        self.send(&[st], &[who]).expect("stake");
        let reg = ix::register_provider(&who.pubkey(), default_provider_info());
        self.send(&[reg], &[who]).expect("register_provider");
    }

    /// A new protocol-token account of `owner`.
    pub fn protocol_account(&mut self, owner: &Pubkey) -> Pubkey {
        let (admin, mint) = (self.admin.insecure_clone(), self.protocol_mint);
        tokens::create_token_account(self.chain.as_mut(), &admin, &mint, owner, &tokens::LEGACY)
    }

    pub fn position(&mut self, owner: &Pubkey) -> cinder::state::StakePosition {
        self.read(&ix::stake_pda(owner))
    }

    /// The owner's stake position, if it has one.
    pub fn position_of(&mut self, owner: &Pubkey) -> Option<cinder::state::StakePosition> {
        let key = ix::stake_pda(owner);
        self.exists(&key).then(|| self.read(&key))
    }

    pub fn stake_pool(&mut self) -> cinder::state::StakePool {
        self.read(&ix::stake_pool_pda())
    }

    pub fn protocol_supply(&mut self) -> u64 {
        let mint = self.protocol_mint;
        tokens::supply(self.chain.as_mut(), &mint)
    }

    /// `expire_job` sent by `caller`, who gets its slash share in a new protocol-token account.
    pub fn try_expire(
        &mut self,
        k: &JobKeys,
        caller: &Keypair,
    ) -> Result<TxMeta, TransactionError> {
        let caller_token = self.protocol_account(&caller.pubkey());
        let p = self.protocol();
        let provider = self.provider.pubkey();
        self.send(
            &[ix::expire_job(
                k,
                &caller.pubkey(),
                &provider,
                &caller_token,
                &p,
            )],
            &[caller],
        )
    }

    // --- job helpers ---------------------------------------------------------------------

    pub fn job_keys(&self, client: &Pubkey, nonce: u64) -> JobKeys {
        let (job, _) = ix::job_pda(&self.market, client, nonce);
        JobKeys {
            job,
            vault: ix::vault_pda(&job).0,
            market: self.market,
            client: *client,
            mint: self.mint,
            token_program: self.token_program,
        }
    }

    pub fn post_args(
        &mut self,
        keys: &JobKeys,
        nonce: u64,
        price: u64,
        duration: u32,
    ) -> PostJobArgs {
        PostJobArgs {
            nonce,
            job_bump: ix::job_pda(&keys.market, &keys.client, nonce).1,
            vault_bump: ix::vault_pda(&keys.job).1,
            spec_hash: [1; 32],
            spec_uri: "https://specs.example.com/job.json".to_string(),
            price_per_sec: price,
            max_duration_secs: duration,
            assigned_provider: None,
            open_until: 0,
            verify_mode: 0,
        }
    }

    /// Next unused nonce and its job keys for the world's client.
    pub fn next_job(&mut self) -> (JobKeys, u64) {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        (self.job_keys(&self.client.pubkey(), nonce), nonce)
    }

    pub fn try_post(&mut self, price: u64, duration: u32) -> Result<JobKeys, TransactionError> {
        self.try_post_with(price, duration, |_| {})
    }

    pub fn try_post_with(
        &mut self,
        price: u64,
        duration: u32,
        edit: impl FnOnce(&mut PostJobArgs),
    ) -> Result<JobKeys, TransactionError> {
        let (keys, nonce) = self.next_job();
        let mut args = self.post_args(&keys, nonce, price, duration);
        edit(&mut args);
        let client = self.client.insecure_clone();
        self.send(
            &[ix::post_job(&keys, &self.client_token.clone(), args)],
            &[&client],
        )?;
        Ok(keys)
    }

    pub fn post(&mut self, price: u64, duration: u32) -> JobKeys {
        self.try_post(price, duration).expect("post_job")
    }

    pub fn try_claim(&mut self, k: &JobKeys) -> Result<TxMeta, TransactionError> {
        let p = self.provider.insecure_clone();
        self.send(&[ix::claim_job(k, &p.pubkey())], &[&p])
    }

    pub fn claim(&mut self, k: &JobKeys) {
        self.try_claim(k).expect("claim_job");
    }

    pub fn try_submit(&mut self, k: &JobKeys, billed: u32) -> Result<TxMeta, TransactionError> {
        let p = self.provider.insecure_clone();
        self.send(
            &[ix::submit_result(
                k,
                &p.pubkey(),
                [42; 32],
                billed,
                "https://gpu.example.com/r/1",
            )],
            &[&p],
        )
    }

    pub fn submit(&mut self, k: &JobKeys, billed: u32) {
        self.try_submit(k, billed).expect("submit_result");
    }

    /// `verifier` submits its re-run of `k`'s job: `result_hash` for `billed_secs`, paid to
    /// its payment-token account `token` (a bond's rest goes to the world's provider).
    pub fn submit_verification(
        &mut self,
        k: &JobKeys,
        verifier: &Keypair,
        token: &Pubkey,
        result_hash: [u8; 32],
        billed_secs: u32,
    ) -> Result<TxMeta, TransactionError> {
        let ixs = self.verdict_ixs(k, &verifier.pubkey(), token, result_hash, billed_secs);
        self.send(&ixs, &[verifier])
    }

    /// An honest verifier's two instructions for its re-run `result_hash` of `k`'s job: its
    /// commitment (`commit_verification`), then its verdict (`submit_verification`): matched
    /// iff the hash opens the provider's commitment, as an exact job's verdict must be.
    pub fn verdict_ixs(
        &mut self,
        k: &JobKeys,
        verifier: &Pubkey,
        token: &Pubkey,
        result_hash: [u8; 32],
        billed_secs: u32,
    ) -> [Instruction; 2] {
        let job = self.job(&k.job);
        let matched =
            cinder_client::accounts::result_commitment(&k.job, &job.provider, &result_hash)
                == job.result_commitment;
        let commitment =
            cinder_client::accounts::verifier_commitment(&k.job, verifier, &result_hash);
        let pt = self.provider_token;
        [
            ix::commit_verification(k, verifier, commitment),
            ix::submit_verification(k, verifier, token, &pt, result_hash, billed_secs, matched),
        ]
    }

    /// The whole re-run of `k`'s job by `verifier`: it claims the verification, waits out
    /// the race it won, and submits (`submit_verification`). The claim's error if it fails.
    pub fn verify(
        &mut self,
        k: &JobKeys,
        verifier: &Keypair,
        token: &Pubkey,
        result_hash: [u8; 32],
        billed_secs: u32,
    ) -> Result<TxMeta, TransactionError> {
        self.send(
            &[ix::claim_verification(k, &verifier.pubkey())],
            &[verifier],
        )?;
        self.close_race(&k.job);
        self.submit_verification(k, verifier, token, result_hash, billed_secs)
    }

    pub fn payees(&self) -> Payees {
        Payees {
            client_token: self.client_token,
            provider_owner: self.provider.pubkey(),
            provider_token: self.provider_token,
        }
    }

    pub fn try_settle(&mut self, k: &JobKeys) -> Result<TxMeta, TransactionError> {
        let p = self.payees();
        self.send(&[ix::settle_job(k, &p)], &[])
    }

    pub fn settle(&mut self, k: &JobKeys) {
        self.try_settle(k).expect("settle_job");
    }

    pub fn fee_vault(&self) -> Pubkey {
        ix::fee_vault_pda(&self.mint)
    }

    pub fn verify_pool(&self) -> Pubkey {
        ix::verify_pool_pda(&self.market)
    }

    /// Sets the world's market to sample `bps` of jobs (its other terms the defaults).
    pub fn set_verify_rate(&mut self, bps: u16) {
        let a = self.admin.pubkey();
        let market = self.market;
        let mut mp = default_market_params(a);
        mp.verify_rate_bps = cinder::state::Bps(bps);
        self.send(&[ix::update_market(&a, &market, mp, false)], &[])
            .expect("update_market");
    }

    pub fn market_account(&mut self) -> cinder::state::Market {
        let key = self.market;
        self.read(&key)
    }

    /// Sends `sweep_fees` for the world's market (anyone may; the admin pays the fee).
    pub fn try_sweep(&mut self) -> Result<TxMeta, TransactionError> {
        let ix = ix::sweep_fees(&self.market, &self.mint, &self.token_program);
        self.send(&[ix], &[])
    }

    /// Token balances of everyone a job's money can reach, in a fixed order:
    /// client, provider, fee vault, market pool (verification + unswept protocol fees),
    /// and the job's vault.
    pub fn ledger(&mut self, k: &JobKeys) -> [u64; 5] {
        let keys = [
            self.client_token,
            self.provider_token,
            self.fee_vault(),
            self.verify_pool(),
            k.vault,
        ];
        keys.map(|key| self.balance(&key))
    }
}

/// Writes the program's ProgramData account naming `authority` (keeping the ELF bytes if any).
pub fn set_upgrade_authority(chain: &mut dyn Chain, authority: Option<Pubkey>) {
    let key = ix::program_data_pda();
    let mut meta = Vec::with_capacity(45);
    meta.extend_from_slice(&3u32.to_le_bytes()); // UpgradeableLoaderState::ProgramData
    meta.extend_from_slice(&0u64.to_le_bytes()); // slot
    match authority {
        Some(a) => {
            meta.push(1);
            meta.extend_from_slice(a.as_ref());
        }
        None => {
            meta.push(0);
            meta.extend_from_slice(&[0; 32]);
        }
    }
    let mut account = chain.account(&key).unwrap_or(Account {
        lamports: 1_000_000_000,
        data: vec![0; 45],
        owner: anchor_lang::solana_program::bpf_loader_upgradeable::ID,
        executable: false,
        rent_epoch: 0,
    });
    account.data[..45].copy_from_slice(&meta);
    chain.set_account(&key, account);
}
