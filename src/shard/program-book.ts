// The rule programs the kernel may still report transitions for, by epoch, with the
// names the dispatcher needs to turn a transition into an action record.
import type { ProgramSpec } from '../kernel/program-spec.js';

export interface ProgramEntry {
  epoch: number;
  spec: ProgramSpec;
  /** Per rule: the names of its reads, in the order transition values come. */
  readNames: string[][];
}

export class ProgramBook {
  private readonly byEpoch = new Map<number, ProgramEntry>();
  private latest: ProgramEntry | null = null;

  add(epoch: number, spec: ProgramSpec): ProgramEntry {
    const readNames = spec.rules.map((r) =>
      r.reads.map((rd) => (rd.kind === 'feature' ? spec.features[rd.index].canonical : `device.${spec.attrs[rd.attr]}`)),
    );
    const entry = { epoch, spec, readNames };
    this.byEpoch.set(epoch, entry);
    this.latest = entry;
    // Transitions of an epoch can only be in flight until every shard runs a newer one;
    // two generations back is safely gone.
    for (const e of this.byEpoch.keys()) if (e < epoch - 2) this.byEpoch.delete(e);
    return entry;
  }

  get(epoch: number): ProgramEntry | undefined {
    return this.byEpoch.get(epoch);
  }

  current(): ProgramEntry | null {
    return this.latest;
  }
}
