import { address, type Address } from '@solana/kit';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { explainError } from '../client';
import { connectWallet, disconnectWallet, discoverWallets, onWalletChange, type Chain } from './standard';

export type WalletState = {
  wallets: Wallet[];
  wallet: Wallet | null;
  account: WalletAccount | null;
  /** The connected account's address. */
  owner: Address | null;
  chain: Chain;
  connecting: boolean;
  error: string | null;
  connect: (w: Wallet) => Promise<void>;
  disconnect: () => Promise<void>;
};

const Ctx = createContext<WalletState | null>(null);

export function WalletProvider({ chain, children }: { chain: Chain; children: ReactNode }) {
  const [wallets, setWallets] = useState<Wallet[]>([]);
  const [wallet, setWallet] = useState<Wallet | null>(null);
  const [account, setAccount] = useState<WalletAccount | null>(null);
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => discoverWallets(chain, setWallets), [chain]);

  useEffect(() => {
    if (!wallet) return;
    return onWalletChange(wallet, () => {
      const still = wallet.accounts.find((a) => a.address === account?.address) ?? wallet.accounts[0] ?? null;
      setAccount(still);
    });
  }, [wallet, account]);

  const connect = useCallback(async (w: Wallet) => {
    setConnecting(true);
    setError(null);
    try {
      const accounts = await connectWallet(w);
      if (!accounts.length) throw new Error(`${w.name} shared no account`);
      setWallet(w);
      setAccount(accounts[0]);
    } catch (e) {
      setError(explainError(e).message);
    } finally {
      setConnecting(false);
    }
  }, []);

  const disconnect = useCallback(async () => {
    if (wallet) await disconnectWallet(wallet).catch(() => {});
    setWallet(null);
    setAccount(null);
  }, [wallet]);

  const value = useMemo<WalletState>(
    () => ({
      wallets,
      wallet,
      account,
      owner: account ? address(account.address) : null,
      chain,
      connecting,
      error,
      connect,
      disconnect,
    }),
    [wallets, wallet, account, chain, connecting, error, connect, disconnect],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useWallet(): WalletState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useWallet outside WalletProvider');
  return v;
}
