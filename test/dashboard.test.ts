import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { open, type RootDatabase } from 'lmdb';
import uWS from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionService } from '../src/actions/action-service.js';
import { mountDashboard } from '../src/ops/dashboard.js';
import { listenApp, type Listening } from '../src/ops/listen.js';
import { mountMetrics } from '../src/ops/metrics-endpoint.js';
import { EngineMetrics, type MetricsSource } from '../src/ops/metrics.js';
import { parseExposition, sampleValue } from '../src/ops/parse-exposition.js';
import { browserSkipReason, launchChromium } from './helpers/chromium.js';

// page.waitForFunction callbacks run in Chromium; the tests are type-checked without the DOM
// library, so this declares the few DOM members those callbacks use
declare const document: { getElementById(id: string): { textContent: string | null; rows: ArrayLike<{ cells: ArrayLike<{ textContent: string | null }> }> } | null };

const browserReason = browserSkipReason;
if (browserReason) console.warn(`dashboard browser test skipped: ${browserReason}`);

class Source implements MetricsSource {
  applied = 0;
  eventsApplied(): number { return this.applied; }
  lateEvents(): number { return 2; }
  shardQueueBytes(): number[] { return [128, 0]; }
  workerBusySeconds(): number { return 0.5; }
  rulesVersion(): number { return 3; }
}

describe('dashboard', () => {
  let dir: string;
  let root: RootDatabase;
  let actions: ActionService;
  let server: Listening;
  let base: string;
  const metrics = new EngineMetrics();
  const source = new Source();
  const ADMIN = 'dash-token';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'damper-dash-'));
    root = open({ path: dir });
    actions = new ActionService({ root, onConnections: (d) => metrics.connections('actions', d) });
    actions.setDefinitions({ 'notify-owner': { kind: 'stream' } });
    metrics.setSource(source);
    const app = uWS.App();
    const authorize = (req: uWS.HttpRequest): boolean =>
      req.getHeader('authorization') === `Bearer ${ADMIN}` || req.getQuery('token') === ADMIN;
    mountDashboard(app);
    mountMetrics(app, metrics);
    actions.mount(app, { authorize });
    actions.start();
    server = await listenApp(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    server.close();
    await actions.close();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves one self-contained HTML page that loads nothing from elsewhere', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await r.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)="(?!data:)/i);
    for (const id of ['events-rate', 'rejected-total', 'conn-device', 'rules-version', 'lat-p99', 'actions-body']) {
      expect(html).toContain(`id="${id}"`);
    }
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(() => new vm.Script(scripts[0]![1]!)).not.toThrow();
  });

  it("the page's own script turns two real /metrics scrapes into the figures it shows", async () => {
    const html = await (await fetch(`${base}/`)).text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const ctx = vm.createContext({ URLSearchParams });
    vm.runInContext(script, ctx); // no document: defines the functions, starts nothing
    type Summary = {
      eventsPerSec: number;
      framesPerSec: number;
      rejectedTotal: number;
      rejectedByCode: Record<string, number>;
      connections: Record<string, number>;
      rulesVersion: number;
      lateEvents: number;
      queueBytes: number;
      latency: Record<string, number>;
      loopP99: number;
      actions: Record<string, Record<string, number>>;
    };
    const parse = (t: string): unknown => vm.runInContext('parseMetrics', ctx)(t);
    const summarize = (a: unknown, b: unknown, dt: number): Summary => vm.runInContext('summarize', ctx)(a, b, dt);

    source.applied = 1000;
    metrics.frames('ws', 10);
    const first = parse(await (await fetch(`${base}/metrics`)).text());
    source.applied = 3000;
    metrics.frames('ws', 30);
    metrics.frames('http', 10);
    metrics.rejected('bad_event', 4);
    metrics.connections('device', 5);
    metrics.actions('too-"hot"', 'fired', 2);
    metrics.ingestToAction(0.004);
    const secondText = await (await fetch(`${base}/metrics`)).text();
    const second = parse(secondText);
    const s = summarize(first, second, 2);
    expect(s.eventsPerSec).toBe(1000);
    expect(s.framesPerSec).toBe(20);
    expect(s.rejectedTotal).toBe(4);
    expect(s.rejectedByCode.bad_event).toBe(4);
    expect(s.rejectedByCode.overloaded).toBe(0);
    expect(s.connections.device).toBe(5);
    expect(s.rulesVersion).toBe(3);
    expect(s.lateEvents).toBe(2);
    expect(s.queueBytes).toBe(128);
    expect(s.latency['0.5']).toBeCloseTo(0.004, 5);
    expect(s.loopP99).toBe(sampleValue(parseExposition(secondText), 'damper_event_loop_delay_seconds', { quantile: '0.99' }));
    expect(s.actions['too-"hot"']).toEqual({ fired: 2 });
    expect(Number.isNaN(summarize(null, second, 1).eventsPerSec)).toBe(true);
  });

  it.skipIf(browserReason !== '')('renders live figures and action records in Chromium', { timeout: 180_000 }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(90_000); // two shared cores under a full test run are slow
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      // Recorded before the page opened: shown from the log (backfill), not lost.
      await actions.append([
        {
          ts: 1_763_799_990_000, rule: 'device-offline', version: 3, device: 'early-1', state: 'fired',
          values: { 'age(temperature)': Infinity }, actions: ['notify-owner'], attrs: {},
        },
      ]);
      await page.goto(`${base}/?token=${ADMIN}`);
      await page.waitForFunction(() => document.getElementById('actions-status')?.textContent === 'live');
      await page.waitForFunction(() => document.getElementById('rules-version')?.textContent === '3');
      metrics.connections('device', 2);
      await page.waitForFunction(() => document.getElementById('conn-device')?.textContent === '7');
      await actions.append([
        {
          ts: 1_763_800_000_000, rule: 'too-hot', version: 3, device: 'th-<b>7</b>', state: 'fired',
          values: { 'avg(temperature, 5m)': 81.2 }, actions: ['notify-owner'], attrs: { type: 'thermostat' },
        },
      ]);
      await page.waitForFunction(() => (document.getElementById('actions-body')?.rows.length ?? 0) > 1);
      const row = await page.$$eval('#actions-body tr:first-child td', (tds) => tds.map((td) => td.textContent));
      const older = await page.$$eval('#actions-body tr:nth-child(2) td', (tds) => tds.map((td) => td.textContent));
      expect(older.slice(2, 6)).toEqual(['device-offline', 'early-1', 'fired', 'age(temperature) = null']);
      expect(Number(row[0])).toBe(Number(older[0]) + 1);
      expect(row[2]).toBe('too-hot');
      expect(row[3]).toBe('th-<b>7</b>'); // shown as text, never as markup
      expect(row[4]).toBe('fired');
      expect(row[5]).toContain('avg(temperature, 5m) = 81.20');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
