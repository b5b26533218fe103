//! What an attacker can pass: foreign accounts, look-alike accounts, redirected payouts,
//! missing signatures, prefunded addresses. Also: the hot path writes no shared account.

mod attacks_support;

use anchor_lang::error::ErrorCode as Anchor;
use attacks_support::{
    other_job_bumps, seeds_without_address, signer_escalation, Attack, ALREADY_IN_USE,
};
use cinder::errors::CinderError;
use cinder_tests::{
    assert_anchor_error, assert_cinder_error, ix, on_both, tokens, world::default_market_params,
    World,
};
use solana_sdk::{
    account::Account, instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer,
};
use std::collections::HashSet;

const PRICE: u64 = 10;
const DURATION: u32 = 3_600;

fn writable(ix: &Instruction) -> HashSet<Pubkey> {
    ix.accounts
        .iter()
        .filter(|m| m.is_writable)
        .map(|m| m.pubkey)
        .collect()
}

/// Two clients posting, two providers claiming and submitting: no account is written by both,
/// so the runtime can schedule them in parallel. Config and market are read-only.
#[test]
fn hot_path_writes_no_shared_account() {
    let mut w = World::native();
    let other_client = Keypair::new();
    let (k1, n1) = w.next_job();
    let k2 = w.job_keys(&other_client.pubkey(), 1);
    let post1 = ix::post_job(
        &k1,
        &w.client_token.clone(),
        w.post_args(&k1, n1, PRICE, DURATION),
    );
    let post2 = ix::post_job(
        &k2,
        &Pubkey::new_unique(),
        w.post_args(&k2, 1, PRICE, DURATION),
    );
    let p2 = Pubkey::new_unique();
    let pairs = [
        (post1, post2),
        (
            ix::claim_job(&k1, &w.provider.pubkey()),
            ix::claim_job(&k2, &p2),
        ),
        (
            ix::submit_result(&k1, &w.provider.pubkey(), [1; 32], 1, ""),
            ix::submit_result(&k2, &p2, [2; 32], 1, ""),
        ),
    ];
    let shared = [
        ix::config_pda(),
        w.market,
        w.mint,
        w.fee_vault(),
        w.verify_pool(),
    ];
    for (a, b) in pairs {
        let (wa, wb) = (writable(&a), writable(&b));
        assert!(
            wa.is_disjoint(&wb),
            "shared writable accounts: {:?}",
            wa.intersection(&wb).collect::<Vec<_>>()
        );
        for s in shared {
            assert!(!wa.contains(&s), "{s} is writable");
        }
    }
}

on_both!(payouts_cannot_be_redirected, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(600);
    let thief = Keypair::new();
    let (mint, tp) = (w.mint, w.token_program);
    let admin = w.admin.insecure_clone();
    let thief_token =
        tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &thief.pubkey(), &tp);
    let mut p = w.payees();
    p.provider_token = thief_token;
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::TokenOwnerMismatch,
    );
    let mut p = w.payees();
    p.client_token = thief_token;
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::TokenOwnerMismatch,
    );
    // Rent to the thief instead of the client.
    let mut forged = k;
    forged.client = thief.pubkey();
    assert_cinder_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        CinderError::ClientMismatch,
    );
    // Another provider account than the job's.
    let other = Keypair::new();
    w.fund(&other.pubkey());
    w.make_provider(&other);
    let mut p = w.payees();
    p.provider_owner = other.pubkey();
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::ProviderMismatch,
    );
    w.settle(&k);
});

on_both!(foreign_vault_pool_mint_or_program_is_refused, |w| {
    let a = w.admin.pubkey();
    let k = w.post(PRICE, DURATION);
    let k2 = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(10);
    w.submit(&k, 10);
    w.warp(600);
    // Another job's vault.
    let mut forged = k;
    forged.vault = k2.vault;
    assert_cinder_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        CinderError::VaultMismatch,
    );
    // Another market (same mint): its pool is not this job's.
    let (mint, tp) = (w.mint, w.token_program);
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
    .unwrap();
    let mut forged = k;
    forged.market = ix::market_pda(2);
    assert_cinder_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        CinderError::MarketMismatch,
    );
    // Another mint.
    let admin = w.admin.insecure_clone();
    let other_mint =
        tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
    let mut forged = k;
    forged.mint = other_mint;
    assert_cinder_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        CinderError::MintMismatch,
    );
    // Token-2022 named for an SPL Token market.
    let mut forged = k;
    forged.token_program = tokens::TOKEN_2022;
    assert_cinder_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        CinderError::TokenProgramMismatch,
    );
    w.settle(&k);
});

on_both!(look_alike_accounts_are_refused, |w| {
    let k = w.post(PRICE, DURATION);
    // A copy of the job's bytes at another address, owned by another program.
    let mut fake = w.chain.account(&k.job).unwrap();
    fake.owner = Pubkey::new_unique();
    let fake_key = Pubkey::new_unique();
    w.chain.set_account(&fake_key, fake.clone());
    let mut forged = k;
    forged.job = fake_key;
    assert_anchor_error(w.try_claim(&forged), Anchor::AccountOwnedByWrongProgram);
    // The same bytes owned by cinder but with another account's discriminator (a provider's).
    let provider = w
        .chain
        .account(&ix::provider_pda(&w.provider.pubkey()))
        .unwrap();
    let mut bytes = fake.data.clone();
    bytes[..8].copy_from_slice(&provider.data[..8]);
    w.chain.set_account(
        &fake_key,
        Account {
            data: bytes,
            owner: cinder::ID,
            ..fake
        },
    );
    assert_anchor_error(w.try_claim(&forged), Anchor::AccountDiscriminatorMismatch);
    // A provider account as the config: owned by cinder, but typed Provider, not Config.
    let mut claim = ix::claim_job(&k, &w.provider.pubkey());
    claim.accounts[2].pubkey = ix::provider_pda(&w.provider.pubkey());
    let p = w.provider.insecure_clone();
    w.refused(&[claim], &[&p], Anchor::AccountDiscriminatorMismatch);
});

on_both!(signatures_are_required, |w| {
    let (k, n) = w.next_job();
    let args = w.post_args(&k, n, PRICE, DURATION);
    let mut post = ix::post_job(&k, &w.client_token.clone(), args);
    post.accounts[0].is_signer = false;
    assert_anchor_error(w.send(&[post], &[]), Anchor::AccountNotSigner);
    let k = w.post(PRICE, DURATION);
    let mut claim = ix::claim_job(&k, &w.provider.pubkey());
    claim.accounts[0].is_signer = false;
    assert_anchor_error(w.send(&[claim], &[]), Anchor::AccountNotSigner);
    // Someone else's provider account, signed by the caller.
    let stranger = Keypair::new();
    let mut claim = ix::claim_job(&k, &stranger.pubkey());
    claim.accounts[1].pubkey = ix::provider_pda(&w.provider.pubkey());
    claim.accounts[5].pubkey = ix::stake_pda(&w.provider.pubkey());
    assert_cinder_error(
        w.send(&[claim], &[&stranger]),
        CinderError::NotProviderOwner,
    );
    // Its own provider account, with someone else's stake position.
    let mut claim = ix::claim_job(&k, &w.provider.pubkey());
    let (other, other_token) = w.staker(1_000_000_000_000);
    let p = w.protocol();
    let st = ix::stake(
        &other.pubkey(),
        &other_token,
        &p,
        900_000_000_000,
        30 * 86_400,
    );
    w.send(&[st], &[&other]).unwrap();
    claim.accounts[5].pubkey = ix::stake_pda(&other.pubkey());
    let provider = w.provider.insecure_clone();
    assert_cinder_error(w.send(&[claim], &[&provider]), CinderError::StakeMismatch);
    // accept_result without the client's signature.
    w.claim(&k);
    w.submit(&k, 0);
    let mut accept = ix::accept_result(&k, &w.payees());
    for m in accept.accounts.iter_mut() {
        m.is_signer = false;
    }
    assert_cinder_error(w.send(&[accept], &[]), CinderError::NotJobClient);
});

on_both!(
    prefunded_job_and_vault_addresses_do_not_block_posting,
    |w| {
        let (k, n) = w.next_job();
        // Anyone can send lamports to an address before it is created.
        for key in [k.job, k.vault] {
            w.chain.set_account(
                &key,
                Account {
                    lamports: 1_000,
                    owner: anchor_lang::solana_program::system_program::ID,
                    ..Default::default()
                },
            );
        }
        let args = w.post_args(&k, n, PRICE, DURATION);
        let client = w.client.insecure_clone();
        w.send(
            &[ix::post_job(&k, &w.client_token.clone(), args)],
            &[&client],
        )
        .expect("post_job");
        assert_eq!(w.balance(&k.vault), 38_160);
    }
);

on_both!(wrong_bumps_or_addresses_are_refused, |w| {
    let (k, n) = w.next_job();
    let client = w.client.insecure_clone();
    let ct = w.client_token;
    let escalation = signer_escalation();
    // A job address that is not the PDA of (market, client, nonce): the seeds of another nonce,
    // with their own canonical bump, sign for another address than the one passed.
    let mut args = w.post_args(&k, n, PRICE, DURATION);
    args.nonce += 1000;
    args.job_bump = ix::job_pda(&k.market, &k.client, args.nonce).1;
    w.refused(
        &[ix::post_job(&k, &ct, args)],
        &[&client],
        escalation.clone(),
    );
    // A non-canonical bump: a valid bump below the canonical one gives another address.
    let mut args = w.post_args(&k, n, PRICE, DURATION);
    let (other_bump, invalid) = other_job_bumps(&k.market, &k.client, n, args.job_bump);
    args.job_bump = other_bump;
    w.refused(&[ix::post_job(&k, &ct, args)], &[&client], escalation);
    // A wrong bump, with which the seeds give no address at all (the hash is on the curve): the
    // runtime aborts the program when it derives the signer (on the host, program-test's stub
    // panics).
    let mut args = w.post_args(&k, n, PRICE, DURATION);
    args.job_bump = invalid;
    w.refused(
        &[ix::post_job(&k, &ct, args)],
        &[&client],
        seeds_without_address(),
    );
    assert!(!w.exists(&k.job));
    let args = w.post_args(&k, n, PRICE, DURATION);
    w.send(&[ix::post_job(&k, &ct, args)], &[&client])
        .expect("post with the right seeds");
    // The same nonce again: its vault exists, so the System program refuses to allocate it.
    let args = w.post_args(&k, n, PRICE, DURATION);
    w.refused(&[ix::post_job(&k, &ct, args)], &[&client], ALREADY_IN_USE);
});

on_both!(sweep_only_moves_accrued_fees_to_the_fee_vault, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(600);
    w.settle(&k);
    // A fee vault of another mint is refused.
    let a = w.admin.pubkey();
    let admin = w.admin.insecure_clone();
    let other = tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
    let mut sweep = ix::sweep_fees(&w.market, &w.mint, &w.token_program);
    sweep.accounts[2].pubkey = ix::fee_vault_pda(&other);
    assert_cinder_error(w.send(&[sweep], &[]), CinderError::FeeVaultMismatch);
    let before = w.ledger(&k);
    w.try_sweep().expect("sweep");
    let after = w.ledger(&k);
    assert_eq!(after[2] - before[2], 50, "ceil(5% of 1000)");
    assert_eq!(before[3] - after[3], 50);
});

on_both!(the_same_account_in_two_payout_roles_is_refused, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.submit(&k, 0);
    w.warp(600);
    let mut p = w.payees();
    p.provider_token = p.client_token;
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::DuplicateAccount,
    );
    // The vault as the client's account: its owner is the job PDA, not the client.
    let mut p = w.payees();
    p.client_token = k.vault;
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::TokenOwnerMismatch,
    );
    let mut p = w.payees();
    p.provider_token = w.verify_pool();
    assert_cinder_error(
        w.send(&[ix::settle_job(&k, &p)], &[]),
        CinderError::TokenOwnerMismatch,
    );
    w.settle(&k);
});

on_both!(
    a_closed_job_cannot_be_revived_in_the_same_transaction,
    |w| {
        let k = w.post(PRICE, DURATION);
        w.claim(&k);
        w.warp(100);
        w.submit(&k, 100);
        w.warp(600);
        let before = w.ledger(&k);
        let settle = ix::settle_job(&k, &w.payees());
        // The first settlement closed the job: the second finds it owned by the System program.
        w.refused(
            &[settle.clone(), settle],
            &[],
            Anchor::AccountOwnedByWrongProgram,
        );
        assert_eq!(w.ledger(&k), before, "nothing moved");
        w.settle(&k);
    }
);

on_both!(fake_programs_are_refused, |w| {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.submit(&k, 0);
    w.warp(600);
    let fake = Pubkey::new_unique();
    // A fake token program.
    let mut forged = k;
    forged.token_program = fake;
    assert_anchor_error(
        w.send(&[ix::settle_job(&forged, &w.payees())], &[]),
        Anchor::InvalidProgramId,
    );
    // A fake system program in post_job.
    let (k2, n) = w.next_job();
    let args = w.post_args(&k2, n, PRICE, DURATION);
    let mut post = ix::post_job(&k2, &w.client_token.clone(), args);
    let sys = anchor_lang::solana_program::system_program::ID;
    for m in post.accounts.iter_mut().filter(|m| m.pubkey == sys) {
        m.pubkey = fake;
    }
    let client = w.client.insecure_clone();
    assert_anchor_error(w.send(&[post], &[&client]), Anchor::InvalidProgramId);
    w.settle(&k);
});

on_both!(extra_accounts_are_ignored, |w| {
    let (k, n) = w.next_job();
    let args = w.post_args(&k, n, PRICE, DURATION);
    let mut post = ix::post_job(&k, &w.client_token.clone(), args);
    // Appended accounts, writable, including another job's vault and the fee vault.
    post.accounts
        .push(solana_sdk::instruction::AccountMeta::new(
            w.fee_vault(),
            false,
        ));
    post.accounts
        .push(solana_sdk::instruction::AccountMeta::new(
            Pubkey::new_unique(),
            false,
        ));
    let client = w.client.insecure_clone();
    let before = w.balance(&w.fee_vault());
    w.send(&[post], &[&client])
        .expect("post with extra accounts");
    assert_eq!(w.balance(&k.vault), 38_160);
    assert_eq!(w.balance(&w.fee_vault()), before);
});

on_both!(look_alike_stake_positions_are_refused, |w| {
    let k = w.post(PRICE, DURATION);
    let provider = w.provider.pubkey();
    let real = w.chain.account(&ix::stake_pda(&provider)).unwrap();
    // The provider's own position bytes, owned by another program, at another address.
    let fake_key = Pubkey::new_unique();
    w.chain.set_account(
        &fake_key,
        Account {
            owner: Pubkey::new_unique(),
            ..real.clone()
        },
    );
    let mut claim = ix::claim_job(&k, &provider);
    claim.accounts[5].pubkey = fake_key;
    let p = w.provider.insecure_clone();
    assert_anchor_error(
        w.send(std::slice::from_ref(&claim), &[&p]),
        Anchor::AccountOwnedByWrongProgram,
    );
    // Owned by cinder, but a Provider account's discriminator.
    let pa = w.chain.account(&ix::provider_pda(&provider)).unwrap();
    let mut data = real.data.clone();
    data[..8].copy_from_slice(&pa.data[..8]);
    w.chain.set_account(
        &fake_key,
        Account {
            owner: cinder::ID,
            data,
            ..real
        },
    );
    assert_anchor_error(
        w.send(&[claim], &[&p]),
        Anchor::AccountDiscriminatorMismatch,
    );
    w.claim(&k);
});
