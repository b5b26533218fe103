/**
 * One builder per instruction of the program, from explicit accounts and arguments (the
 * account order, signer and writable flags of each `#[derive(Accounts)]` struct, plus the two
 * accounts `#[event_cpi]` appends). `ix.ts` derives the PDAs on top of these, like the Rust
 * builders in crates/cinder-client/src/ix.rs; both are tested byte for byte against them.
 */
import {
  AccountRole,
  address,
  getAddressCodec,
  getBooleanCodec,
  getI64Codec,
  getNullableCodec,
  getStructCodec,
  getU32Codec,
  getU64Codec,
  getU8Codec,
  type Address,
  type Codec,
  type Instruction,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { borshString, bytes } from './codecs';
import { INSTRUCTION_DISCRIMINATORS } from './generated/discriminators';
import { CINDER_PROGRAM_ADDRESS } from './program';
import {
  getAuctionParamsCodec,
  getConfigParamsCodec,
  getMarketParamsCodec,
  getProviderInfoCodec,
  type AuctionParams,
  type ConfigParams,
  type MarketParams,
  type ProviderInfo,
} from './types';

export type InstructionName = keyof typeof INSTRUCTION_DISCRIMINATORS;

/** Anchor's `#[event_cpi]` authority `["__event_authority"]` (checked against the PDA in tests). */
export const EVENT_AUTHORITY_ADDRESS: Address = address('BESu76ei5Qr97vJpomhSgSrfNiyzBiuqCnrnXgCpnxCc');

/** r: read-only, w: writable, s: signer, ws: writable signer. */
type Flag = 'r' | 'w' | 's' | 'ws';
type AccountSpec = readonly [name: string, flag: Flag];
type AccountsInput<A extends readonly AccountSpec[]> = { [K in A[number] as K[0]]: Address };

const ROLE: Record<Flag, AccountRole> = {
  r: AccountRole.READONLY,
  w: AccountRole.WRITABLE,
  s: AccountRole.READONLY_SIGNER,
  ws: AccountRole.WRITABLE_SIGNER,
};

export type CinderInstruction = Instruction & {
  readonly accounts: readonly { address: Address; role: AccountRole }[];
  readonly data: ReadonlyUint8Array;
};

/** The account names of every instruction, in order (for decoding transactions). */
export const INSTRUCTION_ACCOUNTS: Partial<Record<InstructionName, readonly string[]>> = {};
/** The argument codec of every instruction. */
export const INSTRUCTION_ARGS: Partial<Record<InstructionName, Codec<object>>> = {};

type NoArgs = Record<never, never>;
const noArgs = getStructCodec([]) as unknown as Codec<NoArgs>;

function define<const A extends readonly AccountSpec[], Args extends object = NoArgs>(
  name: InstructionName,
  accounts: A,
  args: Codec<Args> = noArgs as unknown as Codec<Args>,
) {
  INSTRUCTION_ACCOUNTS[name] = [...accounts.map((a) => a[0]), 'eventAuthority', 'program'];
  INSTRUCTION_ARGS[name] = args as unknown as Codec<object>;
  const disc = INSTRUCTION_DISCRIMINATORS[name];
  return (input: AccountsInput<A> & Args): CinderInstruction => {
    const named = input as unknown as Record<string, Address>;
    const metas = accounts.map(([account, flag]) => {
      const value = named[account];
      if (!value) throw new Error(`${name}: account ${account} is missing`);
      return { address: value, role: ROLE[flag] };
    });
    metas.push({ address: EVENT_AUTHORITY_ADDRESS, role: AccountRole.READONLY });
    metas.push({ address: CINDER_PROGRAM_ADDRESS, role: AccountRole.READONLY });
    const body = args.encode(input as Args);
    const data = new Uint8Array(8 + body.length);
    data.set(disc, 0);
    data.set(body, 8);
    return { programAddress: CINDER_PROGRAM_ADDRESS, accounts: metas, data };
  };
}

// --- argument structs -----------------------------------------------------------------------

export type PostJobArgs = {
  /** Any number unique among this client's jobs in this market. */
  nonce: bigint;
  jobBump: number;
  vaultBump: number;
  /** sha256 of the exact spec bytes. */
  specHash: ReadonlyUint8Array;
  specUri: string;
  pricePerSec: bigint;
  maxDurationSecs: number;
  /** Only this provider (wallet) may claim it; null: anyone. */
  assignedProvider: Address | null;
  /** Unix time after which an unclaimed job may be cancelled by anyone; 0 = never. */
  openUntil: bigint;
  /** How a re-run is compared (`VerifyMode`: 0 exact, 1 tolerance, 2 none: never re-run, no verification fee), as the spec says. */
  verifyMode: number;
};
export const getPostJobArgsCodec = (): Codec<PostJobArgs> =>
  getStructCodec([
    ['nonce', getU64Codec()],
    ['jobBump', getU8Codec()],
    ['vaultBump', getU8Codec()],
    ['specHash', bytes(32)],
    ['specUri', borshString()],
    ['pricePerSec', getU64Codec()],
    ['maxDurationSecs', getU32Codec()],
    ['assignedProvider', getNullableCodec(getAddressCodec())],
    ['openUntil', getI64Codec()],
    ['verifyMode', getU8Codec()],
  ]) as Codec<PostJobArgs>;

// --- config and markets ---------------------------------------------------------------------

export const getInitConfigInstruction = define(
  'initConfig',
  [['admin', 'ws'], ['config', 'w'], ['protocolMint', 'r'], ['programData', 'r'], ['systemProgram', 'r']],
  getStructCodec([['params', getConfigParamsCodec()]]) as Codec<{ params: ConfigParams }>,
);

export const getUpdateConfigInstruction = define(
  'updateConfig',
  [['admin', 's'], ['config', 'w']],
  getStructCodec([
    ['params', getConfigParamsCodec()],
    ['paused', getBooleanCodec()],
  ]) as Codec<{ params: ConfigParams; paused: boolean }>,
);

export const getProposeAdminInstruction = define(
  'proposeAdmin',
  [['admin', 's'], ['config', 'w']],
  getStructCodec([['proposed', getAddressCodec()]]) as Codec<{ proposed: Address }>,
);

export const getAcceptAdminInstruction = define('acceptAdmin', [['newAdmin', 's'], ['config', 'w']]);

export const getInitAuctionInstruction = define(
  'initAuction',
  [
    ['admin', 'ws'], ['config', 'r'], ['auction', 'w'], ['feeVault', 'w'], ['paymentMint', 'r'],
    ['tokenProgram', 'r'], ['systemProgram', 'r'],
  ],
  getStructCodec([
    ['params', getAuctionParamsCodec()],
    ['allowFreezeAuthority', getBooleanCodec()],
  ]) as Codec<{ params: AuctionParams; allowFreezeAuthority: boolean }>,
);

export const getCreateMarketInstruction = define(
  'createMarket',
  [
    ['admin', 'ws'], ['config', 'r'], ['market', 'w'], ['paymentMint', 'r'], ['auction', 'r'],
    ['verifyPool', 'w'], ['tokenProgram', 'r'], ['systemProgram', 'r'],
  ],
  getStructCodec([
    ['marketId', getU64Codec()],
    ['params', getMarketParamsCodec()],
    ['allowFreezeAuthority', getBooleanCodec()],
  ]) as Codec<{ marketId: bigint; params: MarketParams; allowFreezeAuthority: boolean }>,
);

export const getUpdateMarketInstruction = define(
  'updateMarket',
  [['admin', 's'], ['config', 'r'], ['market', 'w']],
  getStructCodec([
    ['params', getMarketParamsCodec()],
    ['paused', getBooleanCodec()],
  ]) as Codec<{ params: MarketParams; paused: boolean }>,
);

// --- providers ------------------------------------------------------------------------------

export const getRegisterProviderInstruction = define(
  'registerProvider',
  [['owner', 'ws'], ['provider', 'w'], ['stake', 'r'], ['systemProgram', 'r']],
  getStructCodec([['info', getProviderInfoCodec()]]) as Codec<{ info: ProviderInfo }>,
);

export const getUpdateProviderInstruction = define(
  'updateProvider',
  [['owner', 's'], ['provider', 'w']],
  getStructCodec([
    ['info', getProviderInfoCodec()],
    ['active', getBooleanCodec()],
  ]) as Codec<{ info: ProviderInfo; active: boolean }>,
);

// --- jobs -----------------------------------------------------------------------------------

export const getPostJobInstruction = define(
  'postJob',
  [
    ['client', 'ws'], ['config', 'r'], ['market', 'r'], ['job', 'w'], ['vault', 'w'],
    ['clientToken', 'w'], ['paymentMint', 'r'], ['tokenProgram', 'r'], ['systemProgram', 'r'],
  ],
  getStructCodec([['args', getPostJobArgsCodec()]]) as Codec<{ args: PostJobArgs }>,
);

export const getCancelJobInstruction = define('cancelJob', [
  ['caller', 's'], ['job', 'w'], ['market', 'r'], ['vault', 'w'], ['client', 'w'],
  ['clientToken', 'w'], ['paymentMint', 'r'], ['tokenProgram', 'r'],
]);

export const getExtendJobInstruction = define(
  'extendJob',
  [
    ['client', 's'], ['job', 'w'], ['market', 'r'], ['vault', 'w'], ['clientToken', 'w'],
    ['paymentMint', 'r'], ['tokenProgram', 'r'],
  ],
  getStructCodec([['addedSecs', getU32Codec()]]) as Codec<{ addedSecs: number }>,
);

export const getClaimJobInstruction = define('claimJob', [
  ['owner', 's'], ['provider', 'w'], ['config', 'r'], ['market', 'r'], ['job', 'w'], ['stake', 'r'],
]);

const SLASHING_TAIL = [
  ['config', 'w'], ['stakePool', 'w'], ['stakeVault', 'w'], ['protocolMint', 'w'],
] as const;

export const getQuitJobInstruction = define('quitJob', [
  ['owner', 's'], ['provider', 'w'], ['job', 'w'], ['market', 'r'], ['stake', 'w'],
  ...SLASHING_TAIL, ['tokenProgram', 'r'],
]);

export const getExpireJobInstruction = define('expireJob', [
  ['caller', 's'], ['job', 'w'], ['market', 'r'], ['provider', 'w'], ['stake', 'w'],
  ...SLASHING_TAIL, ['callerToken', 'w'], ['tokenProgram', 'r'],
]);

export const getSubmitResultInstruction = define(
  'submitResult',
  [['provider', 's'], ['job', 'w']],
  getStructCodec([
    ['resultHash', bytes(32)],
    ['billedSecs', getU32Codec()],
    ['resultUri', borshString()],
  ]) as Codec<{ resultHash: ReadonlyUint8Array; billedSecs: number; resultUri: string }>,
);

const settleAccounts = (client: Flag) =>
  [
    ['job', 'w'], ['market', 'w'], ['vault', 'w'], ['client', client], ['clientToken', 'w'],
    ['provider', 'w'], ['providerToken', 'w'], ['verifyPool', 'w'], ['paymentMint', 'r'],
    ['tokenProgram', 'r'], ['slotHashes', 'r'],
  ] as const;

/** accept_result: the client signs (the SettleJob accounts with `client` as signer). */
export const getAcceptResultInstruction = define('acceptResult', settleAccounts('ws'));
export const getSettleJobInstruction = define('settleJob', settleAccounts('w'));

// --- staking --------------------------------------------------------------------------------

export const getInitStakingInstruction = define('initStaking', [
  ['admin', 'ws'], ['config', 'r'], ['stakePool', 'w'], ['stakeVault', 'w'], ['rewardVault', 'w'],
  ['protocolMint', 'r'], ['tokenProgram', 'r'], ['systemProgram', 'r'],
]);

export const getStakeInstruction = define(
  'stake',
  [
    ['owner', 'ws'], ['config', 'r'], ['stakePool', 'w'], ['position', 'w'], ['ownerToken', 'w'],
    ['stakeVault', 'w'], ['protocolMint', 'r'], ['tokenProgram', 'r'], ['systemProgram', 'r'],
  ],
  getStructCodec([
    ['amount', getU64Codec()],
    ['lockSecs', getU32Codec()],
  ]) as Codec<{ amount: bigint; lockSecs: number }>,
);

export const getRequestUnstakeInstruction = define(
  'requestUnstake',
  [['owner', 's'], ['stakePool', 'w'], ['position', 'w'], ['provider', 'r']],
  getStructCodec([['amount', getU64Codec()]]) as Codec<{ amount: bigint }>,
);

export const getRestakeInstruction = define('restake', [
  ['owner', 's'], ['stakePool', 'w'], ['position', 'w'],
]);

export const getWithdrawStakeInstruction = define('withdrawStake', [
  ['owner', 's'], ['stakePool', 'w'], ['position', 'w'], ['ownerToken', 'w'], ['stakeVault', 'w'],
  ['protocolMint', 'r'], ['tokenProgram', 'r'], ['provider', 'r'],
]);

export const getDepositRewardsInstruction = define(
  'depositRewards',
  [
    ['depositor', 's'], ['config', 'r'], ['stakePool', 'w'], ['depositorToken', 'w'],
    ['rewardVault', 'w'], ['treasuryToken', 'w'], ['protocolMint', 'r'], ['tokenProgram', 'r'],
  ],
  getStructCodec([['amount', getU64Codec()]]) as Codec<{ amount: bigint }>,
);

export const getClaimRewardsInstruction = define('claimRewards', [
  ['owner', 's'], ['stakePool', 'w'], ['position', 'w'], ['ownerToken', 'w'], ['rewardVault', 'w'],
  ['protocolMint', 'r'], ['tokenProgram', 'r'],
]);

// --- attestation ----------------------------------------------------------------------------

export const getRevealSampleInstruction = define('revealSample', [
  ['job', 'w'], ['market', 'r'], ['slotHashes', 'r'],
]);

export const getDisputeJobInstruction = define('disputeJob', [
  ['client', 's'], ['job', 'w'], ['market', 'r'], ['vault', 'w'], ['clientToken', 'w'],
  ['paymentMint', 'r'], ['tokenProgram', 'r'], ['slotHashes', 'r'],
]);

export const getClaimVerificationInstruction = define('claimVerification', [
  ['owner', 's'], ['provider', 'w'], ['stake', 'r'], ['config', 'r'], ['market', 'r'], ['job', 'w'],
  ['slotHashes', 'r'],
]);

export const getCommitVerificationInstruction = define(
  'commitVerification',
  [['owner', 's'], ['job', 'w']],
  getStructCodec([['commitment', bytes(32)]]) as Codec<{ commitment: ReadonlyUint8Array }>,
);

export const getSubmitVerificationInstruction = define(
  'submitVerification',
  [
    ['owner', 's'], ['provider', 'w'], ['job', 'w'], ['market', 'r'], ['verifyPool', 'w'],
    ['verifierToken', 'w'], ['vault', 'w'], ['providerToken', 'w'], ['paymentMint', 'r'],
    ['tokenProgram', 'r'],
  ],
  getStructCodec([
    ['resultHash', bytes(32)],
    ['billedSecs', getU32Codec()],
    ['matched', getBooleanCodec()],
  ]) as Codec<{ resultHash: ReadonlyUint8Array; billedSecs: number; matched: boolean }>,
);

export const getExpireVerificationInstruction = define('expireVerification', [
  ['caller', 's'], ['job', 'w'], ['market', 'r'], ['provider', 'w'], ['stake', 'w'],
  ...SLASHING_TAIL, ['callerToken', 'w'], ['tokenProgram', 'r'],
]);

export const getResolveDisputeInstruction = define(
  'resolveDispute',
  [
    ['signer', 's'], ['job', 'w'], ['market', 'r'], ['providerStake', 'w'],
    ['verifierProvider', 'w'], ['verifierStake', 'w'], ...SLASHING_TAIL, ['winnerToken', 'w'],
    ['tokenProgram', 'r'],
  ],
  getStructCodec([['decision', getU8Codec()]]) as Codec<{ decision: number }>,
);

export const getSweepFeesInstruction = define('sweepFees', [
  ['market', 'w'], ['verifyPool', 'w'], ['feeVault', 'w'], ['paymentMint', 'r'], ['tokenProgram', 'r'],
]);

// --- buyback and burn -----------------------------------------------------------------------

export const getUpdateAuctionInstruction = define(
  'updateAuction',
  [['admin', 's'], ['config', 'r'], ['auction', 'w']],
  getStructCodec([['params', getAuctionParamsCodec()]]) as Codec<{ params: AuctionParams }>,
);

export const getBuyInstruction = define(
  'buy',
  [
    ['buyer', 's'], ['config', 'w'], ['auction', 'w'], ['feeVault', 'w'], ['paymentMint', 'r'],
    ['buyerPaymentToken', 'w'], ['buyerProtocolToken', 'w'], ['stakePool', 'w'],
    ['rewardVault', 'w'], ['treasuryToken', 'w'], ['protocolMint', 'w'],
    ['paymentTokenProgram', 'r'], ['protocolTokenProgram', 'r'],
  ],
  getStructCodec([
    ['maxPrice', getU64Codec()],
    ['minAmountOut', getU64Codec()],
  ]) as Codec<{ maxPrice: bigint; minAmountOut: bigint }>,
);

export const getDistributeFeesInstruction = define('distributeFees', [
  ['config', 'w'], ['auction', 'r'], ['feeVault', 'w'], ['stakePool', 'w'], ['rewardVault', 'w'],
  ['treasuryToken', 'w'], ['protocolMint', 'w'], ['tokenProgram', 'r'],
]);

/** Which of the program's instructions this data encodes (by discriminator), and its arguments. */
export function identifyInstruction(data: ReadonlyUint8Array): { name: InstructionName; args: object } | null {
  for (const [name, disc] of Object.entries(INSTRUCTION_DISCRIMINATORS) as [InstructionName, Uint8Array][]) {
    if (data.length >= 8 && disc.every((b, i) => data[i] === b)) {
      const codec = INSTRUCTION_ARGS[name];
      return { name, args: codec ? codec.decode(data.slice(8)) : {} };
    }
  }
  return null;
}
