//! Payment mints: Token-2022 extensions that could take or freeze escrowed funds are refused,
//! and a freeze authority needs the admin's explicit consent.

use cinder::errors::CinderError;
use cinder_tests::{
    assert_cinder_error, ix, on_both,
    tokens::{self, MintExt},
    world::{default_auction_params, default_market_params},
    World,
};
use solana_sdk::{pubkey::Pubkey, signer::Signer};

fn mint(w: &mut World, program: &Pubkey, freeze: bool, exts: &[MintExt]) -> Pubkey {
    let admin = w.admin.insecure_clone();
    let a = admin.pubkey();
    let freeze = freeze.then_some(a);
    tokens::create_mint(
        w.chain.as_mut(),
        &admin,
        &a,
        freeze.as_ref(),
        6,
        program,
        exts,
    )
}

on_both!(hazardous_token_2022_extensions_are_refused, |w| {
    let a = w.admin.pubkey();
    for ext in [
        MintExt::PermanentDelegate,
        MintExt::TransferFee,
        MintExt::TransferHook,
        MintExt::NonTransferable,
        MintExt::DefaultFrozen,
    ] {
        // Default-frozen accounts need a freeze authority to exist at all.
        let m = mint(
            &mut w,
            &tokens::TOKEN_2022,
            ext == MintExt::DefaultFrozen,
            &[ext],
        );
        let init = ix::init_auction(&a, &m, &tokens::TOKEN_2022, default_auction_params(), false);
        let got = w.send(&[init], &[]);
        assert!(
            matches!(
                &got,
                Err(solana_sdk::transaction::TransactionError::InstructionError(
                    _,
                    _
                ))
            ),
            "{ext:?}"
        );
        assert_cinder_error(got, CinderError::MintExtensionNotAllowed);
    }
    // A harmless extension next to a hazardous one is still refused.
    let m = mint(
        &mut w,
        &tokens::TOKEN_2022,
        false,
        &[MintExt::PermanentDelegate, MintExt::MetadataPointer],
    );
    let init = ix::init_auction(&a, &m, &tokens::TOKEN_2022, default_auction_params(), false);
    assert_cinder_error(w.send(&[init], &[]), CinderError::MintExtensionNotAllowed);
});

on_both!(harmless_token_2022_mint_is_accepted, |w| {
    let a = w.admin.pubkey();
    let m = mint(
        &mut w,
        &tokens::TOKEN_2022,
        false,
        &[MintExt::MetadataPointer],
    );
    let init = ix::init_auction(&a, &m, &tokens::TOKEN_2022, default_auction_params(), false);
    w.send(&[init], &[]).expect("init_auction");
    let create = ix::create_market(
        &a,
        3,
        &m,
        &tokens::TOKEN_2022,
        default_market_params(a),
        false,
    );
    w.send(&[create], &[]).expect("create_market");
});

on_both!(freeze_authority_needs_explicit_consent, |w| {
    let a = w.admin.pubkey();
    let m = mint(&mut w, &tokens::LEGACY, true, &[]);
    let init = ix::init_auction(&a, &m, &tokens::LEGACY, default_auction_params(), false);
    assert_cinder_error(w.send(&[init], &[]), CinderError::MintHasFreezeAuthority);
    let init = ix::init_auction(&a, &m, &tokens::LEGACY, default_auction_params(), true);
    w.send(&[init], &[]).expect("allowed explicitly");
    let create = ix::create_market(&a, 4, &m, &tokens::LEGACY, default_market_params(a), false);
    assert_cinder_error(w.send(&[create], &[]), CinderError::MintHasFreezeAuthority);
    let create = ix::create_market(&a, 4, &m, &tokens::LEGACY, default_market_params(a), true);
    w.send(&[create], &[]).expect("market allowed explicitly");
});

on_both!(mint_and_token_program_must_agree, |w| {
    let a = w.admin.pubkey();
    let m = mint(&mut w, &tokens::LEGACY, false, &[]);
    // The mint belongs to SPL Token; naming Token-2022 is refused.
    let init = ix::init_auction(&a, &m, &tokens::TOKEN_2022, default_auction_params(), false);
    assert_cinder_error(w.send(&[init], &[]), CinderError::TokenProgramMismatch);
    // A "mint" that is not a mint at all: a wallet, owned by the System program, not by the
    // token program named.
    let fake = Pubkey::new_unique();
    w.fund(&fake);
    let init = ix::init_auction(&a, &fake, &tokens::LEGACY, default_auction_params(), false);
    assert_cinder_error(w.send(&[init], &[]), CinderError::TokenProgramMismatch);
    // Owned by the token program named, but a token account, not a mint.
    let (not_a_mint, tp) = (w.client_token, w.token_program);
    let init = ix::init_auction(&a, &not_a_mint, &tp, default_auction_params(), false);
    assert_cinder_error(w.send(&[init], &[]), CinderError::InvalidMintOwner);
});
