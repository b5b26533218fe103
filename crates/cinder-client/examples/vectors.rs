//! Test vectors for the dApp's TypeScript client (`app/web`): every instruction built by the
//! real builders of `cinder_client::ix` from fixed inputs, a byte image of every account type
//! with every field set to a distinct value (serialized exactly as on chain), every event's
//! encoding, the PDAs, the result commitment and the error table — so the TypeScript encoders
//! and decoders are checked byte for byte against the program's own Rust types.
//!
//! `cargo run -p cinder-client --example vectors -- <out.json>` (stdout without an argument).
//! Field names in the JSON are the camelCase names the TypeScript client uses; u64/i64/u128
//! values are decimal strings, byte arrays hex, public keys base58.

use anchor_lang::{prelude::Pubkey, AccountSerialize, Discriminator, Event, ZeroCopy};
use cinder::{
    errors::CinderError,
    events::*,
    instructions::{PostJobArgs, ProviderInfo},
    state::*,
};
use cinder_client::ix::{self, JobKeys, Payees, PaymentSide, Protocol};
use std::fmt::Write as _;

// --- a minimal JSON writer (the example may only use cinder-client's own dependencies) ------

enum J {
    Str(String),
    Num(u64),
    Bool(bool),
    Null,
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    fn write(&self, out: &mut String, indent: usize) {
        match self {
            J::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            J::Num(n) => {
                let _ = write!(out, "{n}");
            }
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Null => out.push_str("null"),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    item.write(out, indent + 1);
                }
                newline(out, indent);
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    let _ = write!(out, "\"{k}\": ");
                    v.write(out, indent + 1);
                }
                newline(out, indent);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn key(k: &Pubkey) -> J {
    J::Str(k.to_string())
}
/// u64, i64 and u128 as decimal strings: JSON numbers cannot hold them in JavaScript.
fn big(v: impl ToString) -> J {
    J::Str(v.to_string())
}
fn small(v: impl Into<u64>) -> J {
    J::Num(v.into())
}
fn hex(bytes: &[u8]) -> J {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    J::Str(s)
}
fn text(s: &str) -> J {
    J::Str(s.to_string())
}
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => { J::Obj(vec![$(($k, $v)),*]) };
}

// --- distinct values ------------------------------------------------------------------------

/// splitmix64: every field gets its own value, so a decoder reading the wrong offset fails.
struct Gen(u64);

impl Gen {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn i64(&mut self) -> i64 {
        self.u64() as i64
    }
    fn u32(&mut self) -> u32 {
        self.u64() as u32
    }
    fn u16(&mut self) -> u16 {
        self.u64() as u16
    }
    fn u8(&mut self) -> u8 {
        self.u64() as u8
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.u8();
        }
        out
    }
    fn key(&mut self) -> Pubkey {
        Pubkey::new_from_array(self.bytes())
    }
    fn bps(&mut self) -> Bps {
        Bps(self.u16())
    }
    fn flag(&mut self) -> Flag {
        Flag(self.u8())
    }
}

// --- parameter structs ----------------------------------------------------------------------

fn config_params(g: &mut Gen) -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: g.bps(),
        burn_bps: g.bps(),
        stakers_bps: g.bps(),
        treasury_bps: g.bps(),
        min_lock_secs: g.u32(),
        max_lock_secs: g.u32(),
        treasury: g.key(),
    }
}

fn config_params_json(p: &ConfigParams) -> J {
    obj! {
        "protocolFeeBps" => small(p.protocol_fee_bps.0),
        "burnBps" => small(p.burn_bps.0),
        "stakersBps" => small(p.stakers_bps.0),
        "treasuryBps" => small(p.treasury_bps.0),
        "minLockSecs" => small(p.min_lock_secs),
        "maxLockSecs" => small(p.max_lock_secs),
        "treasury" => key(&p.treasury),
    }
}

fn market_params(g: &mut Gen) -> MarketParams {
    MarketParams {
        min_price_per_sec: g.u64(),
        min_provider_stake: g.u64(),
        stake_per_job: g.u64(),
        max_duration_secs: g.u32(),
        expire_grace_secs: g.u32(),
        challenge_window_secs: g.u32(),
        verification_timeout_secs: g.u32(),
        min_vram_gib: g.u16(),
        min_gpus_per_job: g.u8(),
        _reserved: g.bytes(),
        verify_rate_bps: g.bps(),
        verification_fee_bps: g.bps(),
        fraud_slash_bps: g.bps(),
        timeout_slash_bps: g.bps(),
        slash_reward_bps: g.bps(),
        quit_penalty_bps: g.bps(),
        gpu_model: g.bytes(),
        arbiter: g.key(),
    }
}

fn market_params_json(p: &MarketParams) -> J {
    obj! {
        "minPricePerSec" => big(p.min_price_per_sec),
        "minProviderStake" => big(p.min_provider_stake),
        "stakePerJob" => big(p.stake_per_job),
        "maxDurationSecs" => small(p.max_duration_secs),
        "expireGraceSecs" => small(p.expire_grace_secs),
        "challengeWindowSecs" => small(p.challenge_window_secs),
        "verificationTimeoutSecs" => small(p.verification_timeout_secs),
        "minVramGib" => small(p.min_vram_gib),
        "minGpusPerJob" => small(p.min_gpus_per_job),
        "reserved" => hex(&p._reserved),
        "verifyRateBps" => small(p.verify_rate_bps.0),
        "verificationFeeBps" => small(p.verification_fee_bps.0),
        "fraudSlashBps" => small(p.fraud_slash_bps.0),
        "timeoutSlashBps" => small(p.timeout_slash_bps.0),
        "slashRewardBps" => small(p.slash_reward_bps.0),
        "quitPenaltyBps" => small(p.quit_penalty_bps.0),
        "gpuModel" => hex(&p.gpu_model),
        "arbiter" => key(&p.arbiter),
    }
}

fn auction_params(g: &mut Gen) -> AuctionParams {
    AuctionParams {
        init_price: g.u64(),
        floor_price: g.u64(),
        epoch_period_secs: g.u32(),
        price_multiplier_bps: g.u32(),
        min_init_price: g.u64(),
    }
}

fn auction_params_json(p: &AuctionParams) -> J {
    obj! {
        "initPrice" => big(p.init_price),
        "floorPrice" => big(p.floor_price),
        "epochPeriodSecs" => small(p.epoch_period_secs),
        "priceMultiplierBps" => small(p.price_multiplier_bps),
        "minInitPrice" => big(p.min_init_price),
    }
}

fn provider_info_json(i: &ProviderInfo) -> J {
    obj! {
        "gpuModel" => hex(&i.gpu_model),
        "vramGib" => small(i.vram_gib),
        "gpuCount" => small(i.gpu_count),
        "inventoryHash" => hex(&i.inventory_hash),
        "endpoint" => text(&i.endpoint),
    }
}

fn job_keys_json(k: &JobKeys) -> J {
    obj! {
        "job" => key(&k.job),
        "vault" => key(&k.vault),
        "market" => key(&k.market),
        "client" => key(&k.client),
        "mint" => key(&k.mint),
        "tokenProgram" => key(&k.token_program),
    }
}

fn protocol_json(p: &Protocol) -> J {
    obj! { "mint" => key(&p.mint), "tokenProgram" => key(&p.token_program) }
}

// --- instructions ---------------------------------------------------------------------------

fn instruction(
    name: &'static str,
    args: J,
    ix: anchor_lang::solana_program::instruction::Instruction,
) -> J {
    let metas = ix
        .accounts
        .iter()
        .map(|m| {
            obj! {
                "pubkey" => key(&m.pubkey),
                "signer" => J::Bool(m.is_signer),
                "writable" => J::Bool(m.is_writable),
            }
        })
        .collect();
    obj! {
        "name" => text(name),
        "args" => args,
        "programId" => key(&ix.program_id),
        "accounts" => J::Arr(metas),
        "data" => hex(&ix.data),
    }
}

fn instructions(g: &mut Gen) -> J {
    let admin = g.key();
    let protocol = Protocol {
        mint: g.key(),
        token_program: g.key(),
    };
    let payment_mint = g.key();
    let payment_token_program = g.key();
    let market_id = g.u64();
    let market = ix::market_pda(market_id);
    let client = g.key();
    let nonce = g.u64();
    let (job, job_bump) = ix::job_pda(&market, &client, nonce);
    let (vault, vault_bump) = ix::vault_pda(&job);
    let k = JobKeys {
        job,
        vault,
        market,
        client,
        mint: payment_mint,
        token_program: payment_token_program,
    };
    let kj = || job_keys_json(&k);
    let pj = || protocol_json(&protocol);
    let owner = g.key();
    let client_token = g.key();
    let mut out = Vec::new();

    let params = config_params(g);
    out.push(instruction(
        "initConfig",
        obj! { "admin" => key(&admin), "protocolMint" => key(&protocol.mint), "params" => config_params_json(&params) },
        ix::init_config(&admin, &protocol.mint, params),
    ));
    let params = config_params(g);
    out.push(instruction(
        "updateConfig",
        obj! { "admin" => key(&admin), "params" => config_params_json(&params), "paused" => J::Bool(true) },
        ix::update_config(&admin, params, true),
    ));
    let proposed = g.key();
    out.push(instruction(
        "proposeAdmin",
        obj! { "admin" => key(&admin), "proposed" => key(&proposed) },
        ix::propose_admin(&admin, proposed),
    ));
    out.push(instruction(
        "acceptAdmin",
        obj! { "newAdmin" => key(&proposed) },
        ix::accept_admin(&proposed),
    ));
    let params = auction_params(g);
    out.push(instruction(
        "initAuction",
        obj! {
            "admin" => key(&admin), "mint" => key(&payment_mint),
            "tokenProgram" => key(&payment_token_program),
            "params" => auction_params_json(&params), "allowFreezeAuthority" => J::Bool(true),
        },
        ix::init_auction(&admin, &payment_mint, &payment_token_program, params, true),
    ));
    let params = market_params(g);
    out.push(instruction(
        "createMarket",
        obj! {
            "admin" => key(&admin), "marketId" => big(market_id), "mint" => key(&payment_mint),
            "tokenProgram" => key(&payment_token_program),
            "params" => market_params_json(&params), "allowFreezeAuthority" => J::Bool(false),
        },
        ix::create_market(
            &admin,
            market_id,
            &payment_mint,
            &payment_token_program,
            params,
            false,
        ),
    ));
    let params = market_params(g);
    out.push(instruction(
        "updateMarket",
        obj! {
            "admin" => key(&admin), "market" => key(&market),
            "params" => market_params_json(&params), "paused" => J::Bool(false),
        },
        ix::update_market(&admin, &market, params, false),
    ));
    let info = ProviderInfo {
        gpu_model: g.bytes(),
        vram_gib: g.u16(),
        gpu_count: g.u8(),
        inventory_hash: g.bytes(),
        endpoint: "http://127.0.0.1:7878/provider-endpoint".to_string(),
    };
    out.push(instruction(
        "registerProvider",
        obj! { "owner" => key(&owner), "info" => provider_info_json(&info) },
        ix::register_provider(&owner, info.clone()),
    ));
    let info = ProviderInfo {
        gpu_model: g.bytes(),
        vram_gib: g.u16(),
        gpu_count: g.u8(),
        inventory_hash: g.bytes(),
        endpoint: "https://gpu.example.org:8443".to_string(),
    };
    out.push(instruction(
        "updateProvider",
        obj! { "owner" => key(&owner), "info" => provider_info_json(&info), "active" => J::Bool(true) },
        ix::update_provider(&owner, info, true),
    ));

    for assigned in [None, Some(g.key())] {
        let args = PostJobArgs {
            nonce,
            job_bump,
            vault_bump,
            spec_hash: g.bytes(),
            spec_uri: "https://specs.example.org/job/42.json".to_string(),
            price_per_sec: g.u64(),
            max_duration_secs: g.u32(),
            assigned_provider: assigned,
            open_until: g.i64(),
            verify_mode: g.u8() % 2,
        };
        let args_json = obj! {
            "nonce" => big(args.nonce),
            "jobBump" => small(args.job_bump),
            "vaultBump" => small(args.vault_bump),
            "specHash" => hex(&args.spec_hash),
            "specUri" => text(&args.spec_uri),
            "pricePerSec" => big(args.price_per_sec),
            "maxDurationSecs" => small(args.max_duration_secs),
            "assignedProvider" => args.assigned_provider.as_ref().map_or(J::Null, key),
            "openUntil" => big(args.open_until),
            "verifyMode" => small(args.verify_mode),
        };
        out.push(instruction(
            if assigned.is_some() {
                "postJobAssigned"
            } else {
                "postJob"
            },
            obj! { "keys" => kj(), "clientToken" => key(&client_token), "args" => args_json },
            ix::post_job(&k, &client_token, args),
        ));
    }
    let caller = g.key();
    out.push(instruction(
        "cancelJob",
        obj! { "keys" => kj(), "caller" => key(&caller), "clientToken" => key(&client_token) },
        ix::cancel_job(&k, &caller, &client_token),
    ));
    let added = g.u32();
    out.push(instruction(
        "extendJob",
        obj! { "keys" => kj(), "clientToken" => key(&client_token), "addedSecs" => small(added) },
        ix::extend_job(&k, &client_token, added),
    ));
    out.push(instruction(
        "claimJob",
        obj! { "keys" => kj(), "providerOwner" => key(&owner) },
        ix::claim_job(&k, &owner),
    ));
    out.push(instruction(
        "quitJob",
        obj! { "keys" => kj(), "providerOwner" => key(&owner), "protocol" => pj() },
        ix::quit_job(&k, &owner, &protocol),
    ));
    let caller_token = g.key();
    out.push(instruction(
        "expireJob",
        obj! {
            "keys" => kj(), "caller" => key(&caller), "providerOwner" => key(&owner),
            "callerToken" => key(&caller_token), "protocol" => pj(),
        },
        ix::expire_job(&k, &caller, &owner, &caller_token, &protocol),
    ));
    let result_hash: [u8; 32] = g.bytes();
    let billed = g.u32();
    out.push(instruction(
        "submitResult",
        obj! {
            "keys" => kj(), "providerOwner" => key(&owner), "resultHash" => hex(&result_hash),
            "billedSecs" => small(billed), "resultUri" => text("http://127.0.0.1:7878/v1/jobs/x"),
        },
        ix::submit_result(
            &k,
            &owner,
            result_hash,
            billed,
            "http://127.0.0.1:7878/v1/jobs/x",
        ),
    ));
    let payees = Payees {
        client_token,
        provider_owner: owner,
        provider_token: g.key(),
    };
    let payees_json = || {
        obj! {
            "clientToken" => key(&payees.client_token),
            "providerOwner" => key(&payees.provider_owner),
            "providerToken" => key(&payees.provider_token),
        }
    };
    out.push(instruction(
        "settleJob",
        obj! { "keys" => kj(), "payees" => payees_json() },
        ix::settle_job(&k, &payees),
    ));
    out.push(instruction(
        "acceptResult",
        obj! { "keys" => kj(), "payees" => payees_json() },
        ix::accept_result(&k, &payees),
    ));
    out.push(instruction(
        "disputeJob",
        obj! { "keys" => kj(), "clientToken" => key(&client_token) },
        ix::dispute_job(&k, &client_token),
    ));
    out.push(instruction(
        "revealSample",
        obj! { "keys" => kj() },
        ix::reveal_sample(&k),
    ));
    let verifier = g.key();
    out.push(instruction(
        "claimVerification",
        obj! { "keys" => kj(), "verifier" => key(&verifier) },
        ix::claim_verification(&k, &verifier),
    ));
    let verifier_token = g.key();
    let provider_token = g.key();
    let result_hash: [u8; 32] = g.bytes();
    let billed = g.u32();
    let commitment = cinder_client::accounts::verifier_commitment(&k.job, &verifier, &result_hash);
    out.push(instruction(
        "commitVerification",
        obj! { "keys" => kj(), "verifier" => key(&verifier), "commitment" => hex(&commitment) },
        ix::commit_verification(&k, &verifier, commitment),
    ));
    for matched in [true, false] {
        out.push(instruction(
            "submitVerification",
            obj! {
                "keys" => kj(), "verifier" => key(&verifier), "verifierToken" => key(&verifier_token),
                "providerToken" => key(&provider_token), "resultHash" => hex(&result_hash),
                "billedSecs" => small(billed), "matched" => J::Bool(matched),
            },
            ix::submit_verification(
                &k,
                &verifier,
                &verifier_token,
                &provider_token,
                result_hash,
                billed,
                matched,
            ),
        ));
    }
    out.push(instruction(
        "expireVerification",
        obj! {
            "keys" => kj(), "caller" => key(&caller), "verifier" => key(&verifier),
            "callerToken" => key(&caller_token), "protocol" => pj(),
        },
        ix::expire_verification(&k, &caller, &verifier, &caller_token, &protocol),
    ));
    let winner_token = g.key();
    out.push(instruction(
        "resolveDispute",
        obj! {
            "keys" => kj(), "signer" => key(&admin), "provider" => key(&owner),
            "verifier" => key(&verifier), "winnerToken" => key(&winner_token),
            "protocol" => pj(), "decision" => small(2u8),
        },
        ix::resolve_dispute(&k, &admin, &owner, &verifier, &winner_token, &protocol, 2),
    ));
    let (second, second_token) = (g.key(), g.key());
    out.push(instruction(
        "resolveDisputeEscalated",
        obj! {
            "keys" => kj(), "signer" => key(&caller), "provider" => key(&owner),
            "first" => key(&verifier), "second" => key(&second),
            "winnerToken" => key(&winner_token), "secondToken" => key(&second_token),
            "protocol" => pj(), "decision" => small(1u8),
        },
        ix::resolve_dispute_escalated(
            &k,
            &caller,
            &owner,
            &verifier,
            &second,
            &winner_token,
            &second_token,
            &protocol,
            1,
        ),
    ));

    out.push(instruction(
        "initStaking",
        obj! { "admin" => key(&admin), "protocol" => pj() },
        ix::init_staking(&admin, &protocol),
    ));
    let owner_token = g.key();
    let (amount, lock) = (g.u64(), g.u32());
    out.push(instruction(
        "stake",
        obj! {
            "owner" => key(&owner), "ownerToken" => key(&owner_token), "protocol" => pj(),
            "amount" => big(amount), "lockSecs" => small(lock),
        },
        ix::stake(&owner, &owner_token, &protocol, amount, lock),
    ));
    let amount = g.u64();
    out.push(instruction(
        "requestUnstake",
        obj! { "owner" => key(&owner), "amount" => big(amount) },
        ix::request_unstake(&owner, amount),
    ));
    out.push(instruction(
        "restake",
        obj! { "owner" => key(&owner) },
        ix::restake(&owner),
    ));
    out.push(instruction(
        "withdrawStake",
        obj! { "owner" => key(&owner), "ownerToken" => key(&owner_token), "protocol" => pj() },
        ix::withdraw_stake(&owner, &owner_token, &protocol),
    ));
    let treasury_token = g.key();
    let amount = g.u64();
    out.push(instruction(
        "depositRewards",
        obj! {
            "depositor" => key(&caller), "depositorToken" => key(&caller_token),
            "treasuryToken" => key(&treasury_token), "protocol" => pj(), "amount" => big(amount),
        },
        ix::deposit_rewards(&caller, &caller_token, &treasury_token, &protocol, amount),
    ));
    out.push(instruction(
        "claimRewards",
        obj! { "owner" => key(&owner), "ownerToken" => key(&owner_token), "protocol" => pj() },
        ix::claim_rewards(&owner, &owner_token, &protocol),
    ));
    out.push(instruction(
        "sweepFees",
        obj! {
            "market" => key(&market), "mint" => key(&payment_mint),
            "tokenProgram" => key(&payment_token_program),
        },
        ix::sweep_fees(&market, &payment_mint, &payment_token_program),
    ));
    let params = auction_params(g);
    out.push(instruction(
        "updateAuction",
        obj! { "admin" => key(&admin), "mint" => key(&payment_mint), "params" => auction_params_json(&params) },
        ix::update_auction(&admin, &payment_mint, params),
    ));
    let buyer = g.key();
    let payment = PaymentSide {
        payment_mint,
        payment_token_program,
    };
    let (buyer_payment_token, buyer_protocol_token) = (g.key(), g.key());
    let (max_price, min_out) = (g.u64(), g.u64());
    out.push(instruction(
        "buy",
        obj! {
            "buyer" => key(&buyer),
            "payment" => obj! {
                "paymentMint" => key(&payment_mint),
                "paymentTokenProgram" => key(&payment_token_program),
            },
            "buyerPaymentToken" => key(&buyer_payment_token),
            "buyerProtocolToken" => key(&buyer_protocol_token),
            "treasuryToken" => key(&treasury_token), "protocol" => pj(),
            "maxPrice" => big(max_price), "minAmountOut" => big(min_out),
        },
        ix::buy(
            &buyer,
            &payment,
            &buyer_payment_token,
            &buyer_protocol_token,
            &treasury_token,
            &protocol,
            max_price,
            min_out,
        ),
    ));
    out.push(instruction(
        "distributeFees",
        obj! { "treasuryToken" => key(&treasury_token), "protocol" => pj() },
        ix::distribute_fees(&treasury_token, &protocol),
    ));
    J::Arr(out)
}

// --- accounts -------------------------------------------------------------------------------

/// The account as the program stores it: discriminator, then the `repr(C)` bytes.
fn zero_copy_image<T: ZeroCopy + Discriminator>(value: &T) -> Vec<u8> {
    // SAFETY: `ZeroCopy` implies `bytemuck::Pod` (the `#[account(zero_copy)]` derive checks it):
    // no padding and no invalid bit patterns, so every byte of `value` is initialised. (The
    // crate's dependencies at HEAD have no `bytemuck` to call `bytes_of` with.)
    let bytes = unsafe {
        core::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>())
    };
    let mut data = T::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytes);
    data
}

fn account(name: &'static str, data: Vec<u8>, fields: J) -> J {
    obj! {
        "name" => text(name),
        "size" => small(data.len() as u64),
        "data" => hex(&data),
        "fields" => fields,
    }
}

fn accounts(g: &mut Gen) -> J {
    let mut out = Vec::new();

    let c = Config {
        admin: g.key(),
        pending_admin: g.key(),
        protocol_mint: g.key(),
        params: config_params(g),
        total_burned: g.u64(),
        total_slashed: g.u64(),
        paused: g.flag(),
        version: g.u8(),
        bump: g.u8(),
        _reserved: g.bytes(),
    };
    out.push(account(
        "Config",
        zero_copy_image(&c),
        obj! {
            "admin" => key(&c.admin),
            "pendingAdmin" => key(&c.pending_admin),
            "protocolMint" => key(&c.protocol_mint),
            "params" => config_params_json(&c.params),
            "totalBurned" => big(c.total_burned),
            "totalSlashed" => big(c.total_slashed),
            "paused" => small(c.paused.0),
            "version" => small(c.version),
            "bump" => small(c.bump),
            "reserved" => hex(&c._reserved),
        },
    ));

    let m = Market {
        market_id: g.u64(),
        payment_mint: g.key(),
        payment_token_program: g.key(),
        fee_vault: g.key(),
        verify_pool: g.key(),
        params: market_params(g),
        protocol_fees_accrued: g.u64(),
        payment_decimals: g.u8(),
        paused: g.flag(),
        bump: g.u8(),
        verify_pool_bump: g.u8(),
        _reserved: g.bytes(),
    };
    out.push(account(
        "Market",
        zero_copy_image(&m),
        obj! {
            "marketId" => big(m.market_id),
            "paymentMint" => key(&m.payment_mint),
            "paymentTokenProgram" => key(&m.payment_token_program),
            "feeVault" => key(&m.fee_vault),
            "verifyPool" => key(&m.verify_pool),
            "params" => market_params_json(&m.params),
            "protocolFeesAccrued" => big(m.protocol_fees_accrued),
            "paymentDecimals" => small(m.payment_decimals),
            "paused" => small(m.paused.0),
            "bump" => small(m.bump),
            "verifyPoolBump" => small(m.verify_pool_bump),
            "reserved" => hex(&m._reserved),
        },
    ));

    let j = Job {
        market: g.key(),
        client: g.key(),
        provider: g.key(),
        state: JobState(g.u8()),
        sample_status: SampleStatus(g.u8()),
        bump: g.u8(),
        vault_bump: g.u8(),
        max_duration_secs: g.u32(),
        assigned_provider: g.key(),
        vault: g.key(),
        spec_hash: g.bytes(),
        spec_uri: g.bytes(),
        nonce: g.u64(),
        price_per_sec: g.u64(),
        escrow_compute: g.u64(),
        escrow_verification: g.u64(),
        posted_at: g.i64(),
        open_until: g.i64(),
        claimed_at: g.i64(),
        deadline: g.i64(),
        submitted_at: g.i64(),
        submitted_slot: g.u64(),
        stake_locked: g.u64(),
        verifier_claimed_at: g.i64(),
        verify_deadline: g.i64(),
        verifier_stake_locked: g.u64(),
        disputed_at: g.i64(),
        reopened_at: g.i64(),
        stake_per_job: g.u64(),
        challenge_window_secs: g.u32(),
        expire_grace_secs: g.u32(),
        verification_timeout_secs: g.u32(),
        billed_secs: g.u32(),
        verifier_billed_secs: g.u32(),
        protocol_fee_bps: g.u16(),
        verification_fee_bps: g.u16(),
        verify_rate_bps: g.u16(),
        fraud_slash_bps: g.u16(),
        timeout_slash_bps: g.u16(),
        slash_reward_bps: g.u16(),
        quit_penalty_bps: g.u16(),
        spec_uri_len: g.u8(),
        resolution: g.u8(),
        result_commitment: g.bytes(),
        verifier: g.key(),
        last_provider: g.key(),
        arbiter: g.key(),
        client_bond: g.bytes(),
        race_origin: g.bytes(),
        race_closes: g.bytes(),
        verifier_ticket: g.bytes(),
        first_verifier: g.key(),
        first_verifier_stake: g.bytes(),
        verdict: g.u8(),
        verify_mode: g.u8(),
        challenged_match: g.u8(),
        _reserved: g.bytes(),
        verifier_commitment: g.bytes(),
    };
    out.push(account(
        "Job",
        zero_copy_image(&j),
        obj! {
            "market" => key(&j.market),
            "client" => key(&j.client),
            "provider" => key(&j.provider),
            "state" => small(j.state.0),
            "sampleStatus" => small(j.sample_status.0),
            "bump" => small(j.bump),
            "vaultBump" => small(j.vault_bump),
            "maxDurationSecs" => small(j.max_duration_secs),
            "assignedProvider" => key(&j.assigned_provider),
            "vault" => key(&j.vault),
            "specHash" => hex(&j.spec_hash),
            "specUri" => hex(&j.spec_uri),
            "nonce" => big(j.nonce),
            "pricePerSec" => big(j.price_per_sec),
            "escrowCompute" => big(j.escrow_compute),
            "escrowVerification" => big(j.escrow_verification),
            "postedAt" => big(j.posted_at),
            "openUntil" => big(j.open_until),
            "claimedAt" => big(j.claimed_at),
            "deadline" => big(j.deadline),
            "submittedAt" => big(j.submitted_at),
            "submittedSlot" => big(j.submitted_slot),
            "stakeLocked" => big(j.stake_locked),
            "verifierClaimedAt" => big(j.verifier_claimed_at),
            "verifyDeadline" => big(j.verify_deadline),
            "verifierStakeLocked" => big(j.verifier_stake_locked),
            "disputedAt" => big(j.disputed_at),
            "reopenedAt" => big(j.reopened_at),
            "stakePerJob" => big(j.stake_per_job),
            "challengeWindowSecs" => small(j.challenge_window_secs),
            "expireGraceSecs" => small(j.expire_grace_secs),
            "verificationTimeoutSecs" => small(j.verification_timeout_secs),
            "billedSecs" => small(j.billed_secs),
            "verifierBilledSecs" => small(j.verifier_billed_secs),
            "protocolFeeBps" => small(j.protocol_fee_bps),
            "verificationFeeBps" => small(j.verification_fee_bps),
            "verifyRateBps" => small(j.verify_rate_bps),
            "fraudSlashBps" => small(j.fraud_slash_bps),
            "timeoutSlashBps" => small(j.timeout_slash_bps),
            "slashRewardBps" => small(j.slash_reward_bps),
            "quitPenaltyBps" => small(j.quit_penalty_bps),
            "specUriLen" => small(j.spec_uri_len),
            "resolution" => small(j.resolution),
            "resultCommitment" => hex(&j.result_commitment),
            "verifier" => key(&j.verifier),
            "lastProvider" => key(&j.last_provider),
            "arbiter" => key(&j.arbiter),
            "clientBond" => hex(&j.client_bond),
            "raceOrigin" => hex(&j.race_origin),
            "raceCloses" => hex(&j.race_closes),
            "verifierTicket" => hex(&j.verifier_ticket),
            "firstVerifier" => key(&j.first_verifier),
            "firstVerifierStake" => hex(&j.first_verifier_stake),
            "verdict" => small(j.verdict),
            "verifyMode" => small(j.verify_mode),
            "challengedMatch" => small(j.challenged_match),
            "reserved" => hex(&j._reserved),
            "verifierCommitment" => hex(&j.verifier_commitment),
        },
    ));

    let p = Provider {
        owner: g.key(),
        status: ProviderStatus(g.u8()),
        gpu_count: g.u8(),
        vram_gib: g.u16(),
        active_jobs: g.u32(),
        jobs_done: g.u64(),
        jobs_quit: g.u64(),
        jobs_expired: g.u64(),
        registered_at: g.i64(),
        locked_stake: g.u64(),
        gpu_model: g.bytes(),
        inventory_hash: g.bytes(),
        endpoint: g.bytes(),
        endpoint_len: g.u8(),
        bump: g.u8(),
        _reserved: g.bytes(),
    };
    out.push(account(
        "Provider",
        zero_copy_image(&p),
        obj! {
            "owner" => key(&p.owner),
            "status" => small(p.status.0),
            "gpuCount" => small(p.gpu_count),
            "vramGib" => small(p.vram_gib),
            "activeJobs" => small(p.active_jobs),
            "jobsDone" => big(p.jobs_done),
            "jobsQuit" => big(p.jobs_quit),
            "jobsExpired" => big(p.jobs_expired),
            "registeredAt" => big(p.registered_at),
            "lockedStake" => big(p.locked_stake),
            "gpuModel" => hex(&p.gpu_model),
            "inventoryHash" => hex(&p.inventory_hash),
            "endpoint" => hex(&p.endpoint),
            "endpointLen" => small(p.endpoint_len),
            "bump" => small(p.bump),
            "reserved" => hex(&p._reserved),
        },
    ));

    let sp = StakePool {
        protocol_mint: g.key(),
        token_program: g.key(),
        stake_vault: g.key(),
        reward_vault: g.key(),
        acc_reward_per_weight: PodU128(g.bytes()),
        total_weight: g.u64(),
        total_staked: g.u64(),
        total_rewards_deposited: g.u64(),
        total_rewards_to_treasury: g.u64(),
        total_rewards_claimed: g.u64(),
        decimals: g.u8(),
        bump: g.u8(),
        stake_vault_bump: g.u8(),
        reward_vault_bump: g.u8(),
        _reserved: g.bytes(),
    };
    out.push(account(
        "StakePool",
        zero_copy_image(&sp),
        obj! {
            "protocolMint" => key(&sp.protocol_mint),
            "tokenProgram" => key(&sp.token_program),
            "stakeVault" => key(&sp.stake_vault),
            "rewardVault" => key(&sp.reward_vault),
            "accRewardPerWeight" => big(sp.acc_reward_per_weight.get()),
            "totalWeight" => big(sp.total_weight),
            "totalStaked" => big(sp.total_staked),
            "totalRewardsDeposited" => big(sp.total_rewards_deposited),
            "totalRewardsToTreasury" => big(sp.total_rewards_to_treasury),
            "totalRewardsClaimed" => big(sp.total_rewards_claimed),
            "decimals" => small(sp.decimals),
            "bump" => small(sp.bump),
            "stakeVaultBump" => small(sp.stake_vault_bump),
            "rewardVaultBump" => small(sp.reward_vault_bump),
            "reserved" => hex(&sp._reserved),
        },
    ));

    let s = StakePosition {
        owner: g.key(),
        amount: g.u64(),
        weight: g.u64(),
        unbonding: g.u64(),
        unlock_at: g.i64(),
        pending_rewards: g.u64(),
        reward_debt: PodU128(g.bytes()),
        lock_secs: g.u32(),
        bump: g.u8(),
        _pad: g.bytes(),
        grew_slot: g.u64(),
        _reserved: g.bytes(),
    };
    out.push(account(
        "StakePosition",
        zero_copy_image(&s),
        obj! {
            "owner" => key(&s.owner),
            "amount" => big(s.amount),
            "weight" => big(s.weight),
            "unbonding" => big(s.unbonding),
            "unlockAt" => big(s.unlock_at),
            "pendingRewards" => big(s.pending_rewards),
            "rewardDebt" => big(s.reward_debt.get()),
            "lockSecs" => small(s.lock_secs),
            "bump" => small(s.bump),
            "pad" => hex(&s._pad),
            "grewSlot" => big(s.grew_slot),
            "reserved" => hex(&s._reserved),
        },
    ));

    let a = Auction {
        payment_mint: g.key(),
        payment_token_program: g.key(),
        fee_vault: g.key(),
        params: auction_params(g),
        epoch: g.u64(),
        epoch_start: g.i64(),
        epoch_init_price: g.u64(),
        total_paid: g.u64(),
        total_sold: g.u64(),
        last_price: g.u64(),
        bump: g.u8(),
        fee_vault_bump: g.u8(),
        _reserved: g.bytes(),
    };
    let mut data = Vec::new();
    a.try_serialize(&mut data).expect("auction serializes");
    out.push(account(
        "Auction",
        data,
        obj! {
            "paymentMint" => key(&a.payment_mint),
            "paymentTokenProgram" => key(&a.payment_token_program),
            "feeVault" => key(&a.fee_vault),
            "params" => auction_params_json(&a.params),
            "epoch" => big(a.epoch),
            "epochStart" => big(a.epoch_start),
            "epochInitPrice" => big(a.epoch_init_price),
            "totalPaid" => big(a.total_paid),
            "totalSold" => big(a.total_sold),
            "lastPrice" => big(a.last_price),
            "bump" => small(a.bump),
            "feeVaultBump" => small(a.fee_vault_bump),
            "reserved" => hex(&a._reserved),
        },
    ));
    J::Arr(out)
}

/// The auction price curve at a few instants (the dApp shows the live price and buys at it).
fn auction_prices() -> J {
    let a = Auction {
        payment_mint: Pubkey::default(),
        payment_token_program: Pubkey::default(),
        fee_vault: Pubkey::default(),
        params: AuctionParams {
            init_price: 1_000_000_007,
            floor_price: 1_003,
            epoch_period_secs: 86_413,
            price_multiplier_bps: 20_000,
            min_init_price: 5_000,
        },
        epoch: 3,
        epoch_start: 1_700_000_000,
        epoch_init_price: 777_777_777,
        total_paid: 0,
        total_sold: 0,
        last_price: 0,
        bump: 0,
        fee_vault_bump: 0,
        _reserved: [0; 40],
    };
    let mut data = Vec::new();
    a.try_serialize(&mut data).expect("auction serializes");
    let points = [-5i64, 0, 1, 17, 3_600, 43_206, 86_412, 86_413, 1_000_000]
        .iter()
        .map(|dt| {
            let now = a.epoch_start + dt;
            obj! { "now" => big(now), "price" => big(a.price_at(now).expect("price")) }
        })
        .collect();
    let next = [0u64, 1_000, 2_499, 2_500, 123_456_789, u64::MAX]
        .iter()
        .map(|paid| obj! { "paid" => big(paid), "next" => big(a.next_init_price(*paid)) })
        .collect();
    obj! { "auction" => hex(&data), "prices" => J::Arr(points), "nextInitPrices" => J::Arr(next) }
}

// --- events ---------------------------------------------------------------------------------

fn event<E: Event>(name: &'static str, e: &E, fields: J) -> J {
    obj! { "name" => text(name), "data" => hex(&e.data()), "fields" => fields }
}

fn events(g: &mut Gen) -> J {
    let mut out = Vec::new();
    let e = ConfigInitialized {
        admin: g.key(),
        protocol_mint: g.key(),
        params: config_params(g),
    };
    out.push(event(
        "ConfigInitialized",
        &e,
        obj! { "admin" => key(&e.admin), "protocolMint" => key(&e.protocol_mint), "params" => config_params_json(&e.params) },
    ));
    let e = ConfigUpdated {
        old: config_params(g),
        new: config_params(g),
        old_paused: false,
        new_paused: true,
    };
    out.push(event(
        "ConfigUpdated",
        &e,
        obj! {
            "old" => config_params_json(&e.old), "new" => config_params_json(&e.new),
            "oldPaused" => J::Bool(e.old_paused), "newPaused" => J::Bool(e.new_paused),
        },
    ));
    let e = AdminProposed {
        admin: g.key(),
        proposed: g.key(),
    };
    out.push(event(
        "AdminProposed",
        &e,
        obj! { "admin" => key(&e.admin), "proposed" => key(&e.proposed) },
    ));
    let e = AdminAccepted {
        old: g.key(),
        new: g.key(),
    };
    out.push(event(
        "AdminAccepted",
        &e,
        obj! { "old" => key(&e.old), "new" => key(&e.new) },
    ));
    let e = MarketCreated {
        market: g.key(),
        market_id: g.u64(),
        payment_mint: g.key(),
        params: market_params(g),
    };
    out.push(event(
        "MarketCreated",
        &e,
        obj! {
            "market" => key(&e.market), "marketId" => big(e.market_id),
            "paymentMint" => key(&e.payment_mint), "params" => market_params_json(&e.params),
        },
    ));
    let e = MarketUpdated {
        market: g.key(),
        old: market_params(g),
        new: market_params(g),
        old_paused: true,
        new_paused: false,
    };
    out.push(event(
        "MarketUpdated",
        &e,
        obj! {
            "market" => key(&e.market), "old" => market_params_json(&e.old),
            "new" => market_params_json(&e.new), "oldPaused" => J::Bool(e.old_paused),
            "newPaused" => J::Bool(e.new_paused),
        },
    ));
    let e = AuctionInitialized {
        auction: g.key(),
        payment_mint: g.key(),
        fee_vault: g.key(),
        params: auction_params(g),
    };
    out.push(event(
        "AuctionInitialized",
        &e,
        obj! {
            "auction" => key(&e.auction), "paymentMint" => key(&e.payment_mint),
            "feeVault" => key(&e.fee_vault), "params" => auction_params_json(&e.params),
        },
    ));
    let e = AuctionUpdated {
        auction: g.key(),
        old: auction_params(g),
        new: auction_params(g),
    };
    out.push(event(
        "AuctionUpdated",
        &e,
        obj! {
            "auction" => key(&e.auction), "old" => auction_params_json(&e.old),
            "new" => auction_params_json(&e.new),
        },
    ));
    let e = AuctionBought {
        auction: g.key(),
        buyer: g.key(),
        epoch: g.u64(),
        price: g.u64(),
        amount_out: g.u64(),
        next_init_price: g.u64(),
    };
    out.push(event(
        "AuctionBought",
        &e,
        obj! {
            "auction" => key(&e.auction), "buyer" => key(&e.buyer), "epoch" => big(e.epoch),
            "price" => big(e.price), "amountOut" => big(e.amount_out),
            "nextInitPrice" => big(e.next_init_price),
        },
    ));
    let e = RevenueDistributed {
        auction: g.key(),
        amount: g.u64(),
        burned: g.u64(),
        to_stakers: g.u64(),
        to_treasury: g.u64(),
    };
    out.push(event(
        "RevenueDistributed",
        &e,
        obj! {
            "auction" => key(&e.auction), "amount" => big(e.amount), "burned" => big(e.burned),
            "toStakers" => big(e.to_stakers), "toTreasury" => big(e.to_treasury),
        },
    ));
    let e = Burned {
        amount: g.u64(),
        total_burned: g.u64(),
        reason: BURN_REASON_BUYBACK,
    };
    out.push(event(
        "Burned",
        &e,
        obj! { "amount" => big(e.amount), "totalBurned" => big(e.total_burned), "reason" => small(e.reason) },
    ));
    let e = ProviderRegistered {
        provider: g.key(),
        owner: g.key(),
        gpu_model: g.bytes(),
        vram_gib: g.u16(),
        gpu_count: g.u8(),
    };
    out.push(event(
        "ProviderRegistered",
        &e,
        obj! {
            "provider" => key(&e.provider), "owner" => key(&e.owner),
            "gpuModel" => hex(&e.gpu_model), "vramGib" => small(e.vram_gib),
            "gpuCount" => small(e.gpu_count),
        },
    ));
    let e = ProviderUpdated {
        provider: g.key(),
        active: true,
        gpu_model: g.bytes(),
        vram_gib: g.u16(),
        gpu_count: g.u8(),
    };
    out.push(event(
        "ProviderUpdated",
        &e,
        obj! {
            "provider" => key(&e.provider), "active" => J::Bool(e.active),
            "gpuModel" => hex(&e.gpu_model), "vramGib" => small(e.vram_gib),
            "gpuCount" => small(e.gpu_count),
        },
    ));
    let e = JobPosted {
        job: g.key(),
        market: g.key(),
        client: g.key(),
        price_per_sec: g.u64(),
        max_duration_secs: g.u32(),
        escrow_compute: g.u64(),
        escrow_verification: g.u64(),
    };
    out.push(event(
        "JobPosted",
        &e,
        obj! {
            "job" => key(&e.job), "market" => key(&e.market), "client" => key(&e.client),
            "pricePerSec" => big(e.price_per_sec), "maxDurationSecs" => small(e.max_duration_secs),
            "escrowCompute" => big(e.escrow_compute),
            "escrowVerification" => big(e.escrow_verification),
        },
    ));
    let e = JobExtended {
        job: g.key(),
        added_secs: g.u32(),
        deposit_compute: g.u64(),
        deposit_verification: g.u64(),
        new_max_duration_secs: g.u32(),
    };
    out.push(event(
        "JobExtended",
        &e,
        obj! {
            "job" => key(&e.job), "addedSecs" => small(e.added_secs),
            "depositCompute" => big(e.deposit_compute),
            "depositVerification" => big(e.deposit_verification),
            "newMaxDurationSecs" => small(e.new_max_duration_secs),
        },
    ));
    let e = JobCancelled {
        job: g.key(),
        by: g.key(),
        refund: g.u64(),
    };
    out.push(event(
        "JobCancelled",
        &e,
        obj! { "job" => key(&e.job), "by" => key(&e.by), "refund" => big(e.refund) },
    ));
    let e = JobClaimed {
        job: g.key(),
        provider: g.key(),
        deadline: g.i64(),
    };
    out.push(event(
        "JobClaimed",
        &e,
        obj! { "job" => key(&e.job), "provider" => key(&e.provider), "deadline" => big(e.deadline) },
    ));
    let e = JobQuit {
        job: g.key(),
        provider: g.key(),
    };
    out.push(event(
        "JobQuit",
        &e,
        obj! { "job" => key(&e.job), "provider" => key(&e.provider) },
    ));
    let e = JobExpired {
        job: g.key(),
        provider: g.key(),
        caller: g.key(),
    };
    out.push(event(
        "JobExpired",
        &e,
        obj! { "job" => key(&e.job), "provider" => key(&e.provider), "caller" => key(&e.caller) },
    ));
    let e = ResultSubmitted {
        job: g.key(),
        provider: g.key(),
        billed_secs: g.u32(),
        result_commitment: g.bytes(),
        submitted_slot: g.u64(),
        result_uri: "http://127.0.0.1:7878/v1/jobs/abc".to_string(),
    };
    out.push(event(
        "ResultSubmitted",
        &e,
        obj! {
            "job" => key(&e.job), "provider" => key(&e.provider),
            "billedSecs" => small(e.billed_secs), "resultCommitment" => hex(&e.result_commitment),
            "submittedSlot" => big(e.submitted_slot), "resultUri" => text(&e.result_uri),
        },
    ));
    let e = JobSettled {
        job: g.key(),
        provider: g.key(),
        billed_secs: g.u32(),
        provider_amount: g.u64(),
        protocol_fee: g.u64(),
        verification_fee: g.u64(),
        refund: g.u64(),
        accepted: true,
    };
    out.push(event(
        "JobSettled",
        &e,
        obj! {
            "job" => key(&e.job), "provider" => key(&e.provider),
            "billedSecs" => small(e.billed_secs), "providerAmount" => big(e.provider_amount),
            "protocolFee" => big(e.protocol_fee), "verificationFee" => big(e.verification_fee),
            "refund" => big(e.refund), "accepted" => J::Bool(e.accepted),
        },
    ));
    let e = FeesSwept {
        market: g.key(),
        fee_vault: g.key(),
        amount: g.u64(),
    };
    out.push(event(
        "FeesSwept",
        &e,
        obj! { "market" => key(&e.market), "feeVault" => key(&e.fee_vault), "amount" => big(e.amount) },
    ));
    let e = StakingInitialized {
        stake_pool: g.key(),
        protocol_mint: g.key(),
    };
    out.push(event(
        "StakingInitialized",
        &e,
        obj! { "stakePool" => key(&e.stake_pool), "protocolMint" => key(&e.protocol_mint) },
    ));
    let e = Staked {
        owner: g.key(),
        amount: g.u64(),
        lock_secs: g.u32(),
        new_amount: g.u64(),
        new_weight: g.u64(),
    };
    out.push(event(
        "Staked",
        &e,
        obj! {
            "owner" => key(&e.owner), "amount" => big(e.amount), "lockSecs" => small(e.lock_secs),
            "newAmount" => big(e.new_amount), "newWeight" => big(e.new_weight),
        },
    ));
    let e = UnstakeRequested {
        owner: g.key(),
        amount: g.u64(),
        unlock_at: g.i64(),
    };
    out.push(event(
        "UnstakeRequested",
        &e,
        obj! { "owner" => key(&e.owner), "amount" => big(e.amount), "unlockAt" => big(e.unlock_at) },
    ));
    let e = Restaked {
        owner: g.key(),
        amount: g.u64(),
    };
    out.push(event(
        "Restaked",
        &e,
        obj! { "owner" => key(&e.owner), "amount" => big(e.amount) },
    ));
    let e = StakeWithdrawn {
        owner: g.key(),
        amount: g.u64(),
    };
    out.push(event(
        "StakeWithdrawn",
        &e,
        obj! { "owner" => key(&e.owner), "amount" => big(e.amount) },
    ));
    let e = RewardsDeposited {
        depositor: g.key(),
        amount: g.u64(),
        to_treasury: true,
    };
    out.push(event(
        "RewardsDeposited",
        &e,
        obj! {
            "depositor" => key(&e.depositor), "amount" => big(e.amount),
            "toTreasury" => J::Bool(e.to_treasury),
        },
    ));
    let e = RewardsClaimed {
        owner: g.key(),
        amount: g.u64(),
    };
    out.push(event(
        "RewardsClaimed",
        &e,
        obj! { "owner" => key(&e.owner), "amount" => big(e.amount) },
    ));
    let e = Slashed {
        who: g.key(),
        amount: g.u64(),
        reward: g.u64(),
        burned: g.u64(),
        reason: SLASH_REASON_FRAUD,
        job: g.key(),
    };
    out.push(event(
        "Slashed",
        &e,
        obj! {
            "who" => key(&e.who), "amount" => big(e.amount), "reward" => big(e.reward),
            "burned" => big(e.burned), "reason" => small(e.reason), "job" => key(&e.job),
        },
    ));
    let e = SampleRevealed {
        job: g.key(),
        slot: g.u64(),
        sampled: true,
    };
    out.push(event(
        "SampleRevealed",
        &e,
        obj! { "job" => key(&e.job), "slot" => big(e.slot), "sampled" => J::Bool(e.sampled) },
    ));
    let e = VerificationClaimed {
        job: g.key(),
        verifier: g.key(),
        deadline: g.i64(),
    };
    out.push(event(
        "VerificationClaimed",
        &e,
        obj! { "job" => key(&e.job), "verifier" => key(&e.verifier), "deadline" => big(e.deadline) },
    ));
    let e = VerificationCommitted {
        job: g.key(),
        verifier: g.key(),
        commitment: g.bytes(),
    };
    out.push(event(
        "VerificationCommitted",
        &e,
        obj! {
            "job" => key(&e.job), "verifier" => key(&e.verifier),
            "commitment" => hex(&e.commitment),
        },
    ));
    let e = VerificationSubmitted {
        job: g.key(),
        verifier: g.key(),
        result_hash: g.bytes(),
        matched: false,
        verifier_paid: g.u64(),
    };
    out.push(event(
        "VerificationSubmitted",
        &e,
        obj! {
            "job" => key(&e.job), "verifier" => key(&e.verifier),
            "resultHash" => hex(&e.result_hash), "matched" => J::Bool(e.matched),
            "verifierPaid" => big(e.verifier_paid),
        },
    ));
    let e = VerificationExpired {
        job: g.key(),
        verifier: g.key(),
        caller: g.key(),
    };
    out.push(event(
        "VerificationExpired",
        &e,
        obj! { "job" => key(&e.job), "verifier" => key(&e.verifier), "caller" => key(&e.caller) },
    ));
    let e = DisputeResolved {
        job: g.key(),
        resolution: resolution::UNDECIDABLE,
        by_arbiter: true,
    };
    out.push(event(
        "DisputeResolved",
        &e,
        obj! {
            "job" => key(&e.job), "resolution" => small(e.resolution),
            "byArbiter" => J::Bool(e.by_arbiter),
        },
    ));
    let e = JobDisputed {
        job: g.key(),
        bond: g.u64(),
    };
    out.push(event(
        "JobDisputed",
        &e,
        obj! { "job" => key(&e.job), "bond" => big(e.bond) },
    ));
    let e = BondPaid {
        job: g.key(),
        to_provider: g.u64(),
        to_verifier: g.u64(),
    };
    out.push(event(
        "BondPaid",
        &e,
        obj! { "job" => key(&e.job), "toProvider" => big(e.to_provider), "toVerifier" => big(e.to_verifier) },
    ));
    let e = VerificationLapsed { job: g.key() };
    out.push(event(
        "VerificationLapsed",
        &e,
        obj! { "job" => key(&e.job) },
    ));
    let e = VerificationEscalated {
        job: g.key(),
        first_verifier: g.key(),
    };
    out.push(event(
        "VerificationEscalated",
        &e,
        obj! { "job" => key(&e.job), "firstVerifier" => key(&e.first_verifier) },
    ));
    J::Arr(out)
}

// --- errors ---------------------------------------------------------------------------------

/// The variants whose code, name and message the vectors pin. The dApp's error table is
/// generated from errors.rs; its test fails (naming the variant) when one is missing here.
macro_rules! every_error {
    ($($v:ident),* $(,)?) => {
        vec![$(CinderError::$v),*]
    };
}

fn errors() -> J {
    let all = every_error![
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
    J::Arr(
        all.into_iter()
            .map(|e| {
                let code: u32 = e.into();
                obj! { "code" => small(code), "name" => text(e.name().as_str()), "message" => J::Str(e.to_string()) }
            })
            .collect(),
    )
}

// --- PDAs -----------------------------------------------------------------------------------

fn pdas(g: &mut Gen) -> J {
    let market_id = g.u64();
    let market = ix::market_pda(market_id);
    let (client, owner, mint) = (g.key(), g.key(), g.key());
    let nonce = g.u64();
    let (job, job_bump) = ix::job_pda(&market, &client, nonce);
    let (vault, vault_bump) = ix::vault_pda(&job);
    obj! {
        "inputs" => obj! {
            "marketId" => big(market_id), "client" => key(&client), "owner" => key(&owner),
            "mint" => key(&mint), "nonce" => big(nonce),
        },
        "config" => key(&ix::config_pda()),
        "market" => key(&market),
        "job" => key(&job),
        "jobBump" => small(job_bump),
        "vault" => key(&vault),
        "vaultBump" => small(vault_bump),
        "provider" => key(&ix::provider_pda(&owner)),
        "stake" => key(&ix::stake_pda(&owner)),
        "auction" => key(&ix::auction_pda(&mint)),
        "feeVault" => key(&ix::fee_vault_pda(&mint)),
        "verifyPool" => key(&ix::verify_pool_pda(&market)),
        "stakePool" => key(&ix::stake_pool_pda()),
        "stakeVault" => key(&ix::stake_vault_pda()),
        "rewardVault" => key(&ix::reward_vault_pda()),
        "programData" => key(&ix::program_data_pda()),
        "eventAuthority" => key(&cinder::EVENT_AUTHORITY_AND_BUMP.0),
    }
}

fn commitment(g: &mut Gen) -> J {
    let (job, provider) = (g.key(), g.key());
    let hash: [u8; 32] = g.bytes();
    let c = cinder::instructions::submit_result::result_commitment(&job, &provider, &hash);
    obj! {
        "job" => key(&job), "provider" => key(&provider), "resultHash" => hex(&hash),
        "commitment" => hex(&c),
    }
}

// --- math the dApp previews (stake weight, escrow, settlement, pending rewards) -------------

fn math() -> J {
    let weights = [
        (1_000_000u64, 14 * 86_400u32),
        (1_000_000_007, 30 * 86_400),
        (123_456_789_012, 90 * 86_400 + 7),
        (u64::MAX / 5, 365 * 86_400),
        (999, 200 * 86_400 + 3_601),
    ]
    .iter()
    .map(|(amount, lock)| {
        let w = cinder::math::weight_for(*amount, *lock).expect("weight");
        obj! { "amount" => big(amount), "lockSecs" => small(*lock), "weight" => big(w) }
    })
    .collect();
    let escrows = [
        (1u64, 1u32, 600u16),
        (7_919, 3_601, 601),
        (1_000_003, 86_400, 2_000),
        (3, 7, 0),
    ]
    .iter()
    .map(|(price, secs, bps)| {
        let e = cinder::math::escrow_for(*price, *secs, *bps).expect("escrow");
        obj! {
            "pricePerSec" => big(price), "maxDurationSecs" => small(*secs),
            "verificationFeeBps" => small(*bps), "compute" => big(e.compute),
            "verificationFee" => big(e.verification_fee),
        }
    })
    .collect();
    let settlements = [
        (10_000_000u64, 1_003u64, 3_333u32, 500u16, 600u16),
        (5_000, 7, 701, 2_000, 1),
        (99_999_999, 13, 0, 0, 0),
    ]
    .iter()
    .map(|(vault, price, billed, fee, vfee)| {
        let s = cinder::math::settlement_for(*vault, *price, *billed, *fee, *vfee).expect("settle");
        obj! {
            "vaultBalance" => big(vault), "pricePerSec" => big(price), "billedSecs" => small(*billed),
            "protocolFeeBps" => small(*fee), "verificationFeeBps" => small(*vfee),
            "provider" => big(s.provider), "protocolFee" => big(s.protocol_fee),
            "verificationFee" => big(s.verification_fee), "refund" => big(s.refund),
        }
    })
    .collect();
    let earned = [
        (
            4_000_000u64,
            3_000_000_000_000_000_001u128,
            1_000_000_000_000u128,
        ),
        (1_234_567, 987_654_321_987_654_321, 0),
        (77, 10u128.pow(18) * 5 + 999, 385),
    ]
    .iter()
    .map(|(weight, acc, debt)| {
        let e = cinder::math::earned(*weight, *acc, *debt).expect("earned");
        obj! { "weight" => big(weight), "acc" => big(acc), "debt" => big(debt), "earned" => big(e) }
    })
    .collect();
    obj! {
        "weights" => J::Arr(weights),
        "escrows" => J::Arr(escrows),
        "settlements" => J::Arr(settlements),
        "earned" => J::Arr(earned),
    }
}

fn main() {
    let mut g = Gen(0x00c1_dea5);
    let doc = obj! {
        "programId" => key(&cinder::ID),
        "eventCpiTag" => hex(anchor_lang::event::EVENT_IX_TAG_LE),
        "pdas" => pdas(&mut g),
        "instructions" => instructions(&mut g),
        "accounts" => accounts(&mut g),
        "auctionCurve" => auction_prices(),
        "events" => events(&mut g),
        "errors" => errors(),
        "commitment" => commitment(&mut g),
        "math" => math(),
    };
    let mut out = String::new();
    doc.write(&mut out, 0);
    out.push('\n');
    match std::env::args().nth(1) {
        Some(path) => std::fs::write(&path, out).unwrap_or_else(|e| panic!("writing {path}: {e}")),
        None => print!("{out}"),
    }
}
