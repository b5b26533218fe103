/**
 * The TypeScript client against the Rust program, byte for byte: tests/vectors/vectors.json is
 * written by `cargo run -p cinder-client --example vectors` (scripts/test-web.sh regenerates it
 * before every run) from the real Rust builders and the program's own account and event types.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccountRole, address, type Address } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_CODECS,
  CINDER_PROGRAM_ADDRESS,
  EVENT_AUTHORITY_ADDRESS,
  EVENT_DISCRIMINATORS,
  EVENT_IX_TAG_LE,
  PROGRAM_ERRORS,
  auctionPriceAt,
  decodeCpiEvent,
  decodeEvent,
  encodeEvent,
  earned,
  escrowFor,
  fromHex,
  getAuctionCodec,
  identifyAccount,
  identifyInstruction,
  ix,
  nextInitPrice,
  resultCommitment,
  settlementFor,
  toHex,
  weightFor,
  findAuctionPda,
  findConfigPda,
  findEventAuthorityPda,
  findFeeVaultPda,
  findJobPda,
  findJobVaultPda,
  findMarketPda,
  findProgramDataPda,
  findProviderPda,
  findRewardVaultPda,
  findStakePda,
  findStakePoolPda,
  findStakeVaultPda,
  findVerifyPoolPda,
  type AccountName,
  type EventName,
  type JobKeys,
  type Protocol,
} from '../../src/client';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const V: Json = JSON.parse(readFileSync(join(__dirname, '../vectors/vectors.json'), 'utf8'));

/** Decoded TS values → the vectors' JSON conventions (bigint → string, bytes → hex). */
function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/** The vectors' JSON → TS input values, guided by the field names' types. */
const BIG = new Set([
  'nonce', 'pricePerSec', 'openUntil', 'marketId', 'amount', 'maxPrice', 'minAmountOut',
  'minPricePerSec', 'minProviderStake', 'stakePerJob', 'initPrice', 'floorPrice', 'minInitPrice',
  'totalBurned', 'totalSlashed', 'protocolFeesAccrued', 'escrowCompute', 'escrowVerification',
  'postedAt', 'claimedAt', 'deadline', 'submittedAt', 'submittedSlot', 'stakeLocked',
  'verifierClaimedAt', 'verifyDeadline', 'verifierStakeLocked', 'disputedAt', 'reopenedAt', 'jobsDone',
  'jobsQuit', 'jobsExpired', 'registeredAt', 'lockedStake', 'accRewardPerWeight', 'totalWeight',
  'totalStaked', 'totalRewardsDeposited', 'totalRewardsToTreasury', 'totalRewardsClaimed',
  'weight', 'unbonding', 'unlockAt', 'pendingRewards', 'rewardDebt', 'epoch', 'epochStart',
  'epochInitPrice', 'totalPaid', 'totalSold', 'lastPrice', 'price', 'amountOut', 'nextInitPrice',
  'burned', 'toStakers', 'toTreasury', 'depositCompute', 'depositVerification', 'refund',
  'providerAmount', 'protocolFee', 'verificationFee', 'newAmount', 'newWeight', 'reward', 'slot',
  'verifierPaid', 'bond', 'toProvider', 'toVerifier',
]);
const BYTES = new Set([
  'specHash', 'specUri', 'resultHash', 'resultCommitment', 'gpuModel', 'inventoryHash', 'endpoint',
  'reserved', 'clientBond',
]);
function denormalize(v: Json, keyName = ''): Json {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((x) => denormalize(x));
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, denormalize(x, k)]));
  if (typeof v === 'string' && BIG.has(keyName)) return BigInt(v);
  if (typeof v === 'string' && BYTES.has(keyName) && /^[0-9a-f]*$/.test(v) && keyName !== 'endpoint') return fromHex(v);
  if (typeof v === 'string' && keyName === 'endpoint' && /^[0-9a-f]{256}$/.test(v)) return fromHex(v);
  return v;
}

const A = (s: string) => address(s);
const keys = (k: Json): JobKeys => ({
  job: A(k.job), vault: A(k.vault), market: A(k.market), client: A(k.client), mint: A(k.mint), tokenProgram: A(k.tokenProgram),
});
const proto = (p: Json): Protocol => ({ mint: A(p.mint), tokenProgram: A(p.tokenProgram) });

/** Calls the TS builder mirroring each Rust builder with the vector's inputs. */
const BUILD: Record<string, (a: Json) => Promise<Json>> = {
  initConfig: (a) => ix.initConfig(A(a.admin), A(a.protocolMint), denormalize(a.params)),
  updateConfig: (a) => ix.updateConfig(A(a.admin), denormalize(a.params), a.paused),
  proposeAdmin: (a) => ix.proposeAdmin(A(a.admin), A(a.proposed)),
  acceptAdmin: (a) => ix.acceptAdmin(A(a.newAdmin)),
  initAuction: (a) => ix.initAuction(A(a.admin), A(a.mint), A(a.tokenProgram), denormalize(a.params), a.allowFreezeAuthority),
  createMarket: (a) => ix.createMarket(A(a.admin), BigInt(a.marketId), A(a.mint), A(a.tokenProgram), denormalize(a.params), a.allowFreezeAuthority),
  updateMarket: (a) => ix.updateMarket(A(a.admin), A(a.market), denormalize(a.params), a.paused),
  registerProvider: (a) => ix.registerProvider(A(a.owner), { ...denormalize(a.info), endpoint: a.info.endpoint }),
  updateProvider: (a) => ix.updateProvider(A(a.owner), { ...denormalize(a.info), endpoint: a.info.endpoint }, a.active),
  postJob: (a) => ix.postJob(keys(a.keys), A(a.clientToken), { ...denormalize(a.args), specUri: a.args.specUri }),
  postJobAssigned: (a) => ix.postJob(keys(a.keys), A(a.clientToken), { ...denormalize(a.args), specUri: a.args.specUri }),
  cancelJob: (a) => ix.cancelJob(keys(a.keys), A(a.caller), A(a.clientToken)),
  extendJob: (a) => ix.extendJob(keys(a.keys), A(a.clientToken), a.addedSecs),
  claimJob: (a) => ix.claimJob(keys(a.keys), A(a.providerOwner)),
  quitJob: (a) => ix.quitJob(keys(a.keys), A(a.providerOwner), proto(a.protocol)),
  expireJob: (a) => ix.expireJob(keys(a.keys), A(a.caller), A(a.providerOwner), A(a.callerToken), proto(a.protocol)),
  submitResult: (a) => ix.submitResult(keys(a.keys), A(a.providerOwner), fromHex(a.resultHash), a.billedSecs, a.resultUri),
  settleJob: (a) => ix.settleJob(keys(a.keys), { clientToken: A(a.payees.clientToken), providerOwner: A(a.payees.providerOwner), providerToken: A(a.payees.providerToken) }),
  acceptResult: (a) => ix.acceptResult(keys(a.keys), { clientToken: A(a.payees.clientToken), providerOwner: A(a.payees.providerOwner), providerToken: A(a.payees.providerToken) }),
  disputeJob: (a) => ix.disputeJob(keys(a.keys), A(a.clientToken)),
  revealSample: (a) => ix.revealSample(keys(a.keys)),
  claimVerification: (a) => ix.claimVerification(keys(a.keys), A(a.verifier)),
  commitVerification: (a) => ix.commitVerification(keys(a.keys), A(a.verifier), fromHex(a.commitment)),
  submitVerification: (a) => ix.submitVerification(keys(a.keys), A(a.verifier), A(a.verifierToken), A(a.providerToken), fromHex(a.resultHash), a.billedSecs, a.matched),
  expireVerification: (a) => ix.expireVerification(keys(a.keys), A(a.caller), A(a.verifier), A(a.callerToken), proto(a.protocol)),
  resolveDispute: (a) => ix.resolveDispute(keys(a.keys), A(a.signer), A(a.provider), A(a.verifier), A(a.winnerToken), proto(a.protocol), a.decision),
  resolveDisputeEscalated: (a) =>
    ix.resolveDisputeEscalated(keys(a.keys), A(a.signer), A(a.provider), A(a.first), A(a.second), A(a.winnerToken), A(a.secondToken), proto(a.protocol), a.decision),
  initStaking: (a) => ix.initStaking(A(a.admin), proto(a.protocol)),
  stake: (a) => ix.stake(A(a.owner), A(a.ownerToken), proto(a.protocol), BigInt(a.amount), a.lockSecs),
  requestUnstake: (a) => ix.requestUnstake(A(a.owner), BigInt(a.amount)),
  restake: (a) => ix.restake(A(a.owner)),
  withdrawStake: (a) => ix.withdrawStake(A(a.owner), A(a.ownerToken), proto(a.protocol)),
  depositRewards: (a) => ix.depositRewards(A(a.depositor), A(a.depositorToken), A(a.treasuryToken), proto(a.protocol), BigInt(a.amount)),
  claimRewards: (a) => ix.claimRewards(A(a.owner), A(a.ownerToken), proto(a.protocol)),
  sweepFees: (a) => ix.sweepFees(A(a.market), A(a.mint), A(a.tokenProgram)),
  updateAuction: (a) => ix.updateAuction(A(a.admin), A(a.mint), denormalize(a.params)),
  buy: (a) =>
    ix.buy(
      A(a.buyer),
      { paymentMint: A(a.payment.paymentMint), paymentTokenProgram: A(a.payment.paymentTokenProgram) },
      A(a.buyerPaymentToken), A(a.buyerProtocolToken), A(a.treasuryToken), proto(a.protocol), BigInt(a.maxPrice), BigInt(a.minAmountOut),
    ),
  distributeFees: (a) => ix.distributeFees(A(a.treasuryToken), proto(a.protocol)),
};

const roleOf = (m: { signer: boolean; writable: boolean }) =>
  m.signer ? (m.writable ? AccountRole.WRITABLE_SIGNER : AccountRole.READONLY_SIGNER) : m.writable ? AccountRole.WRITABLE : AccountRole.READONLY;

describe('program id and PDAs', () => {
  it('uses the program id the Rust crate declares', () => {
    expect(CINDER_PROGRAM_ADDRESS).toBe(V.programId);
    expect(toHex(EVENT_IX_TAG_LE)).toBe(V.eventCpiTag);
  });

  it('derives every PDA as the Rust helpers do, bumps included', async () => {
    const p = V.pdas;
    const market = await findMarketPda(BigInt(p.inputs.marketId));
    const [job, jobBump] = await findJobPda(market, A(p.inputs.client), BigInt(p.inputs.nonce));
    const [vault, vaultBump] = await findJobVaultPda(job);
    expect({
      config: await findConfigPda(),
      market,
      job,
      jobBump,
      vault,
      vaultBump,
      provider: await findProviderPda(A(p.inputs.owner)),
      stake: await findStakePda(A(p.inputs.owner)),
      auction: await findAuctionPda(A(p.inputs.mint)),
      feeVault: await findFeeVaultPda(A(p.inputs.mint)),
      verifyPool: await findVerifyPoolPda(market),
      stakePool: await findStakePoolPda(),
      stakeVault: await findStakeVaultPda(),
      rewardVault: await findRewardVaultPda(),
      programData: await findProgramDataPda(),
      eventAuthority: await findEventAuthorityPda(),
    }).toEqual(Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'inputs')));
    expect(EVENT_AUTHORITY_ADDRESS).toBe(await findEventAuthorityPda());
  });
});

/** Builders that are another instruction with other accounts. */
const VARIANT_OF: Record<string, string> = { postJobAssigned: 'postJob', resolveDisputeEscalated: 'resolveDispute' };

describe('instructions', () => {
  it('has a vector for every instruction of the program', () => {
    const names = new Set(V.instructions.map((i: Json) => VARIANT_OF[i.name] ?? i.name));
    expect([...names].sort()).toEqual(Object.keys(BUILD).filter((n) => !(n in VARIANT_OF)).sort());
  });

  for (const vec of V.instructions as Json[]) {
    it(`${vec.name}: program id, account metas and data equal the Rust builder's`, async () => {
      const built = await BUILD[vec.name](vec.args);
      expect(built.programAddress).toBe(vec.programId);
      expect(built.accounts.map((m: { address: Address; role: AccountRole }) => [m.address, m.role])).toEqual(
        vec.accounts.map((m: Json) => [m.pubkey, roleOf(m)]),
      );
      expect(toHex(built.data)).toBe(vec.data);
      // And the data decodes back to the arguments it was built from.
      const back = identifyInstruction(fromHex(vec.data));
      expect(back?.name).toBe(VARIANT_OF[vec.name] ?? vec.name);
    });
  }
});

describe('accounts', () => {
  it('has a vector for every account type', () => {
    expect(V.accounts.map((a: Json) => a.name).sort()).toEqual(Object.keys(ACCOUNT_CODECS).sort());
  });

  for (const vec of V.accounts as Json[]) {
    const name = vec.name as AccountName;
    it(`${name}: decodes the Rust image field by field and re-encodes it byte for byte`, () => {
      const codec = ACCOUNT_CODECS[name]() as Json;
      const data = fromHex(vec.data);
      expect(codec.fixedSize ?? data.length).toBe(vec.size);
      const decoded = codec.decode(data);
      expect(normalize(decoded)).toEqual(vec.fields);
      expect(toHex(codec.encode(decoded))).toBe(vec.data);
      expect(identifyAccount(data)).toBe(name);
    });

    it(`${name}: refuses another account's bytes and short data`, () => {
      const codec = ACCOUNT_CODECS[name]();
      const other = V.accounts.find((a: Json) => a.name !== name);
      expect(() => codec.decode(fromHex(other.data))).toThrow(/not a|needs/);
      expect(() => codec.decode(fromHex(vec.data).slice(0, 20))).toThrow();
    });
  }
});

describe('events', () => {
  it('has a vector for every event', () => {
    expect(V.events.map((e: Json) => e.name).sort()).toEqual(Object.keys(EVENT_DISCRIMINATORS).sort());
  });

  for (const vec of V.events as Json[]) {
    it(`${vec.name}: decodes Event::data() and encodes it back`, () => {
      const ev = decodeEvent(fromHex(vec.data));
      expect(ev?.name).toBe(vec.name);
      expect(normalize(ev?.data)).toEqual(vec.fields);
      expect(toHex(encodeEvent(vec.name as EventName, ev!.data as never))).toBe(vec.data);
      // As an emit_cpi! self-CPI: the event tag first.
      const cpi = new Uint8Array([...EVENT_IX_TAG_LE, ...fromHex(vec.data)]);
      expect(decodeCpiEvent(cpi)?.name).toBe(vec.name);
      expect(decodeCpiEvent(fromHex(vec.data))).toBeNull();
    });
  }
});

describe('errors', () => {
  it('knows the CinderError variants the vectors pin, with their codes, names and messages', () => {
    // (tests/unit/errors.test.ts: the table is generated from errors.rs and covers every variant.)
    expect(PROGRAM_ERRORS.slice(0, V.errors.length).map((e) => ({ ...e }))).toEqual(V.errors);
  });
});

describe('math previews', () => {
  it('stake weights', () => {
    for (const w of V.math.weights) expect(weightFor(BigInt(w.amount), w.lockSecs).toString()).toBe(w.weight);
  });
  it('escrow at post', () => {
    for (const e of V.math.escrows) {
      const got = escrowFor(BigInt(e.pricePerSec), e.maxDurationSecs, e.verificationFeeBps);
      expect([got.compute.toString(), got.verificationFee.toString()]).toEqual([e.compute, e.verificationFee]);
    }
  });
  it('settlement split', () => {
    for (const s of V.math.settlements) {
      const got = settlementFor(BigInt(s.vaultBalance), BigInt(s.pricePerSec), s.billedSecs, s.protocolFeeBps, s.verificationFeeBps);
      expect(normalize(got)).toEqual({ provider: s.provider, protocolFee: s.protocolFee, verificationFee: s.verificationFee, refund: s.refund });
    }
  });
  it('earned rewards', () => {
    for (const e of V.math.earned) expect(earned(BigInt(e.weight), BigInt(e.acc), BigInt(e.debt)).toString()).toBe(e.earned);
  });
  it('auction price curve and next init price', () => {
    const a = getAuctionCodec().decode(fromHex(V.auctionCurve.auction));
    for (const p of V.auctionCurve.prices) expect(auctionPriceAt(a, BigInt(p.now)).toString()).toBe(p.price);
    for (const n of V.auctionCurve.nextInitPrices) expect(nextInitPrice(a, BigInt(n.paid)).toString()).toBe(n.next);
  });
  it('result commitment', async () => {
    const c = V.commitment;
    expect(toHex(await resultCommitment(A(c.job), A(c.provider), fromHex(c.resultHash)))).toBe(c.commitment);
  });
});
