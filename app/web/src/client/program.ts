import { address, type Address } from '@solana/kit';

/** The cinder program (`declare_id!` in programs/cinder/src/lib.rs; checked by the vectors test). */
export const CINDER_PROGRAM_ADDRESS: Address = address('4QxkF2xJdxnV9mXCKYg5jP5Xi1GANdySXa8P8gSig7S8');

export const SYSTEM_PROGRAM_ADDRESS: Address = address('11111111111111111111111111111111');
export const TOKEN_PROGRAM_ADDRESS: Address = address('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
export const TOKEN_2022_PROGRAM_ADDRESS: Address = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');
export const BPF_LOADER_UPGRADEABLE_ADDRESS: Address = address('BPFLoaderUpgradeab1e11111111111111111111111');
export const SLOT_HASHES_SYSVAR_ADDRESS: Address = address('SysvarS1otHashes111111111111111111111111111');

/** PDA seeds (programs/cinder/src/constants.rs). */
export const SEEDS = {
  config: 'config',
  market: 'market',
  job: 'job',
  jobVault: 'job_vault',
  provider: 'provider',
  auction: 'auction',
  feeVault: 'fee_vault',
  verifyPool: 'verify_pool',
  stakePool: 'stake_pool',
  stakeVault: 'stake_vault',
  rewardVault: 'reward_vault',
  stake: 'stake',
  eventAuthority: '__event_authority',
} as const;

/** Bounds and sizes (constants.rs). */
export const DAY_SECS = 86_400;
export const YEAR_SECS = 365 * DAY_SECS;
export const MIN_LOCK_SECS = 14 * DAY_SECS;
export const MAX_LOCK_SECS = 365 * DAY_SECS;
export const MAX_JOB_DURATION_SECS = 30 * DAY_SECS;
export const GPU_MODEL_LEN = 32;
export const URI_LEN = 128;
export const BPS_DENOMINATOR = 10_000;
export const REWARD_SCALE = 1_000_000_000_000_000_000n;
export const SAMPLE_DELAY_SLOTS = 4;
export const REVEAL_WINDOW_SLOTS = 500;

/** Byte offsets in a Job account (with its discriminator) for getProgramAccounts filters. */
export const JOB_OFFSETS = { market: 8, client: 40, provider: 72, state: 104 } as const;

/** Anchor's tag in front of an `emit_cpi!` event's self-CPI data. */
export const EVENT_IX_TAG_LE = new Uint8Array([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

export const JobState = {
  Open: 0,
  Running: 1,
  Submitted: 2,
  Verifying: 3,
  Verified: 4,
  Disputed: 5,
  Refunded: 6,
  Escalated: 7,
} as const;
export type JobStateName = keyof typeof JobState;
export const JOB_STATE_NAMES: readonly JobStateName[] = [
  'Open',
  'Running',
  'Submitted',
  'Verifying',
  'Verified',
  'Disputed',
  'Refunded',
  'Escalated',
];

export const SampleStatus = { Unrevealed: 0, NotSampled: 1, Sampled: 2 } as const;
export const ProviderStatus = { Active: 0, Inactive: 1 } as const;
export const Resolution = { ProviderRight: 1, VerifierRight: 2, Undecidable: 3, ResultStands: 4 } as const;
/** What an escalated job's second verifier said (`Job.verdict`). */
export const Verdict = { None: 0, Confirmed: 1, Split: 2, Lapsed: 3 } as const;
/** How a job's re-run is compared (`Job.verifyMode`, from its spec). */
export const VerifyMode = { Exact: 0, Tolerance: 1, None: 2 } as const;

/** Slashed.reason (events.rs). */
export const SLASH_REASONS: Record<number, string> = {
  1: 'missed its deadline (timeout)',
  2: 'submitted a wrong result (fraud)',
  3: 'quit a running job',
};
/** Burned.reason (events.rs). */
export const BURN_REASONS: Record<number, string> = {
  1: 'buyback',
  2: 'protocol-token fees',
};

export function jobStateName(state: number): string {
  return JOB_STATE_NAMES[state] ?? `Unknown(${state})`;
}
