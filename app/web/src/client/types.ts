/** Parameter structs shared by instructions, accounts and events (programs/cinder/src/state). */
import {
  getAddressCodec,
  getStructCodec,
  getU16Codec,
  getU32Codec,
  getU64Codec,
  getU8Codec,
  type Address,
  type Codec,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { borshString, bytes } from './codecs';

/** ConfigParams: 48 bytes, the same in the zero-copy Config and in borsh. */
export type ConfigParams = {
  protocolFeeBps: number;
  burnBps: number;
  stakersBps: number;
  treasuryBps: number;
  minLockSecs: number;
  maxLockSecs: number;
  /** Wallet that owns the treasury's token accounts. */
  treasury: Address;
};
export const getConfigParamsCodec = (): Codec<ConfigParams> =>
  getStructCodec([
    ['protocolFeeBps', getU16Codec()],
    ['burnBps', getU16Codec()],
    ['stakersBps', getU16Codec()],
    ['treasuryBps', getU16Codec()],
    ['minLockSecs', getU32Codec()],
    ['maxLockSecs', getU32Codec()],
    ['treasury', getAddressCodec()],
  ]);

/** MarketParams: 120 bytes, widest fields first, no padding. */
export type MarketParams = {
  minPricePerSec: bigint;
  minProviderStake: bigint;
  stakePerJob: bigint;
  maxDurationSecs: number;
  expireGraceSecs: number;
  challengeWindowSecs: number;
  verificationTimeoutSecs: number;
  minVramGib: number;
  minGpusPerJob: number;
  reserved: ReadonlyUint8Array;
  verifyRateBps: number;
  verificationFeeBps: number;
  fraudSlashBps: number;
  timeoutSlashBps: number;
  slashRewardBps: number;
  quitPenaltyBps: number;
  /** Zero-padded ASCII. */
  gpuModel: ReadonlyUint8Array;
  arbiter: Address;
};
export const getMarketParamsCodec = (): Codec<MarketParams> =>
  getStructCodec([
    ['minPricePerSec', getU64Codec()],
    ['minProviderStake', getU64Codec()],
    ['stakePerJob', getU64Codec()],
    ['maxDurationSecs', getU32Codec()],
    ['expireGraceSecs', getU32Codec()],
    ['challengeWindowSecs', getU32Codec()],
    ['verificationTimeoutSecs', getU32Codec()],
    ['minVramGib', getU16Codec()],
    ['minGpusPerJob', getU8Codec()],
    ['reserved', bytes(1)],
    ['verifyRateBps', getU16Codec()],
    ['verificationFeeBps', getU16Codec()],
    ['fraudSlashBps', getU16Codec()],
    ['timeoutSlashBps', getU16Codec()],
    ['slashRewardBps', getU16Codec()],
    ['quitPenaltyBps', getU16Codec()],
    ['gpuModel', bytes(32)],
    ['arbiter', getAddressCodec()],
  ]);

/** AuctionParams (borsh, 32 bytes). */
export type AuctionParams = {
  initPrice: bigint;
  floorPrice: bigint;
  epochPeriodSecs: number;
  priceMultiplierBps: number;
  minInitPrice: bigint;
};
export const getAuctionParamsCodec = (): Codec<AuctionParams> =>
  getStructCodec([
    ['initPrice', getU64Codec()],
    ['floorPrice', getU64Codec()],
    ['epochPeriodSecs', getU32Codec()],
    ['priceMultiplierBps', getU32Codec()],
    ['minInitPrice', getU64Codec()],
  ]);

/** ProviderInfo (register_provider / update_provider argument). */
export type ProviderInfo = {
  gpuModel: ReadonlyUint8Array;
  vramGib: number;
  gpuCount: number;
  inventoryHash: ReadonlyUint8Array;
  endpoint: string;
};
export const getProviderInfoCodec = (): Codec<ProviderInfo> =>
  getStructCodec([
    ['gpuModel', bytes(32)],
    ['vramGib', getU16Codec()],
    ['gpuCount', getU8Codec()],
    ['inventoryHash', bytes(32)],
    ['endpoint', borshString()],
  ]);
