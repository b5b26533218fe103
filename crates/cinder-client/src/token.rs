//! SPL Token / Token-2022 helpers the CLI, the migrations and the demo need around the
//! program: mints, associated token accounts, minting.

use crate::rpc::{Chain, ChainError, Sent};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

pub const TOKEN_PROGRAM: Pubkey = spl_token_interface::ID;
pub const TOKEN_2022_PROGRAM: Pubkey =
    anchor_lang::pubkey!("TokenzQdBNbLqP5VEhdkAS6EFDFNgRygD6Y3pVY1kFH");
/// A mint without extensions.
pub const MINT_LEN: usize = 82;

/// The owner's associated token account of `mint`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}

/// Creates the associated token account if it is missing (a no-op otherwise).
pub fn create_ata_ix(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    )
}

pub fn mint_to_ix(
    mint: &Pubkey,
    to: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    token_program: &Pubkey,
) -> Instruction {
    spl_token_interface::instruction::mint_to(token_program, mint, to, authority, &[], amount)
        .expect("mint_to with a valid token program id")
}

/// The instructions that create and initialise a mint at `mint` (which must sign).
pub fn create_mint_ixs(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
    rent_lamports: u64,
) -> Vec<Instruction> {
    vec![
        anchor_lang::solana_program::system_instruction::create_account(
            payer,
            mint,
            rent_lamports,
            MINT_LEN as u64,
            token_program,
        ),
        spl_token_interface::instruction::initialize_mint2(
            token_program,
            mint,
            authority,
            None,
            decimals,
        )
        .expect("initialize_mint2 with a valid token program id"),
    ]
}

/// Creates a new mint (SPL Token or Token-2022 without extensions).
pub async fn create_mint(
    chain: &Chain,
    payer: &Keypair,
    mint: &Keypair,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
) -> Result<Sent, ChainError> {
    let rent = chain
        .retry("getMinimumBalanceForRentExemption", || {
            chain.rpc().get_minimum_balance_for_rent_exemption(MINT_LEN)
        })
        .await?;
    let ixs = create_mint_ixs(
        &payer.pubkey(),
        &mint.pubkey(),
        authority,
        decimals,
        token_program,
        rent,
    );
    chain.send(&ixs, payer, &[mint]).await
}

/// Mints `amount` to `owner`'s associated account, creating it if needed; returns it.
pub async fn mint_to_owner(
    chain: &Chain,
    payer: &Keypair,
    mint_authority: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    token_program: &Pubkey,
) -> Result<Pubkey, ChainError> {
    let account = ata(owner, mint, token_program);
    let ixs = [
        create_ata_ix(&payer.pubkey(), owner, mint, token_program),
        mint_to_ix(
            mint,
            &account,
            &mint_authority.pubkey(),
            amount,
            token_program,
        ),
    ];
    chain.send(&ixs, payer, &[mint_authority]).await?;
    Ok(account)
}

/// A mint's token program (its owner) and decimals.
pub async fn mint_info(chain: &Chain, mint: &Pubkey) -> Result<Option<(Pubkey, u8)>, ChainError> {
    let acc = chain
        .retry("getAccountInfo", || {
            chain
                .rpc()
                .get_account_with_commitment(mint, chain.config().commitment)
        })
        .await?
        .value;
    Ok(acc.and_then(|a| a.data.get(44).map(|d| (a.owner, *d))))
}
