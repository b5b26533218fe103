/**
 * Reading the program's state over JSON-RPC: single accounts, getProgramAccounts with memcmp
 * filters (the Job offsets are part of the protocol), token balances, and event history
 * (the `emit_cpi!` self-CPIs in confirmed transactions).
 */
import {
  getBase58Decoder,
  getBase64Encoder,
  getAddressEncoder,
  type Address,
  type Base58EncodedBytes,
  type Signature,
} from '@solana/kit';
import {
  ACCOUNT_DISCRIMINATORS,
  CINDER_PROGRAM_ADDRESS,
  JOB_OFFSETS,
  JOB_SIZE,
  MARKET_SIZE,
  PROVIDER_SIZE,
  eventsOfTransaction,
  findConfigPda,
  findProviderPda,
  findStakePda,
  findStakePoolPda,
  getAuctionCodec,
  getConfigCodec,
  getJobCodec,
  getMarketCodec,
  getProviderCodec,
  getStakePoolCodec,
  getStakePositionCodec,
  type AccountName,
  type Auction,
  type CinderEvent,
  type Config,
  type Job,
  type JsonTransaction,
  type Market,
  type Provider,
  type StakePool,
  type StakePosition,
} from '../client';
import type { CinderRpc } from './connection';

const COMMITMENT = 'confirmed' as const;
const b58 = getBase58Decoder();
const b64 = getBase64Encoder();

export type Decoded<T> = { address: Address; data: T; lamports: bigint };

type RawAccount = { data: readonly [string, string] | unknown; lamports: bigint | number } | null;

function bytesOf(raw: RawAccount): Uint8Array | null {
  if (!raw) return null;
  const d = raw.data as readonly [string, string];
  return b64.encode(d[0]) as Uint8Array;
}

async function fetchDecoded<T>(rpc: CinderRpc, address: Address, decode: (b: Uint8Array) => T): Promise<Decoded<T> | null> {
  const { value } = await rpc.getAccountInfo(address, { encoding: 'base64', commitment: COMMITMENT }).send();
  const bytes = bytesOf(value as RawAccount);
  if (!value || !bytes || bytes.length === 0) return null;
  return { address, data: decode(bytes), lamports: BigInt(value.lamports) };
}

export const fetchConfig = async (rpc: CinderRpc) => fetchDecoded(rpc, await findConfigPda(), (b) => getConfigCodec().decode(b) as Config);
export const fetchStakePool = async (rpc: CinderRpc) => fetchDecoded(rpc, await findStakePoolPda(), (b) => getStakePoolCodec().decode(b) as StakePool);
export const fetchProvider = async (rpc: CinderRpc, owner: Address) =>
  fetchDecoded(rpc, await findProviderPda(owner), (b) => getProviderCodec().decode(b) as Provider);
export const fetchStakePosition = async (rpc: CinderRpc, owner: Address) =>
  fetchDecoded(rpc, await findStakePda(owner), (b) => getStakePositionCodec().decode(b) as StakePosition);
export const fetchJob = (rpc: CinderRpc, job: Address) => fetchDecoded(rpc, job, (b) => getJobCodec().decode(b) as Job);
export const fetchMarket = (rpc: CinderRpc, market: Address) => fetchDecoded(rpc, market, (b) => getMarketCodec().decode(b) as Market);
export const fetchAuction = (rpc: CinderRpc, auction: Address) => fetchDecoded(rpc, auction, (b) => getAuctionCodec().decode(b) as Auction);

export type Memcmp = { offset: number; bytes: Uint8Array };

/** Program accounts of one type (by discriminator), with more memcmp filters. */
export async function fetchProgramAccounts<T>(
  rpc: CinderRpc,
  kind: AccountName,
  decode: (b: Uint8Array) => T,
  more: Memcmp[] = [],
  dataSize?: number,
): Promise<Decoded<T>[]> {
  const filters = [{ offset: 0, bytes: ACCOUNT_DISCRIMINATORS[kind] }, ...more].map((f) => ({
    memcmp: { offset: BigInt(f.offset), bytes: b58.decode(f.bytes) as Base58EncodedBytes, encoding: 'base58' as const },
  }));
  const all = dataSize ? [...filters, { dataSize: BigInt(dataSize) }] : filters;
  const res = (await rpc
    .getProgramAccounts(CINDER_PROGRAM_ADDRESS, { encoding: 'base64', commitment: COMMITMENT, filters: all })
    .send()) as unknown as readonly { pubkey: Address; account: { data: [string, string]; lamports: bigint } }[];
  const out: Decoded<T>[] = [];
  for (const { pubkey, account } of res) {
    try {
      out.push({ address: pubkey, data: decode(bytesOf(account)!), lamports: BigInt(account.lamports) });
    } catch {
      // An account of an older layout: skip it rather than fail the whole list.
    }
  }
  return out;
}

const key = (a: Address) => getAddressEncoder().encode(a) as Uint8Array;

export const fetchMarkets = (rpc: CinderRpc) =>
  fetchProgramAccounts(rpc, 'Market', (b) => getMarketCodec().decode(b) as Market, [], MARKET_SIZE).then((ms) =>
    ms.sort((a, b) => (a.data.marketId < b.data.marketId ? -1 : 1)),
  );
export const fetchAuctions = (rpc: CinderRpc) => fetchProgramAccounts(rpc, 'Auction', (b) => getAuctionCodec().decode(b) as Auction);
export const fetchProviders = (rpc: CinderRpc) =>
  fetchProgramAccounts(rpc, 'Provider', (b) => getProviderCodec().decode(b) as Provider, [], PROVIDER_SIZE);

const decodeJob = (b: Uint8Array) => getJobCodec().decode(b) as Job;
export const fetchJobsOfClient = (rpc: CinderRpc, client: Address) =>
  fetchProgramAccounts(rpc, 'Job', decodeJob, [{ offset: JOB_OFFSETS.client, bytes: key(client) }], JOB_SIZE);
export const fetchJobsOfProvider = (rpc: CinderRpc, provider: Address) =>
  fetchProgramAccounts(rpc, 'Job', decodeJob, [{ offset: JOB_OFFSETS.provider, bytes: key(provider) }], JOB_SIZE);
export const fetchJobsOfMarket = (rpc: CinderRpc, market: Address, state?: number) =>
  fetchProgramAccounts(
    rpc,
    'Job',
    decodeJob,
    [
      { offset: JOB_OFFSETS.market, bytes: key(market) },
      ...(state === undefined ? [] : [{ offset: JOB_OFFSETS.state, bytes: new Uint8Array([state]) }]),
    ],
    JOB_SIZE,
  );
export const fetchOpenJobs = (rpc: CinderRpc) =>
  fetchProgramAccounts(rpc, 'Job', decodeJob, [{ offset: JOB_OFFSETS.state, bytes: new Uint8Array([0]) }], JOB_SIZE);

/**
 * A token account's balance in base units; null when it does not exist. Read from the account
 * bytes (amount at offset 64, the same in SPL Token and Token-2022) rather than
 * getTokenAccountBalance, whose "not found" is an error that RPCs word differently.
 */
export async function fetchTokenBalance(rpc: CinderRpc, tokenAccount: Address): Promise<bigint | null> {
  const { value } = await rpc.getAccountInfo(tokenAccount, { encoding: 'base64', commitment: COMMITMENT }).send();
  const bytes = bytesOf(value as RawAccount);
  if (!bytes || bytes.length < 72) return null;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(64, true);
}

export async function accountExists(rpc: CinderRpc, address: Address): Promise<boolean> {
  const { value } = await rpc.getAccountInfo(address, { encoding: 'base64', commitment: COMMITMENT, dataSlice: { offset: 0, length: 0 } }).send();
  return value !== null;
}

/** The first token account of `owner` for `mint` (the treasury's, for buys and rewards). */
export async function findTokenAccountOf(rpc: CinderRpc, owner: Address, mint: Address): Promise<Address | null> {
  const { value } = await rpc.getTokenAccountsByOwner(owner, { mint }, { encoding: 'base64', commitment: COMMITMENT }).send();
  return value.length ? (value[0].pubkey as Address) : null;
}

// Confirmed transactions never change: fetch each once.
const txCache = new Map<string, Promise<unknown>>();
function fetchTransactionCached(rpc: CinderRpc, signature: Signature): Promise<unknown> {
  let p = txCache.get(signature);
  if (!p) {
    p = rpc
      .getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0, commitment: COMMITMENT })
      .send()
      .then((tx) => {
        if (!tx) txCache.delete(signature);
        return tx;
      })
      .catch(() => {
        txCache.delete(signature);
        return null;
      });
    txCache.set(signature, p);
  }
  return p;
}

export type TimedEvent = { event: CinderEvent; signature: Signature; slot: bigint; blockTime: bigint | null };

/**
 * The program's events in the recent transactions that touched `address` (newest first).
 * Closed accounts keep their history: a settled job's address still finds its JobSettled.
 */
export async function fetchEventsOf(rpc: CinderRpc, address: Address, limit = 50): Promise<TimedEvent[]> {
  const sigs = await rpc.getSignaturesForAddress(address, { limit, commitment: COMMITMENT }).send();
  const out: TimedEvent[] = [];
  const ok = sigs.filter((s) => s.err === null);
  const txs = await Promise.all(ok.map((s) => fetchTransactionCached(rpc, s.signature)));
  ok.forEach((s, i) => {
    const tx = txs[i];
    if (!tx) return;
    for (const event of eventsOfTransaction(tx as unknown as JsonTransaction)) {
      out.push({ event, signature: s.signature, slot: BigInt(s.slot), blockTime: s.blockTime === null ? null : BigInt(s.blockTime) });
    }
  });
  return out;
}
