import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Encoder,
  getUtf8Encoder,
  type Address,
  type ProgramDerivedAddress,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { BPF_LOADER_UPGRADEABLE_ADDRESS, CINDER_PROGRAM_ADDRESS, SEEDS } from './program';

const text = (s: string) => getUtf8Encoder().encode(s);
const key = (a: Address) => getAddressEncoder().encode(a);
const le64 = (n: bigint) => getU64Encoder().encode(n);

function pda(seeds: ReadonlyUint8Array[], programAddress: Address = CINDER_PROGRAM_ADDRESS) {
  return getProgramDerivedAddress({ programAddress, seeds });
}
const first = async (p: Promise<ProgramDerivedAddress>): Promise<Address> => (await p)[0];

export const findConfigPda = () => first(pda([text(SEEDS.config)]));
export const findMarketPda = (marketId: bigint) => first(pda([text(SEEDS.market), le64(marketId)]));
/** `["job", market, client, nonce]` with its bump (post_job takes the canonical bumps). */
export const findJobPda = (market: Address, client: Address, nonce: bigint) =>
  pda([text(SEEDS.job), key(market), key(client), le64(nonce)]);
/** `["job_vault", job]` with its bump. */
export const findJobVaultPda = (job: Address) => pda([text(SEEDS.jobVault), key(job)]);
export const findProviderPda = (owner: Address) => first(pda([text(SEEDS.provider), key(owner)]));
export const findAuctionPda = (mint: Address) => first(pda([text(SEEDS.auction), key(mint)]));
export const findFeeVaultPda = (mint: Address) => first(pda([text(SEEDS.feeVault), key(mint)]));
export const findVerifyPoolPda = (market: Address) => first(pda([text(SEEDS.verifyPool), key(market)]));
export const findStakePoolPda = () => first(pda([text(SEEDS.stakePool)]));
export const findStakeVaultPda = () => first(pda([text(SEEDS.stakeVault)]));
export const findRewardVaultPda = () => first(pda([text(SEEDS.rewardVault)]));
export const findStakePda = (owner: Address) => first(pda([text(SEEDS.stake), key(owner)]));
/** Anchor's `#[event_cpi]` authority `["__event_authority"]`. */
export const findEventAuthorityPda = () => first(pda([text(SEEDS.eventAuthority)]));
export const findProgramDataPda = () =>
  first(pda([key(CINDER_PROGRAM_ADDRESS)], BPF_LOADER_UPGRADEABLE_ADDRESS));
