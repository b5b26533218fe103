//! Config, admin handover, markets and providers: who may change what, within which bounds.

use cinder::{errors::CinderError, state::Bps};
use cinder_tests::{
    assert_anchor_error, assert_cinder_error, ix, on_both, tokens,
    world::{self, default_config_params, default_market_params, default_provider_info},
    World,
};
use solana_sdk::{signature::Keypair, signer::Signer};

on_both!(only_the_upgrade_authority_creates_the_config, |w| {
    // The world already has a config: start from a bare chain of the same kind.
    let (mut chain, admin, client, _) = World::bare(w.chain.is_sbf());
    let c = chain.as_mut();
    let mint = tokens::create_mint(c, &admin, &admin.pubkey(), None, 9, &tokens::LEGACY, &[]);
    let init = ix::init_config(&client.pubkey(), &mint, default_config_params());
    assert_cinder_error(
        c.send(&[init], &client, &[]),
        CinderError::NotUpgradeAuthority,
    );
    let mut bad = default_config_params();
    bad.protocol_fee_bps = Bps(2_001);
    let init = ix::init_config(&admin.pubkey(), &mint, bad);
    assert_cinder_error(c.send(&[init], &admin, &[]), CinderError::FeeTooHigh);
    let init = ix::init_config(&admin.pubkey(), &mint, default_config_params());
    c.send(std::slice::from_ref(&init), &admin, &[])
        .expect("init_config");
    // Once only.
    assert_cinder_error(
        c.send(&[init], &client, &[&admin]),
        CinderError::AccountAlreadyExists,
    );
});

on_both!(config_updates_need_the_admin_and_stay_in_bounds, |w| {
    let stranger = Keypair::new();
    let upd = ix::update_config(&stranger.pubkey(), default_config_params(), false);
    assert_cinder_error(w.send(&[upd], &[&stranger]), CinderError::NotAdmin);
    let a = w.admin.pubkey();
    let cases = [
        (
            {
                let mut p = default_config_params();
                p.burn_bps = Bps(4_999);
                p
            },
            CinderError::FeeSplitNot100Percent,
        ),
        (
            {
                let mut p = default_config_params();
                p.min_lock_secs = 13 * 86_400;
                p
            },
            CinderError::LockBoundsOutOfRange,
        ),
        (
            {
                let mut p = default_config_params();
                p.max_lock_secs = 366 * 86_400;
                p
            },
            CinderError::LockBoundsOutOfRange,
        ),
        (
            {
                let mut p = default_config_params();
                p.stakers_bps = Bps(10_001);
                p
            },
            CinderError::BpsOutOfRange,
        ),
    ];
    for (params, err) in cases {
        assert_cinder_error(w.send(&[ix::update_config(&a, params, false)], &[]), err);
    }
    let mut ok = default_config_params();
    ok.protocol_fee_bps = Bps(2_000);
    w.send(&[ix::update_config(&a, ok, false)], &[])
        .expect("fee at its bound");
    let cfg: cinder::state::Config = w.read(&ix::config_pda());
    assert_eq!(cfg.params.protocol_fee_bps, Bps(2_000));
});

on_both!(admin_handover_takes_two_steps, |w| {
    let a = w.admin.pubkey();
    let next = Keypair::new();
    let stranger = Keypair::new();
    assert_cinder_error(
        w.send(&[ix::accept_admin(&next.pubkey())], &[&next]),
        CinderError::NoPendingAdmin,
    );
    w.send(&[ix::propose_admin(&a, next.pubkey())], &[])
        .expect("propose");
    assert_cinder_error(
        w.send(&[ix::accept_admin(&stranger.pubkey())], &[&stranger]),
        CinderError::NotPendingAdmin,
    );
    // Proposing alone changes nothing: the old admin still rules.
    w.send(
        &[ix::update_config(&a, default_config_params(), false)],
        &[],
    )
    .expect("old admin before accept");
    w.send(&[ix::accept_admin(&next.pubkey())], &[&next])
        .expect("accept");
    assert_cinder_error(
        w.send(
            &[ix::update_config(&a, default_config_params(), false)],
            &[],
        ),
        CinderError::NotAdmin,
    );
    let upd = ix::update_config(&next.pubkey(), default_config_params(), false);
    w.send(&[upd], &[&next]).expect("new admin");
    let cfg: cinder::state::Config = w.read(&ix::config_pda());
    assert_eq!(
        (cfg.admin, cfg.pending_admin),
        (next.pubkey(), Default::default())
    );
});

on_both!(markets_need_the_admin_and_sane_terms, |w| {
    let a = w.admin.pubkey();
    let (mint, tp) = (w.mint, w.token_program);
    let stranger = Keypair::new();
    w.fund(&stranger.pubkey());
    let mp = default_market_params(a);
    let create = ix::create_market(&stranger.pubkey(), 7, &mint, &tp, mp, false);
    assert_cinder_error(w.send(&[create], &[&stranger]), CinderError::NotAdmin);
    let bad = |f: fn(&mut cinder::state::MarketParams)| {
        let mut p = default_market_params(a);
        f(&mut p);
        p
    };
    let cases = [
        (
            bad(|p| p.min_price_per_sec = 0),
            CinderError::InvalidMarketParams,
        ),
        (
            bad(|p| p.max_duration_secs = 31 * 86_400),
            CinderError::InvalidMarketParams,
        ),
        (
            bad(|p| p.min_gpus_per_job = 0),
            CinderError::InvalidMarketParams,
        ),
        (bad(|p| p._reserved = [1]), CinderError::InvalidMarketParams),
        (
            bad(|p| p.challenge_window_secs = 9),
            CinderError::ChallengeWindowOutOfRange,
        ),
        (bad(|p| p.gpu_model = [0; 32]), CinderError::InvalidGpuModel),
        (
            bad(|p| p.gpu_model[0] = b'\n'),
            CinderError::InvalidGpuModel,
        ),
        (
            bad(|p| p.verification_fee_bps = Bps(2_001)),
            CinderError::FeeTooHigh,
        ),
        (
            bad(|p| p.timeout_slash_bps = Bps(2_001)),
            CinderError::TimeoutSlashTooHigh,
        ),
    ];
    for (params, err) in cases {
        let create = ix::create_market(&a, 8, &mint, &tp, params, false);
        assert_cinder_error(w.send(&[create], &[]), err);
    }
    // An existing market id cannot be created again.
    let again = ix::create_market(&a, w.market_id, &mint, &tp, default_market_params(a), false);
    assert_cinder_error(w.send(&[again], &[]), CinderError::AccountAlreadyExists);
    // Updates: admin only, same bounds.
    let market = w.market;
    let upd = ix::update_market(&stranger.pubkey(), &market, default_market_params(a), false);
    assert_cinder_error(w.send(&[upd], &[&stranger]), CinderError::NotAdmin);
    let upd = ix::update_market(&a, &market, bad(|p| p.min_price_per_sec = 0), false);
    assert_cinder_error(w.send(&[upd], &[]), CinderError::InvalidMarketParams);
});

on_both!(a_market_needs_its_mints_auction_first, |w| {
    let a = w.admin.pubkey();
    let admin = w.admin.insecure_clone();
    let other = tokens::create_mint(w.chain.as_mut(), &admin, &a, None, 6, &tokens::LEGACY, &[]);
    let create = ix::create_market(
        &a,
        9,
        &other,
        &tokens::LEGACY,
        default_market_params(a),
        false,
    );
    assert_anchor_error(
        w.send(&[create], &[]),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    let params = world::default_auction_params();
    w.send(
        &[ix::init_auction(&a, &other, &tokens::LEGACY, params, false)],
        &[],
    )
    .expect("auction");
    let create = ix::create_market(
        &a,
        9,
        &other,
        &tokens::LEGACY,
        default_market_params(a),
        false,
    );
    w.send(&[create], &[]).expect("market after auction");
    // A second auction for the same mint is refused.
    let again = ix::init_auction(&a, &other, &tokens::LEGACY, params, false);
    assert_cinder_error(w.send(&[again], &[]), CinderError::AccountAlreadyExists);
});

on_both!(providers_register_once_and_only_owners_update, |w| {
    let p = w.provider.insecure_clone();
    let again = ix::register_provider(&p.pubkey(), default_provider_info());
    assert_cinder_error(w.send(&[again], &[&p]), CinderError::AccountAlreadyExists);
    let stranger = Keypair::new();
    let mut upd = ix::update_provider(&stranger.pubkey(), default_provider_info(), false);
    // Point at the real provider account, signed by the stranger.
    upd.accounts[1].pubkey = ix::provider_pda(&p.pubkey());
    assert_cinder_error(w.send(&[upd], &[&stranger]), CinderError::NotProviderOwner);
    let mut info = default_provider_info();
    info.endpoint = String::new();
    let upd = ix::update_provider(&p.pubkey(), info, true);
    assert_cinder_error(w.send(&[upd], &[&p]), CinderError::InvalidUri);
    let mut info = default_provider_info();
    info.gpu_count = 0;
    let upd = ix::update_provider(&p.pubkey(), info, true);
    assert_cinder_error(w.send(&[upd], &[&p]), CinderError::NoGpus);
});

on_both!(a_provider_must_stake_before_registering, |w| {
    let newcomer = Keypair::new();
    w.fund(&newcomer.pubkey());
    let reg = ix::register_provider(&newcomer.pubkey(), default_provider_info());
    assert_cinder_error(
        w.send(std::slice::from_ref(&reg), &[&newcomer]),
        CinderError::NoStakePosition,
    );
    // Someone else's position does not count.
    let mut reg2 = reg.clone();
    let provider = w.provider.pubkey();
    for m in reg2.accounts.iter_mut() {
        if m.pubkey == ix::stake_pda(&newcomer.pubkey()) {
            m.pubkey = ix::stake_pda(&provider);
        }
    }
    assert_cinder_error(w.send(&[reg2], &[&newcomer]), CinderError::StakeMismatch);
    w.make_provider(&newcomer);
    assert_eq!(
        w.read::<cinder::state::Provider>(&ix::provider_pda(&newcomer.pubkey()))
            .owner,
        newcomer.pubkey()
    );
});
