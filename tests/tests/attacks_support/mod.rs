//! What every attack test asserts: the attacker's transaction comes back with one exact,
//! named error, and no account changed — not a balance, not a byte of state.
#![allow(dead_code)] // each attack file uses its own part of this

use anchor_lang::error::{ErrorCode as Anchor, ERROR_CODE_OFFSET};
use cinder::errors::CinderError;
use cinder_tests::{ix, tokens, World};
use solana_sdk::{
    account::Account,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::TransactionError,
};
use std::collections::BTreeMap;

/// The error a refused transaction must fail with.
#[derive(Debug, Clone)]
pub enum Refusal {
    Cinder(CinderError),
    Anchor(Anchor),
    /// The runtime's or another program's, e.g. `PrivilegeEscalation`, or the System program's
    /// `AccountAlreadyInUse` (`Custom(0)`).
    Runtime(InstructionError),
    /// A runtime refusal whose host-build error is generic: program-test's CPI stub panics on
    /// it, which comes back as `ProgramFailedToComplete`. The SBF build must fail with `sbf`
    /// and log `sbf_says`; the host build with `ProgramFailedToComplete` and a panic saying
    /// `host_says` — the exact cause on both builds, not just "the program failed".
    Caused {
        sbf: InstructionError,
        sbf_says: &'static str,
        host_says: &'static str,
    },
}

impl From<CinderError> for Refusal {
    fn from(e: CinderError) -> Self {
        Refusal::Cinder(e)
    }
}

impl From<Anchor> for Refusal {
    fn from(e: Anchor) -> Self {
        Refusal::Anchor(e)
    }
}

impl From<InstructionError> for Refusal {
    fn from(e: InstructionError) -> Self {
        Refusal::Runtime(e)
    }
}

impl Refusal {
    /// Whether the chain's error and its failure log (see `Chain::failure_log`) are this refusal.
    fn matches(&self, got: &InstructionError, sbf: bool, log: &[String]) -> bool {
        let says = |text: &str| log.iter().any(|l| l.contains(text));
        match self {
            Refusal::Cinder(e) => *got == InstructionError::Custom(ERROR_CODE_OFFSET + *e as u32),
            Refusal::Anchor(e) => *got == InstructionError::Custom(*e as u32),
            Refusal::Runtime(e) => got == e,
            Refusal::Caused {
                sbf: e, sbf_says, ..
            } if sbf => got == e && says(sbf_says),
            Refusal::Caused { host_says, .. } => {
                *got == InstructionError::ProgramFailedToComplete && says(host_says)
            }
        }
    }
}

/// The System program's "account already in use" (`SystemError::AccountAlreadyInUse`).
pub const ALREADY_IN_USE: InstructionError = InstructionError::Custom(0);

/// Accounts as they are now. On the SBF chain that is every account there is; the host chain
/// cannot list its accounts, so there it is the world's accounts and every account `ixs` names
/// (all a transaction of `ixs` can write). `payer` is left out: on the host build it pays fees.
pub fn snapshot(
    w: &mut World,
    ixs: &[Instruction],
    payer: &Pubkey,
) -> BTreeMap<Pubkey, Option<Account>> {
    let mut keys = world_accounts(w);
    keys.extend(ixs.iter().flat_map(|i| i.accounts.iter().map(|m| m.pubkey)));
    let mut out = BTreeMap::new();
    if let Some(all) = w.chain.all_accounts() {
        out.extend(all.into_iter().map(|(k, a)| (k, Some(a))));
    }
    for k in keys {
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(k) {
            e.insert(w.chain.account(&k));
        }
    }
    out.remove(payer);
    out
}

/// The accounts the world's fixture creates.
pub fn world_accounts(w: &World) -> Vec<Pubkey> {
    let provider = w.provider.pubkey();
    vec![
        ix::config_pda(),
        ix::program_data_pda(),
        w.market,
        w.mint,
        w.protocol_mint,
        ix::auction_pda(&w.mint),
        w.fee_vault(),
        w.verify_pool(),
        w.client.pubkey(),
        w.client_token,
        provider,
        w.provider_token,
        w.provider_ptoken,
        w.treasury_ptoken,
        ix::provider_pda(&provider),
        ix::stake_pda(&provider),
        ix::stake_pool_pda(),
        ix::stake_vault_pda(),
        ix::reward_vault_pda(),
    ]
}

/// `assert_refused` as methods of the world, so that the instructions and signers passed can be
/// built from the world in the same call (`w.refused(&[ix::settle_job(&k, &w.payees())], ..)`).
pub trait Attack {
    fn refused(&mut self, ixs: &[Instruction], signers: &[&Keypair], expected: impl Into<Refusal>);
    fn refused_paid_by(
        &mut self,
        payer: &Keypair,
        ixs: &[Instruction],
        signers: &[&Keypair],
        expected: impl Into<Refusal>,
    );
}

impl Attack for World {
    #[track_caller]
    fn refused(&mut self, ixs: &[Instruction], signers: &[&Keypair], expected: impl Into<Refusal>) {
        assert_refused(self, ixs, signers, expected)
    }

    #[track_caller]
    fn refused_paid_by(
        &mut self,
        payer: &Keypair,
        ixs: &[Instruction],
        signers: &[&Keypair],
        expected: impl Into<Refusal>,
    ) {
        assert_refused_paid_by(self, payer, ixs, signers, expected)
    }
}

/// Sends `ixs` (the admin pays the fee) and asserts they fail with `expected` and change nothing.
#[track_caller]
pub fn assert_refused(
    w: &mut World,
    ixs: &[Instruction],
    signers: &[&Keypair],
    expected: impl Into<Refusal>,
) {
    let admin = w.admin.insecure_clone();
    assert_refused_paid_by(w, &admin, ixs, signers, expected)
}

/// As `assert_refused`, with `payer` paying the fee. A key that pays also signs every
/// instruction of the transaction, so tests of a missing signature pay with another key.
#[track_caller]
pub fn assert_refused_paid_by(
    w: &mut World,
    payer: &Keypair,
    ixs: &[Instruction],
    signers: &[&Keypair],
    expected: impl Into<Refusal>,
) {
    let expected = expected.into();
    let before = snapshot(w, ixs, &payer.pubkey());
    assert!(
        before.values().filter(|a| a.is_some()).count() >= 15,
        "the snapshot sees the world"
    );
    let got = w.chain.send(ixs, payer, signers);
    let (sbf, log) = (w.chain.is_sbf(), w.chain.failure_log());
    match &got {
        Err(TransactionError::InstructionError(_, e)) if expected.matches(e, sbf, &log) => {}
        other => panic!(
            "expected {expected:?}, got {other:?}; the failure said:\n  {}",
            log.join("\n  ")
        ),
    }
    let after = snapshot(w, ixs, &payer.pubkey());
    assert_unchanged(&before, &after);
}

#[track_caller]
pub fn assert_unchanged(
    before: &BTreeMap<Pubkey, Option<Account>>,
    after: &BTreeMap<Pubkey, Option<Account>>,
) {
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| format!("{k}: {:?} -> {:?}", before.get(k), after.get(k)))
        .collect();
    assert!(
        changed.is_empty(),
        "a refused transaction changed accounts:\n{}",
        changed.join("\n")
    );
}

/// A funded wallet nobody else knows.
pub fn stranger(w: &mut World) -> Keypair {
    let k = Keypair::new();
    w.fund(&k.pubkey());
    k
}

/// A payment-token account of `owner` (empty).
pub fn payment_account(w: &mut World, owner: &Pubkey) -> Pubkey {
    let (admin, mint, tp) = (w.admin.insecure_clone(), w.mint, w.token_program);
    tokens::create_token_account(w.chain.as_mut(), &admin, &mint, owner, &tp)
}

/// Mints `amount` payment tokens into `account`.
pub fn mint_payment(w: &mut World, account: &Pubkey, amount: u64) {
    let (admin, auth, mint, tp) = (
        w.admin.insecure_clone(),
        w.mint_authority.insecure_clone(),
        w.mint,
        w.token_program,
    );
    tokens::mint_to(w.chain.as_mut(), &admin, &mint, account, &auth, amount, &tp);
}

/// Sets the world's market's sampling rate.
pub fn set_verify_rate(w: &mut World, bps: u16) {
    let a = w.admin.pubkey();
    let market = w.market;
    let mut mp = cinder_tests::world::default_market_params(a);
    mp.verify_rate_bps = cinder::state::Bps(bps);
    w.send(&[ix::update_market(&a, &market, mp, false)], &[])
        .expect("update_market");
}

/// What a CPI signing for an address its seeds do not derive fails with: the runtime's
/// `PrivilegeEscalation` on the SBF build ("signer privilege escalated" in the log); on the
/// host build program-test's CPI stub panics with that error's message.
pub fn signer_escalation() -> Refusal {
    Refusal::Caused {
        sbf: InstructionError::PrivilegeEscalation,
        sbf_says: "signer privilege escalated",
        host_says: "`Err` value: PrivilegeEscalation",
    }
}

/// What a CPI signing with seeds that give no address at all (the hash is on the curve) fails
/// with: the SBF runtime aborts the program in the syscall; program-test's stub panics when
/// it derives the signer.
pub fn seeds_without_address() -> Refusal {
    Refusal::Caused {
        sbf: InstructionError::ProgramFailedToComplete,
        sbf_says: "Could not create program address with signer seeds",
        host_says: "InvalidSeeds",
    }
}

/// For the job seeds `["job", market, client, nonce]` whose canonical bump is `canonical`:
/// another valid bump below it (the seeds then give another address) and a bump with which
/// they give no address at all (the hash is on the curve).
pub fn other_job_bumps(market: &Pubkey, client: &Pubkey, nonce: u64, canonical: u8) -> (u8, u8) {
    let n = nonce.to_le_bytes();
    let derive = |b: u8| {
        let b = [b];
        let seeds: [&[u8]; 5] = [
            cinder::constants::JOB_SEED,
            market.as_ref(),
            client.as_ref(),
            &n,
            &b,
        ];
        Pubkey::create_program_address(&seeds, &cinder::ID)
    };
    let valid = (0..canonical)
        .rev()
        .find(|b| derive(*b).is_ok())
        .expect("a second valid bump");
    let invalid = (0..=u8::MAX)
        .rev()
        .find(|b| derive(*b).is_err())
        .expect("an invalid bump");
    (valid, invalid)
}
