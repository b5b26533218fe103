/** A small protocol state for component tests, encoded with the (Rust-checked) codecs. */
import { address, getAddressDecoder, type Address } from '@solana/kit';
import {
  CINDER_PROGRAM_ADDRESS,
  TOKEN_PROGRAM_ADDRESS,
  findAuctionPda,
  findConfigPda,
  findFeeVaultPda,
  findJobPda,
  findJobVaultPda,
  findMarketPda,
  findStakePoolPda,
  findVerifyPoolPda,
  getAuctionCodec,
  getConfigCodec,
  getJobCodec,
  getMarketCodec,
  getStakePoolCodec,
  toFixedAscii,
  type Job,
  type Market,
} from '../../../src/client';
import { FakeChain } from './fakeRpc';

export const ZERO = address('11111111111111111111111111111111');
/** A distinct address per number. */
export const addr = (n: number): Address => getAddressDecoder().decode(new Uint8Array(32).fill(n));
export const PROTOCOL_MINT = addr(201);
export const USDC = addr(202);
export const TREASURY = addr(203);

const zeros = (n: number) => new Uint8Array(n);

export function marketParams(over: Partial<Market['params']> = {}): Market['params'] {
  return {
    minPricePerSec: 1_000n,
    minProviderStake: 1_000_000n,
    stakePerJob: 100_000n,
    maxDurationSecs: 86_400,
    expireGraceSecs: 60,
    challengeWindowSecs: 600,
    verificationTimeoutSecs: 3600,
    minVramGib: 24,
    minGpusPerJob: 1,
    reserved: zeros(1),
    verifyRateBps: 500,
    verificationFeeBps: 600,
    fraudSlashBps: 2000,
    timeoutSlashBps: 100,
    slashRewardBps: 5000,
    quitPenaltyBps: 0,
    gpuModel: toFixedAscii('NVIDIA H100 80GB HBM3', 32),
    arbiter: ZERO,
    ...over,
  };
}

export async function protocolWorld(chain: FakeChain, opts: { totalBurned?: bigint } = {}) {
  const config = await findConfigPda();
  chain.setAccount(config, {
    owner: CINDER_PROGRAM_ADDRESS,
    data: getConfigCodec().encode({
      admin: TREASURY,
      pendingAdmin: ZERO,
      protocolMint: PROTOCOL_MINT,
      params: { protocolFeeBps: 500, burnBps: 5000, stakersBps: 4000, treasuryBps: 1000, minLockSecs: 14 * 86_400, maxLockSecs: 365 * 86_400, treasury: TREASURY },
      totalBurned: opts.totalBurned ?? 0n,
      totalSlashed: 0n,
      paused: 0,
      version: 1,
      bump: 255,
      reserved: zeros(61),
    }) as Uint8Array,
  });
  const stakePool = await findStakePoolPda();
  chain.setAccount(stakePool, {
    owner: CINDER_PROGRAM_ADDRESS,
    data: getStakePoolCodec().encode({
      protocolMint: PROTOCOL_MINT,
      tokenProgram: TOKEN_PROGRAM_ADDRESS,
      stakeVault: ZERO,
      rewardVault: ZERO,
      accRewardPerWeight: 0n,
      totalWeight: 0n,
      totalStaked: 0n,
      totalRewardsDeposited: 0n,
      totalRewardsToTreasury: 0n,
      totalRewardsClaimed: 0n,
      decimals: 6,
      bump: 255,
      stakeVaultBump: 255,
      rewardVaultBump: 255,
      reserved: zeros(60),
    }) as Uint8Array,
  });
  const market = await findMarketPda(1n);
  const feeVault = await findFeeVaultPda(USDC);
  chain.setAccount(market, {
    owner: CINDER_PROGRAM_ADDRESS,
    data: getMarketCodec().encode({
      marketId: 1n,
      paymentMint: USDC,
      paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
      feeVault,
      verifyPool: await findVerifyPoolPda(market),
      params: marketParams(),
      protocolFeesAccrued: 0n,
      paymentDecimals: 6,
      paused: 0,
      bump: 255,
      verifyPoolBump: 255,
      reserved: zeros(52),
    }) as Uint8Array,
  });
  const auction = await findAuctionPda(USDC);
  chain.setAccount(auction, {
    owner: CINDER_PROGRAM_ADDRESS,
    data: getAuctionCodec().encode({
      paymentMint: USDC,
      paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
      feeVault,
      params: { initPrice: 1_000_000_000n, floorPrice: 1_000_000n, epochPeriodSecs: 86_400, priceMultiplierBps: 20_000, minInitPrice: 10_000_000n },
      epoch: 0n,
      epochStart: BigInt(chain.unixTime - 43_200),
      epochInitPrice: 1_000_000_000n,
      totalPaid: 0n,
      totalSold: 0n,
      lastPrice: 0n,
      bump: 255,
      feeVaultBump: 255,
      reserved: zeros(40),
    }) as Uint8Array,
  });
  chain.setTokenAccount(feeVault, USDC, auction, 2_500_000n);
  return { config, stakePool, market, auction, feeVault };
}

export async function addJob(chain: FakeChain, market: Address, client: Address, nonce: bigint, over: Partial<Job> = {}) {
  const [job, bump] = await findJobPda(market, client, nonce);
  const [vault, vaultBump] = await findJobVaultPda(job);
  const uri = new TextEncoder().encode('https://specs.example/job.json');
  const specUri = new Uint8Array(128);
  specUri.set(uri);
  const data: Job = {
    market,
    client,
    provider: ZERO,
    state: 0,
    sampleStatus: 0,
    bump,
    vaultBump,
    maxDurationSecs: 600,
    assignedProvider: ZERO,
    vault,
    specHash: zeros(32),
    specUri,
    nonce,
    pricePerSec: 1_000n,
    escrowCompute: 600_000n,
    escrowVerification: 36_000n,
    postedAt: BigInt(chain.unixTime),
    openUntil: 0n,
    claimedAt: 0n,
    deadline: 0n,
    submittedAt: 0n,
    submittedSlot: 0n,
    stakeLocked: 0n,
    verifierClaimedAt: 0n,
    verifyDeadline: 0n,
    verifierStakeLocked: 0n,
    disputedAt: 0n,
    reopenedAt: 0n,
    stakePerJob: 10_000n,
    challengeWindowSecs: 600,
    expireGraceSecs: 300,
    verificationTimeoutSecs: 86_400,
    billedSecs: 0,
    verifierBilledSecs: 0,
    protocolFeeBps: 500,
    verificationFeeBps: 600,
    verifyRateBps: 0,
    fraudSlashBps: 2_000,
    timeoutSlashBps: 100,
    slashRewardBps: 5_000,
    quitPenaltyBps: 0,
    specUriLen: uri.length,
    resolution: 0,
    resultCommitment: zeros(32),
    verifier: ZERO,
    lastProvider: ZERO,
    arbiter: ZERO,
    clientBond: zeros(8),
    raceOrigin: zeros(8),
    raceCloses: zeros(8),
    verifierTicket: zeros(16),
    firstVerifier: ZERO,
    firstVerifierStake: zeros(8),
    verdict: 0,
    verifyMode: 0,
    challengedMatch: 0,
    reserved: zeros(1),
    verifierCommitment: zeros(32),
    ...over,
  };
  chain.setAccount(job, { owner: CINDER_PROGRAM_ADDRESS, data: getJobCodec().encode(data) as Uint8Array });
  return job;
}
