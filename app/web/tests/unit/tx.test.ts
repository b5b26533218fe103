import { getBase58Decoder, type Signature } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { sendInstructions, TransactionFailed, waitForConfirmation } from '../../src/chain/tx';
import { ix, PROGRAM_ERRORS } from '../../src/client';
import { TestWallet } from '../e2e/support/testWallet';
import { FakeChain } from './support/fakeRpc';

async function setup() {
  const chain = new FakeChain();
  const conn = chain.connection();
  const wallet = await TestWallet.generate(conn.rpc);
  const signer = {
    address: wallet.address,
    signAndMaybeSend: async (wire: Uint8Array) => ({ signedTransaction: await wallet.signTransactionBytes(wire) }),
  };
  return { chain, conn, wallet, signer };
}

describe('sending a transaction', () => {
  it('goes simulating → signing → pending → confirmed, sending the signed bytes itself when the wallet only signs', async () => {
    const { chain, conn, signer, wallet } = await setup();
    const phases: string[] = [];
    const sig = await sendInstructions(conn, signer, [await ix.restake(wallet.address)], { pollMs: 10, onStatus: (s) => phases.push(s.phase) });
    expect(phases).toEqual(['simulating', 'signing', 'pending', 'confirmed']);
    expect(chain.sent).toEqual([sig]);
  });

  it('fails with the program error when the transaction fails on chain', async () => {
    const { chain, conn, signer, wallet } = await setup();
    const err = PROGRAM_ERRORS.find((e) => e.name === 'NothingToClaim')!;
    const realHandle = chain.handle.bind(chain);
    chain.handle = (method, params) => {
      const out = realHandle(method, params);
      if (method === 'sendTransaction') chain.statuses.set(out as string, { err: { InstructionError: [0, { Custom: err.code }] } });
      if (method === 'getTransaction') return null;
      return out;
    };
    const p = sendInstructions(conn, signer, [await ix.restake(wallet.address)], { pollMs: 10 });
    await expect(p).rejects.toBeInstanceOf(TransactionFailed);
    await expect(p).rejects.toMatchObject({ explained: { name: 'NothingToClaim', message: err.message } });
  });

  it('reports a wallet rejection in plain words', async () => {
    const { conn, wallet, signer } = await setup();
    wallet.rejectNext = 'signTransaction';
    const rejecting = { ...signer, signAndMaybeSend: async (wire: Uint8Array) => ({ signedTransaction: Buffer.from(await wallet.handle('signTransaction', Buffer.from(wire).toString('base64')), 'base64') }) };
    await expect(sendInstructions(conn, rejecting, [await ix.restake(wallet.address)])).rejects.toMatchObject({
      explained: { message: 'You rejected the request in your wallet' },
    });
  });

  it('gives up when the blockhash expires before confirmation', async () => {
    const { chain, conn } = await setup();
    const sig = getBase58Decoder().decode(new Uint8Array(64).fill(7)) as Signature;
    chain.slot = 5000;
    await expect(waitForConfirmation(conn, sig, 4000n, { pollMs: 10 })).rejects.toMatchObject({ explained: { name: 'Expired' } });
  });
});
