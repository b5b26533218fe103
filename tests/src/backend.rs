//! Two chains behind one trait: the host-compiled program in solana-program-test,
//! and the SBF `.so` in LiteSVM.

use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::{Account, AccountSharedData},
    clock::Clock,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::path::PathBuf;

/// What a successful transaction reports.
#[derive(Debug, Clone, Default)]
pub struct TxMeta {
    /// Compute units consumed (meaningful on the SBF chain only).
    pub compute_units: u64,
    pub logs: Vec<String>,
    /// Anchor events the program emitted with `emit_cpi!` (discriminator + borsh data), in
    /// order. Filled by the native chain when `record_events` is on (it simulates the
    /// transaction first: program-test returns inner instructions only from simulation), and
    /// always by the SBF chain (from the runtime's instruction trace, see `EventTrace`).
    pub events: Vec<Vec<u8>>,
}

pub trait Chain {
    /// Sends one transaction signed by `payer` and `signers`.
    fn send(
        &mut self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<TxMeta, TransactionError>;
    fn account(&mut self, key: &Pubkey) -> Option<Account>;
    fn set_account(&mut self, key: &Pubkey, account: Account);
    fn clock(&mut self) -> Clock;
    fn set_clock(&mut self, clock: &Clock);
    /// Whether this chain runs the SBF build (compute units are real).
    fn is_sbf(&self) -> bool;
    /// Sets the SlotHashes sysvar (entries newest first).
    fn set_slot_hashes(&mut self, entries: &[(u64, [u8; 32])]);
    /// Turns event recording on (see `TxMeta::events`); false if the chain cannot.
    fn record_events(&mut self, _on: bool) -> bool {
        false
    }
    /// Every live account, or None where the chain cannot list them (program-test).
    fn all_accounts(&mut self) -> Option<Vec<(Pubkey, Account)>> {
        None
    }
    /// Remembers the whole chain state (accounts and sysvars) for `restore`; false where the
    /// chain cannot (program-test). Property tests set a world up once and restore it per case.
    fn save(&mut self) -> bool {
        false
    }
    fn restore(&mut self) {
        panic!("this chain cannot restore a saved state")
    }
    /// What the last failed transaction left to say why: its logs and, on the host build,
    /// the message of any panic inside it (program-test turns a panic in its CPI stub into
    /// `ProgramFailedToComplete`; the message is the runtime's actual reason).
    fn failure_log(&self) -> Vec<String>;
}

thread_local! {
    /// Panic messages raised on this thread since the last `take_panics`.
    static PANICS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records every panic's message on the thread it happens on (and still prints it). The host
/// chain's bank runs on the test's own thread (a current-thread runtime), so a panic inside a
/// transaction is found by the test that sent it.
fn record_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            PANICS.with(|p| p.borrow_mut().push(format!("panicked: {msg}")));
            previous(info)
        }));
    });
}

fn take_panics() -> Vec<String> {
    PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

// --- native -----------------------------------------------------------------------------

/// Anchor's `entry` ties the three arguments to one lifetime, which
/// `processor!` cannot express; leak owned copies (a few bytes per test call).
fn native_entry(
    program_id: &Pubkey,
    accounts: &[anchor_lang::prelude::AccountInfo],
    data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    let program_id: &'static Pubkey = Box::leak(Box::new(*program_id));
    let accounts: &'static [anchor_lang::prelude::AccountInfo<'static>] = Box::leak(
        unsafe { std::mem::transmute::<Vec<_>, Vec<_>>(accounts.to_vec()) }.into_boxed_slice(),
    );
    let data: &'static [u8] = Box::leak(data.to_vec().into_boxed_slice());
    cinder::entry(program_id, accounts, data)
}

pub struct NativeChain {
    rt: tokio::runtime::Runtime,
    ctx: ProgramTestContext,
    /// Makes otherwise identical transactions distinct (same blockhash).
    nonce: u32,
    record_events: bool,
    failure_log: Vec<String>,
    /// Refused blockhashes replaced in a row for the transaction being sent (bounded, so a
    /// real failure still shows).
    blockhash_refreshes: u32,
}

impl NativeChain {
    pub fn new(genesis_accounts: Vec<(Pubkey, Account)>) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut pt = ProgramTest::new("cinder", cinder::ID, processor!(native_entry));
        pt.prefer_bpf(false);
        for (k, a) in genesis_accounts {
            pt.add_account(k, a);
        }
        let ctx = rt.block_on(pt.start_with_context());
        record_panics();
        Self {
            rt,
            ctx,
            nonce: 0,
            record_events: false,
            failure_log: Vec::new(),
            blockhash_refreshes: 0,
        }
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }
}

impl Chain for NativeChain {
    fn send(
        &mut self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<TxMeta, TransactionError> {
        self.nonce += 1;
        let mut all = vec![
            anchor_lang::solana_program::instruction::Instruction::new_with_bytes(
                solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111"),
                &{
                    // SetComputeUnitLimit(1.4M − nonce): unique, never limiting.
                    let mut d = vec![2u8];
                    d.extend_from_slice(&(1_400_000 - self.nonce).to_le_bytes());
                    d
                },
                vec![],
            ),
        ];
        all.extend_from_slice(ixs);
        let mut keys: Vec<&Keypair> = vec![payer];
        keys.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != payer.pubkey()),
        );
        let blockhash = self.ctx.last_blockhash;
        let tx = Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash);
        let banks = self.ctx.banks_client.clone();
        let mut events = Vec::new();
        if self.record_events {
            let sim = self.rt.block_on(banks.simulate_transaction(tx.clone()));
            let tag = anchor_lang::event::EVENT_IX_TAG_LE;
            if let Ok(sim) = sim {
                let inner = sim.simulation_details.and_then(|d| d.inner_instructions);
                for ix in inner.into_iter().flatten().flatten() {
                    if ix.instruction.data.starts_with(tag) {
                        events.push(ix.instruction.data[tag.len()..].to_vec());
                    }
                }
            }
        }
        take_panics();
        let res = self
            .rt
            .block_on(banks.process_transaction_with_metadata(tx));
        let panics = take_panics();
        // program-test's bank moves on in real time and can refuse the blockhash taken at
        // start (BlockhashNotFound) in a long test: take a new one and send again (the refused
        // attempt changed nothing). Bounded, so a real failure still shows.
        let stale = match &res {
            Ok(r) => r.result == Err(TransactionError::BlockhashNotFound),
            Err(BanksClientError::TransactionError(e)) => *e == TransactionError::BlockhashNotFound,
            Err(_) => false,
        };
        if !stale {
            self.blockhash_refreshes = 0;
        } else if self.blockhash_refreshes < 100 {
            self.blockhash_refreshes += 1;
            let fresh = self.rt.block_on(self.ctx.get_new_latest_blockhash());
            self.ctx.last_blockhash = fresh.expect("a new blockhash from program-test");
            return self.send(ixs, payer, signers);
        }
        self.failure_log.clear();
        if let Ok(r) = &res {
            if r.result.is_err() {
                self.failure_log = r
                    .metadata
                    .as_ref()
                    .map(|m| m.log_messages.clone())
                    .unwrap_or_default();
                self.failure_log.extend(panics);
            }
        }
        match res {
            Ok(r) => match r.result {
                Ok(()) => Ok(TxMeta {
                    compute_units: r
                        .metadata
                        .as_ref()
                        .map(|m| m.compute_units_consumed)
                        .unwrap_or(0),
                    logs: r.metadata.map(|m| m.log_messages).unwrap_or_default(),
                    events,
                }),
                Err(e) => Err(e),
            },
            Err(BanksClientError::TransactionError(e)) => Err(e),
            Err(BanksClientError::SimulationError { err, .. }) => Err(err),
            Err(e) => panic!("banks client failed: {e}"),
        }
    }

    fn account(&mut self, key: &Pubkey) -> Option<Account> {
        let banks = self.ctx.banks_client.clone();
        self.rt.block_on(banks.get_account(*key)).unwrap()
    }

    fn set_account(&mut self, key: &Pubkey, account: Account) {
        self.ctx.set_account(key, &AccountSharedData::from(account));
    }

    fn clock(&mut self) -> Clock {
        let banks = self.ctx.banks_client.clone();
        self.rt.block_on(banks.get_sysvar::<Clock>()).unwrap()
    }

    fn set_clock(&mut self, clock: &Clock) {
        self.ctx.set_sysvar(clock);
    }

    fn is_sbf(&self) -> bool {
        false
    }

    fn failure_log(&self) -> Vec<String> {
        self.failure_log.clone()
    }

    fn record_events(&mut self, on: bool) -> bool {
        self.record_events = on;
        true
    }

    fn set_slot_hashes(&mut self, entries: &[(u64, [u8; 32])]) {
        let list: Vec<_> = entries
            .iter()
            .map(|(s, h)| (*s, solana_sdk::hash::Hash::new_from_array(*h)))
            .collect();
        self.ctx
            .set_sysvar(&solana_slot_hashes::SlotHashes::new(&list));
    }
}

// --- SBF ---------------------------------------------------------------------------------

/// `target/deploy/cinder.so` (built by `scripts/build-sbf.sh`), or `$CINDER_SO`.
pub fn sbf_program_path() -> PathBuf {
    if let Ok(p) = std::env::var("CINDER_SO") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/cinder.so")
}

type Key4 = solana_pubkey_v4::Pubkey;
type Account4 = solana_account_v4::Account;

fn key4(k: &Pubkey) -> Key4 {
    Key4::new_from_array(k.to_bytes())
}

fn to4(a: Account) -> Account4 {
    Account4 {
        lamports: a.lamports,
        data: a.data,
        owner: key4(&a.owner),
        executable: a.executable,
        rent_epoch: a.rent_epoch,
    }
}

fn from4(a: Account4) -> Account {
    Account {
        lamports: a.lamports,
        data: a.data,
        owner: Pubkey::new_from_array(a.owner.to_bytes()),
        executable: a.executable,
        rent_epoch: a.rent_epoch,
    }
}

/// The SBF build `cinder.so` in Mollusk (Agave 4.2's program runtime and VM), with the real
/// SPL Token and Token-2022 programs. Transactions are atomic (state is kept only on success);
/// signatures are not verified (the signer flags are), and no fees are charged.
///
/// Mollusk rather than LiteSVM 0.12: LiteSVM 0.12 runs Agave 3.1's VM, whose ELF loader knows
/// an early draft of SBPF v3 only and rejects the final v3 layout `sbpf-linker` emits.
pub struct SbfChain {
    ctx: mollusk_svm::MolluskContext<std::collections::HashMap<Key4, Account4>>,
    logs: std::rc::Rc<std::cell::RefCell<solana_svm_log_collector_v4::LogCollector>>,
    saved: Option<SbfState>,
    failure_log: Vec<String>,
    events: EventTrace,
}

/// The program's `emit_cpi!` events of the last transaction, read from the runtime's
/// instruction trace after each top-level instruction: every self-invocation of the program
/// whose data starts with Anchor's event tag. (Mollusk's own inner-instruction recording needs
/// crates that do not fit this lockfile; its inspection callback needs none.)
#[derive(Clone, Default)]
struct EventTrace(std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>>);

impl mollusk_svm::InvocationInspectCallback for EventTrace {
    fn before_invocation(
        &self,
        _: &mollusk_svm::Mollusk,
        _: &Key4,
        _: &[u8],
        _: &[solana_transaction_context_v4::instruction_accounts::InstructionAccount],
        _: &mut solana_program_runtime_v4::invoke_context::InvokeContext,
        _: bool,
    ) {
    }

    fn after_invocation(
        &self,
        _: &mollusk_svm::Mollusk,
        invoke_context: &solana_program_runtime_v4::invoke_context::InvokeContext,
        _: bool,
    ) {
        let tc = &invoke_context.transaction_context;
        let (program, tag) = (key4(&cinder::ID), anchor_lang::event::EVENT_IX_TAG_LE);
        // The trace holds the whole transaction so far: replace, never append.
        *self.0.borrow_mut() = (0..tc.get_instruction_trace_length())
            .filter_map(|i| tc.get_instruction_context_at_index_in_trace(i).ok())
            .filter(|ic| ic.get_stack_height() > 1 && ic.get_program_key() == Ok(&program))
            .filter_map(|ic| {
                ic.get_instruction_data()
                    .strip_prefix(tag)
                    .map(<[u8]>::to_vec)
            })
            .collect();
    }
}

/// The accounts and the sysvars tests change (clock, slot hashes).
type SbfState = (
    std::collections::HashMap<Key4, Account4>,
    Clock,
    Vec<(u64, solana_sdk::hash::Hash)>,
);

impl SbfChain {
    pub fn new(genesis_accounts: Vec<(Pubkey, Account)>) -> Self {
        let path = sbf_program_path();
        let elf = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the SBF build at {}: {e}. Build it with `bash scripts/build-sbf.sh`.",
                path.display()
            )
        });
        let mut mollusk = mollusk_svm::Mollusk::default();
        mollusk.add_program_with_loader_and_elf(
            &key4(&cinder::ID),
            &mollusk_svm::program::loader_keys::LOADER_V3,
            &elf,
        );
        mollusk_svm_programs_token::token::add_program(&mut mollusk);
        mollusk_svm_programs_token::token2022::add_program(&mut mollusk);
        let events = EventTrace::default();
        mollusk.invocation_inspect_callback = Box::new(events.clone());
        let logs = solana_svm_log_collector_v4::LogCollector::new_ref();
        mollusk.logger = Some(logs.clone());
        let store = genesis_accounts
            .into_iter()
            .map(|(k, a)| (key4(&k), to4(a)))
            .collect();
        Self {
            ctx: mollusk.with_context(store),
            logs,
            saved: None,
            failure_log: Vec::new(),
            events,
        }
    }

    fn take_logs(&self) -> Vec<String> {
        let mut collector = self.logs.borrow_mut();
        let logs = collector.get_recorded_content().to_vec();
        *collector = solana_svm_log_collector_v4::LogCollector::default();
        logs
    }
}

impl Chain for SbfChain {
    fn send(
        &mut self,
        ixs: &[Instruction],
        payer: &Keypair,
        _signers: &[&Keypair],
    ) -> Result<TxMeta, TransactionError> {
        self.events.0.borrow_mut().clear();
        self.failure_log.clear();
        let result = self
            .ctx
            .process_transaction_instructions(ixs, Some(&key4(&payer.pubkey())));
        let logs = self.take_logs();
        match result.raw_result {
            Ok(()) => Ok(TxMeta {
                compute_units: result.compute_units_consumed,
                logs,
                events: std::mem::take(&mut *self.events.0.borrow_mut()),
            }),
            Err(e) => {
                // Shown by the test runner only when the test fails.
                eprintln!("transaction failed: {e:?}\n  {}", logs.join("\n  "));
                self.failure_log = logs;
                Err(e)
            }
        }
    }

    fn account(&mut self, key: &Pubkey) -> Option<Account> {
        let store = self.ctx.account_store.borrow();
        store
            .get(&key4(key))
            .filter(|a| a.lamports > 0)
            .cloned()
            .map(from4)
    }

    fn set_account(&mut self, key: &Pubkey, account: Account) {
        self.ctx
            .account_store
            .borrow_mut()
            .insert(key4(key), to4(account));
    }

    fn clock(&mut self) -> Clock {
        self.ctx.mollusk.sysvars.clock.clone()
    }

    fn set_clock(&mut self, clock: &Clock) {
        self.ctx.mollusk.sysvars.clock = clock.clone();
    }

    fn record_events(&mut self, _on: bool) -> bool {
        true // always: see `EventTrace`
    }

    fn failure_log(&self) -> Vec<String> {
        self.failure_log.clone()
    }

    fn is_sbf(&self) -> bool {
        true
    }

    fn all_accounts(&mut self) -> Option<Vec<(Pubkey, Account)>> {
        let store = self.ctx.account_store.borrow();
        Some(
            store
                .iter()
                .filter(|(_, a)| a.lamports > 0)
                .map(|(k, a)| (Pubkey::new_from_array(k.to_bytes()), from4(a.clone())))
                .collect(),
        )
    }

    fn save(&mut self) -> bool {
        let store = self.ctx.account_store.borrow().clone();
        let sysvars = &self.ctx.mollusk.sysvars;
        let hashes = sysvars
            .slot_hashes
            .iter()
            .map(|(s, h)| (*s, solana_sdk::hash::Hash::new_from_array(h.to_bytes())))
            .collect();
        self.saved = Some((store, sysvars.clock.clone(), hashes));
        true
    }

    fn restore(&mut self) {
        let (store, clock, hashes) = self.saved.clone().expect("save() first");
        *self.ctx.account_store.borrow_mut() = store;
        self.ctx.mollusk.sysvars.clock = clock;
        self.ctx.mollusk.sysvars.slot_hashes = solana_slot_hashes::SlotHashes::new(&hashes);
    }

    fn set_slot_hashes(&mut self, entries: &[(u64, [u8; 32])]) {
        let list: Vec<_> = entries
            .iter()
            .map(|(s, h)| (*s, solana_sdk::hash::Hash::new_from_array(*h)))
            .collect();
        self.ctx.mollusk.sysvars.slot_hashes = solana_slot_hashes::SlotHashes::new(&list);
    }
}
