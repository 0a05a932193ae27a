// A rules set that compiles but whose program is larger than a shard's program slot is a
// validation error (400 with a line:col message), never a 500, and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, until, type InProcessEngine, streamRuleYaml } from './helpers/index.js';

const SMALL = streamRuleYaml('hot', 'last(t) > 100');

/** `n` rules over distinct thresholds: about 130 bytes of program each. */
function many(n: number): string {
  const rules = Array.from({ length: n }, (_, i) => `  - id: r${i}\n    when: avg(t, 1m) > ${i} and max(t, 1m) < ${i + 50}\n    actions: [note]\n`).join('');
  return `rules:\n${rules}actions:\n  note: { kind: stream }\n`;
}

let e: InProcessEngine;
beforeAll(async () => {
  // program slots of 8 KiB: the small set fits, 200 rules do not
  e = await startEngine({ rules: SMALL, flags: { shards: 2 }, hooks: { shardMemory: { programBytes: 8192 } } });
});
afterAll(async () => {
  await e?.stop();
});

describe('rules too large for the program slot', () => {
  it('validate and PUT answer 400 with the sizes; the running version stays and keeps working', async () => {
    const big = many(200);
    const v = await fetch(`${e.url}/v1/rules/validate`, { method: 'POST', body: big });
    expect(v.status).toBe(400);
    const verr = ((await v.json()) as { errors: string[] }).errors;
    expect(verr).toHaveLength(1);
    expect(verr[0]).toMatch(/^1:1: the compiled rules take \d+ bytes, more than a shard's program slot \(8192 bytes\)/);

    const p = await fetch(`${e.url}/v1/rules`, { method: 'PUT', body: big });
    expect(p.status).toBe(400);
    expect(((await p.json()) as { errors: string[] }).errors).toEqual(verr);
    expect(await (await fetch(`${e.url}/v1/rules`)).json()).toEqual({ version: 1, yaml: SMALL });

    // the running rules still fire
    const c = await IngestClient.connect(e.wsUrl, 'device=size-1');
    expect(await c.request([{ m: 't', v: 150 }])).toMatchObject({ ack: 1 });
    const fired = await until(async () => {
      const { records } = (await (await fetch(`${e.url}/v1/actions?from=0&limit=100`)).json()) as { records: Array<{ rule: string; device: string; version: number }> };
      return records.find((r) => r.device === 'size-1' && r.rule === 'hot');
    });
    expect(fired.version).toBe(1);
    c.close();

    // a set that fits is installed as the next version (the refused one used no number)
    const ok = await fetch(`${e.url}/v1/rules`, { method: 'PUT', body: many(10) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ version: 2 });
  });
});
