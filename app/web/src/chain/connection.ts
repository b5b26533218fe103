import {
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  type Rpc,
  type RpcSubscriptions,
  type SolanaRpcApi,
  type SolanaRpcSubscriptionsApi,
} from '@solana/kit';
import type { AppConfig } from '../config';

export type CinderRpc = Rpc<SolanaRpcApi>;
export type CinderSubscriptions = RpcSubscriptions<SolanaRpcSubscriptionsApi>;

/** An RPC client and (where a websocket URL works) a subscriptions client. */
export type Connection = {
  rpc: CinderRpc;
  /** null when no websocket can be opened; the dApp then polls. */
  subscriptions: CinderSubscriptions | null;
  rpcUrl: string;
};

export function createConnection(config: Pick<AppConfig, 'rpcUrl' | 'wsUrl'>): Connection {
  const rpc = createSolanaRpc(config.rpcUrl) as unknown as CinderRpc;
  let subscriptions: CinderSubscriptions | null = null;
  try {
    subscriptions = createSolanaRpcSubscriptions(config.wsUrl) as unknown as CinderSubscriptions;
  } catch {
    subscriptions = null;
  }
  return { rpc, subscriptions, rpcUrl: config.rpcUrl };
}
