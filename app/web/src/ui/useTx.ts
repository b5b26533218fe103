import type { Address, Instruction } from '@solana/kit';
import { useCallback, useState } from 'react';
import { useChain } from '../chain/ChainContext';
import { sendInstructions, TransactionFailed, type TxStatus } from '../chain/tx';
import { explainError } from '../client';
import { walletSignAndMaybeSend } from '../wallet/standard';
import { useWallet } from '../wallet/WalletContext';

/** One action's transaction: run(label, build) and its live status for <TxStatusView>. */
export function useTx() {
  const { connection, refresh, config } = useChain();
  const { wallet, account, chain, owner } = useWallet();
  const [status, setStatus] = useState<TxStatus>({ phase: 'idle', label: '' });

  const run = useCallback(
    async (label: string, build: (owner: Address) => Promise<Instruction[]>): Promise<boolean> => {
      if (!wallet || !account || !owner) {
        setStatus({ phase: 'failed', label, error: { message: 'Connect a wallet first' } });
        return false;
      }
      setStatus({ phase: 'simulating', label });
      try {
        const instructions = await build(owner);
        await sendInstructions(
          connection,
          { address: owner, signAndMaybeSend: (wire) => walletSignAndMaybeSend(wallet, account, chain, wire) },
          instructions,
          { pollMs: Math.min(config.pollMs, 1000), onStatus: (s) => setStatus((prev) => ({ ...prev, ...s, label })) },
        );
        refresh();
        return true;
      } catch (e) {
        const error = e instanceof TransactionFailed ? e.explained : explainError(e);
        setStatus((prev) => ({ ...prev, phase: 'failed', label, error, signature: e instanceof TransactionFailed ? e.signature : prev.signature }));
        refresh();
        return false;
      }
    },
    [wallet, account, owner, chain, connection, refresh, config.pollMs],
  );

  const busy = status.phase === 'simulating' || status.phase === 'signing' || status.phase === 'pending';
  return { status, run, busy };
}
