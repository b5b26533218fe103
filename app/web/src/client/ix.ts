/**
 * Instruction builders that derive every PDA themselves, one per function of
 * crates/cinder-client/src/ix.rs and with the same parameters, so the dApp builds exactly what
 * the Rust tests, migrations and worker build (checked byte for byte by tests/unit/vectors).
 */
import { AccountRole, type Address, type ReadonlyUint8Array } from '@solana/kit';
import * as I from './instructions';
import {
  findAuctionPda,
  findConfigPda,
  findFeeVaultPda,
  findMarketPda,
  findProgramDataPda,
  findProviderPda,
  findRewardVaultPda,
  findStakePda,
  findStakePoolPda,
  findStakeVaultPda,
  findVerifyPoolPda,
} from './pdas';
import { SLOT_HASHES_SYSVAR_ADDRESS, SYSTEM_PROGRAM_ADDRESS } from './program';
import type { AuctionParams, ConfigParams, MarketParams, ProviderInfo } from './types';

/** Accounts of one job, as the client and keepers see them. */
export type JobKeys = {
  job: Address;
  vault: Address;
  market: Address;
  client: Address;
  mint: Address;
  tokenProgram: Address;
};
/** The protocol token: its mint and token program. */
export type Protocol = { mint: Address; tokenProgram: Address };
/** Accounts a settlement pays into. */
export type Payees = { clientToken: Address; providerOwner: Address; providerToken: Address };
/** The payment side of a buy. */
export type PaymentSide = { paymentMint: Address; paymentTokenProgram: Address };

const systemProgram = SYSTEM_PROGRAM_ADDRESS;

export async function initConfig(admin: Address, protocolMint: Address, params: ConfigParams) {
  return I.getInitConfigInstruction({
    admin,
    config: await findConfigPda(),
    protocolMint,
    programData: await findProgramDataPda(),
    systemProgram,
    params,
  });
}

export async function updateConfig(admin: Address, params: ConfigParams, paused: boolean) {
  return I.getUpdateConfigInstruction({ admin, config: await findConfigPda(), params, paused });
}

export async function proposeAdmin(admin: Address, proposed: Address) {
  return I.getProposeAdminInstruction({ admin, config: await findConfigPda(), proposed });
}

export async function acceptAdmin(newAdmin: Address) {
  return I.getAcceptAdminInstruction({ newAdmin, config: await findConfigPda() });
}

export async function initAuction(
  admin: Address,
  mint: Address,
  tokenProgram: Address,
  params: AuctionParams,
  allowFreezeAuthority: boolean,
) {
  return I.getInitAuctionInstruction({
    admin,
    config: await findConfigPda(),
    auction: await findAuctionPda(mint),
    feeVault: await findFeeVaultPda(mint),
    paymentMint: mint,
    tokenProgram,
    systemProgram,
    params,
    allowFreezeAuthority,
  });
}

export async function createMarket(
  admin: Address,
  marketId: bigint,
  mint: Address,
  tokenProgram: Address,
  params: MarketParams,
  allowFreezeAuthority: boolean,
) {
  const market = await findMarketPda(marketId);
  return I.getCreateMarketInstruction({
    admin,
    config: await findConfigPda(),
    market,
    paymentMint: mint,
    auction: await findAuctionPda(mint),
    verifyPool: await findVerifyPoolPda(market),
    tokenProgram,
    systemProgram,
    marketId,
    params,
    allowFreezeAuthority,
  });
}

export async function updateMarket(admin: Address, market: Address, params: MarketParams, paused: boolean) {
  return I.getUpdateMarketInstruction({ admin, config: await findConfigPda(), market, params, paused });
}

export async function registerProvider(owner: Address, info: ProviderInfo) {
  return I.getRegisterProviderInstruction({
    owner,
    provider: await findProviderPda(owner),
    stake: await findStakePda(owner),
    systemProgram,
    info,
  });
}

export async function updateProvider(owner: Address, info: ProviderInfo, active: boolean) {
  return I.getUpdateProviderInstruction({ owner, provider: await findProviderPda(owner), info, active });
}

export async function postJob(k: JobKeys, clientToken: Address, args: I.PostJobArgs) {
  return I.getPostJobInstruction({
    client: k.client,
    config: await findConfigPda(),
    market: k.market,
    job: k.job,
    vault: k.vault,
    clientToken,
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
    systemProgram,
    args,
  });
}

export async function cancelJob(k: JobKeys, caller: Address, clientToken: Address) {
  return I.getCancelJobInstruction({
    caller,
    job: k.job,
    market: k.market,
    vault: k.vault,
    client: k.client,
    clientToken,
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
  });
}

export async function extendJob(k: JobKeys, clientToken: Address, addedSecs: number) {
  return I.getExtendJobInstruction({
    client: k.client,
    job: k.job,
    market: k.market,
    vault: k.vault,
    clientToken,
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
    addedSecs,
  });
}

export async function claimJob(k: JobKeys, providerOwner: Address) {
  return I.getClaimJobInstruction({
    owner: providerOwner,
    provider: await findProviderPda(providerOwner),
    config: await findConfigPda(),
    market: k.market,
    job: k.job,
    stake: await findStakePda(providerOwner),
  });
}

async function slashingTail(p: Protocol) {
  return {
    config: await findConfigPda(),
    stakePool: await findStakePoolPda(),
    stakeVault: await findStakeVaultPda(),
    protocolMint: p.mint,
  };
}

export async function quitJob(k: JobKeys, providerOwner: Address, p: Protocol) {
  return I.getQuitJobInstruction({
    owner: providerOwner,
    provider: await findProviderPda(providerOwner),
    job: k.job,
    market: k.market,
    stake: await findStakePda(providerOwner),
    ...(await slashingTail(p)),
    tokenProgram: p.tokenProgram,
  });
}

export async function expireJob(
  k: JobKeys,
  caller: Address,
  providerOwner: Address,
  callerToken: Address,
  p: Protocol,
) {
  return I.getExpireJobInstruction({
    caller,
    job: k.job,
    market: k.market,
    provider: await findProviderPda(providerOwner),
    stake: await findStakePda(providerOwner),
    ...(await slashingTail(p)),
    callerToken,
    tokenProgram: p.tokenProgram,
  });
}

export async function submitResult(
  k: JobKeys,
  providerOwner: Address,
  resultHash: ReadonlyUint8Array,
  billedSecs: number,
  resultUri: string,
) {
  return I.getSubmitResultInstruction({ provider: providerOwner, job: k.job, resultHash, billedSecs, resultUri });
}

async function settleAccounts(k: JobKeys, p: Payees) {
  return {
    job: k.job,
    market: k.market,
    vault: k.vault,
    client: k.client,
    clientToken: p.clientToken,
    provider: await findProviderPda(p.providerOwner),
    providerToken: p.providerToken,
    verifyPool: await findVerifyPoolPda(k.market),
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
    slotHashes: SLOT_HASHES_SYSVAR_ADDRESS,
  };
}

export async function settleJob(k: JobKeys, p: Payees) {
  return I.getSettleJobInstruction(await settleAccounts(k, p));
}

/** accept_result: the client account is the signer. */
export async function acceptResult(k: JobKeys, p: Payees) {
  return I.getAcceptResultInstruction(await settleAccounts(k, p));
}

export async function sweepFees(market: Address, mint: Address, tokenProgram: Address) {
  return I.getSweepFeesInstruction({
    market,
    verifyPool: await findVerifyPoolPda(market),
    feeVault: await findFeeVaultPda(mint),
    paymentMint: mint,
    tokenProgram,
  });
}

// --- staking --------------------------------------------------------------------------------

export async function initStaking(admin: Address, p: Protocol) {
  return I.getInitStakingInstruction({
    admin,
    config: await findConfigPda(),
    stakePool: await findStakePoolPda(),
    stakeVault: await findStakeVaultPda(),
    rewardVault: await findRewardVaultPda(),
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
    systemProgram,
  });
}

export async function stake(owner: Address, ownerToken: Address, p: Protocol, amount: bigint, lockSecs: number) {
  return I.getStakeInstruction({
    owner,
    config: await findConfigPda(),
    stakePool: await findStakePoolPda(),
    position: await findStakePda(owner),
    ownerToken,
    stakeVault: await findStakeVaultPda(),
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
    systemProgram,
    amount,
    lockSecs,
  });
}

export async function requestUnstake(owner: Address, amount: bigint) {
  return I.getRequestUnstakeInstruction({
    owner,
    stakePool: await findStakePoolPda(),
    position: await findStakePda(owner),
    provider: await findProviderPda(owner),
    amount,
  });
}

export async function restake(owner: Address) {
  return I.getRestakeInstruction({
    owner,
    stakePool: await findStakePoolPda(),
    position: await findStakePda(owner),
  });
}

export async function withdrawStake(owner: Address, ownerToken: Address, p: Protocol) {
  return I.getWithdrawStakeInstruction({
    owner,
    stakePool: await findStakePoolPda(),
    position: await findStakePda(owner),
    ownerToken,
    stakeVault: await findStakeVaultPda(),
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
    provider: await findProviderPda(owner),
  });
}

export async function depositRewards(
  depositor: Address,
  depositorToken: Address,
  treasuryToken: Address,
  p: Protocol,
  amount: bigint,
) {
  return I.getDepositRewardsInstruction({
    depositor,
    config: await findConfigPda(),
    stakePool: await findStakePoolPda(),
    depositorToken,
    rewardVault: await findRewardVaultPda(),
    treasuryToken,
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
    amount,
  });
}

export async function claimRewards(owner: Address, ownerToken: Address, p: Protocol) {
  return I.getClaimRewardsInstruction({
    owner,
    stakePool: await findStakePoolPda(),
    position: await findStakePda(owner),
    ownerToken,
    rewardVault: await findRewardVaultPda(),
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
  });
}

// --- buyback and burn -----------------------------------------------------------------------

export async function updateAuction(admin: Address, mint: Address, params: AuctionParams) {
  return I.getUpdateAuctionInstruction({
    admin,
    config: await findConfigPda(),
    auction: await findAuctionPda(mint),
    params,
  });
}

/** buy: `buyer` pays the current price from `buyerProtocolToken` and receives the fee vault. */
export async function buy(
  buyer: Address,
  payment: PaymentSide,
  buyerPaymentToken: Address,
  buyerProtocolToken: Address,
  treasuryToken: Address,
  p: Protocol,
  maxPrice: bigint,
  minAmountOut: bigint,
) {
  return I.getBuyInstruction({
    buyer,
    config: await findConfigPda(),
    auction: await findAuctionPda(payment.paymentMint),
    feeVault: await findFeeVaultPda(payment.paymentMint),
    paymentMint: payment.paymentMint,
    buyerPaymentToken,
    buyerProtocolToken,
    stakePool: await findStakePoolPda(),
    rewardVault: await findRewardVaultPda(),
    treasuryToken,
    protocolMint: p.mint,
    paymentTokenProgram: payment.paymentTokenProgram,
    protocolTokenProgram: p.tokenProgram,
    maxPrice,
    minAmountOut,
  });
}

export async function distributeFees(treasuryToken: Address, p: Protocol) {
  return I.getDistributeFeesInstruction({
    config: await findConfigPda(),
    auction: await findAuctionPda(p.mint),
    feeVault: await findFeeVaultPda(p.mint),
    stakePool: await findStakePoolPda(),
    rewardVault: await findRewardVaultPda(),
    treasuryToken,
    protocolMint: p.mint,
    tokenProgram: p.tokenProgram,
  });
}

// --- attestation ----------------------------------------------------------------------------

export async function revealSample(k: JobKeys) {
  return I.getRevealSampleInstruction({ job: k.job, market: k.market, slotHashes: SLOT_HASHES_SYSVAR_ADDRESS });
}

export async function claimVerification(k: JobKeys, verifier: Address) {
  return I.getClaimVerificationInstruction({
    owner: verifier,
    provider: await findProviderPda(verifier),
    stake: await findStakePda(verifier),
    config: await findConfigPda(),
    market: k.market,
    job: k.job,
    slotHashes: SLOT_HASHES_SYSVAR_ADDRESS,
  });
}

/** The verifier's commitment to its own re-run, before it reads the provider's outputs. */
export async function commitVerification(k: JobKeys, verifier: Address, commitment: ReadonlyUint8Array) {
  return I.getCommitVerificationInstruction({ owner: verifier, job: k.job, commitment });
}

export async function submitVerification(
  k: JobKeys,
  verifier: Address,
  verifierToken: Address,
  providerToken: Address,
  resultHash: ReadonlyUint8Array,
  billedSecs: number,
  matched: boolean,
) {
  return I.getSubmitVerificationInstruction({
    owner: verifier,
    provider: await findProviderPda(verifier),
    job: k.job,
    market: k.market,
    verifyPool: await findVerifyPoolPda(k.market),
    verifierToken,
    vault: k.vault,
    providerToken,
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
    resultHash,
    billedSecs,
    matched,
  });
}

export async function expireVerification(
  k: JobKeys,
  caller: Address,
  verifier: Address,
  callerToken: Address,
  p: Protocol,
) {
  return I.getExpireVerificationInstruction({
    caller,
    job: k.job,
    market: k.market,
    provider: await findProviderPda(verifier),
    stake: await findStakePda(verifier),
    ...(await slashingTail(p)),
    callerToken,
    tokenProgram: p.tokenProgram,
  });
}

export async function resolveDispute(
  k: JobKeys,
  signer: Address,
  provider: Address,
  verifier: Address,
  winnerToken: Address,
  p: Protocol,
  decision: number,
) {
  return I.getResolveDisputeInstruction({
    signer,
    job: k.job,
    market: k.market,
    providerStake: await findStakePda(provider),
    verifierProvider: await findProviderPda(verifier),
    verifierStake: await findStakePda(verifier),
    ...(await slashingTail(p)),
    winnerToken,
    tokenProgram: p.tokenProgram,
    decision,
  });
}

/**
 * resolve_dispute of a job two verifiers re-ran (`verdict` CONFIRMED or SPLIT): the second
 * verifier's provider account, stake position and protocol-token account follow as remaining
 * accounts (writable). A proven fraud (two mismatches of an exact job) may be sent by anyone.
 */
export async function resolveDisputeEscalated(
  k: JobKeys,
  signer: Address,
  provider: Address,
  first: Address,
  second: Address,
  winnerToken: Address,
  secondToken: Address,
  p: Protocol,
  decision: number,
): Promise<I.CinderInstruction> {
  const ix = await resolveDispute(k, signer, provider, first, winnerToken, p, decision);
  return {
    ...ix,
    accounts: [
      ...ix.accounts,
      { address: await findProviderPda(second), role: AccountRole.WRITABLE },
      { address: await findStakePda(second), role: AccountRole.WRITABLE },
      { address: secondToken, role: AccountRole.WRITABLE },
    ],
  };
}

/** dispute_job: the client posts a bond (the job's verification fee) and forces re-execution. */
export async function disputeJob(k: JobKeys, clientToken: Address) {
  return I.getDisputeJobInstruction({
    client: k.client,
    job: k.job,
    market: k.market,
    vault: k.vault,
    clientToken,
    paymentMint: k.mint,
    tokenProgram: k.tokenProgram,
    slotHashes: SLOT_HASHES_SYSVAR_ADDRESS,
  });
}
