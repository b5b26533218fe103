/**
 * Wallet-standard discovery and use: the dApp lists every registered wallet that can connect
 * and sign Solana transactions on the configured chain, and talks to it only through the
 * standard features (`standard:connect`, `solana:signAndSendTransaction` or
 * `solana:signTransaction`, `solana:signMessage`).
 */
import {
  SolanaSignAndSendTransaction,
  SolanaSignMessage,
  SolanaSignTransaction,
  type SolanaSignAndSendTransactionFeature,
  type SolanaSignMessageFeature,
  type SolanaSignTransactionFeature,
} from '@solana/wallet-standard-features';
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import {
  StandardConnect,
  StandardDisconnect,
  StandardEvents,
  type StandardConnectFeature,
  type StandardDisconnectFeature,
  type StandardEventsFeature,
} from '@wallet-standard/features';

export type Chain = `solana:${string}`;

/** Whether a wallet can connect and sign transactions on `chain`. */
export function isUsableWallet(w: Wallet, chain: Chain): boolean {
  const f = w.features as Record<string, unknown>;
  return (
    StandardConnect in f &&
    (SolanaSignAndSendTransaction in f || SolanaSignTransaction in f) &&
    (w.chains.length === 0 || w.chains.includes(chain))
  );
}

/** The wallets registered now, and a subscription to later (un)registrations. */
export function discoverWallets(chain: Chain, onChange: (wallets: Wallet[]) => void): () => void {
  const api = getWallets();
  const emit = () => onChange(api.get().filter((w) => isUsableWallet(w, chain)));
  emit();
  const offRegister = api.on('register', emit);
  const offUnregister = api.on('unregister', emit);
  return () => {
    offRegister();
    offUnregister();
  };
}

export async function connectWallet(w: Wallet): Promise<readonly WalletAccount[]> {
  const connect = (w.features as Partial<StandardConnectFeature>)[StandardConnect];
  if (!connect) throw new Error(`${w.name} cannot connect`);
  const { accounts } = await connect.connect();
  return accounts.length ? accounts : w.accounts;
}

export async function disconnectWallet(w: Wallet): Promise<void> {
  const d = (w.features as Partial<StandardDisconnectFeature>)[StandardDisconnect];
  if (d) await d.disconnect();
}

export function onWalletChange(w: Wallet, cb: () => void): () => void {
  const ev = (w.features as Partial<StandardEventsFeature>)[StandardEvents];
  return ev ? ev.on('change', cb) : () => {};
}

export function canSignMessage(w: Wallet): boolean {
  return SolanaSignMessage in (w.features as Record<string, unknown>);
}

/**
 * Has the wallet sign a compiled transaction (wire bytes) and either send it itself
 * (`solana:signAndSendTransaction`) or return it signed for the dApp to send.
 */
export async function walletSignAndMaybeSend(
  w: Wallet,
  account: WalletAccount,
  chain: Chain,
  transaction: Uint8Array,
): Promise<{ signature: Uint8Array } | { signedTransaction: Uint8Array }> {
  const f = w.features as Partial<SolanaSignAndSendTransactionFeature & SolanaSignTransactionFeature>;
  const sendFeature = f[SolanaSignAndSendTransaction];
  if (sendFeature) {
    const [out] = await sendFeature.signAndSendTransaction({
      account,
      chain,
      transaction,
      options: { commitment: 'confirmed', preflightCommitment: 'confirmed' },
    });
    return { signature: out.signature };
  }
  const signFeature = f[SolanaSignTransaction];
  if (!signFeature) throw new Error(`${w.name} cannot sign transactions`);
  const [out] = await signFeature.signTransaction({ account, chain, transaction });
  return { signedTransaction: out.signedTransaction };
}

/** `solana:signMessage`: the ed25519 signature over `message`. */
export async function walletSignMessage(w: Wallet, account: WalletAccount, message: Uint8Array): Promise<Uint8Array> {
  const f = (w.features as Partial<SolanaSignMessageFeature>)[SolanaSignMessage];
  if (!f) throw new Error(`${w.name} cannot sign messages`);
  const [out] = await f.signMessage({ account, message });
  return out.signature;
}
