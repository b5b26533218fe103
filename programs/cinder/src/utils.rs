//! Small CPI helpers shared by the instructions.

use crate::errors::CinderError;
use anchor_lang::{
    prelude::*,
    solana_program::{
        instruction::{AccountMeta, Instruction},
        program::invoke_signed,
        system_instruction,
    },
};
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{
        mint_close_authority::MintCloseAuthority, BaseStateWithExtensions, ExtensionType,
        StateWithExtensions,
    },
    state::Mint,
};

/// Creates a program-owned account at a PDA, also when somebody has already
/// sent lamports to that address (create_account would fail then, and
/// create-with-prefund is not enabled on every cluster): top up, allocate, assign.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let current = target.lamports();
    if current == 0 {
        invoke_signed(
            &system_instruction::create_account(payer.key, target.key, rent, space as u64, owner),
            &[payer.clone(), target.clone(), system_program.clone()],
            &[signer_seeds],
        )?;
        return Ok(());
    }
    let top_up = rent.saturating_sub(current);
    if top_up > 0 {
        invoke_signed(
            &system_instruction::transfer(payer.key, target.key, top_up),
            &[payer.clone(), target.clone(), system_program.clone()],
            &[],
        )?;
    }
    invoke_signed(
        &system_instruction::allocate(target.key, space as u64),
        &[target.clone(), system_program.clone()],
        &[signer_seeds],
    )?;
    invoke_signed(
        &system_instruction::assign(target.key, owner),
        &[target.clone(), system_program.clone()],
        &[signer_seeds],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn transfer_checked<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    decimals: u8,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    // TransferChecked { amount, decimals }: same layout in SPL Token and Token-2022.
    let mut data = Vec::with_capacity(10);
    data.push(12);
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    let ix = Instruction {
        program_id: *token_program.key,
        accounts: vec![
            AccountMeta::new(*from.key, false),
            AccountMeta::new_readonly(*mint.key, false),
            AccountMeta::new(*to.key, false),
            AccountMeta::new_readonly(*authority.key, true),
        ],
        data,
    };
    invoke(
        ix,
        &[from.clone(), mint.clone(), to.clone(), authority.clone()],
        signer_seeds,
    )
}

/// Cross-program invocation without the copies `invoke_signed` makes: the instruction is
/// moved (not cloned) into its stable layout. It also skips `invoke_signed`'s check that no
/// account is borrowed: every caller in this program drops its account borrows (zero-copy
/// loads) before a CPI, and the runtime still rejects any writable-account aliasing.
/// On the host (native tests) it is `invoke_signed`.
fn invoke(ix: Instruction, infos: &[AccountInfo], signer_seeds: &[&[&[u8]]]) -> Result<()> {
    #[cfg(target_os = "solana")]
    {
        extern "C" {
            fn sol_invoke_signed_rust(
                instruction_addr: *const u8,
                account_infos_addr: *const u8,
                account_infos_len: u64,
                signers_seeds_addr: *const u8,
                signers_seeds_len: u64,
            ) -> u64;
        }
        let ix = solana_stable_layout::stable_instruction::StableInstruction::from(ix);
        // SAFETY: the syscall reads the instruction, account infos and seeds in the stable
        // layouts the runtime defines, for the lengths given.
        let code = unsafe {
            sol_invoke_signed_rust(
                &ix as *const _ as *const u8,
                infos.as_ptr() as *const u8,
                infos.len() as u64,
                signer_seeds.as_ptr() as *const u8,
                signer_seeds.len() as u64,
            )
        };
        if code != 0 {
            return Err(
                anchor_lang::solana_program::program_error::ProgramError::from(code).into(),
            );
        }
        Ok(())
    }
    #[cfg(not(target_os = "solana"))]
    {
        invoke_signed(&ix, infos, signer_seeds)?;
        Ok(())
    }
}

/// Burns `amount` from `from` (owned by `authority`); skipped for zero.
pub fn burn<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    decimals: u8,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    // BurnChecked { amount, decimals }: same layout in SPL Token and Token-2022.
    let mut data = Vec::with_capacity(10);
    data.push(15);
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    let ix = Instruction {
        program_id: *token_program.key,
        accounts: vec![
            AccountMeta::new(*from.key, false),
            AccountMeta::new(*mint.key, false),
            AccountMeta::new_readonly(*authority.key, true),
        ],
        data,
    };
    invoke(
        ix,
        &[from.clone(), mint.clone(), authority.clone()],
        signer_seeds,
    )
}

/// Closes an empty token account owned by a PDA, rent to `destination`.
pub fn close_token_account<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    destination: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    // CloseAccount: same layout in SPL Token and Token-2022.
    let ix = Instruction {
        program_id: *token_program.key,
        accounts: vec![
            AccountMeta::new(*account.key, false),
            AccountMeta::new(*destination.key, false),
            AccountMeta::new_readonly(*authority.key, true),
        ],
        data: vec![9],
    };
    invoke(
        ix,
        &[account.clone(), destination.clone(), authority.clone()],
        signer_seeds,
    )
}

/// Creates a token account at a PDA (`address_seeds`) for `mint`, owned by `authority`.
#[allow(clippy::too_many_arguments)]
pub fn create_pda_token_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &Pubkey,
    token_program: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    address_seeds: &[&[u8]],
) -> Result<()> {
    create_pda_account(
        payer,
        account,
        system_program,
        crate::constants::TOKEN_ACCOUNT_LEN,
        token_program.key,
        address_seeds,
    )?;
    // InitializeAccount3 { owner }: same layout in SPL Token and Token-2022.
    let mut data = Vec::with_capacity(33);
    data.push(18);
    data.extend_from_slice(authority.as_ref());
    let ix = Instruction {
        program_id: *token_program.key,
        accounts: vec![
            AccountMeta::new(*account.key, false),
            AccountMeta::new_readonly(*mint.key, false),
        ],
        data,
    };
    invoke(ix, &[account.clone(), mint.clone()], &[])
}

/// Mint extensions that cannot take funds out of escrow or block its payout. A mint close
/// authority is not among them: it can close the mint once its supply is zero and create a new
/// mint at the same address with any extensions (a permanent delegate, say), which every
/// market of the old mint would then accept. It is allowed only when unset (checked below).
const SAFE_MINT_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::InterestBearingConfig,
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
    ExtensionType::ScaledUiAmount,
];

/// Accepts a payment mint only if escrow in it is safe: an allow-list of
/// Token-2022 extensions (anything else, e.g. permanent delegate, transfer
/// hook, transfer fee, non-transferable, default account state, pausable,
/// confidential transfers, is refused) and no freeze authority unless the
/// admin allows it. Returns the mint's decimals.
pub fn check_payment_mint(mint: &AccountInfo, allow_freeze_authority: bool) -> Result<u8> {
    require!(
        *mint.owner == anchor_spl::token::ID || *mint.owner == spl_token_2022::ID,
        CinderError::InvalidMintOwner
    );
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<Mint>::unpack(&data)
        .map_err(|_| error!(CinderError::InvalidMintOwner))?;
    if *mint.owner == spl_token_2022::ID {
        let extensions = state
            .get_extension_types()
            .map_err(|_| error!(CinderError::MintExtensionNotAllowed))?;
        let hazardous = |e: &&ExtensionType| match **e {
            ExtensionType::MintCloseAuthority => state
                .get_extension::<MintCloseAuthority>()
                .map_or(true, |ext| ext.close_authority.0 != Default::default()),
            other => !SAFE_MINT_EXTENSIONS.contains(&other),
        };
        if let Some(bad) = extensions.iter().find(hazardous) {
            msg!("payment mint has extension {:?}", bad);
            return err!(CinderError::MintExtensionNotAllowed);
        }
    }
    require!(
        allow_freeze_authority || state.base.freeze_authority.is_none(),
        CinderError::MintHasFreezeAuthority
    );
    Ok(state.base.decimals)
}

/// Creates a program-owned account at a PDA (prefund-tolerant, see
/// [`create_pda_account`]) and writes `value` with its discriminator.
pub fn init_program_account<'info, T: AccountSerialize>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    space: usize,
    signer_seeds: &[&[u8]],
    value: &T,
) -> Result<()> {
    create_pda_account(
        payer,
        target,
        system_program,
        space,
        &crate::ID,
        signer_seeds,
    )?;
    let mut data = target.try_borrow_mut_data()?;
    value.try_serialize(&mut &mut data[..])?;
    Ok(())
}

/// Creates a zero-copy program account at a PDA and writes its discriminator and `value`.
pub fn init_zero_copy_account<'info, T>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    value: &T,
) -> Result<()>
where
    T: bytemuck::Pod + Discriminator,
{
    let disc = T::DISCRIMINATOR;
    let body = bytemuck::bytes_of(value);
    create_pda_account(
        payer,
        target,
        system_program,
        disc.len().saturating_add(body.len()),
        &crate::ID,
        signer_seeds,
    )?;
    let mut data = target.try_borrow_mut_data()?;
    data[..disc.len()].copy_from_slice(disc);
    data[disc.len()..].copy_from_slice(body);
    Ok(())
}

/// Loads a zero-copy program account for writing, after checking its owner and
/// discriminator (what `AccountLoader` does), for accounts this instruction may have just
/// created and therefore takes unchecked.
pub fn load_zero_copy_mut<'a, T>(info: &'a AccountInfo) -> Result<core::cell::RefMut<'a, T>>
where
    T: bytemuck::Pod + Discriminator,
{
    require_keys_eq!(
        *info.owner,
        crate::ID,
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram
    );
    let data = info.try_borrow_mut_data()?;
    let disc = T::DISCRIMINATOR;
    let end = disc.len().saturating_add(core::mem::size_of::<T>());
    require!(
        data.len() >= end && &data[..disc.len()] == disc,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch
    );
    Ok(core::cell::RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[disc.len()..end])
    }))
}

/// Checks that `account` is a token account of `token_program` owned by
/// `expected_owner`, reading only the bytes needed (the mint is checked by
/// `transfer_checked`). Payout destinations of permissionless instructions
/// must pass this, or a caller could redirect the payout.
pub fn check_token_owner(
    account: &AccountInfo,
    token_program: &Pubkey,
    expected_owner: &Pubkey,
) -> Result<()> {
    require!(
        account.owner == token_program,
        CinderError::InvalidTokenAccount
    );
    let data = account.try_borrow_data()?;
    let owner = data
        .get(32..64)
        .ok_or_else(|| error!(CinderError::InvalidTokenAccount))?;
    require!(
        owner == expected_owner.as_ref(),
        CinderError::TokenOwnerMismatch
    );
    Ok(())
}

/// The balance of a token account (SPL Token and Token-2022 share the layout).
pub fn token_amount(account: &AccountInfo) -> Result<u64> {
    let data = account.try_borrow_data()?;
    let bytes: [u8; 8] = data
        .get(64..72)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| error!(CinderError::InvalidTokenAccount))?;
    Ok(u64::from_le_bytes(bytes))
}

/// Logs a label and the remaining compute units when built with `--features cu-trace`.
#[macro_export]
macro_rules! cu_trace {
    ($label:literal) => {
        #[cfg(feature = "cu-trace")]
        {
            anchor_lang::prelude::msg!($label);
            $crate::utils::log_compute_units();
        }
    };
}

/// The `sol_log_compute_units_` syscall (profiling only; see `cu_trace!`).
#[cfg(feature = "cu-trace")]
pub fn log_compute_units() {
    #[cfg(target_os = "solana")]
    {
        extern "C" {
            fn sol_log_compute_units_();
        }
        // SAFETY: a syscall without arguments that only writes to the log.
        unsafe { sol_log_compute_units_() }
    }
}

/// The decimals of a mint (byte 44 in SPL Token and Token-2022). Callers pass a mint whose
/// address is already bound (seeds or has_one); `transfer_checked` re-checks the decimals.
pub fn mint_decimals(mint: &AccountInfo) -> Result<u8> {
    let data = mint.try_borrow_data()?;
    data.get(44)
        .copied()
        .ok_or_else(|| error!(CinderError::InvalidMintOwner))
}
