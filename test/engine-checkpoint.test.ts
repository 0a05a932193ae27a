import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, startEngineProcess, until, type InProcessEngine } from './helpers/index.js';

const RULES = `
rules:
  - id: too-hot
    when: avg(temperature, 1m) > 80
    actions: [note]
  - id: hot-long
    when: avg(temperature, 1m) > 80
    for: 10m
    actions: [note]
actions:
  note: { kind: stream }
`;
// too-hot unchanged, hot-long changed, cold new
const RULES_CHANGED = `
rules:
  - id: too-hot
    when: avg(temperature, 1m) > 80
    actions: [note]
  - id: hot-long
    when: avg(temperature, 1m) > 85
    for: 10m
    actions: [note]
  - id: cold
    when: last(temperature) < 5
    actions: [note]
actions:
  note: { kind: stream }
`;

const tmp = mkdtempSync(join(tmpdir(), 'damper-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface View { clock: number | null; features: Record<string, number>; rules: Record<string, string> }
interface ActionRec { seq: number; rule: string; device: string; state: string }

const view = async (e: InProcessEngine, id: string): Promise<View> => {
  const res = await fetch(`${e.url}/v1/devices/${id}`);
  expect(res.status).toBe(200);
  const b = (await res.json()) as View;
  return { clock: b.clock, features: b.features, rules: b.rules };
};
/** The action log once it holds at least `atLeast` records: an ack means applied, and the
 *  transition's record is appended durably (asynchronously) after that. */
const actions = (e: InProcessEngine, atLeast = 0): Promise<ActionRec[]> =>
  until(async () => {
    const recs = ((await (await fetch(`${e.url}/v1/actions?from=0`)).json()) as { records: ActionRec[] }).records;
    return recs.length >= atLeast ? recs.map(({ seq, rule, device, state }) => ({ seq, rule, device, state })) : undefined;
  });
const send = async (e: InProcessEngine, id: string, events: unknown[]): Promise<void> => {
  const c = await IngestClient.connect(e.wsUrl, `device=${id}`);
  expect(await c.request(events)).toHaveProperty('ack');
  c.close();
};

describe('kernel state survives a clean restart', () => {
  const dataDir = join(tmp, 'data');
  const rulesFile = join(tmp, 'rules.yaml');
  const T = Date.now();
  const logs: string[] = [];
  const start = (shards = 2): Promise<InProcessEngine> =>
    startEngine({ dataDir, rulesFile, flags: { shards }, hooks: { log: (l) => logs.push(l) } });

  it('restores clocks, features and rule states; no duplicate fired; cleared continues seq', async () => {
    writeFileSync(rulesFile, RULES);
    const a = await start();
    await send(a, 'dev-hot', [{ m: 'temperature', v: 90, t: T }]);
    await send(a, 'dev-cool', [{ m: 'temperature', v: 20, t: T + 5 }]);
    const hot = await view(a, 'dev-hot');
    expect(hot.rules).toEqual({ 'too-hot': 'firing', 'hot-long': 'pending' });
    const cool = await view(a, 'dev-cool');
    expect(cool.rules).toEqual({ 'too-hot': 'idle', 'hot-long': 'idle' });
    const version = a.engine.rules.version;
    expect(await actions(a, 1)).toEqual([{ seq: 1, rule: 'too-hot', device: 'dev-hot', state: 'fired' }]);
    await a.stop();
    expect(existsSync(join(dataDir, 'checkpoint', 'manifest.json'))).toBe(true);

    const b = await start();
    // read once: a crash from here on must start empty, not from this checkpoint again
    expect(existsSync(join(dataDir, 'checkpoint'))).toBe(false);
    expect(logs.some((l) => l.startsWith('checkpoint: restored 2 devices'))).toBe(true);
    expect(b.engine.rules.version).toBe(version);
    expect(await view(b, 'dev-hot')).toEqual(hot);
    expect(await view(b, 'dev-cool')).toEqual(cool);

    await send(b, 'dev-hot', [{ m: 'temperature', v: 95, t: T + 1000 }]);
    expect((await view(b, 'dev-hot')).features['avg(temperature, 1m)']).toBeCloseTo(92.5);
    expect(await actions(b)).toHaveLength(1); // still firing: no second `fired`
    await send(b, 'dev-hot', [{ m: 'temperature', v: 0, t: T + 2000 }, { m: 'temperature', v: 0, t: T + 3000 }]);
    expect((await view(b, 'dev-hot')).rules).toEqual({ 'too-hot': 'idle', 'hot-long': 'idle' });
    expect(await actions(b, 2)).toEqual([
      { seq: 1, rule: 'too-hot', device: 'dev-hot', state: 'fired' },
      { seq: 2, rule: 'too-hot', device: 'dev-hot', state: 'cleared' },
    ]);
    // fire again so the next restart has a firing rule to keep
    await send(b, 'dev-hot', [{ m: 'temperature', v: 500, t: T + 4000 }]);
    expect((await view(b, 'dev-hot')).rules).toEqual({ 'too-hot': 'firing', 'hot-long': 'pending' });
    await b.stop();

    // a changed file at restart: an ordinary reload, unchanged rules keep their state
    writeFileSync(rulesFile, RULES_CHANGED);
    const c = await start();
    expect(c.engine.rules.version).toBe(version + 1);
    const v = await view(c, 'dev-hot');
    expect(v.rules['too-hot']).toBe('firing');
    expect(v.rules.cold).toBe('idle');
    expect(v.clock).toBe(T + 4000);
    await send(c, 'dev-hot', [{ m: 'temperature', v: 600, t: T + 5000 }]);
    expect((await actions(c, 3)).map((r) => `${r.seq} ${r.rule} ${r.state}`)).toEqual(['1 too-hot fired', '2 too-hot cleared', '3 too-hot fired']);
    await c.stop();

    // a checkpoint from another shard count is ignored: one clear line, empty state
    logs.length = 0;
    const d = await start(3);
    expect(logs.filter((l) => l.startsWith('checkpoint:'))).toEqual([
      'checkpoint: not restored (written with 2 shards, engine.shards is 3); starting with empty kernel state',
    ]);
    expect(existsSync(join(dataDir, 'checkpoint'))).toBe(false);
    const empty = await view(d, 'dev-hot');
    expect(empty.clock).toBeNull();
    expect(empty.rules).toEqual({});
    await send(d, 'dev-hot', [{ m: 'temperature', v: 90, t: T + 6000 }]);
    // empty windows: the rule fires anew (the documented cost of a state that was not restored)
    expect((await view(d, 'dev-hot')).features['avg(temperature, 1m)']).toBe(90);
    await d.stop();
  });

  it('a damaged checkpoint is ignored, not half-restored', async () => {
    // the previous test's engine d stopped cleanly with 3 shards
    const file = join(dataDir, 'checkpoint', 'shard-1.bin');
    expect(existsSync(file)).toBe(true);
    writeFileSync(file, 'garbage');
    logs.length = 0;
    const e = await start(3);
    expect(logs.filter((l) => l.startsWith('checkpoint:'))).toEqual([
      'checkpoint: not restored (cannot read it: shard-1.bin is damaged (size or hash differs)); starting with empty kernel state',
    ]);
    expect((await view(e, 'dev-hot')).clock).toBeNull();
    await send(e, 'dev-hot', [{ m: 'temperature', v: 1, t: T + 7000 }]);
    expect((await view(e, 'dev-hot')).clock).toBe(T + 7000);
    await e.stop();
  });
});

describe('SIGTERM writes the checkpoint', () => {
  it('a process stopped by SIGTERM exits 0 and the next engine continues its state', async () => {
    const dataDir = join(tmp, 'proc-data');
    const p = await startEngineProcess({ rules: RULES, dataDir, flags: { shards: 2 } });
    const T = Date.now();
    const c = await IngestClient.connect(p.wsUrl, 'device=dev-p');
    expect(await c.request([{ m: 'temperature', v: 99, t: T }])).toHaveProperty('ack');
    c.close();
    expect(await p.kill('SIGTERM')).toBe(0);
    expect(existsSync(join(dataDir, 'checkpoint', 'manifest.json'))).toBe(true);

    const e = await startEngine({ rulesFile: p.rulesFile, dataDir, flags: { shards: 2 } });
    try {
      expect(await view(e, 'dev-p')).toEqual({ clock: T, features: { 'avg(temperature, 1m)': 99 }, rules: { 'too-hot': 'firing', 'hot-long': 'pending' } });
      expect(await actions(e, 1)).toEqual([{ seq: 1, rule: 'too-hot', device: 'dev-p', state: 'fired' }]);
    } finally {
      await e.stop();
    }
  });
});
