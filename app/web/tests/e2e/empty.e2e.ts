/**
 * Every page on a nearly empty real chain (`cinder localnet` with a plan that creates only the
 * config and the staking pool): each says there is nothing yet, and nothing crashes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, screenshot, type Browser } from './support/browser';
import { rpcFor } from './support/chain';
import { startLocalnet, type Localnet } from './support/localnet';
import { serveStatic, type StaticSite } from './support/server';
import { TestWallet } from './support/testWallet';

describe('on an empty local chain', () => {
  let net: Localnet;
  let site: StaticSite;
  let browser: Browser;

  beforeAll(async () => {
    const plan = join(__dirname, 'fixtures/empty-plan.toml');
    net = await startLocalnet({ name: 'empty', extraArgs: ['--plan', plan] });
    site = await serveStatic(join(__dirname, '../../dist'));
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await net?.stop();
  });

  it('every page says what is missing', async () => {
    const page = await browser.newPage();
    const wallet = await TestWallet.generate(rpcFor(net.state.rpc_url));
    await wallet.install(page);
    const q = new URLSearchParams({ rpc: net.state.rpc_url, ws: net.state.ws_url, poll: '1000' });
    await page.goto(`${site.url}/?${q}#/jobs`);
    await expect.poll(() => page.getByTestId('chain-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('up');
    await page.getByTestId('connect-wallet').click();
    await page.getByTestId('wallet-address').waitFor();

    const expected: Record<string, RegExp[]> = {
      jobs: [/No markets on this chain yet/, /You have no jobs yet/],
      provider: [/Staked\s*0 /, /Stake protocol tokens first/, /No jobs claimed by you right now/, /Never slashed/],
      markets: [/No markets on this chain yet/, /You have no open jobs waiting/, /No open jobs right now/],
      economics: [/Total burned\s*0 /, /No data yet/, /No auctions on this chain yet/, /No rewards paid to stakers yet/],
    };
    for (const [name, texts] of Object.entries(expected)) {
      await page.getByTestId(`nav-${name}`).click();
      const root = page.getByTestId(`page-${name}`);
      await root.waitFor();
      for (const t of texts) await expect.poll(() => root.innerText(), { timeout: 30_000 }).toMatch(t);
      expect(await root.innerText()).not.toMatch(/This page failed|Cannot read the chain/);
      await screenshot(page, `empty-${name}`);
    }
    expect(browser.pageErrors).toEqual([]);
  });
});
