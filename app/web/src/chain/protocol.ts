import type { Address } from '@solana/kit';
import { useEffect, useState } from 'react';
import { findConfigPda, findStakePoolPda, type Protocol } from '../client';
import { useChain } from './ChainContext';
import { useLiveQuery } from './hooks';
import { fetchAuctions, fetchConfig, fetchMarkets, fetchStakePool, findTokenAccountOf } from './queries';
import type { CinderRpc } from './connection';

/** Addresses that never change (PDAs without inputs), resolved once. */
export function useStaticPdas() {
  const [pdas, setPdas] = useState<{ config: Address; stakePool: Address } | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all([findConfigPda(), findStakePoolPda()]).then(([config, stakePool]) => live && setPdas({ config, stakePool }));
    return () => {
      live = false;
    };
  }, []);
  return pdas;
}

/** The protocol's shared state: config, staking pool, markets and auctions (live). */
export function useProtocol() {
  const { connection } = useChain();
  const rpc = connection.rpc;
  const pdas = useStaticPdas();
  const config = useLiveQuery('config', () => fetchConfig(rpc), { accounts: [pdas?.config] });
  const stakePool = useLiveQuery('stakePool', () => fetchStakePool(rpc), { accounts: [pdas?.stakePool] });
  const markets = useLiveQuery('markets', () => fetchMarkets(rpc));
  const auctions = useLiveQuery('auctions', () => fetchAuctions(rpc));
  const protocol: Protocol | null =
    config.data && stakePool.data ? { mint: config.data.data.protocolMint, tokenProgram: stakePool.data.data.tokenProgram } : null;
  return { config, stakePool, markets, auctions, protocol };
}

/** The treasury's protocol-token account (buy and distribute pay into it). */
export async function treasuryTokenAccount(rpc: CinderRpc, treasuryOwner: Address, protocolMint: Address): Promise<Address> {
  const found = await findTokenAccountOf(rpc, treasuryOwner, protocolMint);
  if (!found) throw new Error('The treasury has no protocol-token account on this chain');
  return found;
}
