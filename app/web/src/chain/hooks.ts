/**
 * Live data: each query refetches when the chain tells it something changed (account or
 * program notifications over the websocket), after every confirmed transaction, and on a
 * polling interval (short when the websocket is unavailable, long as a safety net otherwise).
 */
import { type Address } from '@solana/kit';
import { useCallback, useEffect, useRef, useState } from 'react';
import { CINDER_PROGRAM_ADDRESS, explainError } from '../client';
import { useChain } from './ChainContext';
import type { CinderSubscriptions } from './connection';

export type Query<T> = {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  refetch: () => void;
};

/** What to listen to for changes. */
export type Watch = { accounts?: (Address | null | undefined)[]; program?: boolean };

function watchChanges(subs: CinderSubscriptions, watch: Watch, onChange: () => void, onLive: (ok: boolean) => void, signal: AbortSignal) {
  const listen = async (start: () => Promise<AsyncIterable<unknown>>) => {
    try {
      const stream = await start();
      onLive(true);
      for await (const _ of stream) {
        void _;
        onChange();
      }
    } catch {
      if (!signal.aborted) onLive(false);
    }
  };
  for (const a of watch.accounts ?? []) {
    if (!a) continue;
    void listen(() =>
      subs.accountNotifications(a, { commitment: 'confirmed', encoding: 'base64' }).subscribe({ abortSignal: signal }),
    );
  }
  if (watch.program) {
    void listen(() =>
      subs
        .programNotifications(CINDER_PROGRAM_ADDRESS, { commitment: 'confirmed', encoding: 'base64', filters: [] })
        .subscribe({ abortSignal: signal }),
    );
  }
}

export function useLiveQuery<T>(key: string, fetcher: (() => Promise<T>) | null, watch: Watch = {}): Query<T> {
  const { connection, config, refreshToken, status, setLive } = useChain();
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean; key: string }>({
    data: undefined,
    error: null,
    loading: fetcher !== null,
    key,
  });
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const [tick, setTick] = useState(0);
  const refetch = useCallback(() => setTick((t) => t + 1), []);
  const seq = useRef(0);

  // Fetch on key change, refresh token, explicit refetch.
  useEffect(() => {
    const f = fetcherRef.current;
    if (!f) {
      setState({ data: undefined, error: null, loading: false, key });
      return;
    }
    const mine = ++seq.current;
    setState((s) => (s.key === key ? { ...s, loading: s.data === undefined } : { data: undefined, error: null, loading: true, key }));
    f().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false, key }),
      (e: unknown) =>
        mine === seq.current &&
        setState((s) => ({ data: s.key === key ? s.data : undefined, error: explainError(e).message, loading: false, key })),
    );
  }, [key, refreshToken, tick]);

  // Polling: fast without the websocket, slow with it.
  useEffect(() => {
    if (!fetcher) return;
    const ms = status.live ? Math.max(config.pollMs * 5, 10_000) : config.pollMs;
    const t = setInterval(refetch, ms);
    return () => clearInterval(t);
  }, [key, status.live, config.pollMs, refetch, fetcher === null]); // eslint-disable-line react-hooks/exhaustive-deps

  // Notifications: refetch (debounced) when a watched account or the program changes.
  const watchKey = `${(watch.accounts ?? []).join(',')}|${watch.program ? 'p' : ''}`;
  useEffect(() => {
    const subs = connection.subscriptions;
    if (!subs || !fetcher || watchKey === '|') return;
    const abort = new AbortController();
    let pending: ReturnType<typeof setTimeout> | undefined;
    const onChange = () => {
      clearTimeout(pending);
      pending = setTimeout(refetch, 150);
    };
    watchChanges(subs, watch, onChange, setLive, abort.signal);
    return () => {
      clearTimeout(pending);
      abort.abort();
    };
  }, [connection, watchKey, refetch, setLive, fetcher === null]); // eslint-disable-line react-hooks/exhaustive-deps

  return { data: state.key === key ? state.data : undefined, error: state.error, loading: state.loading, refetch };
}
