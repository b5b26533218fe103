//! SECURITY.md rows about *who* signs and *which* accounts are passed: missing signers (1),
//! type cosplay (2), substitution (3), PDA misuse (4), fake programs (5), re-initialisation (6),
//! closed-account revival (7), one party in two roles (8), remaining accounts (17), sysvar
//! spoofing (18), prefunded addresses (21), one account in two unchecked roles (22), and a job
//! at an address its client can sign for (23, found by this audit). Every refusal is asserted
//! with its exact error and an unchanged chain (`attacks_support::assert_refused`); every test
//! runs on the host build and on the SBF build.

mod attacks_support;

use anchor_lang::error::ErrorCode as Anchor;
use attacks_support::{
    mint_payment, other_job_bumps, payment_account, seeds_without_address, set_verify_rate,
    signer_escalation, stranger, Attack, ALREADY_IN_USE,
};
use cinder::{constants::*, errors::CinderError};
use cinder_tests::{
    ix::{self, JobKeys},
    on_both, tokens,
    world::{
        default_auction_params, default_config_params, default_market_params,
        default_provider_info, LOCK_30D, PROVIDER_STAKE,
    },
    World,
};
use solana_sdk::{
    account::Account,
    instruction::{AccountMeta, Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
};

const PRICE: u64 = 10;
const DURATION: u32 = 3_600;
const SYSTEM: Pubkey = anchor_lang::solana_program::system_program::ID;
/// The owner of every sysvar account.
const SYSVAR_OWNER: Pubkey = solana_sdk::pubkey!("Sysvar1111111111111111111111111111111111111");

/// `ix` with every occurrence of `old` replaced by `new` (signer and writable flags kept).
fn swap(mut ix: Instruction, old: &Pubkey, new: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *old) {
        m.pubkey = *new;
    }
    ix
}

/// `ix` with `key` no longer marked as signing.
fn unsigned(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        m.is_signer = false;
    }
    ix
}

/// A job claimed by the world's provider, which then ran for 100 s and submitted 100 s.
fn submitted(w: &mut World) -> JobKeys {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    k
}

/// As `submitted`, past the challenge window: anyone may settle it.
fn settleable(w: &mut World) -> JobKeys {
    let k = submitted(w);
    w.warp(600);
    k
}

/// A copy of `key`'s account at a new address, with another owner and/or discriminator.
fn look_alike(
    w: &mut World,
    key: &Pubkey,
    owner: Option<Pubkey>,
    discriminator: Option<&[u8]>,
) -> Pubkey {
    let mut a = w.chain.account(key).expect("original exists");
    if let Some(o) = owner {
        a.owner = o;
    }
    if let Some(d) = discriminator {
        a.data[..8].copy_from_slice(d);
    }
    let fake = Pubkey::new_unique();
    w.chain.set_account(&fake, a);
    fake
}

/// Exactly what a settlement of a `submitted` job pays: provider 1 000 − 5 % fee; pool fee +
/// ceil(6 % of 1 000); the client the rest of 36 000 + 2 160.
#[track_caller]
fn assert_settled_exactly(w: &mut World, k: &JobKeys, before: [u64; 5]) {
    let after = w.ledger(k);
    assert_eq!(after[1] - before[1], 950, "provider");
    assert_eq!(after[3] - before[3], 50 + 60, "market pool");
    assert_eq!(after[0] - before[0], 36_000 + 2_160 - 1_000 - 60, "client");
    assert_eq!(after[4], 0, "vault emptied and closed");
    assert!(!w.exists(&k.job) && !w.exists(&k.vault));
}

/// The helper every test here relies on does notice a change.
#[test]
#[should_panic(expected = "a refused transaction changed accounts")]
fn the_unchanged_check_catches_a_changed_balance() {
    let key = Pubkey::new_unique();
    let account = |lamports| Account {
        lamports,
        ..Default::default()
    };
    let before = [(key, Some(account(1)))].into_iter().collect();
    let after = [(key, Some(account(2)))].into_iter().collect();
    attacks_support::assert_unchanged(&before, &after);
}

// --- 1. missing signer ---------------------------------------------------------------------

on_both!(
    job_steps_signed_by_a_stranger_or_left_unsigned_are_refused,
    |w| {
        let thief = stranger(&mut w);
        let t = thief.pubkey();
        let (client, provider) = (w.client.pubkey(), w.provider.pubkey());
        let (ct, p) = (w.client_token, w.protocol());
        let thief_token = payment_account(&mut w, &t);
        mint_payment(&mut w, &thief_token, 1_000_000);
        let k = w.post(PRICE, DURATION);
        // claim: the provider's accounts, the thief's signature; the provider's key, unsigned.
        let claim = ix::claim_job(&k, &provider);
        w.refused(
            &[swap(claim.clone(), &provider, &t)],
            &[&thief],
            CinderError::NotProviderOwner,
        );
        w.refused(&[unsigned(claim, &provider)], &[], Anchor::AccountNotSigner);
        // cancel before open_until: only the client, and only signed.
        w.refused(
            &[ix::cancel_job(&k, &t, &ct)],
            &[&thief],
            CinderError::CancelNotAllowed,
        );
        w.refused(
            &[unsigned(ix::cancel_job(&k, &client, &ct), &client)],
            &[],
            Anchor::AccountNotSigner,
        );
        // extend: the thief named as the client; the client unsigned.
        let mut as_thief = k;
        as_thief.client = t;
        w.refused(
            &[ix::extend_job(&as_thief, &thief_token, 10)],
            &[&thief],
            CinderError::NotJobClient,
        );
        w.refused(
            &[unsigned(ix::extend_job(&k, &ct, 10), &client)],
            &[],
            Anchor::AccountNotSigner,
        );
        w.claim(&k);
        // submit and quit: only the job's provider, signed.
        w.refused(
            &[ix::submit_result(&k, &t, [1; 32], 0, "")],
            &[&thief],
            CinderError::NotJobProvider,
        );
        w.refused(
            &[unsigned(
                ix::submit_result(&k, &provider, [1; 32], 0, ""),
                &provider,
            )],
            &[],
            Anchor::AccountNotSigner,
        );
        let quit = ix::quit_job(&k, &provider, &p);
        w.refused(
            &[swap(quit.clone(), &provider, &t)],
            &[&thief],
            CinderError::NotProviderOwner,
        );
        w.refused(&[unsigned(quit, &provider)], &[], Anchor::AccountNotSigner);
        w.warp(100);
        w.submit(&k, 100);
        // accept and dispute: only the job's client, signed.
        w.refused(
            &[ix::accept_result(&as_thief, &w.payees())],
            &[&thief],
            CinderError::ClientMismatch,
        );
        w.refused(
            &[unsigned(ix::accept_result(&k, &w.payees()), &client)],
            &[],
            CinderError::NotJobClient,
        );
        w.refused(
            &[ix::dispute_job(&as_thief, &thief_token)],
            &[&thief],
            CinderError::NotJobClient,
        );
        w.refused(
            &[unsigned(ix::dispute_job(&k, &ct), &client)],
            &[],
            Anchor::AccountNotSigner,
        );
        // settle needs no signature at all: anyone may, and only the job's parties are paid.
        w.warp(600);
        let before = w.ledger(&k);
        let settle = ix::settle_job(&k, &w.payees());
        assert!(settle.accounts.iter().all(|m| !m.is_signer));
        w.chain
            .send(&[settle], &thief, &[])
            .expect("settled by a stranger");
        assert_settled_exactly(&mut w, &k, before);
    }
);

on_both!(
    admin_steps_signed_by_a_stranger_or_left_unsigned_are_refused,
    |w| {
        let thief = stranger(&mut w);
        let t = thief.pubkey();
        let a = w.admin.pubkey();
        let (mint, tp, market) = (w.mint, w.token_program, w.market);
        let admin = w.admin.insecure_clone();
        let new_mint =
            tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
        let mp = default_market_params(a);
        let p = w.protocol();
        let admin_ixs = |signer: &Pubkey| {
            vec![
                ix::update_config(signer, default_config_params(), true),
                ix::propose_admin(signer, t),
                ix::update_market(signer, &market, mp, true),
                ix::create_market(signer, 9, &mint, &tp, mp, false),
                ix::init_auction(
                    signer,
                    &new_mint,
                    &tokens::LEGACY,
                    default_auction_params(),
                    false,
                ),
                ix::update_auction(signer, &mint, default_auction_params()),
                ix::init_staking(signer, &p),
            ]
        };
        for i in admin_ixs(&t) {
            w.refused(&[i], &[&thief], CinderError::NotAdmin);
        }
        // The admin's key, not signing (the thief pays, so the admin signs nothing).
        for i in admin_ixs(&a) {
            w.refused_paid_by(&thief, &[unsigned(i, &a)], &[], Anchor::AccountNotSigner);
        }
        // The handover needs the proposed key's own signature (SECURITY.md #19).
        let next = Keypair::new();
        w.send(&[ix::propose_admin(&a, next.pubkey())], &[])
            .expect("propose");
        w.refused_paid_by(
            &thief,
            &[unsigned(ix::accept_admin(&next.pubkey()), &next.pubkey())],
            &[],
            Anchor::AccountNotSigner,
        );
        w.refused(
            &[ix::accept_admin(&t)],
            &[&thief],
            CinderError::NotPendingAdmin,
        );
    }
);

on_both!(
    staking_and_provider_steps_for_another_owner_are_refused,
    |w| {
        let thief = stranger(&mut w);
        let t = thief.pubkey();
        let provider = w.provider.pubkey();
        let p = w.protocol();
        let thief_ptoken = w.protocol_account(&t);
        // The provider's position under the thief's signature: not `["stake", thief]`.
        for i in [
            ix::request_unstake(&provider, 1),
            ix::restake(&provider),
            swap(
                ix::withdraw_stake(&provider, &w.provider_ptoken.clone(), &p),
                &w.provider_ptoken.clone(),
                &thief_ptoken,
            ),
            swap(
                ix::claim_rewards(&provider, &w.provider_ptoken.clone(), &p),
                &w.provider_ptoken.clone(),
                &thief_ptoken,
            ),
        ] {
            w.refused(
                &[swap(i, &provider, &t)],
                &[&thief],
                Anchor::ConstraintSeeds,
            );
        }
        // The owner's key, not signing.
        for i in [
            ix::request_unstake(&provider, 1),
            ix::restake(&provider),
            ix::withdraw_stake(&provider, &w.provider_ptoken.clone(), &p),
            ix::claim_rewards(&provider, &w.provider_ptoken.clone(), &p),
            ix::update_provider(&provider, default_provider_info(), false),
        ] {
            w.refused(&[unsigned(i, &provider)], &[], Anchor::AccountNotSigner);
        }
        // The provider's account updated, or its position registered, by the thief.
        w.refused(
            &[swap(
                ix::update_provider(&provider, default_provider_info(), false),
                &provider,
                &t,
            )],
            &[&thief],
            CinderError::NotProviderOwner,
        );
        let mut register = ix::register_provider(&t, default_provider_info());
        register.accounts[2].pubkey = ix::stake_pda(&provider);
        w.refused(&[register], &[&thief], CinderError::StakeMismatch);
        w.refused(
            &[ix::register_provider(&t, default_provider_info())],
            &[&thief],
            CinderError::NoStakePosition,
        );
    }
);

on_both!(
    stake_and_unstake_check_positions_and_providers_without_a_pda_search,
    |w| {
        // `stake` and `request_unstake` take the position and the provider account unchecked
        // by seeds (a top-up and a provider's unstake search no PDA): what they check instead.
        let provider = w.provider.insecure_clone();
        let pk = provider.pubkey();
        let k = w.post(10, 3_600);
        w.claim(&k);
        let free = PROVIDER_STAKE - w.provider_account().locked_stake;
        // A provider with a running job passes an empty address for its provider account, or
        // an account of cinder of another type, to unlock the stake the job holds.
        let mut dodge = ix::request_unstake(&pk, free + 1);
        dodge.accounts[3].pubkey = Pubkey::new_unique();
        w.refused(&[dodge.clone()], &[&provider], Anchor::ConstraintSeeds);
        dodge.accounts[3].pubkey = ix::config_pda();
        w.refused(&[dodge], &[&provider], Anchor::AccountDiscriminatorMismatch);
        // Another owner's provider account (registered): refused by its stored owner.
        let (s, st) = w.staker(1_000_000_000_000);
        let p = w.protocol();
        w.send(
            &[ix::stake(&s.pubkey(), &st, &p, 10_000_000_000, LOCK_30D)],
            &[&s],
        )
        .expect("stake");
        let mut borrowed = ix::request_unstake(&s.pubkey(), 1);
        borrowed.accounts[3].pubkey = ix::provider_pda(&pk);
        w.refused(&[borrowed], &[&s], CinderError::NotProviderOwner);
        // A first stake into an address that is not `["stake", owner]`; a top-up into someone
        // else's position.
        let (t, tt) = w.staker(1_000_000_000_000);
        let mut elsewhere = ix::stake(&t.pubkey(), &tt, &p, 10_000_000_000, LOCK_30D);
        elsewhere.accounts[3].pubkey = Pubkey::new_unique();
        w.refused(&[elsewhere], &[&t], Anchor::ConstraintSeeds);
        let mut into_theirs = ix::stake(&t.pubkey(), &tt, &p, 10_000_000_000, LOCK_30D);
        into_theirs.accounts[3].pubkey = ix::stake_pda(&pk);
        w.refused(&[into_theirs], &[&t], CinderError::StakeMismatch);
    }
);

// --- 2. missing owner check / type cosplay -------------------------------------------------

on_both!(look_alike_jobs_markets_and_positions_are_refused, |w| {
    let k = settleable(&mut w);
    let other_program = Pubkey::new_unique();
    let market_disc = w.chain.account(&w.market.clone()).unwrap().data[..8].to_vec();
    let pool_disc = w.chain.account(&ix::stake_pool_pda()).unwrap().data[..8].to_vec();
    // The job's own bytes, owned by another program; then owned by cinder but typed Market.
    let mut fake = k;
    fake.job = look_alike(&mut w, &k.job, Some(other_program), None);
    w.refused(
        &[ix::settle_job(&fake, &w.payees())],
        &[],
        Anchor::AccountOwnedByWrongProgram,
    );
    fake.job = look_alike(&mut w, &k.job, None, Some(&market_disc));
    w.refused(
        &[ix::settle_job(&fake, &w.payees())],
        &[],
        Anchor::AccountDiscriminatorMismatch,
    );
    // A copy of the market owned by another program, or the config posing as a market.
    let (k2, n) = w.next_job();
    let args = w.post_args(&k2, n, PRICE, DURATION);
    let client = w.client.insecure_clone();
    let post = ix::post_job(&k2, &w.client_token.clone(), args);
    let market = w.market;
    let fake_market = look_alike(&mut w, &market, Some(other_program), None);
    w.refused(
        &[swap(post.clone(), &w.market.clone(), &fake_market)],
        &[&client],
        Anchor::AccountOwnedByWrongProgram,
    );
    w.refused(
        &[swap(post, &w.market.clone(), &ix::config_pda())],
        &[&client],
        Anchor::AccountDiscriminatorMismatch,
    );
    // The provider's stake position, owned by another program.
    let provider = w.provider.pubkey();
    let stake = ix::stake_pda(&provider);
    let fake_stake = look_alike(&mut w, &stake, Some(other_program), None);
    let posing_pool = look_alike(&mut w, &stake, None, Some(&pool_disc));
    let k3 = w.post(PRICE, DURATION);
    w.refused(
        &[swap(ix::claim_job(&k3, &provider), &stake, &fake_stake)],
        &[&w.provider.insecure_clone()],
        Anchor::AccountOwnedByWrongProgram,
    );
    // The position as the pool (wrong type), and posing as the pool with its discriminator
    // (right type tag, wrong size).
    let unstake = ix::request_unstake(&provider, 1);
    w.refused(
        &[swap(unstake.clone(), &ix::stake_pool_pda(), &stake)],
        &[&w.provider.insecure_clone()],
        Anchor::AccountDiscriminatorMismatch,
    );
    w.refused(
        &[swap(unstake, &ix::stake_pool_pda(), &posing_pool)],
        &[&w.provider.insecure_clone()],
        Anchor::AccountDidNotDeserialize,
    );
    // A token account of a program that is not a token program, naming the client as owner.
    let ct = w.client_token;
    let fake_token = look_alike(&mut w, &ct, Some(other_program), None);
    let mut payees = w.payees();
    payees.client_token = fake_token;
    w.refused(
        &[ix::settle_job(&k, &payees)],
        &[],
        CinderError::InvalidTokenAccount,
    );
    let before = w.ledger(&k);
    w.settle(&k);
    assert_settled_exactly(&mut w, &k, before);
});

// --- 3. account substitution ---------------------------------------------------------------

on_both!(another_jobs_vault_another_market_or_mint_are_refused, |w| {
    let a = w.admin.pubkey();
    let (mint, tp, ct) = (w.mint, w.token_program, w.client_token);
    let client = w.client.insecure_clone();
    w.send(
        &[ix::create_market(
            &a,
            2,
            &mint,
            &tp,
            default_market_params(a),
            false,
        )],
        &[],
    )
    .expect("market 2");
    let market2 = ix::market_pda(2);
    let other = w.post(PRICE, DURATION);
    let k = w.post(PRICE, DURATION);
    let mut vault_of_other = k;
    vault_of_other.vault = other.vault;
    let mut of_market2 = k;
    of_market2.market = market2;
    w.refused(
        &[ix::cancel_job(&vault_of_other, &client.pubkey(), &ct)],
        &[&client],
        CinderError::VaultMismatch,
    );
    w.refused(
        &[ix::cancel_job(&of_market2, &client.pubkey(), &ct)],
        &[&client],
        CinderError::MarketMismatch,
    );
    w.refused(
        &[ix::extend_job(&vault_of_other, &ct, 10)],
        &[&client],
        CinderError::VaultMismatch,
    );
    // post_job paying in a mint that is not the market's.
    let admin = w.admin.insecure_clone();
    let other_mint =
        tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
    let other_ct = tokens::create_token_account(
        w.chain.as_mut(),
        &admin,
        &other_mint,
        &client.pubkey(),
        &tokens::LEGACY,
    );
    let (k2, n) = w.next_job();
    let args = w.post_args(&k2, n, PRICE, DURATION);
    let mut in_other_mint = k2;
    in_other_mint.mint = other_mint;
    w.refused(
        &[ix::post_job(&in_other_mint, &other_ct, args)],
        &[&client],
        CinderError::MintMismatch,
    );
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.refused(
        &[ix::dispute_job(&vault_of_other, &ct)],
        &[&client],
        CinderError::VaultMismatch,
    );
    w.warp(600);
    let payees = w.payees();
    let mut in_other_mint = k;
    in_other_mint.mint = other_mint;
    let mut token_2022 = k;
    token_2022.token_program = tokens::TOKEN_2022;
    for (forged, err) in [
        (vault_of_other, CinderError::VaultMismatch),
        (of_market2, CinderError::MarketMismatch),
        (in_other_mint, CinderError::MintMismatch),
        (token_2022, CinderError::TokenProgramMismatch),
    ] {
        w.refused(&[ix::settle_job(&forged, &payees)], &[], err);
    }
    // Market 2's pool in place of this market's.
    w.refused(
        &[swap(
            ix::settle_job(&k, &payees),
            &w.verify_pool(),
            &ix::verify_pool_pda(&market2),
        )],
        &[],
        CinderError::FeeVaultMismatch,
    );
    let before = w.ledger(&k);
    w.settle(&k);
    assert_settled_exactly(&mut w, &k, before);
});

on_both!(payouts_reach_only_their_owners_token_accounts, |w| {
    let thief = stranger(&mut w);
    let t = thief.pubkey();
    let thief_token = payment_account(&mut w, &t);
    let thief_ptoken = w.protocol_account(&t);
    let (provider, p) = (w.provider.pubkey(), w.protocol());
    let until = w.now() + 10;
    let open = w
        .try_post_with(PRICE, DURATION, |a| a.open_until = until)
        .unwrap();
    let late = w.post(PRICE, 100);
    w.claim(&late);
    let k = settleable(&mut w);
    // Settlement to the thief, as provider or as client.
    for role in 0..2 {
        let mut payees = w.payees();
        if role == 0 {
            payees.provider_token = thief_token;
        } else {
            payees.client_token = thief_token;
        }
        w.refused(
            &[ix::settle_job(&k, &payees)],
            &[],
            CinderError::TokenOwnerMismatch,
        );
    }
    // Anyone may cancel after open_until, but the refund goes to the client only.
    w.refused(
        &[ix::cancel_job(&open, &t, &thief_token)],
        &[&thief],
        CinderError::TokenOwnerMismatch,
    );
    // The provider's stake and rewards, to the thief's account.
    let prov = w.provider.insecure_clone();
    for i in [
        ix::withdraw_stake(&provider, &thief_ptoken, &p),
        ix::claim_rewards(&provider, &thief_ptoken, &p),
    ] {
        w.refused(&[i], &[&prov], CinderError::TokenOwnerMismatch);
    }
    // The caller's slash share of an expired job, to an account that is not the caller's.
    w.warp(1_000);
    let caller = stranger(&mut w);
    w.refused(
        &[ix::expire_job(
            &late,
            &caller.pubkey(),
            &provider,
            &thief_ptoken,
            &p,
        )],
        &[&caller],
        CinderError::TokenOwnerMismatch,
    );
    let before = w.ledger(&k);
    w.settle(&k);
    assert_settled_exactly(&mut w, &k, before);
});

// --- 4. PDA misuse ---------------------------------------------------------------------------

on_both!(a_job_address_from_other_seeds_or_bumps_is_refused, |w| {
    let a = w.admin.pubkey();
    let (mint, tp, ct) = (w.mint, w.token_program, w.client_token);
    let client = w.client.insecure_clone();
    w.send(
        &[ix::create_market(
            &a,
            2,
            &mint,
            &tp,
            default_market_params(a),
            false,
        )],
        &[],
    )
    .expect("market 2");
    let (k, n) = w.next_job();
    let args = w.post_args(&k, n, PRICE, DURATION);
    let escalation = signer_escalation();
    // The job PDA of market 1, posted into market 2: the seeds (with their own valid bump)
    // name another address than the one passed.
    let mut into_market2 = k;
    into_market2.market = ix::market_pda(2);
    let mut args2 = args.clone();
    args2.job_bump = ix::job_pda(&into_market2.market, &k.client, n).1;
    w.refused(
        &[ix::post_job(&into_market2, &ct, args2)],
        &[&client],
        escalation.clone(),
    );
    // Another nonce in the seeds than in the address.
    let mut other_nonce = args.clone();
    other_nonce.nonce += 1_000;
    other_nonce.job_bump = ix::job_pda(&k.market, &k.client, n + 1_000).1;
    w.refused(
        &[ix::post_job(&k, &ct, other_nonce)],
        &[&client],
        escalation.clone(),
    );
    // Another valid bump of the same seeds: another address.
    let (other_bump, invalid) = other_job_bumps(&k.market, &k.client, n, args.job_bump);
    let mut wrong_bump = args.clone();
    wrong_bump.job_bump = other_bump;
    w.refused(
        &[ix::post_job(&k, &ct, wrong_bump)],
        &[&client],
        escalation.clone(),
    );
    // A bump that gives no address at all (the hash is on the curve): the runtime aborts the
    // program when it derives the signer (on the host, program-test's stub panics).
    let mut invalid_bump = args.clone();
    invalid_bump.job_bump = invalid;
    w.refused(
        &[ix::post_job(&k, &ct, invalid_bump)],
        &[&client],
        seeds_without_address(),
    );
    // Another job's vault address.
    let (k2, _) = w.next_job();
    let mut vault_of_other = k;
    vault_of_other.vault = k2.vault;
    w.refused(
        &[ix::post_job(&vault_of_other, &ct, args.clone())],
        &[&client],
        escalation,
    );
    w.send(&[ix::post_job(&k, &ct, args)], &[&client])
        .expect("the job's own seeds");
    assert_eq!(w.balance(&k.vault), 38_160);
});

on_both!(
    a_job_at_a_non_canonical_bump_is_an_ordinary_job_of_its_client,
    |w| {
        // The client supplies the job's bump (the program does not search for it): any valid
        // bump gives an address only the program can sign for. A non-canonical one is harmless:
        // it is one more job of the same client, escrowed and settled like any other.
        let client = w.client.insecure_clone();
        let ct = w.client_token;
        let (mut k, n) = w.next_job();
        let seeds = |b: u8| {
            let b = [b];
            Pubkey::create_program_address(
                &[
                    JOB_SEED,
                    k.market.as_ref(),
                    k.client.as_ref(),
                    &n.to_le_bytes(),
                    &b,
                ],
                &cinder::ID,
            )
        };
        let canonical = ix::job_pda(&k.market, &k.client, n).1;
        let (bump, job) = (0..canonical)
            .rev()
            .find_map(|b| seeds(b).ok().map(|key| (b, key)))
            .expect("a non-canonical bump");
        k.job = job;
        let (vault, vault_bump) = ix::vault_pda(&job);
        k.vault = vault;
        let mut args = w.post_args(&k, n, PRICE, DURATION);
        args.job_bump = bump;
        args.vault_bump = vault_bump;
        w.send(&[ix::post_job(&k, &ct, args)], &[&client])
            .expect("post at a non-canonical bump");
        assert_eq!(w.job(&k.job).bump, bump);
        // Its vault's authority is the job PDA: the client cannot take the escrow back.
        let grab = spl_token_interface::instruction::transfer(
            &tokens::LEGACY,
            &k.vault,
            &ct,
            &client.pubkey(),
            &[],
            1,
        )
        .unwrap();
        w.refused(
            &[grab],
            &[&client],
            InstructionError::Custom(4), // SPL Token: OwnerMismatch
        );
        w.claim(&k);
        w.warp(100);
        w.submit(&k, 100);
        w.warp(600);
        let before = w.ledger(&k);
        w.settle(&k);
        assert_settled_exactly(&mut w, &k, before);
    }
);

/// Two seed strings (prefix ‖ variable bytes, then the bump) can only be equal if they have the
/// same length and one fixed prefix starts the other.
#[test]
fn seeds_of_different_account_kinds_never_collide() {
    let kinds: [(&str, &[u8], usize); 13] = [
        ("config", CONFIG_SEED, 0),
        ("market", MARKET_SEED, 8),
        ("job", JOB_SEED, 32 + 32 + 8),
        ("job vault", JOB_VAULT_SEED, 32),
        ("provider", PROVIDER_SEED, 32),
        ("auction", AUCTION_SEED, 32),
        ("fee vault", FEE_VAULT_SEED, 32),
        ("verify pool", VERIFY_POOL_SEED, 32),
        ("stake pool", STAKE_POOL_SEED, 0),
        ("stake vault", STAKE_VAULT_SEED, 0),
        ("reward vault", REWARD_VAULT_SEED, 0),
        ("stake position", STAKE_SEED, 32),
        ("event authority", b"__event_authority", 0),
    ];
    for (i, (a, pa, va)) in kinds.iter().enumerate() {
        for (b, pb, vb) in &kinds[i + 1..] {
            let same_length = pa.len() + va == pb.len() + vb;
            let prefixed = pa.starts_with(pb) || pb.starts_with(pa);
            assert!(!(same_length && prefixed), "{a} and {b} seeds can collide");
        }
    }
}

on_both!(stored_bumps_are_the_canonical_ones, |w| {
    let provider = w.provider.pubkey();
    let market = w.market_account();
    let config: cinder::state::Config = w.read(&ix::config_pda());
    let auction: cinder::state::Auction = w.read(&ix::auction_pda(&w.mint.clone()));
    let pool = w.stake_pool();
    let position = w.position(&provider);
    let pa = w.provider_account();
    let k = w.post(PRICE, DURATION);
    let job = w.job(&k.job);
    let bump = |seeds: &[&[u8]]| ix::pda(seeds).1;
    let mint = w.mint;
    let m = w.market;
    assert_eq!(config.bump, bump(&[CONFIG_SEED]));
    assert_eq!(market.bump, bump(&[MARKET_SEED, &1u64.to_le_bytes()]));
    assert_eq!(
        market.verify_pool_bump,
        bump(&[VERIFY_POOL_SEED, m.as_ref()])
    );
    assert_eq!(auction.bump, bump(&[AUCTION_SEED, mint.as_ref()]));
    assert_eq!(
        auction.fee_vault_bump,
        bump(&[FEE_VAULT_SEED, mint.as_ref()])
    );
    assert_eq!(pool.bump, bump(&[STAKE_POOL_SEED]));
    assert_eq!(pool.stake_vault_bump, bump(&[STAKE_VAULT_SEED]));
    assert_eq!(pool.reward_vault_bump, bump(&[REWARD_VAULT_SEED]));
    assert_eq!(position.bump, bump(&[STAKE_SEED, provider.as_ref()]));
    assert_eq!(pa.bump, bump(&[PROVIDER_SEED, provider.as_ref()]));
    assert_eq!(job.bump, ix::job_pda(&k.market, &k.client, 1).1);
    assert_eq!(job.vault_bump, ix::vault_pda(&k.job).1);
});

// --- 5. arbitrary CPI ------------------------------------------------------------------------

on_both!(fake_token_and_system_programs_are_refused, |w| {
    let fake = Pubkey::new_unique();
    let (provider, p) = (w.provider.pubkey(), w.protocol());
    let prov = w.provider.insecure_clone();
    let client = w.client.insecure_clone();
    let k = settleable(&mut w);
    // The settlement's token program: a stranger program, the System program, cinder itself.
    for program in [fake, SYSTEM, cinder::ID] {
        let mut forged = k;
        forged.token_program = program;
        w.refused(
            &[ix::settle_job(&forged, &w.payees())],
            &[],
            Anchor::InvalidProgramId,
        );
    }
    // Token-2022, for a market paying in an SPL Token mint.
    let mut t22 = k;
    t22.token_program = tokens::TOKEN_2022;
    w.refused(
        &[ix::settle_job(&t22, &w.payees())],
        &[],
        CinderError::TokenProgramMismatch,
    );
    // A fake System program where accounts are created: job, stake position, provider.
    let (k2, n) = w.next_job();
    let args = w.post_args(&k2, n, PRICE, DURATION);
    w.refused(
        &[swap(
            ix::post_job(&k2, &w.client_token.clone(), args),
            &SYSTEM,
            &fake,
        )],
        &[&client],
        Anchor::InvalidProgramId,
    );
    let (staker, st) = w.staker(PROVIDER_STAKE);
    w.refused(
        &[swap(
            ix::stake(&staker.pubkey(), &st, &p, PROVIDER_STAKE, 30 * DAY_SECS),
            &SYSTEM,
            &fake,
        )],
        &[&staker],
        Anchor::InvalidProgramId,
    );
    w.send(
        &[ix::stake(
            &staker.pubkey(),
            &st,
            &p,
            PROVIDER_STAKE,
            30 * DAY_SECS,
        )],
        &[&staker],
    )
    .expect("stake");
    w.refused(
        &[swap(
            ix::register_provider(&staker.pubkey(), default_provider_info()),
            &SYSTEM,
            &fake,
        )],
        &[&staker],
        Anchor::InvalidProgramId,
    );
    // A fake token program moving stake or rewards.
    for i in [
        ix::withdraw_stake(&provider, &w.provider_ptoken.clone(), &p),
        ix::claim_rewards(&provider, &w.provider_ptoken.clone(), &p),
    ] {
        w.refused(
            &[swap(i, &tokens::LEGACY, &fake)],
            &[&prov],
            Anchor::InvalidProgramId,
        );
    }
    let before = w.ledger(&k);
    w.settle(&k);
    assert_settled_exactly(&mut w, &k, before);
});

// --- 6. reinitialisation ---------------------------------------------------------------------

on_both!(no_account_is_initialised_twice, |w| {
    let a = w.admin.pubkey();
    let (mint, tp, pm) = (w.mint, w.token_program, w.protocol_mint);
    let p = w.protocol();
    let provider = w.provider.insecure_clone();
    for i in [
        ix::init_config(&a, &pm, default_config_params()),
        ix::create_market(&a, 1, &mint, &tp, default_market_params(a), false),
        ix::init_auction(&a, &mint, &tp, default_auction_params(), false),
        ix::init_staking(&a, &p),
    ] {
        w.refused(&[i], &[], CinderError::AccountAlreadyExists);
    }
    w.refused(
        &[ix::register_provider(
            &provider.pubkey(),
            default_provider_info(),
        )],
        &[&provider],
        CinderError::AccountAlreadyExists,
    );
    // A job of the same client, market and nonce: its vault already exists, so the System
    // program refuses to allocate it again.
    let (k, n) = w.next_job();
    let args = w.post_args(&k, n, PRICE, DURATION);
    let client = w.client.insecure_clone();
    let post = ix::post_job(&k, &w.client_token.clone(), args);
    w.send(std::slice::from_ref(&post), &[&client])
        .expect("first post");
    w.refused(&[post], &[&client], ALREADY_IN_USE);
    // Staking again adds to the position; it never resets it, nor shortens its lock.
    let before = w.position(&provider.pubkey());
    w.refused(
        &[ix::stake(
            &provider.pubkey(),
            &w.provider_ptoken.clone(),
            &p,
            1_000_000_000,
            15 * DAY_SECS,
        )],
        &[&provider],
        CinderError::LockCannotShorten,
    );
    w.send(
        &[ix::stake(
            &provider.pubkey(),
            &w.provider_ptoken.clone(),
            &p,
            1_000_000_000,
            before.lock_secs,
        )],
        &[&provider],
    )
    .expect("top up");
    let after = w.position(&provider.pubkey());
    assert_eq!(
        (after.owner, after.amount, after.lock_secs),
        (
            before.owner,
            before.amount + 1_000_000_000,
            before.lock_secs
        )
    );
});

/// Accounts are created by hand (prefund-tolerant, `utils::create_pda_account`) after an
/// explicit "already exists" check: neither `init` nor `init_if_needed` appears anywhere.
#[test]
fn the_program_uses_neither_init_nor_init_if_needed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs/cinder/src");
    let mut stack = vec![dir];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files += 1;
                let src = std::fs::read_to_string(&path).unwrap();
                for attr in src.split("#[account(").skip(1) {
                    let body = attr.split(")]").next().unwrap_or("");
                    for word in body.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                        assert!(
                            !matches!(word, "init" | "init_if_needed" | "zero"),
                            "{} has `#[account({word}, ..)]`",
                            path.display()
                        );
                    }
                }
            }
        }
    }
    assert!(files > 40, "read the program's sources ({files} files)");
}

// --- 7. closed-account revival -----------------------------------------------------------------

on_both!(a_closed_job_is_not_revived_in_the_same_transaction, |w| {
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    let a = w.admin.pubkey();
    let k = settleable(&mut w);
    let settle = ix::settle_job(&k, &w.payees());
    // Settled twice, or settled, sent lamports to bring it back, and settled again.
    let revive = anchor_lang::solana_program::system_instruction::transfer(&a, &k.job, 10_000_000);
    let gone = Anchor::AccountOwnedByWrongProgram;
    w.refused(&[settle.clone(), settle.clone()], &[], gone);
    w.refused(&[settle.clone(), revive.clone(), settle.clone()], &[], gone);
    // Refunded twice; cancelled and then claimed.
    let open = w.post(PRICE, DURATION);
    let cancel = ix::cancel_job(&open, &client.pubkey(), &ct);
    w.refused(&[cancel.clone(), cancel.clone()], &[&client], gone);
    let claim = ix::claim_job(&open, &w.provider.pubkey());
    w.refused(
        &[cancel, claim],
        &[&client, &w.provider.insecure_clone()],
        gone,
    );
    let before = w.ledger(&k);
    w.send(std::slice::from_ref(&settle), &[])
        .expect("settle once");
    assert_settled_exactly(&mut w, &k, before);
    w.refused(&[settle], &[], gone);
});

// --- 8. one party in two roles ---------------------------------------------------------------

on_both!(one_party_in_two_roles_is_refused, |w| {
    let client = w.client.insecure_clone();
    let prov = w.provider.insecure_clone();
    w.make_provider(&client);
    // A client claiming its own job.
    let own = w.post(PRICE, DURATION);
    w.refused(
        &[ix::claim_job(&own, &client.pubkey())],
        &[&client],
        CinderError::SelfDealing,
    );
    // The job's provider, or its client, verifying it.
    set_verify_rate(&mut w, 10_000);
    let k = submitted(&mut w);
    w.warp(2);
    w.send(&[ix::reveal_sample(&k)], &[]).expect("reveal");
    for who in [&prov, &client] {
        w.refused(
            &[ix::claim_verification(&k, &who.pubkey())],
            &[who],
            CinderError::VerifierConflict,
        );
    }
    // One token account as the client's and the provider's: see row 22 below.
});

// --- 17. remaining accounts --------------------------------------------------------------------

on_both!(appended_accounts_are_neither_paid_nor_trusted, |w| {
    let thief = stranger(&mut w);
    let thief_token = payment_account(&mut w, &thief.pubkey());
    let other = w.post(PRICE, DURATION);
    let k = settleable(&mut w);
    let mut settle = ix::settle_job(&k, &w.payees());
    for key in [
        thief_token,
        other.vault,
        w.fee_vault(),
        Pubkey::new_unique(),
    ] {
        settle.accounts.push(AccountMeta::new(key, false));
    }
    settle
        .accounts
        .push(AccountMeta::new_readonly(thief.pubkey(), true));
    let (thief_before, other_before) = (w.balance(&thief_token), w.balance(&other.vault));
    let before = w.ledger(&k);
    w.send(&[settle], &[&thief]).expect("settle");
    assert_settled_exactly(&mut w, &k, before);
    assert_eq!(w.balance(&thief_token), thief_before);
    assert_eq!(w.balance(&other.vault), other_before);
    // A claim with another staker's position appended still locks the claimer's own stake.
    let (staker, st) = w.staker(PROVIDER_STAKE);
    let p = w.protocol();
    w.send(
        &[ix::stake(
            &staker.pubkey(),
            &st,
            &p,
            PROVIDER_STAKE,
            30 * DAY_SECS,
        )],
        &[&staker],
    )
    .expect("stake");
    let mut claim = ix::claim_job(&other, &w.provider.pubkey());
    claim
        .accounts
        .push(AccountMeta::new(ix::stake_pda(&staker.pubkey()), false));
    w.send(&[claim], &[&w.provider.insecure_clone()])
        .expect("claim");
    assert_eq!(w.provider_account().locked_stake, 10_000_000_000);
    assert_eq!(w.job(&other.job).provider, w.provider.pubkey());
});

// --- 18. sysvar spoofing -----------------------------------------------------------------------

on_both!(a_fake_slot_hashes_account_is_refused, |w| {
    set_verify_rate(&mut w, 5_000);
    let k = submitted(&mut w);
    w.warp(2);
    // SlotHashes-shaped bytes at another address (one entry per slot, every hash zero).
    let slot = w.chain.clock().slot;
    let mut data = 512u64.to_le_bytes().to_vec();
    for s in (slot.saturating_sub(512)..slot).rev() {
        data.extend_from_slice(&s.to_le_bytes());
        data.extend_from_slice(&[0; 32]);
    }
    let fake = Pubkey::new_unique();
    w.chain.set_account(
        &fake,
        Account {
            lamports: 1_000_000_000,
            data,
            owner: SYSVAR_OWNER,
            ..Default::default()
        },
    );
    w.refused(
        &[swap(ix::reveal_sample(&k), &ix::SLOT_HASHES, &fake)],
        &[],
        Anchor::ConstraintAddress,
    );
    // The clock is read with a syscall (`Clock::get`), never from an account: nothing to spoof.
    w.send(&[ix::reveal_sample(&k)], &[])
        .expect("the real SlotHashes");
});

// --- 21. prefunded PDAs --------------------------------------------------------------------------

fn prefund(w: &mut World, keys: &[Pubkey]) {
    for key in keys {
        w.chain.set_account(
            key,
            Account {
                lamports: 1_000,
                owner: SYSTEM,
                ..Default::default()
            },
        );
    }
}

on_both!(prefunded_addresses_do_not_block_any_creation, |w| {
    let a = w.admin.pubkey();
    let admin = w.admin.insecure_clone();
    let m2 = tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
    prefund(&mut w, &[ix::auction_pda(&m2), ix::fee_vault_pda(&m2)]);
    w.send(
        &[ix::init_auction(
            &a,
            &m2,
            &tokens::LEGACY,
            default_auction_params(),
            false,
        )],
        &[],
    )
    .expect("init_auction at prefunded addresses");
    let market5 = ix::market_pda(5);
    prefund(&mut w, &[market5, ix::verify_pool_pda(&market5)]);
    w.send(
        &[ix::create_market(
            &a,
            5,
            &m2,
            &tokens::LEGACY,
            default_market_params(a),
            false,
        )],
        &[],
    )
    .expect("create_market at prefunded addresses");
    let (staker, st) = w.staker(PROVIDER_STAKE);
    let s = staker.pubkey();
    prefund(&mut w, &[ix::stake_pda(&s), ix::provider_pda(&s)]);
    let p = w.protocol();
    w.send(
        &[ix::stake(&s, &st, &p, PROVIDER_STAKE, 30 * DAY_SECS)],
        &[&staker],
    )
    .expect("stake at a prefunded position");
    w.send(
        &[ix::register_provider(&s, default_provider_info())],
        &[&staker],
    )
    .expect("register at a prefunded provider address");
    assert_eq!(w.position(&s).amount, PROVIDER_STAKE);
    let (k, n) = w.next_job();
    prefund(&mut w, &[k.job, k.vault]);
    let args = w.post_args(&k, n, PRICE, DURATION);
    let client = w.client.insecure_clone();
    w.send(
        &[ix::post_job(&k, &w.client_token.clone(), args)],
        &[&client],
    )
    .expect("post at prefunded addresses");
    assert_eq!(w.balance(&k.vault), 38_160);
    assert_eq!(w.market_account().market_id, 1);
    let m: cinder::state::Market = w.read(&market5);
    assert_eq!(m.payment_mint, m2);
});

on_both!(prefunded_config_and_staking_pool_do_not_block_setup, |w| {
    let (mut chain, admin, _, _) = World::bare(w.chain.is_sbf());
    let c = chain.as_mut();
    let pm = tokens::create_mint(c, &admin, &admin.pubkey(), None, 9, &tokens::LEGACY, &[]);
    for key in [
        ix::config_pda(),
        ix::stake_pool_pda(),
        ix::stake_vault_pda(),
        ix::reward_vault_pda(),
    ] {
        c.set_account(
            &key,
            Account {
                lamports: 1_000,
                owner: SYSTEM,
                ..Default::default()
            },
        );
    }
    let a = admin.pubkey();
    c.send(
        &[ix::init_config(&a, &pm, default_config_params())],
        &admin,
        &[],
    )
    .expect("init_config at a prefunded address");
    let p = ix::Protocol {
        mint: pm,
        token_program: tokens::LEGACY,
    };
    c.send(&[ix::init_staking(&a, &p)], &admin, &[])
        .expect("init_staking at prefunded addresses");
    let pool = c.account(&ix::stake_pool_pda()).expect("pool");
    assert_eq!(pool.owner, cinder::ID);
    let vault = c.account(&ix::stake_vault_pda()).expect("vault");
    assert_eq!(vault.owner, tokens::LEGACY);
});

// --- 22. one account in two unchecked roles ------------------------------------------------------

on_both!(one_account_in_two_unchecked_roles_is_refused, |w| {
    let (provider, p) = (w.provider.pubkey(), w.protocol());
    let prov = w.provider.insecure_clone();
    let client = w.client.insecure_clone();
    let k = settleable(&mut w);
    // Settlement: the client's account as the provider's; the vault, pool or fee vault as a
    // payee. The two payee accounts are compared by key; the others fail their owner check.
    let mut same = w.payees();
    same.provider_token = same.client_token;
    w.refused(
        &[ix::settle_job(&k, &same)],
        &[],
        CinderError::DuplicateAccount,
    );
    for (client_side, key) in [
        (true, k.vault),
        (false, w.verify_pool()),
        (true, w.fee_vault()),
        (false, k.vault),
    ] {
        let mut payees = w.payees();
        if client_side {
            payees.client_token = key;
        } else {
            payees.provider_token = key;
        }
        w.refused(
            &[ix::settle_job(&k, &payees)],
            &[],
            CinderError::TokenOwnerMismatch,
        );
    }
    // Cancel: the job's vault as the client's refund account.
    let open = w.post(PRICE, DURATION);
    w.refused(
        &[ix::cancel_job(&open, &client.pubkey(), &open.vault)],
        &[&client],
        CinderError::TokenOwnerMismatch,
    );
    // Post: one address as job and vault.
    let (k2, n) = w.next_job();
    let args = w.post_args(&k2, n, PRICE, DURATION);
    let mut one = k2;
    one.vault = k2.job;
    w.refused(
        &[ix::post_job(&one, &w.client_token.clone(), args)],
        &[&client],
        signer_escalation(),
    );
    // The stake and reward vaults as the owner's own account.
    for (i, vault) in [
        (
            ix::withdraw_stake(&provider, &ix::stake_vault_pda(), &p),
            ix::stake_vault_pda(),
        ),
        (
            ix::claim_rewards(&provider, &ix::reward_vault_pda(), &p),
            ix::reward_vault_pda(),
        ),
    ] {
        assert!(i.accounts.iter().filter(|m| m.pubkey == vault).count() == 2);
        w.refused(&[i], &[&prov], CinderError::TokenOwnerMismatch);
    }
    // The stake vault as the caller's share of a slash.
    let late = w.post(PRICE, 100);
    w.claim(&late);
    w.warp(401);
    let caller = stranger(&mut w);
    w.refused(
        &[ix::expire_job(
            &late,
            &caller.pubkey(),
            &provider,
            &ix::stake_vault_pda(),
            &p,
        )],
        &[&caller],
        CinderError::TokenOwnerMismatch,
    );
    let before = w.ledger(&k);
    w.settle(&k);
    assert_settled_exactly(&mut w, &k, before);
});

// --- 23. a job at an address the client can sign for (found by this audit) -----------------------

on_both!(
    a_job_or_vault_at_an_address_the_client_can_sign_for_is_refused,
    |w| {
        // Before the fix, post_job created a job at any address whose key signed the
        // transaction: the client's own key pair. Its vault's token authority is the job
        // address, so the client could sign for it and take the escrow back at any time,
        // e.g. after a provider did the work and before settlement.
        let client = w.client.insecure_clone();
        let ct = w.client_token;
        let (k, n) = w.next_job();
        let job_key = Keypair::new();
        let mut at_key = k;
        at_key.job = job_key.pubkey();
        let (vault, vault_bump) = ix::vault_pda(&at_key.job);
        at_key.vault = vault;
        let mut args = w.post_args(&k, n, PRICE, DURATION);
        args.vault_bump = vault_bump;
        let mut post = ix::post_job(&at_key, &ct, args.clone());
        post.accounts[3].is_signer = true;
        w.refused(&[post], &[&client, &job_key], CinderError::JobAddressSigned);
        // The vault at a key pair's address, next to the right job address.
        let vault_key = Keypair::new();
        let mut vault_at_key = k;
        vault_at_key.vault = vault_key.pubkey();
        let mut post = ix::post_job(&vault_at_key, &ct, w.post_args(&k, n, PRICE, DURATION));
        post.accounts[4].is_signer = true;
        w.refused(
            &[post],
            &[&client, &vault_key],
            CinderError::JobAddressSigned,
        );
        let args = w.post_args(&k, n, PRICE, DURATION);
        w.send(&[ix::post_job(&k, &ct, args)], &[&client])
            .expect("the job at its PDA");
        assert_eq!(w.balance(&k.vault), 38_160);
    }
);
