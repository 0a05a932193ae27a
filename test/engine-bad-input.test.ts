import fc from 'fast-check';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient, startEngine, type InProcessEngine } from './helpers/index.js';

let e: InProcessEngine;
beforeAll(async () => {
  e = await startEngine({ flags: { shards: 2 } });
});
afterAll(async () => {
  await e?.stop();
});

const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.anything({ maxDepth: 4 }).map((v) => {
    try {
      return pack(v);
    } catch {
      return new Uint8Array([0xc1]);
    }
  }),
  fc.constant(new Uint8Array(Array.from({ length: 5000 }, () => 0x91)).fill(0x01, 4999)), // deep nesting
);

describe('bad input', () => {
  it('random frames on device and gateway connections never take the engine or the connection down', async () => {
    const frames = fc.sample(garbage, { numRuns: 300, seed: 7 });
    const dev = await IngestClient.connect(e.wsUrl, 'device=fuzz-1');
    const gw = await IngestClient.connect(e.wsUrl);
    const bystander = await IngestClient.connect(e.wsUrl, 'device=fuzz-2');
    for (const f of frames) {
      dev.sendRaw(f);
      gw.sendRaw(f);
      dev.sendRaw(Buffer.from(f).toString('latin1'));
    }
    // every connection still works, and its earlier frames were all answered or applied
    expect(await dev.request([{ m: 'x', v: 1 }])).toMatchObject({ accepted: 1 });
    expect(await gw.request([{ d: 'fuzz-3', m: 'x', v: 1 }])).toMatchObject({ accepted: 1 });
    expect(await bystander.request([{ m: 'x', v: 1 }])).toMatchObject({ ack: 1, accepted: 1 });
    for (const c of [dev, gw, bystander]) {
      expect(c.closeCode).toBeNull();
      for (const r of c.replies) {
        if (r.error !== undefined) expect(['bad_frame', 'bad_event']).toContain((r.error as { code: string }).code);
      }
      c.close();
    }
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
  });
});
