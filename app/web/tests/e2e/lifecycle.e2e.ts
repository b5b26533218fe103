/**
 * The dApp end to end on the real local chain (`cinder localnet`: Agave's test validator with
 * the SBF program in genesis, bootstrapped by migrations/localnet.toml) and the real provider
 * daemon (`cinder worker`), in headless Chromium with a wallet-standard test wallet:
 *
 *   1. a provider stakes (choosing a lock, seeing its weight) and registers in the Provider page;
 *   2. the worker runs with that key; a client posts a job in the Jobs page and watches it go
 *      Open → Running → Submitted → Settled, and downloads the results with a signed request;
 *   3. the Markets page shows the market and the queue position of an open job;
 *   4. the Economics page sweeps the market's fees to the auction and buys the fee vault: the
 *      burned total rises (in the page and on chain);
 *   5. the provider claims the staking rewards that buy paid to stakers.
 *
 * Each page is screenshotted into test-results/screenshots.
 */
import { address, type Address, type KeyPairSigner } from '@solana/kit';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConfigCodec, getMarketCodec, findConfigPda, findMarketPda, ix } from '../../src/client';
import { launch, screenshot, type Browser } from './support/browser';
import { ata, eventually, mintTo, rpcFor, sendAs, signerFromFile, tokenBalance, transferSol, type E2eRpc } from './support/chain';
import { startLocalnet, type Localnet } from './support/localnet';
import { serveStatic, type StaticSite } from './support/server';
import { TestWallet } from './support/testWallet';
import { startWorker, type Worker } from './support/worker';

const SOL = 1_000_000_000n;

/**
 * A job the worker can run: a process job of the allow-listed `sh`, writing one output file.
 * It takes a few seconds so that it bills something and the settlement pays a protocol fee.
 */
const SPEC = JSON.stringify({
  version: 1,
  kind: 'process',
  command: ['sh', '-c', 'sleep 4; echo "cinder e2e: hello from the provider" > "$CINDER_OUTPUT_DIR/hello.txt"'],
  time_limit_secs: 60,
  deterministic: true,
});
const SPEC_HASH = createHash('sha256').update(SPEC).digest('hex');

describe('the dApp on the local chain', () => {
  let net: Localnet;
  let site: StaticSite;
  let browser: Browser;
  let rpc: E2eRpc;
  let worker: Worker | undefined;
  let faucet: KeyPairSigner;
  let mintAuthority: KeyPairSigner;
  let provider: TestWallet;
  let client: TestWallet;
  let usdc: { address: Address; decimals: number; tokenProgram: Address };
  let protocolMint: Address;
  let protocolTokenProgram: Address;
  let market: { id: number; address: Address };
  let labels: string;

  beforeAll(async () => {
    net = await startLocalnet({ name: 'lifecycle' });
    rpc = rpcFor(net.state.rpc_url);
    site = await serveStatic(join(__dirname, '../../dist'), (path) => (path === '/specs/hello.json' ? { type: 'application/json', body: SPEC } : null));
    browser = await launch();
    faucet = await signerFromFile(net.state.faucet_keypair);
    mintAuthority = await signerFromFile(net.state.mint_authority_keypair);
    const u = net.state.payment_mints.find((m) => m.name === 'usdc') ?? net.state.payment_mints[0];
    usdc = { address: address(u.address), decimals: u.decimals, tokenProgram: address(u.token_program) };
    protocolMint = address(net.state.protocol_mint);
    const mintInfo = await rpc.getAccountInfo(protocolMint, { encoding: 'base64' }).send();
    protocolTokenProgram = mintInfo.value!.owner;
    const m = net.state.markets.find((x) => x.payment_mint === u.address && /cpu/i.test(x.gpu_model)) ?? net.state.markets[0];
    // A market of its own, like the bootstrapped CPU market but with an hour's challenge
    // window and no sampling, so the client's accept is the settlement (the keeper cannot
    // settle first and no draw can make it wait for a verifier).
    const admin = await signerFromFile(net.state.admin_keypair);
    const base = getMarketCodec().decode(Buffer.from((await rpc.getAccountInfo(address(m.address), { encoding: 'base64' }).send()).value!.data[0], 'base64'));
    const id = 900n;
    const params = { ...base.params, challengeWindowSecs: 3_600, verifyRateBps: 0 };
    await sendAs(rpc, admin, [await ix.createMarket(admin.address, id, usdc.address, usdc.tokenProgram, params, false)]);
    market = { id: Number(id), address: await findMarketPda(id) };
    labels = `${usdc.address}:USDC,${protocolMint}:CNDR`;

    provider = await TestWallet.generate(rpc);
    client = await TestWallet.generate(rpc);
    for (const w of [provider, client]) await transferSol(rpc, faucet, w.address, 20n * SOL);
    await mintTo(rpc, faucet, mintAuthority, protocolMint, protocolTokenProgram, provider.address, 5_000n * 10n ** 9n);
    await mintTo(rpc, faucet, mintAuthority, protocolMint, protocolTokenProgram, client.address, 1_000n * 10n ** 9n);
    await mintTo(rpc, faucet, mintAuthority, usdc.address, usdc.tokenProgram, client.address, 100n * 10n ** BigInt(usdc.decimals));
  });

  afterAll(async () => {
    await worker?.stop();
    await browser?.close();
    await site?.close();
    await net?.stop();
  });

  async function open(wallet: TestWallet, page: string): Promise<Page> {
    const p = await browser.newPage();
    await wallet.install(p);
    const q = new URLSearchParams({ rpc: net.state.rpc_url, ws: net.state.ws_url, labels, poll: '1000' });
    await p.goto(`${site.url}/?${q}#/${page}`);
    await p.getByTestId('connect-wallet').click();
    await expect.poll(() => p.getByTestId('wallet-address').getAttribute('data-address')).toBe(wallet.address);
    await expect.poll(() => p.getByTestId('chain-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('up');
    return p;
  }

  async function confirmed(scope: ReturnType<Page['getByTestId']>, timeout = 60_000) {
    await expect
      .poll(async () => {
        const phase = await scope.getByTestId('tx-status').getAttribute('data-phase');
        if (phase === 'failed') throw new Error(`transaction failed: ${await scope.getByTestId('tx-status').innerText()}`);
        return phase;
      }, { timeout })
      .toBe('confirmed');
  }

  it('pages render the bootstrapped chain', async () => {
    const page = await open(client, 'markets');
    const row = page.getByTestId('market-row').filter({ has: page.locator(`[data-address="${market.address}"]`) });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    await screenshot(page, 'markets-bootstrapped');
    // Each page's sign that it has read the chain: then (not after a fixed wait) it must show
    // no failure.
    const loaded: Record<string, () => Promise<boolean>> = {
      jobs: async () => (await page.getByTestId('post-market').locator(`option[value="${market.address}"]`).count()) === 1,
      provider: async () => (await page.getByTestId('stake-locks').count()) > 0,
      economics: async () => (await page.locator(`[data-testid="auction"][data-mint="${usdc.address}"]`).count()) === 1,
    };
    for (const name of ['jobs', 'provider', 'economics']) {
      await page.getByTestId(`nav-${name}`).click();
      await page.getByTestId(`page-${name}`).waitFor({ timeout: 30_000 });
      await expect.poll(loaded[name], { timeout: 30_000 }).toBe(true);
      expect(await page.getByTestId(`page-${name}`).innerText()).not.toMatch(/This page failed|Cannot read the chain/);
      await screenshot(page, `${name}-bootstrapped`);
    }
    await page.close();
  });

  it('a provider stakes with a chosen lock (seeing its weight) and registers', async () => {
    const page = await open(provider, 'provider');
    const stake = page.getByTestId('stake');
    await stake.getByTestId('stake-input').fill('2000');
    await stake.getByTestId('lock-30').check();
    // weight = 2000 × (1 + 3 × 30 / 365) tokens of 9 decimals, rounded down.
    const weight = 2_000n * 10n ** 9n + (2_000n * 10n ** 9n * 3n * 30n * 86_400n) / (365n * 86_400n);
    expect(await stake.getByTestId('stake-preview').innerText()).toContain(`weight ${weight}`);
    await stake.getByTestId('stake-submit').click();
    await confirmed(stake.locator('form'));
    await expect.poll(() => stake.getByTestId('stake-weight').innerText(), { timeout: 30_000 }).toBe(weight.toString());

    const reg = page.getByTestId('provider');
    await reg.getByTestId('reg-model').fill('cpu');
    await reg.getByTestId('reg-vram').fill('0');
    await reg.getByTestId('reg-count').fill('4');
    await reg.getByTestId('reg-inventory').fill('e2e test machine: 4 CPU slots');
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    await reg.getByTestId('reg-endpoint').fill(`http://127.0.0.1:${port}`);
    await reg.getByTestId('reg-submit').click();
    await confirmed(reg);
    await expect.poll(() => reg.getByTestId('provider-status').innerText(), { timeout: 30_000 }).toBe('Active');
    await screenshot(page, 'provider-registered');
    await page.close();

    worker = await startWorker({
      name: 'lifecycle',
      rpcUrl: net.state.rpc_url,
      wsUrl: net.state.ws_url,
      secretKey: provider.secretKey(),
      markets: [market.id],
      port,
      extraToml: ['runtime = "process"', 'cpu_slots = 4', '[process_allow]', 'sh = "/bin/sh"'].join('\n'),
    });
  });

  it('a client posts a job and sees it settle after the worker completes it, then downloads the results', async () => {
    const page = await open(client, 'jobs');
    const form = page.getByTestId('post-job');
    await form.getByTestId('post-market').selectOption(market.address);
    await form.getByTestId('post-spec-uri').fill(`${site.url}/specs/hello.json`);
    await form.getByTestId('post-spec-hash').fill(SPEC_HASH);
    await form.getByTestId('post-price').fill('0.01');
    await form.getByTestId('post-duration').fill('120');
    await form.getByTestId('post-submit').click();
    await confirmed(form);

    const row = page.getByTestId('job-row').first();
    const job = address((await row.getAttribute('data-job'))!);
    const seen = new Set<string>();
    // The worker claims, runs and submits; the market's window is an hour and it samples
    // nothing, so the job waits in Submitted until its client accepts, and the accept settles it.
    const r = page.locator(`[data-testid="job-row"][data-job="${job}"]`);
    await expect
      .poll(async () => {
        const state = await r.getAttribute('data-state');
        if (state) seen.add(state);
        return state;
      }, { timeout: 180_000, interval: 300 })
      .toBe('Submitted');
    await screenshot(page, 'jobs-submitted');
    await r.getByTestId('job-accept').click();
    // The row may drop its transaction status as soon as the job closes: wait for Settled,
    // failing at once if the accept is refused; the outcome below must read "(accepted)".
    await expect
      .poll(async () => {
        const phase = await r.getByTestId('tx-status').getAttribute('data-phase', { timeout: 1_000 }).catch(() => null);
        if (phase === 'failed') throw new Error(`accept failed: ${await r.getByTestId('tx-status').innerText()}`);
        return r.getAttribute('data-state', { timeout: 1_000 }).catch(() => null);
      }, { timeout: 90_000 })
      .toBe('Settled');
    seen.add('Settled');
    expect(seen.has('Open') || seen.has('Running') || seen.has('Submitted')).toBe(true);
    console.log(`job ${job}: states seen ${[...seen].join(' → ')}`);
    const outcome = await page.locator(`[data-testid="job-row"][data-job="${job}"]`).getByTestId('job-outcome').innerText();
    const billed = /^Settled \(accepted\): (\d+) s billed, provider got ([\d.,]+) USDC, refund ([\d.,]+) USDC$/.exec(outcome);
    expect(billed, outcome).not.toBeNull();
    expect(Number(billed![1])).toBeGreaterThanOrEqual(1);
    expect(Number(billed![2])).toBeGreaterThan(0);
    expect(await rpc.getAccountInfo(job, { encoding: 'base64' }).send().then((x) => x.value)).toBeNull();
    // The results stay downloadable after settlement: a signed request to the provider, the
    // manifest's result hash checked against the commitment from the job's ResultSubmitted event.
    const settledRow = page.locator(`[data-testid="job-row"][data-job="${job}"]`);
    await settledRow.getByTestId('job-download').click();
    await settledRow.getByTestId('results').waitFor({ timeout: 30_000 });
    expect(await settledRow.getByTestId('results-check').innerText()).toBe('Result hash matches the on-chain commitment');
    expect(await settledRow.getByTestId('results-file').allInnerTexts()).toContain('hello.txt');
    expect(client.requests.some((q) => q.method === 'signMessage' && q.message?.startsWith(`cinder-results:v2:${worker!.endpoint}/v1/jobs/${job}:`))).toBe(true);
    await screenshot(page, 'jobs-settled');
    await page.close();
  });

  it('the markets page shows the queue position of an open job', async () => {
    // Reserved for a provider that does not exist, so it stays open.
    const page = await open(client, 'jobs');
    const form = page.getByTestId('post-job');
    await form.getByTestId('post-market').selectOption(market.address);
    await form.getByTestId('post-spec-uri').fill(`${site.url}/specs/hello.json`);
    await form.getByTestId('post-spec-hash').fill(SPEC_HASH);
    await form.getByTestId('post-assigned').fill((await TestWallet.generate(rpc)).address);
    await form.getByTestId('post-submit').click();
    await confirmed(form);
    await page.getByTestId('nav-markets').click();
    const entry = page.getByTestId('queue-entry').first();
    await entry.waitFor({ timeout: 30_000 });
    expect(await entry.getByTestId('queue-position').innerText()).toBe('1');
    await screenshot(page, 'markets-queue');
    await page.close();
  });

  it('buying the fee vault at the auction raises the burned total', async () => {
    const configPda = await findConfigPda();
    const burned = async () => getConfigCodec().decode(Buffer.from((await rpc.getAccountInfo(configPda, { encoding: 'base64' }).send()).value!.data[0], 'base64')).totalBurned;
    const before = await burned();
    const page = await open(client, 'economics');
    const auction = page.locator(`[data-testid="auction"][data-mint="${usdc.address}"]`);
    // The settled job's protocol fee sits in the market's pool until someone sweeps it to the
    // auction's fee vault: the page offers it (the worker's keeper may have done it already).
    // The sweep's status lives on the list, not the row: a confirmed sweep removes its row.
    await eventually('fees to sweep or an auction vault to buy', async () => {
      const sweep = page.getByTestId('sweep-submit').first();
      if (await sweep.count()) {
        await sweep.click();
        const status = page.getByTestId('sweeps').getByTestId('tx-status');
        await expect.poll(() => status.getAttribute('data-phase'), { timeout: 60_000 }).toMatch(/^(confirmed|failed)$/);
        if ((await status.getAttribute('data-phase')) === 'failed') {
          // Only one refusal is expected: the keeper's sweep landed between the page's read and the click.
          expect(await status.getByTestId('tx-error').getAttribute('data-error-name'), await status.innerText()).toBe('NothingToSweep');
        }
        return true;
      }
      return !/^0 |…|no vault/.test(await auction.getByTestId('vault-balance').innerText());
    });
    await expect.poll(() => auction.getByTestId('vault-balance').innerText(), { timeout: 30_000 }).not.toMatch(/^0 |…|no vault/);
    const shownBefore = await page.getByTestId('total-burned').innerText();
    const protocolBefore = await tokenBalance(rpc, await ata(client.address, protocolMint, protocolTokenProgram));
    await auction.getByTestId('buy-submit').click();
    await confirmed(auction);
    const after = await eventually('the burn', async () => ((await burned()) > before ? burned() : undefined));
    expect(after).toBeGreaterThan(before);
    expect(await tokenBalance(rpc, await ata(client.address, protocolMint, protocolTokenProgram))).toBeLessThan(protocolBefore);
    expect(await tokenBalance(rpc, await ata(client.address, usdc.address, usdc.tokenProgram))).toBeGreaterThan(0n);
    await expect.poll(() => page.getByTestId('total-burned').innerText(), { timeout: 30_000 }).not.toBe(shownBefore);
    await expect.poll(async () => Number(await page.getByTestId('burn-chart').getAttribute('data-last')), { timeout: 30_000 }).toBe(Number(after));
    // The Burned event itself reaches the RPC's transaction history a little later (≈ 30 s
    // on the test validator): then the chart has the buy's point besides the live total.
    await expect.poll(async () => Number(await page.getByTestId('burn-chart').getAttribute('data-points')), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'economics-after-buy');
    await page.close();
  });

  it('the staker claims the rewards the buy paid to stakers', async () => {
    const page = await open(provider, 'provider');
    const stake = page.getByTestId('stake');
    await expect.poll(() => stake.getByTestId('stake-rewards').innerText(), { timeout: 30_000 }).not.toMatch(/^0 /);
    const token = await ata(provider.address, protocolMint, protocolTokenProgram);
    const before = await tokenBalance(rpc, token);
    await stake.getByTestId('claim-submit').click();
    await confirmed(stake.locator('.actions-grid > div').nth(2));
    expect(await tokenBalance(rpc, token)).toBeGreaterThan(before);
    // Earnings come from the events in the history (available ≈ 30 s after confirmation).
    await expect.poll(() => page.getByTestId('earnings-rewards').innerText(), { timeout: 120_000 }).not.toMatch(/^0 /);
    await expect.poll(() => page.getByTestId('earnings-jobs').innerText(), { timeout: 120_000 }).not.toMatch(/^0 /);
    await screenshot(page, 'provider-rewards-claimed');
    await page.close();
  });

  it('no page raised an error', () => {
    expect(browser.pageErrors).toEqual([]);
  });
});
