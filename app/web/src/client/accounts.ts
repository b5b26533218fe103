/**
 * Account codecs. Zero-copy accounts (Config, Market, Job, Provider, StakePool, StakePosition)
 * are the 8-byte discriminator followed by the `repr(C)` struct (layouts pinned by const
 * asserts in programs/cinder/src/state/mod.rs); Auction is borsh (`#[account]`).
 */
import {
  getAddressCodec,
  getI64Codec,
  getStructCodec,
  getU128Codec,
  getU16Codec,
  getU32Codec,
  getU64Codec,
  getU8Codec,
  transformCodec,
  type Address,
  type Codec,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { bytes, bytesEqual, fixedText } from './codecs';
import { ACCOUNT_DISCRIMINATORS } from './generated/discriminators';
import {
  getAuctionParamsCodec,
  getConfigParamsCodec,
  getMarketParamsCodec,
  type AuctionParams,
  type ConfigParams,
  type MarketParams,
} from './types';

export type AccountName = keyof typeof ACCOUNT_DISCRIMINATORS;

export class AccountDecodeError extends Error {}

/** Prefixes the discriminator on encode; checks it (and the size) on decode. */
function withDiscriminator<T extends object>(name: AccountName, body: Codec<T>, size?: number): Codec<T> {
  const disc = ACCOUNT_DISCRIMINATORS[name];
  const full = getStructCodec([
    ['discriminator', bytes(8)],
    ['body', body],
  ]);
  const codec = transformCodec(
    full,
    (value: T) => ({ discriminator: disc, body: value }),
    (value) => value.body,
  );
  const decode = codec.decode.bind(codec);
  const read = codec.read.bind(codec);
  const check = (data: ReadonlyUint8Array, offset = 0) => {
    if (data.length - offset < (size ?? 8)) {
      throw new AccountDecodeError(`account data is ${data.length - offset} bytes, a ${name} needs ${size}`);
    }
    if (!bytesEqual(data.slice(offset, offset + 8), disc)) {
      throw new AccountDecodeError(`account is not a ${name} (discriminator mismatch)`);
    }
  };
  return {
    ...codec,
    decode: (data: ReadonlyUint8Array | Uint8Array, offset?: number) => {
      check(data, offset);
      return decode(data, offset);
    },
    read: (data: ReadonlyUint8Array | Uint8Array, offset: number) => {
      check(data, offset);
      return read(data, offset);
    },
  } as Codec<T>;
}

// --- Config ---------------------------------------------------------------------------------

export type Config = {
  admin: Address;
  pendingAdmin: Address;
  protocolMint: Address;
  params: ConfigParams;
  totalBurned: bigint;
  totalSlashed: bigint;
  paused: number;
  version: number;
  bump: number;
  reserved: ReadonlyUint8Array;
};
export const CONFIG_SIZE = 8 + 224;
export const getConfigCodec = (): Codec<Config> =>
  withDiscriminator(
    'Config',
    getStructCodec([
      ['admin', getAddressCodec()],
      ['pendingAdmin', getAddressCodec()],
      ['protocolMint', getAddressCodec()],
      ['params', getConfigParamsCodec()],
      ['totalBurned', getU64Codec()],
      ['totalSlashed', getU64Codec()],
      ['paused', getU8Codec()],
      ['version', getU8Codec()],
      ['bump', getU8Codec()],
      ['reserved', bytes(61)],
    ]),
    CONFIG_SIZE,
  );

// --- Market ---------------------------------------------------------------------------------

export type Market = {
  marketId: bigint;
  paymentMint: Address;
  paymentTokenProgram: Address;
  feeVault: Address;
  verifyPool: Address;
  params: MarketParams;
  protocolFeesAccrued: bigint;
  paymentDecimals: number;
  paused: number;
  bump: number;
  verifyPoolBump: number;
  reserved: ReadonlyUint8Array;
};
export const MARKET_SIZE = 8 + 320;
export const getMarketCodec = (): Codec<Market> =>
  withDiscriminator(
    'Market',
    getStructCodec([
      ['marketId', getU64Codec()],
      ['paymentMint', getAddressCodec()],
      ['paymentTokenProgram', getAddressCodec()],
      ['feeVault', getAddressCodec()],
      ['verifyPool', getAddressCodec()],
      ['params', getMarketParamsCodec()],
      ['protocolFeesAccrued', getU64Codec()],
      ['paymentDecimals', getU8Codec()],
      ['paused', getU8Codec()],
      ['bump', getU8Codec()],
      ['verifyPoolBump', getU8Codec()],
      ['reserved', bytes(52)],
    ]),
    MARKET_SIZE,
  );

// --- Job ------------------------------------------------------------------------------------

export type Job = {
  market: Address;
  client: Address;
  /** The provider's wallet; the default address (all zeros) while Open. */
  provider: Address;
  state: number;
  sampleStatus: number;
  bump: number;
  vaultBump: number;
  maxDurationSecs: number;
  assignedProvider: Address;
  vault: Address;
  specHash: ReadonlyUint8Array;
  specUri: ReadonlyUint8Array;
  nonce: bigint;
  pricePerSec: bigint;
  escrowCompute: bigint;
  escrowVerification: bigint;
  postedAt: bigint;
  openUntil: bigint;
  claimedAt: bigint;
  deadline: bigint;
  submittedAt: bigint;
  submittedSlot: bigint;
  stakeLocked: bigint;
  verifierClaimedAt: bigint;
  verifyDeadline: bigint;
  verifierStakeLocked: bigint;
  disputedAt: bigint;
  /** When a quit or expiry last reopened the job (0 if never); claims wait 60 s after it. */
  reopenedAt: bigint;
  // Terms fixed at post: a later market or protocol change never alters a funded job.
  stakePerJob: bigint;
  challengeWindowSecs: number;
  expireGraceSecs: number;
  verificationTimeoutSecs: number;
  billedSecs: number;
  verifierBilledSecs: number;
  protocolFeeBps: number;
  verificationFeeBps: number;
  verifyRateBps: number;
  fraudSlashBps: number;
  timeoutSlashBps: number;
  slashRewardBps: number;
  quitPenaltyBps: number;
  specUriLen: number;
  resolution: number;
  resultCommitment: ReadonlyUint8Array;
  verifier: Address;
  /** The provider that last quit the job or let it expire: it may not claim it again. */
  lastProvider: Address;
  /** Decides this job's dispute (the market's arbiter when it was posted). */
  arbiter: Address;
  /** Little-endian u64 (see `jobClientBond`). */
  clientBond: ReadonlyUint8Array;
  /** Verifier sortition: the slot races count from (LE u64, 0 = the draw slot). */
  raceOrigin: ReadonlyUint8Array;
  /** The last slot of the race the current verifier won (LE u64, 0 while none). */
  raceCloses: ReadonlyUint8Array;
  /** The current verifier's ticket (LE u128); lower wins. */
  verifierTicket: ReadonlyUint8Array;
  /** Escalation: the verifier that mismatched first, and its still-locked stake (LE u64). */
  firstVerifier: Address;
  firstVerifierStake: ReadonlyUint8Array;
  /** What the second verifier said: 0 none yet, 1 mismatched too, 2 matched, 3 nobody came. */
  verdict: number;
  /** How a re-run is compared: 0 exact, 1 tolerance, 2 none (from the job's spec). */
  verifyMode: number;
  /** 1 once the client challenged a tolerance job's first match (roles swapped). */
  challengedMatch: number;
  reserved: ReadonlyUint8Array;
  /** The current verifier's commitment to its own re-run (zero while none). */
  verifierCommitment: ReadonlyUint8Array;
};
export const JOB_SIZE = 8 + 744;
export const getJobCodec = (): Codec<Job> =>
  withDiscriminator(
    'Job',
    getStructCodec([
      ['market', getAddressCodec()],
      ['client', getAddressCodec()],
      ['provider', getAddressCodec()],
      ['state', getU8Codec()],
      ['sampleStatus', getU8Codec()],
      ['bump', getU8Codec()],
      ['vaultBump', getU8Codec()],
      ['maxDurationSecs', getU32Codec()],
      ['assignedProvider', getAddressCodec()],
      ['vault', getAddressCodec()],
      ['specHash', bytes(32)],
      ['specUri', bytes(128)],
      ['nonce', getU64Codec()],
      ['pricePerSec', getU64Codec()],
      ['escrowCompute', getU64Codec()],
      ['escrowVerification', getU64Codec()],
      ['postedAt', getI64Codec()],
      ['openUntil', getI64Codec()],
      ['claimedAt', getI64Codec()],
      ['deadline', getI64Codec()],
      ['submittedAt', getI64Codec()],
      ['submittedSlot', getU64Codec()],
      ['stakeLocked', getU64Codec()],
      ['verifierClaimedAt', getI64Codec()],
      ['verifyDeadline', getI64Codec()],
      ['verifierStakeLocked', getU64Codec()],
      ['disputedAt', getI64Codec()],
      ['reopenedAt', getI64Codec()],
      ['stakePerJob', getU64Codec()],
      ['challengeWindowSecs', getU32Codec()],
      ['expireGraceSecs', getU32Codec()],
      ['verificationTimeoutSecs', getU32Codec()],
      ['billedSecs', getU32Codec()],
      ['verifierBilledSecs', getU32Codec()],
      ['protocolFeeBps', getU16Codec()],
      ['verificationFeeBps', getU16Codec()],
      ['verifyRateBps', getU16Codec()],
      ['fraudSlashBps', getU16Codec()],
      ['timeoutSlashBps', getU16Codec()],
      ['slashRewardBps', getU16Codec()],
      ['quitPenaltyBps', getU16Codec()],
      ['specUriLen', getU8Codec()],
      ['resolution', getU8Codec()],
      ['resultCommitment', bytes(32)],
      ['verifier', getAddressCodec()],
      ['lastProvider', getAddressCodec()],
      ['arbiter', getAddressCodec()],
      ['clientBond', bytes(8)],
      ['raceOrigin', bytes(8)],
      ['raceCloses', bytes(8)],
      ['verifierTicket', bytes(16)],
      ['firstVerifier', getAddressCodec()],
      ['firstVerifierStake', bytes(8)],
      ['verdict', getU8Codec()],
      ['verifyMode', getU8Codec()],
      ['challengedMatch', getU8Codec()],
      ['reserved', bytes(1)],
      ['verifierCommitment', bytes(32)],
    ]),
    JOB_SIZE,
  );

export function jobSpecUri(job: Job): string {
  return new TextDecoder().decode(job.specUri.slice(0, Math.min(job.specUriLen, job.specUri.length)));
}
export function jobClientBond(job: Job): bigint {
  return getU64Codec().decode(job.clientBond);
}
/**
 * Until when (unix seconds) the client may challenge the verifier's match of this job, and
 * nobody may settle it (`Job::match_challenge_ends` in the program): a `tolerance` job's first,
 * unchallenged match that no dispute of the client forced is the verifier's word, open to the
 * client's challenge for the job's challenge window from the verdict. `null` otherwise.
 */
export function jobMatchChallengeEnds(job: Job): bigint | null {
  const VERIFIED = 4;
  const TOLERANCE = 1;
  const NO_KEY = '11111111111111111111111111111111';
  const open =
    job.state === VERIFIED &&
    job.verifyMode === TOLERANCE &&
    job.resolution === 0 &&
    job.firstVerifier === NO_KEY &&
    job.disputedAt !== 0n;
  return open ? job.disputedAt + BigInt(job.challengeWindowSecs) : null;
}
/** The last slot of the verifier race the job's verifier won (0 while none). */
export function jobRaceCloses(job: Job): bigint {
  return getU64Codec().decode(job.raceCloses);
}

// --- Provider -------------------------------------------------------------------------------

export type Provider = {
  owner: Address;
  status: number;
  gpuCount: number;
  vramGib: number;
  activeJobs: number;
  jobsDone: bigint;
  jobsQuit: bigint;
  jobsExpired: bigint;
  registeredAt: bigint;
  lockedStake: bigint;
  gpuModel: ReadonlyUint8Array;
  inventoryHash: ReadonlyUint8Array;
  endpoint: ReadonlyUint8Array;
  endpointLen: number;
  bump: number;
  reserved: ReadonlyUint8Array;
};
export const PROVIDER_SIZE = 8 + 328;
export const getProviderCodec = (): Codec<Provider> =>
  withDiscriminator(
    'Provider',
    getStructCodec([
      ['owner', getAddressCodec()],
      ['status', getU8Codec()],
      ['gpuCount', getU8Codec()],
      ['vramGib', getU16Codec()],
      ['activeJobs', getU32Codec()],
      ['jobsDone', getU64Codec()],
      ['jobsQuit', getU64Codec()],
      ['jobsExpired', getU64Codec()],
      ['registeredAt', getI64Codec()],
      ['lockedStake', getU64Codec()],
      ['gpuModel', bytes(32)],
      ['inventoryHash', bytes(32)],
      ['endpoint', bytes(128)],
      ['endpointLen', getU8Codec()],
      ['bump', getU8Codec()],
      ['reserved', bytes(54)],
    ]),
    PROVIDER_SIZE,
  );

export function providerEndpoint(p: Provider): string {
  return new TextDecoder().decode(p.endpoint.slice(0, Math.min(p.endpointLen, p.endpoint.length)));
}
export function gpuModelText(model: ReadonlyUint8Array): string {
  return fixedText(model);
}

// --- staking --------------------------------------------------------------------------------

export type StakePool = {
  protocolMint: Address;
  tokenProgram: Address;
  stakeVault: Address;
  rewardVault: Address;
  /** u128 stored as 16 little-endian bytes (PodU128). */
  accRewardPerWeight: bigint;
  totalWeight: bigint;
  totalStaked: bigint;
  totalRewardsDeposited: bigint;
  totalRewardsToTreasury: bigint;
  totalRewardsClaimed: bigint;
  decimals: number;
  bump: number;
  stakeVaultBump: number;
  rewardVaultBump: number;
  reserved: ReadonlyUint8Array;
};
export const STAKE_POOL_SIZE = 8 + 248;
export const getStakePoolCodec = (): Codec<StakePool> =>
  withDiscriminator(
    'StakePool',
    getStructCodec([
      ['protocolMint', getAddressCodec()],
      ['tokenProgram', getAddressCodec()],
      ['stakeVault', getAddressCodec()],
      ['rewardVault', getAddressCodec()],
      ['accRewardPerWeight', getU128Codec()],
      ['totalWeight', getU64Codec()],
      ['totalStaked', getU64Codec()],
      ['totalRewardsDeposited', getU64Codec()],
      ['totalRewardsToTreasury', getU64Codec()],
      ['totalRewardsClaimed', getU64Codec()],
      ['decimals', getU8Codec()],
      ['bump', getU8Codec()],
      ['stakeVaultBump', getU8Codec()],
      ['rewardVaultBump', getU8Codec()],
      ['reserved', bytes(60)],
    ]),
    STAKE_POOL_SIZE,
  );

export type StakePosition = {
  owner: Address;
  amount: bigint;
  weight: bigint;
  unbonding: bigint;
  unlockAt: bigint;
  pendingRewards: bigint;
  rewardDebt: bigint;
  lockSecs: number;
  bump: number;
  pad: ReadonlyUint8Array;
  /** The slot active stake last grew: it races only for verifier races seeded after it. */
  grewSlot: bigint;
  reserved: ReadonlyUint8Array;
};
export const STAKE_POSITION_SIZE = 8 + 128;
export const getStakePositionCodec = (): Codec<StakePosition> =>
  withDiscriminator(
    'StakePosition',
    getStructCodec([
      ['owner', getAddressCodec()],
      ['amount', getU64Codec()],
      ['weight', getU64Codec()],
      ['unbonding', getU64Codec()],
      ['unlockAt', getI64Codec()],
      ['pendingRewards', getU64Codec()],
      ['rewardDebt', getU128Codec()],
      ['lockSecs', getU32Codec()],
      ['bump', getU8Codec()],
      ['pad', bytes(3)],
      ['grewSlot', getU64Codec()],
      ['reserved', bytes(24)],
    ]),
    STAKE_POSITION_SIZE,
  );

// --- Auction (borsh) ------------------------------------------------------------------------

export type Auction = {
  paymentMint: Address;
  paymentTokenProgram: Address;
  feeVault: Address;
  params: AuctionParams;
  epoch: bigint;
  epochStart: bigint;
  epochInitPrice: bigint;
  totalPaid: bigint;
  totalSold: bigint;
  lastPrice: bigint;
  bump: number;
  feeVaultBump: number;
  reserved: ReadonlyUint8Array;
};
export const AUCTION_SIZE = 8 + 218;
export const getAuctionCodec = (): Codec<Auction> =>
  withDiscriminator(
    'Auction',
    getStructCodec([
      ['paymentMint', getAddressCodec()],
      ['paymentTokenProgram', getAddressCodec()],
      ['feeVault', getAddressCodec()],
      ['params', getAuctionParamsCodec()],
      ['epoch', getU64Codec()],
      ['epochStart', getI64Codec()],
      ['epochInitPrice', getU64Codec()],
      ['totalPaid', getU64Codec()],
      ['totalSold', getU64Codec()],
      ['lastPrice', getU64Codec()],
      ['bump', getU8Codec()],
      ['feeVaultBump', getU8Codec()],
      ['reserved', bytes(40)],
    ]),
    AUCTION_SIZE,
  );

export const ACCOUNT_CODECS = {
  Config: getConfigCodec,
  Market: getMarketCodec,
  Job: getJobCodec,
  Provider: getProviderCodec,
  StakePool: getStakePoolCodec,
  StakePosition: getStakePositionCodec,
  Auction: getAuctionCodec,
} as const satisfies { [N in AccountName]: () => Codec<AccountTypes[N]> };

export type AccountTypes = {
  Config: Config;
  Market: Market;
  Job: Job;
  Provider: Provider;
  StakePool: StakePool;
  StakePosition: StakePosition;
  Auction: Auction;
};

/** Which account type these bytes hold (by discriminator), if any of the program's. */
export function identifyAccount(data: ReadonlyUint8Array): AccountName | null {
  for (const [name, disc] of Object.entries(ACCOUNT_DISCRIMINATORS)) {
    if (data.length >= 8 && bytesEqual(data.slice(0, 8), disc)) return name as AccountName;
  }
  return null;
}
