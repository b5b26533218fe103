import { findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstruction } from '@solana-program/token';
import { createNoopSigner, type Address, type Instruction } from '@solana/kit';
import { accountExists } from './queries';
import type { CinderRpc } from './connection';

export async function associatedTokenAddress(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram });
  return ata;
}

/**
 * `owner`'s associated token account for `mint`, and the instruction that creates it (paid by
 * `payer`) when it does not exist yet, so an action never fails for a missing account.
 */
export async function ensureAssociatedToken(
  rpc: CinderRpc,
  payer: Address,
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<{ address: Address; create: Instruction[] }> {
  const ata = await associatedTokenAddress(owner, mint, tokenProgram);
  if (await accountExists(rpc, ata)) return { address: ata, create: [] };
  return {
    address: ata,
    create: [
      getCreateAssociatedTokenIdempotentInstruction({ payer: createNoopSigner(payer), ata, owner, mint, tokenProgram }),
    ],
  };
}
