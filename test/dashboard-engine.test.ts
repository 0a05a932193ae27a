// The dashboard on the real engine with an admin token, in Chromium: what `npm start`
// shows, fast-forwarded (the demo fleet runs 20 simulated seconds per second).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startEngine } from './helpers/engine.js';
import { startFleetOn } from './helpers/fleet.js';
import { browserSkipReason, launchChromium } from './helpers/chromium.js';

// page.waitForFunction callbacks run in Chromium; the tests are type-checked without the DOM
// library, so this declares the few DOM members those callbacks use
declare const document: { getElementById(id: string): { textContent: string | null; rows: ArrayLike<{ cells: ArrayLike<{ textContent: string | null }> }> } | null };

const reason = browserSkipReason;
if (reason) console.warn(`dashboard-engine test skipped: ${reason}`);
const rulesFile = fileURLToPath(new URL('../demo/rules.yaml', import.meta.url));
const ADMIN = 'dash-admin';

describe('dashboard on the real engine', () => {
  it.skipIf(reason !== '')('shows the demo fleet, its action records and a device, with the admin token', { timeout: 180_000 }, async () => {
    const te = await startEngine({ rulesFile, flags: { 'admin-token': ADMIN } });
    const fleet = startFleetOn(te, {
      devices: 2,
      intervalMs: 50,
      timeScale: 20,
      episodeRates: { overheatPerSec: 0.5, errorsPerSec: 0, silentPerSec: 0 },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(90_000);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${te.url}/?token=${ADMIN}`);
      const text = (id: string) => page.locator(`#${id}`).textContent();
      await page.waitForFunction(() => document.getElementById('actions-status')?.textContent === 'live');
      await page.waitForFunction(() => document.getElementById('conn-device')?.textContent === '2');
      expect(await text('rules-version')).toBe('1');
      // The page's own stream subscription, as counted by the engine at the next poll.
      await page.waitForFunction(() => document.getElementById('conn-actions')?.textContent === '1');
      await page.waitForFunction(() => Number(document.getElementById('events-total')?.textContent) > 0);

      await page.waitForFunction(() =>
        Array.from(document.getElementById('actions-body')?.rows ?? []).some(
          (tr) => tr.cells[2]?.textContent === 'too-hot' && tr.cells[4]?.textContent === 'fired',
        ),
      );
      await page.waitForFunction(() =>
        Array.from(document.getElementById('rules-body')?.rows ?? []).some(
          (tr) => tr.cells[0]?.textContent === 'too-hot' && Number(tr.cells[1]?.textContent) >= 1,
        ),
      );

      await page.fill('#device-id', 'th-1');
      await page.click('#device-form button');
      await page.waitForFunction(() => document.getElementById('device-out')?.textContent?.startsWith('200'));
      const out = (await text('device-out'))!;
      const view = JSON.parse(out.slice(out.indexOf('\n') + 1)) as { attrs: { type: string }; rules: Record<string, string> };
      expect(view.attrs.type).toBe('thermostat');
      expect(Object.keys(view.rules).sort()).toEqual(['device-offline', 'errors-accelerating', 'too-hot']);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await fleet.stop();
      await te.stop();
    }
  });
});
