/**
 * The program's math the dApp previews, in bigint with the program's rounding
 * (programs/cinder/src/math, state/auction.rs); tested against the Rust functions' outputs.
 */
import { getAddressEncoder, type Address, type ReadonlyUint8Array } from '@solana/kit';
import type { Auction, StakePool, StakePosition } from './accounts';
import { BPS_DENOMINATOR, REWARD_SCALE, YEAR_SECS } from './program';

const U64_MAX = (1n << 64n) - 1n;
const BPS = BigInt(BPS_DENOMINATOR);

const ceilDiv = (n: bigint, d: bigint) => (n + d - 1n) / d;
export const bpsOfCeil = (amount: bigint, bps: number) => ceilDiv(amount * BigInt(bps), BPS);
export const bpsOfFloor = (amount: bigint, bps: number) => (amount * BigInt(bps)) / BPS;

/** amount × (1 + 3 × lock / 365 d), rounded down: a one-year lock counts 4×. */
export function weightFor(amount: bigint, lockSecs: number): bigint {
  return amount + (amount * 3n * BigInt(lockSecs)) / BigInt(YEAR_SECS);
}

/** The lock's multiplier, for display: 1 + 3 × lock / 365 d. */
export function lockMultiplier(lockSecs: number): number {
  return 1 + (3 * lockSecs) / YEAR_SECS;
}

/** What post_job escrows: price × duration, plus the verification fee (rounded up). */
export function escrowFor(pricePerSec: bigint, durationSecs: number, verificationFeeBps: number) {
  const compute = pricePerSec * BigInt(durationSecs);
  const verificationFee = bpsOfCeil(compute, verificationFeeBps);
  return { compute, verificationFee, total: compute + verificationFee };
}

/** How a job's vault is paid out at settlement (settlement_for). */
export function settlementFor(
  vaultBalance: bigint,
  pricePerSec: bigint,
  billedSecs: number,
  protocolFeeBps: number,
  verificationFeeBps: number,
) {
  const pay = pricePerSec * BigInt(billedSecs);
  const protocolFee = bpsOfCeil(pay, protocolFeeBps);
  const verificationFee = bpsOfCeil(pay, verificationFeeBps);
  return { provider: pay - protocolFee, protocolFee, verificationFee, refund: vaultBalance - pay - verificationFee };
}

function accruedRounded(weight: bigint, acc: bigint, up: boolean): bigint {
  const whole = acc / REWARD_SCALE;
  const frac = acc % REWARD_SCALE;
  const n = weight * frac;
  return weight * whole + (up ? ceilDiv(n, REWARD_SCALE) : n / REWARD_SCALE);
}
/** weight × acc / 1e18, rounded down. */
export const accrued = (weight: bigint, acc: bigint) => accruedRounded(weight, acc, false);
/** Rewards earned since the last update: accrued − debt, never negative. */
export function earned(weight: bigint, acc: bigint, debt: bigint): bigint {
  const e = accrued(weight, acc) - debt;
  return e > 0n ? e : 0n;
}
/** What claim_rewards would pay now. */
export function pendingRewards(position: StakePosition, pool: StakePool): bigint {
  return position.pendingRewards + earned(position.weight, pool.accRewardPerWeight, position.rewardDebt);
}

/** The price of the whole fee vault at `now` (Auction::price_at): linear to the floor, rounded up. */
export function auctionPriceAt(a: Auction, now: bigint): bigint {
  const floor = a.params.floorPrice;
  const period = BigInt(a.params.epochPeriodSecs);
  const diff = now - a.epochStart;
  const elapsed = diff > 0n ? diff : 0n;
  if (elapsed >= period) return floor;
  const span = a.epochInitPrice - floor;
  return floor + ceilDiv(span * (period - elapsed), period);
}

/** The next epoch's init price after a buy at `paid` (Auction::next_init_price). */
export function nextInitPrice(a: Auction, paid: bigint): bigint {
  let scaled = (paid * BigInt(a.params.priceMultiplierBps)) / BPS;
  if (scaled > U64_MAX) scaled = U64_MAX;
  return scaled > a.params.minInitPrice ? scaled : a.params.minInitPrice;
}

/** sha256(job ‖ provider ‖ result_hash): what submit_result stores as the commitment. */
export async function resultCommitment(job: Address, provider: Address, resultHash: ReadonlyUint8Array): Promise<Uint8Array> {
  const enc = getAddressEncoder();
  const buf = new Uint8Array(96);
  buf.set(enc.encode(job), 0);
  buf.set(enc.encode(provider), 32);
  buf.set(resultHash, 64);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

export async function sha256(data: ReadonlyUint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

/** Base units → decimal text ("1234.5"), without float rounding. */
export function formatUnits(amount: bigint, decimals: number, maxFraction = decimals): string {
  const neg = amount < 0n;
  const abs = neg ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  let frac = (abs % base).toString().padStart(decimals, '0').slice(0, maxFraction).replace(/0+$/, '');
  const wholeText = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (decimals === 0) frac = '';
  return `${neg ? '-' : ''}${wholeText}${frac ? `.${frac}` : ''}`;
}

/** Decimal text → base units; throws on more fraction digits than the mint has. */
export function parseUnits(text: string, decimals: number): bigint {
  const t = text.trim().replace(/,/g, '');
  const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`"${text}" is not an amount`);
  const frac = m[2] ?? '';
  if (frac.length > decimals) throw new Error(`at most ${decimals} decimal places`);
  return BigInt(m[1] || '0') * 10n ** BigInt(decimals) + BigInt((frac + '0'.repeat(decimals)).slice(0, decimals) || '0');
}
