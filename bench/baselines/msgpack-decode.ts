// The decode reference: msgpackr decoding the simulator's own frames in a tight loop on
// one core, touching every value so nothing is optimised away. The engine cannot apply
// events faster than it can decode them, so this is the per-core budget it is judged by.
import { Unpackr } from 'msgpackr';
import { FramePool, type FrameShape } from '../../src/simulate/frames.js';

export function decodeRate(shape: FrameShape, batch: number, seconds: number): { eventsPerS: number; checksum: number } {
  const pool = new FramePool({ shape, batch, gateway: false, devices: 1, prefix: 'sim-' }, Date.now());
  const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false });
  const frames = pool.frames.map((f) => f.events);
  let events = 0;
  let checksum = 0;
  const run = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let k = 0; k < 64; k++) {
        const batchOut = unpackr.unpack(frames[k % frames.length]) as unknown[];
        for (let i = 0; i < batchOut.length; i++) {
          const e = batchOut[i] as unknown;
          if (Array.isArray(e)) checksum += e[2] as number;
          else if (shape === 'map') checksum += (e as { v: number }).v;
          else checksum += (e as { values: Record<string, number> }).values.temperature;
        }
        events += batchOut.length * pool.eventsPerFrame / batch;
      }
    }
  };
  run(Math.min(1000, seconds * 250)); // warm-up: let the JIT settle
  events = 0;
  const t0 = performance.now();
  run(seconds * 1000);
  const dt = (performance.now() - t0) / 1000;
  return { eventsPerS: events / dt, checksum };
}
