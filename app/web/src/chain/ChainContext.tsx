import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { AppConfig } from '../config';
import { createConnection, type Connection } from './connection';

export type ChainStatus = {
  /** null until the first answer. */
  reachable: boolean | null;
  slot: bigint | null;
  /** Unix seconds on chain ≈ Date.now()/1000 + offset (from the latest block time). */
  clockOffsetSecs: number;
  error: string | null;
  /** Whether websocket notifications work (else everything polls). */
  live: boolean;
};

export type ChainState = {
  config: AppConfig;
  connection: Connection;
  status: ChainStatus;
  /** Bumped after every confirmed transaction: data hooks refetch. */
  refreshToken: number;
  refresh: () => void;
  /** The chain's clock now, in unix seconds. */
  now: () => bigint;
  setLive: (live: boolean) => void;
};

const Ctx = createContext<ChainState | null>(null);

export function ChainProvider({
  config,
  connection: given,
  children,
}: {
  config: AppConfig;
  connection?: Connection;
  children: ReactNode;
}) {
  const connection = useMemo(() => given ?? createConnection(config), [given, config]);
  const [status, setStatus] = useState<ChainStatus>({ reachable: null, slot: null, clockOffsetSecs: 0, error: null, live: false });
  const [refreshToken, setRefreshToken] = useState(0);
  const refresh = useCallback(() => setRefreshToken((n) => n + 1), []);
  const setLive = useCallback((live: boolean) => setStatus((s) => (s.live === live ? s : { ...s, live })), []);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    let tick = 0;
    const poll = async () => {
      try {
        const slot = await connection.rpc.getSlot({ commitment: 'confirmed' }).send();
        let offset: number | undefined;
        if (tick++ % 5 === 0) {
          const t = await connection.rpc.getBlockTime(slot).send().catch(() => null);
          if (t !== null && t !== undefined) offset = Number(t) - Date.now() / 1000;
        }
        if (!stopped) {
          setStatus((s) => ({
            ...s,
            reachable: true,
            slot: BigInt(slot),
            error: null,
            clockOffsetSecs: offset ?? s.clockOffsetSecs,
          }));
        }
      } catch (e) {
        if (!stopped) setStatus((s) => ({ ...s, reachable: false, error: (e as Error).message }));
      }
      if (!stopped) timer = setTimeout(poll, config.pollMs);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [connection, config.pollMs]);

  const now = useCallback(() => BigInt(Math.floor(Date.now() / 1000 + status.clockOffsetSecs)), [status.clockOffsetSecs]);

  const value = useMemo<ChainState>(
    () => ({ config, connection, status, refreshToken, refresh, now, setLive }),
    [config, connection, status, refreshToken, refresh, now, setLive],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useChain(): ChainState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useChain outside ChainProvider');
  return v;
}
