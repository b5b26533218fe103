/** Debian's Chromium, headless, driven by playwright-core (no browser download). */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CINDER_CHROMIUM ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium reaches out at start-up, which the closed
// network here refuses.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOTS = join(__dirname, '../../../test-results/screenshots');

export type Browser = { context: BrowserContext; newPage: () => Promise<Page>; close: () => Promise<void>; pageErrors: string[] };

export async function launch(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'cinder-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
  });
  const pageErrors: string[] = [];
  return {
    context,
    pageErrors,
    newPage: async () => {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
