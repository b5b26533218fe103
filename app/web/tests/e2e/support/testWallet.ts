/**
 * A wallet-standard wallet for the browser tests. The page gets only a thin wallet object
 * (injected before the dApp loads) whose features call back into this Node process through
 * `page.exposeFunction`: the secret key never enters the browser. It implements
 * `standard:connect`, `standard:disconnect`, `standard:events`, `solana:signTransaction`,
 * `solana:signAndSendTransaction` and `solana:signMessage`, and records every request.
 */
import {
  createKeyPairFromPrivateKeyBytes,
  createKeyPairSignerFromBytes,
  getAddressFromPublicKey,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getTransactionDecoder,
  getTransactionEncoder,
  partiallySignTransaction,
  signBytes,
  type Address,
  type Rpc,
  type SolanaRpcApi,
} from '@solana/kit';
import type { Page } from 'playwright-core';

export type WalletRequest = { method: string; at: number; message?: string };

export class TestWallet {
  readonly requests: WalletRequest[] = [];
  /** When set, the next request of this method is refused as a user would. */
  rejectNext: string | null = null;

  private constructor(
    readonly address: Address,
    private readonly keyPair: CryptoKeyPair,
    private readonly publicKey: Uint8Array,
    private readonly rpc: Rpc<SolanaRpcApi>,
    readonly chain: `solana:${string}`,
    private readonly seed: Uint8Array,
  ) {}

  /** The 64-byte Solana CLI secret key (seed ‖ public key), for a process such as the worker. */
  secretKey(): Uint8Array {
    return new Uint8Array([...this.seed, ...this.publicKey]);
  }

  /** A kit signer with the same key, for setting things up from Node. */
  signer() {
    return createKeyPairSignerFromBytes(this.secretKey());
  }

  /** From a 32-byte seed (the first half of a Solana CLI keypair file). */
  static async fromSeed(seed: Uint8Array, rpc: Rpc<SolanaRpcApi>, chain: `solana:${string}` = 'solana:localnet') {
    const keyPair = await createKeyPairFromPrivateKeyBytes(seed.slice(0, 32), true);
    const address = await getAddressFromPublicKey(keyPair.publicKey);
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
    return new TestWallet(address, keyPair, publicKey, rpc, chain, seed.slice(0, 32));
  }

  static async generate(rpc: Rpc<SolanaRpcApi>, chain?: `solana:${string}`) {
    const seed = new Uint8Array(32);
    crypto.getRandomValues(seed);
    return TestWallet.fromSeed(seed, rpc, chain);
  }

  private refuse(method: string) {
    if (this.rejectNext === method) {
      this.rejectNext = null;
      throw new Error('User rejected the request');
    }
  }

  async signTransactionBytes(wire: Uint8Array): Promise<Uint8Array> {
    const tx = getTransactionDecoder().decode(wire);
    const signed = await partiallySignTransaction([this.keyPair], tx);
    return getTransactionEncoder().encode(signed) as Uint8Array;
  }

  /** Handles one call from the page (base64 in, base64 out). */
  async handle(method: string, payloadB64: string): Promise<string> {
    const payload = Buffer.from(payloadB64, 'base64');
    switch (method) {
      case 'connect':
        this.requests.push({ method, at: Date.now() });
        this.refuse(method);
        return '';
      case 'signTransaction': {
        this.requests.push({ method, at: Date.now() });
        this.refuse(method);
        return Buffer.from(await this.signTransactionBytes(payload)).toString('base64');
      }
      case 'signAndSendTransaction': {
        this.requests.push({ method, at: Date.now() });
        this.refuse(method);
        const signedBytes = await this.signTransactionBytes(payload);
        const signed = getTransactionDecoder().decode(signedBytes);
        const sig = await this.rpc
          .sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: 'base64', preflightCommitment: 'confirmed' })
          .send();
        return Buffer.from(getBase58Encoder().encode(sig)).toString('base64');
      }
      case 'signMessage': {
        this.requests.push({ method, at: Date.now(), message: payload.toString('utf8') });
        this.refuse(method);
        const sig = await signBytes(this.keyPair.privateKey, new Uint8Array(payload));
        return Buffer.from(sig).toString('base64');
      }
      default:
        throw new Error(`test wallet: unknown method ${method}`);
    }
  }

  /** Exposes the handler and injects the wallet into every page of `page`'s context before the dApp runs. */
  async install(page: Page): Promise<void> {
    await page.exposeFunction('__cinderTestWallet', (method: string, payload: string) => this.handle(method, payload));
    await page.addInitScript({ content: injectedWallet(this.address, this.publicKey, this.chain) });
  }
}

/** The page-side half: a wallet-standard Wallet registered by the standard's window events. */
export function injectedWallet(address: string, publicKey: Uint8Array, chain: string): string {
  return `(() => {
  const address = ${JSON.stringify(address)};
  const publicKey = new Uint8Array(${JSON.stringify([...publicKey])});
  const chains = [${JSON.stringify(chain)}];
  const icon = 'data:image/svg+xml;base64,' + btoa('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" rx="6" fill="#3ecf8e"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="#062">T</text></svg>');
  const b64 = (bytes) => { let s = ''; for (const b of bytes) s += String.fromCharCode(b); return btoa(s); };
  const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const call = (method, bytes) => window.__cinderTestWallet(method, b64(bytes || new Uint8Array()));
  const listeners = new Set();
  const emit = () => { for (const l of listeners) l({ accounts: wallet.accounts }); };
  const account = Object.freeze({
    address, publicKey, chains,
    features: ['solana:signAndSendTransaction', 'solana:signTransaction', 'solana:signMessage'],
    label: 'Cinder test account',
  });
  let accounts = [];
  const wallet = {
    version: '1.0.0',
    name: 'Cinder Test Wallet',
    icon,
    chains,
    get accounts() { return accounts; },
    features: {
      'standard:connect': { version: '1.0.0', connect: async () => { await call('connect'); accounts = [account]; emit(); return { accounts }; } },
      'standard:disconnect': { version: '1.0.0', disconnect: async () => { accounts = []; emit(); } },
      'standard:events': { version: '1.0.0', on: (event, listener) => { if (event !== 'change') return () => {}; listeners.add(listener); return () => listeners.delete(listener); } },
      'solana:signTransaction': {
        version: '1.0.0', supportedTransactionVersions: ['legacy', 0],
        signTransaction: async (...inputs) => Promise.all(inputs.map(async (i) => ({ signedTransaction: unb64(await call('signTransaction', i.transaction)) }))),
      },
      'solana:signAndSendTransaction': {
        version: '1.0.0', supportedTransactionVersions: ['legacy', 0],
        signAndSendTransaction: async (...inputs) => Promise.all(inputs.map(async (i) => ({ signature: unb64(await call('signAndSendTransaction', i.transaction)) }))),
      },
      'solana:signMessage': {
        version: '1.0.0',
        signMessage: async (...inputs) => Promise.all(inputs.map(async (i) => ({ signedMessage: i.message, signature: unb64(await call('signMessage', i.message)) }))),
      },
    },
  };
  const callback = ({ register }) => register(wallet);
  try { window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback })); } catch (e) { console.error(e); }
  try { window.addEventListener('wallet-standard:app-ready', ({ detail: api }) => callback(api)); } catch (e) { console.error(e); }
})();`;
}
