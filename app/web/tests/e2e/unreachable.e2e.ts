/**
 * Every page renders something sensible when the RPC endpoint does not answer: no crash, the
 * chain badge says so, each page says it cannot read the chain, the wallet still connects.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, screenshot, type Browser } from './support/browser';
import { rpcFor } from './support/chain';
import { serveStatic, type StaticSite } from './support/server';
import { TestWallet } from './support/testWallet';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('with an unreachable RPC endpoint', () => {
  let site: StaticSite;
  let browser: Browser;
  let rpcUrl: string;

  beforeAll(async () => {
    site = await serveStatic(join(__dirname, '../../dist'));
    browser = await launch();
    rpcUrl = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('every page says the chain cannot be read, and nothing crashes', async () => {
    const page = await browser.newPage();
    const wallet = await TestWallet.generate(rpcFor(rpcUrl));
    await wallet.install(page);
    await page.goto(`${site.url}/?rpc=${encodeURIComponent(rpcUrl)}&poll=500#/jobs`);
    await expect.poll(() => page.getByTestId('chain-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('down');
    await page.getByTestId('connect-wallet').click();
    await expect.poll(() => page.getByTestId('wallet-address').getAttribute('data-address')).toBe(wallet.address);

    for (const name of ['jobs', 'provider', 'markets', 'economics']) {
      await page.getByTestId(`nav-${name}`).click();
      const root = page.getByTestId(`page-${name}`);
      await root.waitFor();
      await expect.poll(() => root.getByTestId('query-error').count(), { timeout: 20_000 }).toBeGreaterThan(0);
      const text = await root.innerText();
      expect(text).toMatch(/Cannot read the chain: The chain cannot be reached/);
      expect(text).not.toMatch(/This page failed/);
      await screenshot(page, `unreachable-${name}`);
    }
    expect(browser.pageErrors).toEqual([]);
  });
});
