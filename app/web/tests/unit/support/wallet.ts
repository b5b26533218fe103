/** Registers the e2e test wallet in a jsdom window (its features call a TestWallet directly). */
import type { Rpc, SolanaRpcApi } from '@solana/kit';
import { injectedWallet, TestWallet } from '../../e2e/support/testWallet';

export async function installTestWallet(rpc: Rpc<SolanaRpcApi>): Promise<TestWallet> {
  const wallet = await TestWallet.generate(rpc);
  (window as unknown as { __cinderTestWallet: unknown }).__cinderTestWallet = (m: string, p: string) => wallet.handle(m, p);
  const publicKey = new Uint8Array(32);
  // The page-side half only needs the address; the key bytes are informational.
  new Function(injectedWallet(wallet.address, publicKey, wallet.chain))();
  return wallet;
}
