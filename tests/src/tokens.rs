//! Mints and token accounts made with the real token programs' instructions.

use crate::backend::Chain;
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{
        default_account_state, metadata_pointer, transfer_fee, transfer_hook, ExtensionType,
    },
    state::{AccountState, Mint},
};
use solana_sdk::{
    instruction::Instruction, pubkey::Pubkey, rent::Rent, signature::Keypair, signer::Signer,
};

pub const LEGACY: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = spl_token_2022::ID;

/// Token-2022 mint extensions the tests create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintExt {
    PermanentDelegate,
    TransferFee,
    TransferHook,
    NonTransferable,
    DefaultFrozen,
    /// Harmless: points at metadata.
    MetadataPointer,
}

impl MintExt {
    fn kind(self) -> ExtensionType {
        match self {
            MintExt::PermanentDelegate => ExtensionType::PermanentDelegate,
            MintExt::TransferFee => ExtensionType::TransferFeeConfig,
            MintExt::TransferHook => ExtensionType::TransferHook,
            MintExt::NonTransferable => ExtensionType::NonTransferable,
            MintExt::DefaultFrozen => ExtensionType::DefaultAccountState,
            MintExt::MetadataPointer => ExtensionType::MetadataPointer,
        }
    }

    fn init_ix(self, mint: &Pubkey, authority: &Pubkey) -> Instruction {
        let p = &TOKEN_2022;
        match self {
            MintExt::PermanentDelegate => {
                spl_token_2022::instruction::initialize_permanent_delegate(p, mint, authority)
                    .unwrap()
            }
            MintExt::TransferFee => transfer_fee::instruction::initialize_transfer_fee_config(
                p,
                mint,
                Some(authority),
                Some(authority),
                100,
                1_000_000,
            )
            .unwrap(),
            MintExt::TransferHook => transfer_hook::instruction::initialize(
                p,
                mint,
                Some(*authority),
                Some(Pubkey::new_unique()),
            )
            .unwrap(),
            MintExt::NonTransferable => {
                spl_token_2022::instruction::initialize_non_transferable_mint(p, mint).unwrap()
            }
            MintExt::DefaultFrozen => {
                default_account_state::instruction::initialize_default_account_state(
                    p,
                    mint,
                    &AccountState::Frozen,
                )
                .unwrap()
            }
            MintExt::MetadataPointer => {
                metadata_pointer::instruction::initialize(p, mint, Some(*authority), Some(*mint))
                    .unwrap()
            }
        }
    }
}

fn create_account_ix(payer: &Pubkey, new: &Pubkey, space: usize, owner: &Pubkey) -> Instruction {
    anchor_lang::solana_program::system_instruction::create_account(
        payer,
        new,
        Rent::default().minimum_balance(space),
        space as u64,
        owner,
    )
}

/// Creates a mint of `program` with `extensions` (Token-2022 only).
pub fn create_mint(
    chain: &mut dyn Chain,
    payer: &Keypair,
    authority: &Pubkey,
    freeze_authority: Option<&Pubkey>,
    decimals: u8,
    program: &Pubkey,
    extensions: &[MintExt],
) -> Pubkey {
    let mint = crate::keypair();
    let kinds: Vec<ExtensionType> = extensions.iter().map(|e| e.kind()).collect();
    let space = if kinds.is_empty() {
        82
    } else {
        ExtensionType::try_calculate_account_len::<Mint>(&kinds).unwrap()
    };
    let mut ixs = vec![create_account_ix(
        &payer.pubkey(),
        &mint.pubkey(),
        space,
        program,
    )];
    for e in extensions {
        ixs.push(e.init_ix(&mint.pubkey(), authority));
    }
    ixs.push(
        spl_token_2022::instruction::initialize_mint2(
            program,
            &mint.pubkey(),
            authority,
            freeze_authority,
            decimals,
        )
        .unwrap(),
    );
    chain.send(&ixs, payer, &[&mint]).expect("create mint");
    mint.pubkey()
}

/// Creates a token account (a fresh keypair address) for `owner`.
pub fn create_token_account(
    chain: &mut dyn Chain,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    program: &Pubkey,
) -> Pubkey {
    let account = crate::keypair();
    let ixs = [
        create_account_ix(&payer.pubkey(), &account.pubkey(), 165, program),
        spl_token_2022::instruction::initialize_account3(program, &account.pubkey(), mint, owner)
            .unwrap(),
    ];
    chain
        .send(&ixs, payer, &[&account])
        .expect("create token account");
    account.pubkey()
}

pub fn mint_to(
    chain: &mut dyn Chain,
    payer: &Keypair,
    mint: &Pubkey,
    to: &Pubkey,
    authority: &Keypair,
    amount: u64,
    program: &Pubkey,
) {
    let ix =
        spl_token_2022::instruction::mint_to(program, mint, to, &authority.pubkey(), &[], amount)
            .unwrap();
    chain.send(&[ix], payer, &[authority]).expect("mint_to");
}

/// Token balance, or 0 if the account does not exist (closed).
pub fn balance(chain: &mut dyn Chain, account: &Pubkey) -> u64 {
    match chain.account(account) {
        Some(a) if a.data.len() >= 72 => u64::from_le_bytes(a.data[64..72].try_into().unwrap()),
        _ => 0,
    }
}

pub fn supply(chain: &mut dyn Chain, mint: &Pubkey) -> u64 {
    let a = chain.account(mint).expect("mint exists");
    u64::from_le_bytes(a.data[36..44].try_into().unwrap())
}
