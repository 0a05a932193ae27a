// Debian's Chromium driven by playwright-core, for tests of what a person sees. Both are
// optional on a machine: `browserSkipReason` says why a browser test cannot run here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

function hasPlaywright(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
}

/** '' when a browser test can run, else the reason it is skipped. */
export const browserSkipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium)`
  : !hasPlaywright()
    ? 'playwright-core is not installed'
    : '';

/** Headless Chromium with the flags this machine needs (no sandbox as root, no network chatter). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
