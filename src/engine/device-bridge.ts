// The device API's view into the kernel (DeviceEngine of src/ops/device-api.ts): feature
// values and rule states are read through a main-thread kernel instance while no worker
// drains the device's shard; attribute changes and removals travel as ring records.
import { NO_SLOT, RK_ATTRS, RK_REMOVE, RS_FIRING, RS_IDLE, RS_PENDING } from '../../assembly/layout.js';
import type { KernelExports } from '../kernel/kernel.js';
import type { DeviceEngine, DeviceView } from '../ops/device-api.js';
import type { DrainScheduler } from '../shard/drain-scheduler.js';
import type { ProgramBook } from '../shard/program-book.js';
import type { ShardSet } from '../shard/shard-set.js';

const STATE_NAMES: Record<number, 'idle' | 'pending' | 'firing'> = { [RS_IDLE]: 'idle', [RS_PENDING]: 'pending', [RS_FIRING]: 'firing' };

export interface DeviceBridgeDeps {
  shards: ShardSet;
  scheduler: DrainScheduler;
  programs: ProgramBook;
  kernel(shard: number): KernelExports;
  attrEntries(id: string): Uint8Array;
}

export class DeviceBridge implements DeviceEngine {
  constructor(private readonly deps: DeviceBridgeDeps) {}

  async queryDevice(id: string): Promise<DeviceView | null> {
    const { shards, scheduler, programs } = this.deps;
    const slot = shards.slotOf(id);
    if (slot === NO_SLOT) return null;
    const shard = shards.shardOf(id);
    return scheduler.exclusive(shard, () => {
      const k = this.deps.kernel(shard);
      const entry = programs.current();
      const now = Date.now();
      const view: DeviceView = { clock: k.deviceClock(slot), features: {}, rules: {} };
      if (entry === null) return view;
      const { spec } = entry;
      const used = new Set<number>();
      spec.rules.forEach((rule, i) => {
        const state = STATE_NAMES[k.ruleState(slot, i)];
        if (state === undefined) return; // the rule does not match this device
        view.rules[rule.id] = state;
        for (const r of rule.reads) if (r.kind === 'feature') used.add(r.index);
      });
      for (const f of [...used].sort((a, b) => a - b)) view.features[spec.features[f].canonical] = k.featureValue(slot, f, now);
      return view;
    });
  }

  attrsChanged(id: string): void {
    const { shards, scheduler } = this.deps;
    const slot = shards.slotOf(id);
    if (slot === NO_SLOT) return; // pushed when the device first shows up
    const shard = shards.shardOf(id);
    shards.writeControl(shard, RK_ATTRS, slot, Date.now(), this.deps.attrEntries(id));
    scheduler.kick(shard);
  }

  deviceRemoved(id: string): void {
    const { shards, scheduler } = this.deps;
    const slot = shards.slotOf(id);
    if (slot === NO_SLOT) return;
    const shard = shards.shardOf(id);
    shards.writeControl(shard, RK_REMOVE, slot, Date.now(), null);
    scheduler.kick(shard);
  }
}
