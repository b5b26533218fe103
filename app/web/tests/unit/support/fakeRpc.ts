/**
 * An in-memory JSON-RPC transport for component tests (kit's createSolanaRpcFromTransport):
 * accounts with real encodings, getProgramAccounts with real memcmp/dataSize filtering,
 * scripted simulation results and signature statuses, and transactions with event CPIs.
 * It stands in for the chain only in unit tests; the e2e tests run the real validator.
 */
import {
  createSolanaRpcFromTransport,
  getAddressEncoder,
  getBase58Decoder,
  getBase58Encoder,
  type Address,
  type RpcTransport,
} from '@solana/kit';
import type { Connection } from '../../../src/chain/connection';
import { CINDER_PROGRAM_ADDRESS, EVENT_IX_TAG_LE, TOKEN_PROGRAM_ADDRESS, encodeEvent, type EventData, type EventName } from '../../../src/client';

export type FakeAccount = { owner: Address; data: Uint8Array; lamports?: number };
export type FakeTx = { signature: string; slot: number; blockTime: number; addresses: Address[]; events: { name: EventName; data: unknown }[] };

export class FakeChain {
  accounts = new Map<string, FakeAccount>();
  tokenBalances = new Map<string, bigint>();
  txs: FakeTx[] = [];
  slot = 1000;
  unixTime = 1_700_000_000;
  /** The next simulateTransaction result's `err` (null: success). */
  simulationErr: unknown = null;
  simulationLogs: string[] = [];
  statuses = new Map<string, { err: unknown }>();
  sent: string[] = [];
  /** Sent transactions stay unconfirmed (no status) while this is true: set a status to land one. */
  holdSent = false;
  calls: string[] = [];
  /** Wire bytes of every transaction simulated, in order. */
  simulated: Uint8Array[] = [];
  down = false;

  setAccount(address: Address, account: FakeAccount) {
    this.accounts.set(address, account);
  }

  setTokenAccount(address: Address, mint: Address, owner: Address, amount: bigint) {
    const data = new Uint8Array(165);
    data.set(getAddressEncoder().encode(mint), 0);
    data.set(getAddressEncoder().encode(owner), 32);
    new DataView(data.buffer).setBigUint64(64, amount, true);
    data[108] = 1;
    this.accounts.set(address, { owner: TOKEN_PROGRAM_ADDRESS, data });
    this.tokenBalances.set(address, amount);
  }

  addTransaction<N extends EventName>(addresses: Address[], events: { name: N; data: EventData[N] }[], blockTime = this.unixTime) {
    const sig = getBase58Decoder().decode(crypto.getRandomValues(new Uint8Array(64)));
    this.txs.unshift({ signature: sig, slot: this.slot++, blockTime, addresses, events });
    return sig;
  }

  private info(a: FakeAccount) {
    return {
      data: [Buffer.from(a.data).toString('base64'), 'base64'],
      executable: false,
      lamports: a.lamports ?? 1_000_000,
      owner: a.owner,
      rentEpoch: 0,
      space: a.data.length,
    };
  }

  private matches(a: FakeAccount, filters: unknown[]): boolean {
    for (const f of filters as Record<string, unknown>[]) {
      if ('dataSize' in f && a.data.length !== Number(f.dataSize)) return false;
      if ('memcmp' in f) {
        const m = f.memcmp as { offset: number; bytes: string; encoding?: string };
        const want = m.encoding === 'base64' ? Buffer.from(m.bytes, 'base64') : getBase58Encoder().encode(m.bytes);
        const off = Number(m.offset);
        for (let i = 0; i < want.length; i++) if (a.data[off + i] !== want[i]) return false;
      }
    }
    return true;
  }

  handle(method: string, params: unknown[]): unknown {
    this.calls.push(method);
    const ctx = (value: unknown) => ({ context: { slot: this.slot }, value });
    switch (method) {
      case 'getSlot':
        return this.slot;
      case 'getBlockHeight':
        return this.slot;
      case 'getBlockTime':
        return this.unixTime;
      case 'getHealth':
        return 'ok';
      case 'getLatestBlockhash':
        return ctx({ blockhash: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi', lastValidBlockHeight: this.slot + 150 });
      case 'getAccountInfo': {
        const a = this.accounts.get(params[0] as string);
        return ctx(a ? this.info(a) : null);
      }
      case 'getMultipleAccounts':
        return ctx((params[0] as string[]).map((k) => (this.accounts.has(k) ? this.info(this.accounts.get(k)!) : null)));
      case 'getProgramAccounts': {
        const [program, cfg] = params as [string, { filters?: unknown[] }];
        const out = [];
        for (const [pubkey, a] of this.accounts) {
          if (a.owner === program && this.matches(a, cfg?.filters ?? [])) out.push({ pubkey, account: this.info(a) });
        }
        return out;
      }
      case 'getTokenAccountBalance': {
        const bal = this.tokenBalances.get(params[0] as string);
        if (bal === undefined) throw Object.assign(new Error('Invalid param: could not find account'), { code: -32602 });
        return ctx({ amount: bal.toString(), decimals: 6, uiAmount: null, uiAmountString: '' });
      }
      case 'getTokenAccountsByOwner': {
        const [owner, { mint }] = params as [string, { mint: string }];
        const out = [];
        for (const [pubkey, a] of this.accounts) {
          if (a.owner !== TOKEN_PROGRAM_ADDRESS || a.data.length < 64) continue;
          const m = getBase58Decoder().decode(a.data.slice(0, 32));
          const o = getBase58Decoder().decode(a.data.slice(32, 64));
          if (m === mint && o === owner) out.push({ pubkey, account: this.info(a) });
        }
        return ctx(out);
      }
      case 'getSignaturesForAddress': {
        const [addr, cfg] = params as [string, { limit?: number }];
        return this.txs
          .filter((t) => t.addresses.includes(addr as Address))
          .slice(0, cfg?.limit ?? 1000)
          .map((t) => ({ signature: t.signature, slot: t.slot, err: null, memo: null, blockTime: t.blockTime, confirmationStatus: 'confirmed' }));
      }
      case 'getTransaction': {
        const t = this.txs.find((x) => x.signature === params[0]);
        if (!t) return null;
        const keys = [...t.addresses, CINDER_PROGRAM_ADDRESS];
        return {
          slot: t.slot,
          blockTime: t.blockTime,
          transaction: { message: { accountKeys: keys, instructions: [] }, signatures: [t.signature] },
          meta: {
            err: null,
            logMessages: [],
            innerInstructions: [
              {
                index: 0,
                instructions: t.events.map((e) => ({
                  programIdIndex: keys.length - 1,
                  accounts: [],
                  data: getBase58Decoder().decode(new Uint8Array([...EVENT_IX_TAG_LE, ...encodeEvent(e.name, e.data as never)])),
                })),
              },
            ],
          },
        };
      }
      case 'simulateTransaction':
        this.simulated.push(Buffer.from(params[0] as string, 'base64'));
        return ctx({ err: this.simulationErr, logs: this.simulationLogs, accounts: null, unitsConsumed: 1000, returnData: null });
      case 'sendTransaction': {
        const wire = Buffer.from(params[0] as string, 'base64');
        // The first signature of the wire transaction is its id.
        const sig = getBase58Decoder().decode(wire.subarray(1, 65));
        this.sent.push(sig);
        if (!this.holdSent && !this.statuses.has(sig)) this.statuses.set(sig, { err: null });
        return sig;
      }
      case 'getSignatureStatuses':
        return ctx(
          (params[0] as string[]).map((s) =>
            this.statuses.has(s) ? { slot: this.slot, confirmations: 1, err: this.statuses.get(s)!.err, confirmationStatus: 'confirmed' } : null,
          ),
        );
      default:
        throw new Error(`fake RPC: ${method} not handled`);
    }
  }

  transport: RpcTransport = (async ({ payload }: { payload: unknown }) => {
    const p = payload as { id: number; method: string; params: unknown[] };
    if (this.down) throw new TypeError('Failed to fetch');
    try {
      return { jsonrpc: '2.0', id: p.id, result: this.handle(p.method, p.params ?? []) };
    } catch (e) {
      return { jsonrpc: '2.0', id: p.id, error: { code: (e as { code?: number }).code ?? -32000, message: (e as Error).message } };
    }
  }) as unknown as RpcTransport;

  connection(): Connection {
    return { rpc: createSolanaRpcFromTransport(this.transport) as unknown as Connection['rpc'], subscriptions: null, rpcUrl: 'fake://chain' };
  }
}
