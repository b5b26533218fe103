/** What the e2e test does on chain from Node: funding wallets, minting tokens, sending as a key. */
import { getTransferSolInstruction } from '@solana-program/system';
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getMintToInstruction,
} from '@solana-program/token';
import {
  appendTransactionMessageInstructions,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type KeyPairSigner,
  type Rpc,
  type Signature,
  type SolanaRpcApi,
} from '@solana/kit';
import { readFileSync } from 'node:fs';
import { explainTransactionError } from '../../../src/client';

export type E2eRpc = Rpc<SolanaRpcApi>;
export const rpcFor = (url: string): E2eRpc => createSolanaRpc(url) as unknown as E2eRpc;

export function readKeypairFile(path: string): Uint8Array {
  const bytes = JSON.parse(readFileSync(path, 'utf8')) as number[];
  if (!Array.isArray(bytes) || bytes.length !== 64) throw new Error(`${path}: not a 64-byte Solana keypair file`);
  return new Uint8Array(bytes);
}

export const signerFromFile = (path: string) => createKeyPairSignerFromBytes(readKeypairFile(path));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForSignature(rpc: E2eRpc, signature: Signature, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const st = value[0];
    if (st && (st.confirmationStatus === 'confirmed' || st.confirmationStatus === 'finalized')) {
      if (st.err) throw new Error(`transaction ${signature} failed: ${explainTransactionError(st.err).message}`);
      return;
    }
    await sleep(400);
  }
  throw new Error(`transaction ${signature} not confirmed in ${timeoutMs} ms`);
}

/** Sends `instructions` paid and signed by `payer` (plus any signers the instructions carry). */
export async function sendAs(rpc: E2eRpc, payer: KeyPairSigner, instructions: Instruction[]): Promise<Signature> {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const tx = await signTransactionMessageWithSigners(message);
  const sig = await rpc
    .sendTransaction(getBase64EncodedWireTransaction(tx), { encoding: 'base64', preflightCommitment: 'confirmed' })
    .send();
  await waitForSignature(rpc, sig);
  return sig;
}

export async function transferSol(rpc: E2eRpc, from: KeyPairSigner, to: Address, amountLamports: bigint) {
  return sendAs(rpc, from, [getTransferSolInstruction({ source: from, destination: to, amount: lamports(amountLamports) })]);
}

export async function airdrop(rpc: E2eRpc, to: Address, amountLamports: bigint) {
  const sig = await rpc.requestAirdrop(to, lamports(amountLamports), { commitment: 'confirmed' }).send();
  await waitForSignature(rpc, sig);
}

export async function ata(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const [a] = await findAssociatedTokenPda({ owner, mint, tokenProgram });
  return a;
}

/** Creates `owner`'s associated token account if needed and mints `amount` base units to it. */
export async function mintTo(
  rpc: E2eRpc,
  payer: KeyPairSigner,
  mintAuthority: KeyPairSigner,
  mint: Address,
  tokenProgram: Address,
  owner: Address,
  amount: bigint,
): Promise<Address> {
  const account = await ata(owner, mint, tokenProgram);
  await sendAs(rpc, payer, [
    getCreateAssociatedTokenIdempotentInstruction({ payer, ata: account, owner, mint, tokenProgram }),
    getMintToInstruction({ mint, token: account, mintAuthority, amount }, { programAddress: tokenProgram }),
  ]);
  return account;
}

export async function tokenBalance(rpc: E2eRpc, account: Address): Promise<bigint> {
  try {
    const { value } = await rpc.getTokenAccountBalance(account, { commitment: 'confirmed' }).send();
    return BigInt(value.amount);
  } catch {
    return 0n;
  }
}

/** Polls `probe` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
