import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IngestClient, PACKAGE_ROOT, startEngineProcess, streamRuleYaml } from './helpers/index.js';

const RULES = streamRuleYaml('seen', 'last(x) > 0');

async function allActions(url: string): Promise<Array<{ device: string; state: string }>> {
  const res = await fetch(`${url}/v1/actions?from=0&limit=100000`);
  const body = (await res.json()) as { records: Array<{ device: string; state: string }> };
  return body.records;
}

describe('damper start as a process', () => {
  it('prints one listening line, drains on SIGTERM without losing acked events, keeps data across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'damper-life-'));
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES);
    const dataDir = join(dir, 'data');
    const p = await startEngineProcess({ rulesFile, dataDir, flags: { shards: 4, workers: 2 } });
    expect(p.stdout().trim().split('\n')).toEqual([`damper listening on http://127.0.0.1:${p.port}`]);
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    const put = await fetch(`${p.url}/v1/devices/keep-me`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ attrs: { type: 'thermostat', setpoint: 70 } }) });
    expect(put.status).toBeLessThan(300);

    const g = await IngestClient.connect(p.wsUrl);
    const acked: number[] = [];
    let seq = 0;
    let stopping = false;
    // keep frames in flight: every batch names a new device, so its fired record proves it was applied
    const pump = async (): Promise<void> => {
      while (g.closeCode === null) {
        const s = ++seq;
        g.send({ seq: s, events: [{ d: `dev-${s}`, m: 'x', v: 1 }] });
        if (s % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        if (s > 20_000) break;
        if (stopping && s > 50_000) break;
      }
    };
    g.ws.on('message', () => {
      for (const r of g.replies.splice(0)) if (typeof r.ack === 'number') acked.push(r.ack);
    });
    const pumping = pump();
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 5));
    stopping = true;
    const code = await p.kill('SIGTERM');
    await pumping;
    expect(code).toBe(0);
    expect(acked.length).toBeGreaterThan(200);

    const q = await startEngineProcess({ rulesFile, dataDir, flags: { shards: 4 } });
    try {
      const fired = new Set((await allActions(q.url)).filter((r) => r.state === 'fired').map((r) => r.device));
      const lost = acked.filter((s) => !fired.has(`dev-${s}`));
      expect(lost).toEqual([]);
      const dev = (await (await fetch(`${q.url}/v1/devices/keep-me`)).json()) as { attrs: Record<string, unknown> };
      expect(dev.attrs).toEqual({ type: 'thermostat', setpoint: 70 });
    } finally {
      expect(await q.kill('SIGINT')).toBe(0);
    }
  }, 60_000);

  it('refuses to start on the uWebSockets.js ws fallback unless allowed', async () => {
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/damper.js'), 'start', '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'damper-fb-'))], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--allow-uws-fallback/);
    expect(r.stdout).not.toMatch(/damper listening/);
  });

  it('prints help and validates rules files', () => {
    const help = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/damper.js'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/damper start/);
    expect(help.stdout).toMatch(/--port/);
    const dir = mkdtempSync(join(tmpdir(), 'damper-check-'));
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - id: x\n    when: avrg(t, 5m) > 1\n    actions: []\n');
    const bad = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/damper.js'), 'rules', 'check', join(dir, 'bad.yaml')], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/\d+:\d+/);
    // an engine refuses to start on an invalid rules file, naming the errors
    const start = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/damper.js'), 'start', '--port', '0', '--data', join(dir, 'data'), '--rules', join(dir, 'bad.yaml')], { encoding: 'utf8', timeout: 20_000 });
    expect(start.status).toBe(1);
    expect(start.stderr).toMatch(/3:\d+: .*avrg/);
    expect(start.stdout).not.toMatch(/damper listening/);
  });
});
