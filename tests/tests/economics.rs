//! Buyback and burn: the Dutch auction of each payment mint's fee vault, the split of the
//! protocol tokens it earns (burn / stakers / treasury), and the protocol mint's own fees.

use cinder::{
    errors::CinderError,
    events::{AuctionBought, AuctionUpdated, Burned, RevenueDistributed},
    state::{Auction, AuctionParams, Config, StakePool},
};
use cinder_tests::{
    assert_cinder_error, events_of, ix, on_both, tokens,
    world::{default_auction_params, START_TIME},
    TxMeta, World,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const PRICE: u64 = 1_000;
const DURATION: u32 = 3_600;
const DAY: i64 = 86_400;

/// A buyer: funded wallet, an empty payment-token account, `protocol` protocol tokens.
struct Buyer {
    key: Keypair,
    payment_token: Pubkey,
    protocol_token: Pubkey,
}

fn buyer(w: &mut World, protocol: u64) -> Buyer {
    let (key, protocol_token) = w.staker(protocol);
    let admin = w.admin.insecure_clone();
    let (mint, tp) = (w.mint, w.token_program);
    let payment_token =
        tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &key.pubkey(), &tp);
    Buyer {
        key,
        payment_token,
        protocol_token,
    }
}

fn payment_side(w: &World) -> ix::PaymentSide {
    ix::PaymentSide {
        payment_mint: w.mint,
        payment_token_program: w.token_program,
    }
}

fn buy_ix(
    w: &World,
    b: &Buyer,
    max_price: u64,
    min_out: u64,
) -> solana_sdk::instruction::Instruction {
    ix::buy(
        &b.key.pubkey(),
        &payment_side(w),
        &b.payment_token,
        &b.protocol_token,
        &w.treasury_ptoken,
        &w.protocol(),
        max_price,
        min_out,
    )
}

fn try_buy(
    w: &mut World,
    b: &Buyer,
    max_price: u64,
    min_out: u64,
) -> Result<TxMeta, solana_sdk::transaction::TransactionError> {
    let ixn = buy_ix(w, b, max_price, min_out);
    w.send(&[ixn], &[&b.key])
}

/// Runs one job to settlement and sweeps its protocol fee into the fee vault; returns the
/// vault's balance.
fn accrue_fees(w: &mut World) -> u64 {
    let k = w.post(PRICE, DURATION);
    w.claim(&k);
    w.warp(100);
    w.submit(&k, 100);
    w.warp(600);
    w.settle(&k);
    w.try_sweep().expect("sweep");
    let vault = w.fee_vault();
    w.balance(&vault)
}

/// Puts `amount` payment tokens straight into the fee vault (as a sweep would).
fn fill_vault(w: &mut World, amount: u64) {
    let (admin, auth, mint, tp, vault) = (
        w.admin.insecure_clone(),
        w.mint_authority.insecure_clone(),
        w.mint,
        w.token_program,
        w.fee_vault(),
    );
    tokens::mint_to(w.chain.as_mut(), &admin, &mint, &vault, &auth, amount, &tp);
}

fn auction(w: &mut World) -> Auction {
    let mint = w.mint;
    w.read(&ix::auction_pda(&mint))
}

/// The schedule, written independently of the program: floor + ceil(span × left / period).
fn expected_price(a: &Auction, now: i64) -> u64 {
    cinder_tests::reference::auction_price(a, now) as u64
}

/// Everything a buy or a distribution moves, in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Books {
    supply: u64,
    reward_vault: u64,
    treasury: u64,
    fee_vault: u64,
    total_burned: u64,
    rewards_deposited: u64,
}

fn books(w: &mut World, fee_vault: Pubkey) -> Books {
    let cfg: Config = w.read(&ix::config_pda());
    let pool: StakePool = w.read(&ix::stake_pool_pda());
    let (rv, tr) = (ix::reward_vault_pda(), w.treasury_ptoken);
    Books {
        supply: w.protocol_supply(),
        reward_vault: w.balance(&rv),
        treasury: w.balance(&tr),
        fee_vault: w.balance(&fee_vault),
        total_burned: cfg.total_burned,
        rewards_deposited: pool.total_rewards_deposited,
    }
}

fn pay_books(w: &mut World) -> Books {
    let vault = w.fee_vault();
    books(w, vault)
}

/// 5000 / 4000 / 1000 of `amount`: stakers' and treasury's shares round down, the burn takes
/// the dust.
fn split(amount: u64) -> (u64, u64, u64) {
    let stakers = amount * 4_000 / 10_000;
    let treasury = amount * 1_000 / 10_000;
    (amount - stakers - treasury, stakers, treasury)
}

on_both!(
    a_buy_takes_the_whole_vault_and_splits_the_price_to_the_base_unit,
    |w| {
        assert!(w.chain.record_events(true));
        let fees = accrue_fees(&mut w);
        assert_eq!(fees, 5_000, "ceil(5 % of 100 s × 1000)");
        let b = buyer(&mut w, 10_000_000);
        w.warp(DAY / 2 - 700 + 1_234);
        let a = auction(&mut w);
        let now = w.now();
        let price = expected_price(&a, now);
        assert!(a.params.floor_price < price && price < a.epoch_init_price);
        let before = pay_books(&mut w);
        let meta = try_buy(&mut w, &b, price, fees).expect("buy at the current price");
        let after = pay_books(&mut w);

        assert_eq!(
            w.balance(&b.payment_token),
            fees,
            "the buyer gets the whole vault"
        );
        assert_eq!(w.balance(&b.protocol_token), 10_000_000 - price);
        assert_eq!(after.fee_vault, 0);
        let (burn, stakers, treasury) = split(price);
        assert_eq!(burn + stakers + treasury, price);
        assert_eq!(
            before.supply - after.supply,
            burn,
            "the burn reduces the supply exactly"
        );
        assert_eq!(after.total_burned - before.total_burned, burn);
        assert_eq!(after.reward_vault - before.reward_vault, stakers);
        assert_eq!(after.rewards_deposited - before.rewards_deposited, stakers);
        assert_eq!(after.treasury - before.treasury, treasury);

        let a = auction(&mut w);
        assert_eq!((a.epoch, a.epoch_start), (1, now));
        assert_eq!(a.epoch_init_price, (price * 2).max(a.params.min_init_price));
        assert_eq!(
            (a.total_paid, a.total_sold, a.last_price),
            (price, fees, price)
        );

        let bought = &events_of::<AuctionBought>(&meta)[0];
        assert_eq!(
            (
                bought.epoch,
                bought.price,
                bought.amount_out,
                bought.next_init_price
            ),
            (0, price, fees, a.epoch_init_price)
        );
        assert_eq!(bought.buyer, b.key.pubkey());
        let d = &events_of::<RevenueDistributed>(&meta)[0];
        assert_eq!(
            (d.amount, d.burned, d.to_stakers, d.to_treasury),
            (price, burn, stakers, treasury)
        );
        let burned = &events_of::<Burned>(&meta)[0];
        assert_eq!(
            (burned.amount, burned.total_burned),
            (burn, after.total_burned)
        );

        // The stakers' share is the provider's (the only staker) to claim.
        let owner = w.provider.insecure_clone();
        let ptoken = w.provider_ptoken;
        let before_claim = w.balance(&ptoken);
        let p = w.protocol();
        w.send(
            &[ix::claim_rewards(&owner.pubkey(), &ptoken, &p)],
            &[&owner],
        )
        .expect("claim");
        let got = w.balance(&ptoken) - before_claim;
        assert!(
            got <= stakers && stakers - got <= 1,
            "claimed {got} of {stakers}"
        );
    }
);

on_both!(a_buy_outside_the_buyers_bounds_moves_nothing, |w| {
    let fees = accrue_fees(&mut w);
    let b = buyer(&mut w, 10_000_000);
    let a = auction(&mut w);
    let now = w.now();
    let price = expected_price(&a, now);
    let before = pay_books(&mut w);
    assert_cinder_error(
        try_buy(&mut w, &b, price - 1, 0),
        CinderError::PriceAboveMax,
    );
    assert_cinder_error(
        try_buy(&mut w, &b, price, fees + 1),
        CinderError::AmountBelowMin,
    );
    assert_eq!(pay_books(&mut w), before);
    assert_eq!(w.balance(&b.protocol_token), 10_000_000);
    assert_eq!(w.balance(&b.payment_token), 0);
    assert_eq!(auction(&mut w).epoch, 0);
});

on_both!(
    a_second_buy_in_the_same_epoch_cannot_take_the_vault_again,
    |w| {
        let fees = accrue_fees(&mut w);
        let (b1, b2) = (buyer(&mut w, 10_000_000), buyer(&mut w, 10_000_000));
        let a = auction(&mut w);
        let now = w.now();
        let price = expected_price(&a, now);
        // Both buys in one transaction: the second fails, so neither happens.
        let (i1, i2) = (
            buy_ix(&w, &b1, price, fees),
            buy_ix(&w, &b2, u64::MAX, fees),
        );
        assert_cinder_error(
            w.send(&[i1, i2], &[&b1.key, &b2.key]),
            CinderError::AmountBelowMin,
        );
        assert_eq!(w.balance(&w.fee_vault()), fees);
        // One after the other: the first takes the vault; the racing one finds it gone.
        try_buy(&mut w, &b1, price, fees).expect("first buy");
        assert_cinder_error(
            try_buy(&mut w, &b2, u64::MAX, fees),
            CinderError::AmountBelowMin,
        );
        assert_cinder_error(try_buy(&mut w, &b2, u64::MAX, 0), CinderError::NothingToBuy);
        assert_eq!(w.balance(&b2.payment_token), 0);
        assert_eq!(w.balance(&b2.protocol_token), 10_000_000);
        assert_eq!(w.balance(&b1.payment_token), fees);
        assert_eq!(auction(&mut w).epoch, 1);
    }
);

/// Buys at exactly `expected` after checking one base unit less is refused.
fn buy_at(w: &mut World, b: &Buyer, expected: u64) {
    let a = auction(w);
    let now = w.now();
    assert_eq!(
        expected_price(&a, now),
        expected,
        "schedule at +{}",
        now - a.epoch_start
    );
    if expected > 0 {
        assert_cinder_error(try_buy(w, b, expected - 1, 1), CinderError::PriceAboveMax);
    }
    let paid_before = w.balance(&b.protocol_token);
    try_buy(w, b, expected, 1).expect("buy at the expected price");
    assert_eq!(paid_before - w.balance(&b.protocol_token), expected);
}

on_both!(
    the_price_falls_linearly_and_restarts_at_the_multiplier,
    |w| {
        let b = buyer(&mut w, 100_000_000);
        let p = default_auction_params();
        let a = auction(&mut w);
        assert_eq!(
            (a.epoch_start, a.epoch_init_price),
            (START_TIME, p.init_price)
        );
        assert_eq!(w.now(), START_TIME);

        // At the start: the init price.
        fill_vault(&mut w, 777);
        buy_at(&mut w, &b, p.init_price);
        let a = auction(&mut w);
        assert_eq!(a.epoch_init_price, 2 * p.init_price, "next = 2 × paid");

        // Mid-epoch: halfway between init and floor (rounded up).
        fill_vault(&mut w, 777);
        w.warp(DAY / 2);
        let mid = p.floor_price + (2 * p.init_price - p.floor_price).div_ceil(2);
        buy_at(&mut w, &b, mid);
        assert_eq!(auction(&mut w).epoch_init_price, 2 * mid);

        // At the end: the floor; the next init price falls back to the minimum.
        fill_vault(&mut w, 777);
        w.warp(DAY);
        buy_at(&mut w, &b, p.floor_price);
        let a = auction(&mut w);
        assert_eq!(
            a.epoch_init_price, p.min_init_price,
            "max(2 × floor, min_init_price)"
        );

        // Long after the end: still the floor.
        fill_vault(&mut w, 777);
        w.warp(10 * DAY + 12_345);
        buy_at(&mut w, &b, p.floor_price);
        assert_eq!(auction(&mut w).epoch, 4);
    }
);

/// The protocol mint's own auction and fee vault, with `amount` protocol tokens in the vault.
fn protocol_fee_vault(w: &mut World, amount: u64) -> Pubkey {
    let (a, pm) = (w.admin.pubkey(), w.protocol_mint);
    let init = ix::init_auction(&a, &pm, &tokens::LEGACY, default_auction_params(), false);
    w.send(&[init], &[])
        .expect("init_auction for the protocol mint");
    let vault = ix::fee_vault_pda(&pm);
    let (admin, auth) = (w.admin.insecure_clone(), w.mint_authority.insecure_clone());
    tokens::mint_to(
        w.chain.as_mut(),
        &admin,
        &pm,
        &vault,
        &auth,
        amount,
        &tokens::LEGACY,
    );
    vault
}

on_both!(protocol_mint_fees_are_split_not_auctioned, |w| {
    assert!(w.chain.record_events(true));
    let amount = 1_000_003;
    let vault = protocol_fee_vault(&mut w, amount);
    let before = books(&mut w, vault);
    let p = w.protocol();
    let tr = w.treasury_ptoken;
    let meta = w
        .send(&[ix::distribute_fees(&tr, &p)], &[])
        .expect("distribute");
    let after = books(&mut w, vault);
    let (burn, stakers, treasury) = split(amount);
    assert_eq!(burn + stakers + treasury, amount);
    assert_eq!((burn, stakers, treasury), (500_002, 400_001, 100_000));
    assert_eq!(after.fee_vault, 0);
    assert_eq!(before.supply - after.supply, burn);
    assert_eq!(after.total_burned - before.total_burned, burn);
    assert_eq!(after.reward_vault - before.reward_vault, stakers);
    assert_eq!(after.treasury - before.treasury, treasury);
    let d = &events_of::<RevenueDistributed>(&meta)[0];
    assert_eq!(
        (d.burned, d.to_stakers, d.to_treasury),
        (burn, stakers, treasury)
    );
    assert_eq!(events_of::<Burned>(&meta)[0].amount, burn);
    assert_cinder_error(
        w.send(&[ix::distribute_fees(&tr, &p)], &[]),
        CinderError::NothingToBuy,
    );
    // Buying the protocol mint's vault with protocol tokens is refused.
    let b = buyer(&mut w, 10_000_000);
    let pm = w.protocol_mint;
    let side = ix::PaymentSide {
        payment_mint: pm,
        payment_token_program: tokens::LEGACY,
    };
    let buy = ix::buy(
        &b.key.pubkey(),
        &side,
        &b.protocol_token,
        &b.protocol_token,
        &tr,
        &p,
        u64::MAX,
        0,
    );
    assert_cinder_error(
        w.send(&[buy], &[&b.key]),
        CinderError::ProtocolMintNotAuctioned,
    );
});

on_both!(
    with_nobody_staked_the_stakers_share_goes_to_the_treasury,
    |w| {
        // The provider leaves: its whole stake unbonds, so nobody has weight.
        let owner = w.provider.insecure_clone();
        let p: StakePool = w.read(&ix::stake_pool_pda());
        let staked = p.total_staked;
        w.send(&[ix::request_unstake(&owner.pubkey(), staked)], &[&owner])
            .expect("unstake all");
        let amount = 1_000_003;
        let vault = protocol_fee_vault(&mut w, amount);
        let before = books(&mut w, vault);
        let (p, tr) = (w.protocol(), w.treasury_ptoken);
        w.send(&[ix::distribute_fees(&tr, &p)], &[])
            .expect("distribute");
        let after = books(&mut w, vault);
        let (burn, stakers, treasury) = split(amount);
        assert_eq!(before.supply - after.supply, burn);
        assert_eq!(after.reward_vault, before.reward_vault);
        assert_eq!(after.treasury - before.treasury, stakers + treasury);
        let pool: StakePool = w.read(&ix::stake_pool_pda());
        assert_eq!(pool.total_rewards_to_treasury, stakers);
    }
);

on_both!(a_buy_cannot_redirect_the_split_or_take_another_vault, |w| {
    let fees = accrue_fees(&mut w);
    let b = buyer(&mut w, 10_000_000);
    protocol_fee_vault(&mut w, 5_000);
    let before = pay_books(&mut w);
    // The treasury's share to the buyer's own account.
    let mut i = buy_ix(&w, &b, u64::MAX, 0);
    i.accounts[9].pubkey = b.protocol_token;
    assert_cinder_error(w.send(&[i], &[&b.key]), CinderError::NotTreasury);
    // The stakers' share to the buyer's account posing as the reward vault.
    let mut i = buy_ix(&w, &b, u64::MAX, 0);
    i.accounts[8].pubkey = b.protocol_token;
    assert_cinder_error(w.send(&[i], &[&b.key]), CinderError::VaultMismatch);
    // Another mint's fee vault through this auction.
    let mut i = buy_ix(&w, &b, u64::MAX, 0);
    i.accounts[3].pubkey = ix::fee_vault_pda(&w.protocol_mint);
    assert_cinder_error(w.send(&[i], &[&b.key]), CinderError::FeeVaultMismatch);
    // A look-alike protocol mint (the payment mint) is refused by the stake pool's has_one.
    let mut i = buy_ix(&w, &b, u64::MAX, 0);
    i.accounts[10].pubkey = w.mint;
    assert_cinder_error(w.send(&[i], &[&b.key]), CinderError::MintMismatch);
    assert_eq!(pay_books(&mut w), before);
    assert_eq!(before.fee_vault, fees);
    assert_eq!(w.balance(&b.protocol_token), 10_000_000);
});

on_both!(auction_parameters_are_bounded_admin_only_and_logged, |w| {
    assert!(w.chain.record_events(true));
    let mint = w.mint;
    let a = w.admin.pubkey();
    let good = AuctionParams {
        init_price: 5_000_000,
        floor_price: 2_000,
        epoch_period_secs: 7 * DAY as u32,
        price_multiplier_bps: 15_000,
        min_init_price: 20_000,
    };
    let stranger = Keypair::new();
    w.fund(&stranger.pubkey());
    let mut i = ix::update_auction(&stranger.pubkey(), &mint, good);
    i.accounts[0].pubkey = stranger.pubkey();
    assert_cinder_error(w.send(&[i], &[&stranger]), CinderError::NotAdmin);
    let bad = [
        AuctionParams {
            price_multiplier_bps: 10_999,
            ..good
        },
        AuctionParams {
            price_multiplier_bps: 1_000_001,
            ..good
        },
        AuctionParams {
            epoch_period_secs: 3_599,
            ..good
        },
        AuctionParams {
            epoch_period_secs: 365 * DAY as u32 + 1,
            ..good
        },
        AuctionParams {
            min_init_price: 0,
            floor_price: 0,
            ..good
        },
        AuctionParams {
            floor_price: 20_001,
            ..good
        },
        AuctionParams {
            init_price: 19_999,
            ..good
        },
    ];
    for p in bad {
        assert_cinder_error(
            w.send(&[ix::update_auction(&a, &mint, p)], &[]),
            CinderError::InvalidAuctionParams,
        );
    }
    let old = auction(&mut w).params;
    let meta = w
        .send(&[ix::update_auction(&a, &mint, good)], &[])
        .expect("update");
    let now_params = auction(&mut w).params;
    assert_eq!(now_params, good);
    let e = &events_of::<AuctionUpdated>(&meta)[0];
    assert_eq!((e.old, e.new), (old, good));
});
