/**
 * The program's events (programs/cinder/src/events.rs), emitted with `emit_cpi!`: a self-CPI
 * whose data is Anchor's event tag, the event discriminator and the borsh-encoded fields.
 */
import {
  getAddressCodec,
  getBase58Encoder,
  getBooleanCodec,
  getI64Codec,
  getStructCodec,
  getU16Codec,
  getU32Codec,
  getU64Codec,
  getU8Codec,
  type Address,
  type Codec,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { borshString, bytes, bytesEqual } from './codecs';
import { EVENT_DISCRIMINATORS } from './generated/discriminators';
import { CINDER_PROGRAM_ADDRESS, EVENT_IX_TAG_LE } from './program';
import { getAuctionParamsCodec, getConfigParamsCodec, getMarketParamsCodec } from './types';

const key = getAddressCodec;
const u64 = getU64Codec;
const i64 = getI64Codec;
const u32 = getU32Codec;
const u16 = getU16Codec;
const u8 = getU8Codec;
const bool = getBooleanCodec;
const hash = () => bytes(32);

// Codec field lists, in declaration order (borsh).
const FIELDS = {
  ConfigInitialized: [['admin', key()], ['protocolMint', key()], ['params', getConfigParamsCodec()]],
  ConfigUpdated: [['old', getConfigParamsCodec()], ['new', getConfigParamsCodec()], ['oldPaused', bool()], ['newPaused', bool()]],
  AdminProposed: [['admin', key()], ['proposed', key()]],
  AdminAccepted: [['old', key()], ['new', key()]],
  MarketCreated: [['market', key()], ['marketId', u64()], ['paymentMint', key()], ['params', getMarketParamsCodec()]],
  MarketUpdated: [['market', key()], ['old', getMarketParamsCodec()], ['new', getMarketParamsCodec()], ['oldPaused', bool()], ['newPaused', bool()]],
  AuctionInitialized: [['auction', key()], ['paymentMint', key()], ['feeVault', key()], ['params', getAuctionParamsCodec()]],
  AuctionUpdated: [['auction', key()], ['old', getAuctionParamsCodec()], ['new', getAuctionParamsCodec()]],
  AuctionBought: [['auction', key()], ['buyer', key()], ['epoch', u64()], ['price', u64()], ['amountOut', u64()], ['nextInitPrice', u64()]],
  RevenueDistributed: [['auction', key()], ['amount', u64()], ['burned', u64()], ['toStakers', u64()], ['toTreasury', u64()]],
  Burned: [['amount', u64()], ['totalBurned', u64()], ['reason', u8()]],
  ProviderRegistered: [['provider', key()], ['owner', key()], ['gpuModel', hash()], ['vramGib', u16()], ['gpuCount', u8()]],
  ProviderUpdated: [['provider', key()], ['active', bool()], ['gpuModel', hash()], ['vramGib', u16()], ['gpuCount', u8()]],
  JobPosted: [['job', key()], ['market', key()], ['client', key()], ['pricePerSec', u64()], ['maxDurationSecs', u32()], ['escrowCompute', u64()], ['escrowVerification', u64()]],
  JobExtended: [['job', key()], ['addedSecs', u32()], ['depositCompute', u64()], ['depositVerification', u64()], ['newMaxDurationSecs', u32()]],
  JobCancelled: [['job', key()], ['by', key()], ['refund', u64()]],
  JobClaimed: [['job', key()], ['provider', key()], ['deadline', i64()]],
  JobQuit: [['job', key()], ['provider', key()]],
  JobExpired: [['job', key()], ['provider', key()], ['caller', key()]],
  ResultSubmitted: [['job', key()], ['provider', key()], ['billedSecs', u32()], ['resultCommitment', hash()], ['submittedSlot', u64()], ['resultUri', borshString()]],
  JobSettled: [['job', key()], ['provider', key()], ['billedSecs', u32()], ['providerAmount', u64()], ['protocolFee', u64()], ['verificationFee', u64()], ['refund', u64()], ['accepted', bool()]],
  FeesSwept: [['market', key()], ['feeVault', key()], ['amount', u64()]],
  StakingInitialized: [['stakePool', key()], ['protocolMint', key()]],
  Staked: [['owner', key()], ['amount', u64()], ['lockSecs', u32()], ['newAmount', u64()], ['newWeight', u64()]],
  UnstakeRequested: [['owner', key()], ['amount', u64()], ['unlockAt', i64()]],
  Restaked: [['owner', key()], ['amount', u64()]],
  StakeWithdrawn: [['owner', key()], ['amount', u64()]],
  RewardsDeposited: [['depositor', key()], ['amount', u64()], ['toTreasury', bool()]],
  RewardsClaimed: [['owner', key()], ['amount', u64()]],
  Slashed: [['who', key()], ['amount', u64()], ['reward', u64()], ['burned', u64()], ['reason', u8()], ['job', key()]],
  SampleRevealed: [['job', key()], ['slot', u64()], ['sampled', bool()]],
  VerificationClaimed: [['job', key()], ['verifier', key()], ['deadline', i64()]],
  VerificationCommitted: [['job', key()], ['verifier', key()], ['commitment', hash()]],
  VerificationSubmitted: [['job', key()], ['verifier', key()], ['resultHash', hash()], ['matched', bool()], ['verifierPaid', u64()]],
  VerificationExpired: [['job', key()], ['verifier', key()], ['caller', key()]],
  DisputeResolved: [['job', key()], ['resolution', u8()], ['byArbiter', bool()]],
  JobDisputed: [['job', key()], ['bond', u64()]],
  BondPaid: [['job', key()], ['toProvider', u64()], ['toVerifier', u64()]],
  VerificationLapsed: [['job', key()]],
  VerificationEscalated: [['job', key()], ['firstVerifier', key()]],
} as const satisfies Record<EventName, readonly (readonly [string, Codec<any>])[]>;

export type EventName = keyof typeof EVENT_DISCRIMINATORS;

type FieldsOf<F extends readonly (readonly [string, Codec<any>])[]> = {
  [K in F[number] as K[0]]: K[1] extends Codec<infer T> ? T : never;
};
export type EventData = { [N in EventName]: FieldsOf<(typeof FIELDS)[N]> };
export type CinderEvent = { [N in EventName]: { name: N; data: EventData[N] } }[EventName];

const codecs = new Map<EventName, Codec<object>>();
export function getEventCodec<N extends EventName>(name: N): Codec<EventData[N]> {
  let c = codecs.get(name);
  if (!c) {
    c = getStructCodec(FIELDS[name] as unknown as [string, Codec<unknown>][]) as Codec<object>;
    codecs.set(name, c);
  }
  return c as unknown as Codec<EventData[N]>;
}

/** Discriminator + fields, as `Event::data()` in Rust. */
export function encodeEvent<N extends EventName>(name: N, data: EventData[N]): Uint8Array {
  const body = getEventCodec(name).encode(data);
  const out = new Uint8Array(8 + body.length);
  out.set(EVENT_DISCRIMINATORS[name], 0);
  out.set(body, 8);
  return out;
}

/** Decodes `Event::data()` bytes (discriminator + fields); null if not one of the program's. */
export function decodeEvent(data: ReadonlyUint8Array): CinderEvent | null {
  if (data.length < 8) return null;
  const head = data.slice(0, 8);
  for (const name of Object.keys(EVENT_DISCRIMINATORS) as EventName[]) {
    if (bytesEqual(head, EVENT_DISCRIMINATORS[name])) {
      return { name, data: getEventCodec(name).decode(data.slice(8)) } as CinderEvent;
    }
  }
  return null;
}

/** Decodes the data of an `emit_cpi!` self-CPI (event tag + event); null otherwise. */
export function decodeCpiEvent(ixData: ReadonlyUint8Array): CinderEvent | null {
  if (ixData.length < 16 || !bytesEqual(ixData.slice(0, 8), EVENT_IX_TAG_LE)) return null;
  return decodeEvent(ixData.slice(8));
}

/** The shape of a `getTransaction(..., { encoding: 'json' })` result that events come from. */
export type JsonTransaction = {
  transaction: { message: { accountKeys: readonly string[] } };
  meta: {
    innerInstructions?: readonly { instructions: readonly { programIdIndex: number; data: string }[] }[] | null;
    loadedAddresses?: { writable: readonly string[]; readonly: readonly string[] } | null;
  } | null;
};

/** Every cinder event a confirmed transaction emitted, in order. */
export function eventsOfTransaction(tx: JsonTransaction, program: Address = CINDER_PROGRAM_ADDRESS): CinderEvent[] {
  const keys = [
    ...tx.transaction.message.accountKeys,
    ...(tx.meta?.loadedAddresses?.writable ?? []),
    ...(tx.meta?.loadedAddresses?.readonly ?? []),
  ];
  const b58 = getBase58Encoder();
  const out: CinderEvent[] = [];
  for (const group of tx.meta?.innerInstructions ?? []) {
    for (const ix of group.instructions) {
      if (keys[ix.programIdIndex] !== program) continue;
      const ev = decodeCpiEvent(b58.encode(ix.data));
      if (ev) out.push(ev);
    }
  }
  return out;
}
