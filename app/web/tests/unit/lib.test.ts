import { getAddressEncoder, getBase58Encoder, type Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { endpointBase, fileUrl, manifestUrl, parseManifest, resultsMessage, signResultsRequest } from '../../src/chain/results';
import { defaultWsUrl, loadConfig } from '../../src/config';
import { formatUnits, lockMultiplier, parseUnits, pendingRewards, type StakePool, type StakePosition } from '../../src/client';
import { burnSeries, stakingApr } from '../../src/pages/EconomicsPage';
import { queuePosition } from '../../src/pages/JobsPage';
import type { Decoded, TimedEvent } from '../../src/chain/queries';
import type { Job } from '../../src/client';
import { durationText } from '../../src/ui/format';
import { TestWallet } from '../e2e/support/testWallet';
import { FakeChain } from './support/fakeRpc';
import { addr } from './support/world';

describe('amounts', () => {
  it('formats and parses base units without float rounding', () => {
    expect(formatUnits(1_234_567_890n, 6)).toBe('1,234.56789');
    expect(formatUnits(5n, 6)).toBe('0.000005');
    expect(formatUnits(0n, 9)).toBe('0');
    expect(formatUnits(18_446_744_073_709_551_615n, 9, 2)).toBe('18,446,744,073.7');
    expect(parseUnits('1,234.56789', 6)).toBe(1_234_567_890n);
    expect(parseUnits('0.000001', 6)).toBe(1n);
    expect(parseUnits('12', 0)).toBe(12n);
    expect(() => parseUnits('0.0000001', 6)).toThrow(/at most 6 decimal/);
    expect(() => parseUnits('abc', 6)).toThrow(/not an amount/);
  });
  it('names durations', () => {
    expect(durationText(45)).toBe('45 s');
    expect(durationText(3_600 * 2 + 300)).toBe('2 h 5 min');
    expect(durationText(14 * 86_400)).toBe('14 d');
    expect(lockMultiplier(365 * 86_400)).toBe(4);
  });
});

describe('config', () => {
  it('reads the RPC from the query string, derives the websocket, keeps saved settings otherwise', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null };
    expect(loadConfig('?rpc=http://127.0.0.1:9000&labels=AbC:USDC', storage)).toMatchObject({
      rpcUrl: 'http://127.0.0.1:9000',
      wsUrl: 'ws://127.0.0.1:9001',
      mintLabels: { AbC: 'USDC' },
    });
    store.set('cinder.config', JSON.stringify({ rpcUrl: 'https://rpc.example', wsUrl: 'wss://ws.example' }));
    expect(loadConfig('', storage)).toMatchObject({ rpcUrl: 'https://rpc.example', wsUrl: 'wss://ws.example', chain: 'solana:localnet' });
    expect(defaultWsUrl('https://rpc.example:443/')).toBe('wss://rpc.example');
  });
});

describe('result downloads', () => {
  it('signs "cinder-results:v2:{endpoint}/v1/jobs/{job}:{timestamp}" with the wallet and sends the three headers', async () => {
    const wallet = await TestWallet.generate(new FakeChain().connection().rpc);
    const job = addr(42);
    const headers = await signResultsRequest(
      async (m) => Buffer.from(await wallet.handle('signMessage', Buffer.from(m).toString('base64')), 'base64'),
      wallet.address,
      'https://GPU1.example.com:443/',
      job,
      1_700_000_123,
    );
    expect(headers['X-Cinder-Client']).toBe(wallet.address);
    expect(headers['X-Cinder-Timestamp']).toBe('1700000123');
    expect(wallet.requests.at(-1)?.message).toBe(`cinder-results:v2:https://gpu1.example.com/v1/jobs/${job}:1700000123`);
    // The provider's check: ed25519 over the message with the client's key.
    const pub = await crypto.subtle.importKey('raw', new Uint8Array(getAddressEncoder().encode(wallet.address)), 'Ed25519', false, ['verify']);
    const sig = new Uint8Array(getBase58Encoder().encode(headers['X-Cinder-Signature']));
    const ok = await crypto.subtle.verify('Ed25519', pub, sig, new Uint8Array(new TextEncoder().encode(resultsMessage('https://gpu1.example.com', job, 1_700_000_123))));
    expect(ok).toBe(true);
    const bad = await crypto.subtle.verify('Ed25519', pub, sig, new Uint8Array(new TextEncoder().encode(resultsMessage('https://gpu1.example.com', job, 1_700_000_124))));
    expect(bad).toBe(false);
    // Made for one provider, it does not open another's copy of the job.
    const elsewhere = await crypto.subtle.verify('Ed25519', pub, sig, new Uint8Array(new TextEncoder().encode(resultsMessage('https://gpu2.example.com', job, 1_700_000_123))));
    expect(elsewhere).toBe(false);
    expect(endpointBase('http://[::1]:8950/cinder//')).toBe('http://[::1]:8950/cinder');
  });
  it('builds the provider URLs and reads manifests of either naming', () => {
    const job = addr(1) as Address;
    expect(manifestUrl('http://h:1/', job)).toBe(`http://h:1/v1/jobs/${job}/manifest`);
    expect(fileUrl('http://h:1', job, 'out/a b.txt')).toBe(`http://h:1/v1/jobs/${job}/files/out/a%20b.txt`);
    expect(parseManifest({ result_hash: 'ab', files: [{ path: 'x', size: 3, sha256: 'cd' }] })).toMatchObject({ resultHash: 'ab', files: [{ path: 'x', size: 3, sha256: 'cd' }] });
    expect(parseManifest({ outputs: ['a', { name: 'b' }] }).files.map((f) => f.path)).toEqual(['a', 'b']);
  });
});

const job = (address: Address, price: bigint, postedAt: bigint) => ({ address, data: { pricePerSec: price, postedAt } as Job, lamports: 0n }) as Decoded<Job>;

describe('queue position', () => {
  it('ranks by price, then age', () => {
    const open = [job(addr(1), 5n, 10n), job(addr(2), 9n, 20n), job(addr(3), 5n, 5n)];
    expect(queuePosition(open, addr(2))).toEqual({ position: 1, of: 3 });
    expect(queuePosition(open, addr(3))).toEqual({ position: 2, of: 3 });
    expect(queuePosition(open, addr(1))).toEqual({ position: 3, of: 3 });
    expect(queuePosition(open, addr(4))).toBeNull();
  });
});

const ev = (name: string, data: object, blockTime: number, slot: number) =>
  ({ event: { name, data }, signature: `s${slot}`, slot: BigInt(slot), blockTime: BigInt(blockTime) }) as unknown as TimedEvent;

describe('economics math', () => {
  it('turns Burned events into a cumulative series in slot order', () => {
    const s = burnSeries([
      ev('Burned', { amount: 5n, totalBurned: 15n, reason: 1 }, 200, 20),
      ev('JobSettled', {}, 150, 15),
      ev('Burned', { amount: 10n, totalBurned: 10n, reason: 2 }, 100, 10),
    ]);
    expect(s).toEqual([
      { t: 100, v: 10 },
      { t: 200, v: 15 },
    ]);
  });
  it('annualises stakers rewards over the window and weight', () => {
    const pool = { totalWeight: 1_000_000n } as StakePool;
    const now = 1_000_000;
    const day = 86_400;
    const apr = stakingApr([ev('RevenueDistributed', { toStakers: 10_000n }, now - day, 1), ev('Staked', {}, now - 2 * day, 0)], pool, now);
    // 10 000 per 1 000 000 weight over 2 days = 1% per 2 days ≈ 182.5% a year.
    expect(apr?.base).toBeCloseTo(0.01 * (365 / 2), 6);
    expect(stakingApr([], pool, now)).toBeNull();
    expect(stakingApr([ev('RewardsDeposited', { amount: 5n, toTreasury: true }, now, 1)], pool, now)).toBeNull();
  });
  it('pending rewards = stored + accrued since the checkpoint', () => {
    const pos = { weight: 2_000n, pendingRewards: 7n, rewardDebt: 1_000n } as StakePosition;
    const pool = { accRewardPerWeight: 3n * 10n ** 18n } as StakePool;
    expect(pendingRewards(pos, pool)).toBe(7n + 6_000n - 1_000n);
  });
});
