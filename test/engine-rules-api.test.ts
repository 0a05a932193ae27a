import { writeFileSync } from 'node:fs';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, until, type InProcessEngine, streamRuleYaml } from './helpers/index.js';

const V1 = streamRuleYaml('hot', 'last(t) > 100');
const V2 = `
rules:
  - id: hot
    when: last(t) > 100
    actions: [note]
  - id: quiet
    when: age(t) > 0.2
    actions: [note]
actions:
  note: { kind: stream }
`;

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ rules: V1, flags: { shards: 2, tick: '50ms' } });
});
afterAll(async () => {
  await e?.stop();
});

async function records(): Promise<Array<{ rule: string; device: string; state: string; version: number }>> {
  return ((await (await fetch(`${e.url}/v1/actions?from=0&limit=10000`)).json()) as { records: Array<{ rule: string; device: string; state: string; version: number }> }).records;
}


describe('rules through the API', () => {
  it('GET shows the running version, validate and PUT reject bad rules with line:col errors', async () => {
    expect(await (await fetch(`${e.url}/v1/rules`)).json()).toEqual({ version: 1, yaml: V1 });
    const bad = 'rules:\n  - id: x\n    when: avrg(t, 5m) > 1\n    actions: [note]\nactions:\n  note: { kind: stream }\n';
    const v = await fetch(`${e.url}/v1/rules/validate`, { method: 'POST', body: bad });
    expect(v.status).toBe(400);
    expect(((await v.json()) as { errors: string[] }).errors[0]).toMatch(/^\d+:\d+: /);
    const p = await fetch(`${e.url}/v1/rules`, { method: 'PUT', body: bad });
    expect(p.status).toBe(400);
    expect(((await (await fetch(`${e.url}/v1/rules`)).json()) as { version: number }).version).toBe(1);
  });

  it('PUT installs a new version on every shard; ticks drive age() rules', async () => {
    const c = await IngestClient.connect(e.wsUrl, 'device=rules-1');
    expect(await c.request([{ m: 't', v: 150 }])).toMatchObject({ ack: 1 });
    const fired1 = await until(async () => (await records()).find((r) => r.device === 'rules-1' && r.rule === 'hot'));
    expect(fired1.version).toBe(1);

    const put = await fetch(`${e.url}/v1/rules`, { method: 'PUT', body: V2 });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ version: 2 });
    // unchanged rule keeps its state: still firing, no second fired record
    const dev = (await (await fetch(`${e.url}/v1/devices/rules-1`)).json()) as { rules: Record<string, string> };
    expect(dev.rules.hot).toBe('firing');
    // the device stays silent: a wall-clock tick fires `quiet`
    const quiet = await until(async () => (await records()).find((r) => r.device === 'rules-1' && r.rule === 'quiet'));
    expect(quiet).toMatchObject({ state: 'fired', version: 2 });
    expect((await records()).filter((r) => r.device === 'rules-1' && r.rule === 'hot')).toHaveLength(1);
    c.close();
  });
});

describe('the watched rules file', () => {
  it('a changed file becomes the next version; an invalid one is rejected and the running version stays', async () => {
    const before = ((await (await fetch(`${e.url}/v1/rules`)).json()) as { version: number }).version;
    writeFileSync(e.rulesFile, V1.replace('> 100', '> 90'));
    const next = await until(async () => {
      const r = (await (await fetch(`${e.url}/v1/rules`)).json()) as { version: number; yaml: string };
      return r.version === before + 1 ? r : undefined;
    });
    expect(next.yaml).toContain('> 90');
    writeFileSync(e.rulesFile, 'rules: [');
    await new Promise((r) => setTimeout(r, 500));
    expect(((await (await fetch(`${e.url}/v1/rules`)).json()) as { version: number }).version).toBe(before + 1);
  });
});

describe('HTTP error statuses', () => {
  it('413 above maxFrameBytes, 400 for bad bodies', async () => {
    const big = await fetch(`${e.url}/v1/events?device=h-1`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body: new Uint8Array(1_048_577) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('too_large');
    const bad = await fetch(`${e.url}/v1/events?device=h-1`, { method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body: pack({ m: 't', v: 'hot' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_event');
  });
});
