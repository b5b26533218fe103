/**
 * Where the dApp connects: from the page's query string (`?rpc=…&ws=…&chain=…&labels=…`),
 * else from what the user saved in the settings bar, else a local validator's defaults.
 */
export type AppConfig = {
  rpcUrl: string;
  wsUrl: string;
  /** Wallet-standard chain id the wallet must support, e.g. `solana:localnet`. */
  chain: `solana:${string}`;
  /** Display names of mints, `{ <mint address>: "USDC" }`. */
  mintLabels: Record<string, string>;
  /** Poll interval when websocket notifications are unavailable (ms). */
  pollMs: number;
};

export const DEFAULT_RPC = 'http://127.0.0.1:8899';
const STORAGE_KEY = 'cinder.config';

/** ws(s)://host:(port+1) for http(s)://host:port, as Solana validators serve pubsub. */
export function defaultWsUrl(rpcUrl: string): string {
  try {
    const u = new URL(rpcUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (u.port) u.port = String(Number(u.port) + 1);
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'ws://127.0.0.1:8900';
  }
}

function parseLabels(text: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const [mint, label] = part.split(':');
    if (mint && label) out[mint.trim()] = label.trim();
  }
  return out;
}

export function loadConfig(search: string = globalThis.location?.search ?? '', storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): AppConfig {
  const q = new URLSearchParams(search);
  let saved: Partial<AppConfig> = {};
  try {
    saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}') as Partial<AppConfig>;
  } catch {
    saved = {};
  }
  const rpcUrl = q.get('rpc') ?? saved.rpcUrl ?? DEFAULT_RPC;
  const wsUrl = q.get('ws') ?? (q.get('rpc') ? defaultWsUrl(rpcUrl) : saved.wsUrl) ?? defaultWsUrl(rpcUrl);
  const chain = (q.get('chain') ?? saved.chain ?? 'solana:localnet') as AppConfig['chain'];
  const pollMs = Number(q.get('poll') ?? saved.pollMs ?? 3000);
  return {
    rpcUrl,
    wsUrl,
    chain,
    mintLabels: { ...(saved.mintLabels ?? {}), ...parseLabels(q.get('labels')) },
    pollMs: Number.isFinite(pollMs) && pollMs >= 250 ? pollMs : 3000,
  };
}

export function saveConfig(c: AppConfig, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage) {
  storage?.setItem(STORAGE_KEY, JSON.stringify(c));
}
