//! The bootstrap against a real local chain (Agave's test validator with the SBF program):
//! the first run creates everything, a second run changes nothing (every account byte for
//! byte the same, no transaction sent), and an edited plan updates exactly what changed.

use anchor_lang::prelude::Pubkey;
use cinder::state::{Config, Market};
use cinder_client::{
    ix,
    rpc::{Chain, SendConfig},
};
use cinder_migrations::{bootstrap, load_or_create_key, Action, Plan, Signers};
use solana_signer::Signer;
use std::{collections::BTreeMap, path::PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every account the program owns, and every mint the plan created, as raw bytes.
async fn snapshot(chain: &Chain, extra: &[Pubkey]) -> BTreeMap<String, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let accounts = chain
        .rpc()
        .get_program_accounts(&cinder::ID)
        .await
        .expect("getProgramAccounts");
    for (k, a) in accounts {
        out.insert(k.to_string(), (a.lamports, a.data));
    }
    for k in extra {
        let a = chain.rpc().get_account(k).await.expect("account");
        out.insert(k.to_string(), (a.lamports, a.data));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_the_bootstrap_twice_changes_nothing_and_an_edit_updates_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let admin = load_or_create_key(&keys.join("admin.json")).unwrap();
    let mint_authority = load_or_create_key(&keys.join("mint-authority.json")).unwrap();
    let mut opts = cinder_localnet::Options::new(dir.path().join("ledger"));
    opts.programs = vec![(
        cinder::ID,
        repo().join("target/deploy/cinder.so"),
        admin.pubkey(),
    )];
    opts.fund = vec![
        (admin.pubkey(), 1_000_000_000_000),
        (mint_authority.pubkey(), 1_000_000_000_000),
    ];
    let net = tokio::task::spawn_blocking(move || cinder_localnet::Localnet::start(opts))
        .await
        .unwrap()
        .expect("local chain");
    let chain = Chain::new(&net.rpc_url, SendConfig::default());
    let plan = Plan::load(&repo().join("migrations/localnet.toml")).unwrap();
    let signers = Signers {
        admin: &admin,
        mint_authority: Some(&mint_authority),
        keys_dir: Some(&keys),
    };

    let first = bootstrap(&chain, &plan, &signers, None)
        .await
        .expect("first run");
    assert!(
        first.steps.iter().all(|s| s.action == Action::Created),
        "{:#?}",
        first.steps
    );
    assert_eq!(first.markets.len(), plan.markets.len());
    let config: Config = chain.zero_copy(&ix::config_pda()).await.unwrap().unwrap();
    assert_eq!(config.admin, admin.pubkey());
    assert_eq!(config.protocol_mint, first.protocol_mint);
    let mints: Vec<Pubkey> = first
        .mints
        .iter()
        .map(|m| m.1)
        .chain([first.treasury_token])
        .collect();
    let before = snapshot(&chain, &mints).await;
    let payer_before = chain.lamports(&admin.pubkey()).await.unwrap();

    let second = bootstrap(&chain, &plan, &signers, None)
        .await
        .expect("second run");
    assert_eq!(second.changed(), 0, "{:#?}", second.steps);
    assert_eq!(second.steps.len(), first.steps.len());
    assert_eq!(
        second.protocol_mint, first.protocol_mint,
        "the dev mints were found again"
    );
    let after = snapshot(&chain, &mints).await;
    assert_eq!(before, after, "no account changed");
    assert_eq!(
        chain.lamports(&admin.pubkey()).await.unwrap(),
        payer_before,
        "no transaction paid for"
    );

    // Edit one market's price floor: only that market is updated, with the field named.
    let mut edited = plan.clone();
    edited.markets[0].min_price_per_sec += 1;
    let third = bootstrap(&chain, &edited, &signers, None)
        .await
        .expect("edited run");
    let changed: Vec<_> = third
        .steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .collect();
    assert_eq!(changed.len(), 1, "{:#?}", third.steps);
    assert_eq!(changed[0].action, Action::Updated);
    assert!(
        changed[0].detail.contains("min_price_per_sec"),
        "{}",
        changed[0].detail
    );
    let m: Market = chain
        .zero_copy(&ix::market_pda(edited.markets[0].id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.params.min_price_per_sec,
        edited.markets[0].min_price_per_sec
    );

    // Another key cannot take over an existing config.
    let stranger = load_or_create_key(&keys.join("stranger.json")).unwrap();
    chain
        .send(
            &[anchor_lang::solana_program::system_instruction::transfer(
                &admin.pubkey(),
                &stranger.pubkey(),
                1_000_000_000,
            )],
            &admin,
            &[],
        )
        .await
        .unwrap();
    let err = bootstrap(
        &chain,
        &plan,
        &Signers {
            admin: &stranger,
            mint_authority: Some(&mint_authority),
            keys_dir: Some(&keys),
        },
        None,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("run with the admin key"), "{err}");
    net.shutdown();
}
