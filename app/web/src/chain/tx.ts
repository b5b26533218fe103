/**
 * Sending a transaction through the connected wallet, with every step visible: the dApp first
 * simulates (so a program error is shown in plain words before the wallet is asked), then the
 * wallet signs (and sends, where it can), then the dApp waits for confirmation through a
 * signature subscription with polling as fallback.
 */
import {
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  getBase58Decoder,
  getBase64Decoder,
  getBase64EncodedWireTransaction,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Base64EncodedWireTransaction,
  type Instruction,
  type Signature,
} from '@solana/kit';
import { explainError, explainTransactionError, type Explained } from '../client';
import type { Connection } from './connection';

export type TxPhase = 'idle' | 'simulating' | 'signing' | 'pending' | 'confirmed' | 'failed';
export type TxStatus = {
  phase: TxPhase;
  label: string;
  signature?: Signature;
  error?: Explained;
};

export class TransactionFailed extends Error {
  constructor(
    readonly explained: Explained,
    readonly signature?: Signature,
  ) {
    super(explained.message);
  }
}

/** What signs: a wallet-standard wallet behind `walletSignAndMaybeSend`, or a test double. */
export type TxSigner = {
  address: Address;
  signAndMaybeSend(wire: Uint8Array): Promise<{ signature: Uint8Array } | { signedTransaction: Uint8Array }>;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export type SendOptions = {
  pollMs?: number;
  /** Give up waiting after this long (the blockhash expiry usually comes first). */
  timeoutMs?: number;
  onStatus?: (s: Partial<TxStatus> & { phase: TxPhase }) => void;
};

export async function sendInstructions(
  conn: Connection,
  signer: TxSigner,
  instructions: readonly Instruction[],
  opts: SendOptions = {},
): Promise<Signature> {
  const { rpc } = conn;
  const report = opts.onStatus ?? (() => {});
  report({ phase: 'simulating' });
  let wire: Uint8Array;
  let lastValidBlockHeight: bigint;
  try {
    const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
    lastValidBlockHeight = BigInt(blockhash.lastValidBlockHeight);
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(signer.address, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const tx = compileTransaction(message);
    wire = getTransactionEncoder().encode(tx) as Uint8Array;
    const sim = await rpc
      .simulateTransaction(getBase64EncodedWireTransaction(tx), {
        encoding: 'base64',
        sigVerify: false,
        replaceRecentBlockhash: true,
        commitment: 'confirmed',
      })
      .send();
    if (sim.value.err) {
      throw new TransactionFailed(explainTransactionError(sim.value.err, sim.value.logs ?? undefined));
    }
  } catch (e) {
    if (e instanceof TransactionFailed) throw e;
    throw new TransactionFailed(explainError(e));
  }

  report({ phase: 'signing' });
  let signature: Signature;
  try {
    const out = await signer.signAndMaybeSend(wire);
    if ('signature' in out) {
      signature = getBase58Decoder().decode(out.signature) as Signature;
    } else {
      const b64 = getBase64Decoder().decode(out.signedTransaction) as Base64EncodedWireTransaction;
      signature = await rpc.sendTransaction(b64, { encoding: 'base64', preflightCommitment: 'confirmed' }).send();
    }
  } catch (e) {
    throw new TransactionFailed(explainError(e));
  }

  report({ phase: 'pending', signature });
  const err = await waitForConfirmation(conn, signature, lastValidBlockHeight, opts);
  if (err !== null) {
    const tx = await rpc
      .getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
      .send()
      .catch(() => null);
    throw new TransactionFailed(explainTransactionError(err, tx?.meta?.logMessages ?? undefined), signature);
  }
  report({ phase: 'confirmed', signature });
  return signature;
}

/** null once confirmed without error; the transaction error otherwise. Throws on expiry. */
export async function waitForConfirmation(
  conn: Connection,
  signature: Signature,
  lastValidBlockHeight: bigint,
  opts: Pick<SendOptions, 'pollMs' | 'timeoutMs'> = {},
): Promise<unknown> {
  const { rpc, subscriptions } = conn;
  const pollMs = opts.pollMs ?? 1000;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const abort = new AbortController();
  const notify: { resolve: (v: unknown) => void } = { resolve: () => {} };
  const notification = new Promise<unknown>((resolve) => (notify.resolve = resolve));
  if (subscriptions) {
    (async () => {
      try {
        const stream = await subscriptions
          .signatureNotifications(signature, { commitment: 'confirmed' })
          .subscribe({ abortSignal: abort.signal });
        for await (const n of stream) {
          notify.resolve({ err: (n.value as { err: unknown }).err });
          break;
        }
      } catch {
        // No websocket: the polling below decides.
      }
    })();
  }
  try {
    for (;;) {
      const { value } = await rpc.getSignatureStatuses([signature]).send();
      const st = value[0];
      if (st && (st.confirmationStatus === 'confirmed' || st.confirmationStatus === 'finalized')) return st.err ?? null;
      if (Date.now() > deadline) throw new TransactionFailed({ message: 'No confirmation in time; check the chain and try again' }, signature);
      const height = await rpc.getBlockHeight({ commitment: 'confirmed' }).send();
      if (BigInt(height) > lastValidBlockHeight) {
        throw new TransactionFailed({ message: 'The transaction expired before it was confirmed; try again', name: 'Expired' }, signature);
      }
      const raced = await Promise.race([notification, sleep(pollMs, abort.signal).then(() => undefined)]);
      if (raced && typeof raced === 'object' && 'err' in raced) return (raced as { err: unknown }).err ?? null;
    }
  } finally {
    abort.abort();
  }
}
