import { startDemoFleet, type DemoFleet, type DemoFleetOptions } from '../../src/demo/fleet.js';
import type { InProcessEngine } from './engine.js';

/** The demo fleet against an in-process engine: its socket, registry and attribute announcements. */
export function startFleetOn(te: InProcessEngine, opts: Omit<DemoFleetOptions, 'url' | 'registry' | 'attrsChanged'>): DemoFleet {
  return startDemoFleet({ url: te.wsUrl, registry: te.engine.registry, attrsChanged: (id) => te.engine.devices.attrsChanged(id), ...opts });
}
