// Global, append-only interning of the names a rule program refers to. Ids are indices
// into the arrays a ProgramSpec carries (metrics, attrs, strings) and never change for
// the life of the engine, so the same id means the same name in every program version
// and state migrates across reloads without translation.

export class NameTables {
  private readonly metricList: string[] = [];
  private readonly attrList: string[] = [];
  private readonly stringList: string[] = [];
  private readonly metricIds = new Map<string, number>();
  private readonly attrIds = new Map<string, number>();
  private readonly stringIds = new Map<string, number>();

  /** Builds tables that already hold these names, in order (e.g. restored from a checkpoint). */
  constructor(init?: { metrics?: readonly string[]; attrs?: readonly string[]; strings?: readonly string[] }) {
    for (const m of init?.metrics ?? []) this.metric(m);
    for (const a of init?.attrs ?? []) this.attr(a);
    for (const s of init?.strings ?? []) this.string(s);
  }

  /** Id of a metric name, interning it if new. */
  metric(name: string): number {
    return intern(this.metricIds, this.metricList, name);
  }

  /** Id of a device attribute name, interning it if new. */
  attr(name: string): number {
    return intern(this.attrIds, this.attrList, name);
  }

  /** Id of a string attribute value, interning it if new. */
  string(value: string): number {
    return intern(this.stringIds, this.stringList, value);
  }

  /** Id of a metric name, or -1 when it was never interned (no rule has read it). */
  lookupMetric(name: string): number {
    return this.metricIds.get(name) ?? -1;
  }

  lookupAttr(name: string): number {
    return this.attrIds.get(name) ?? -1;
  }

  lookupString(value: string): number {
    return this.stringIds.get(value) ?? -1;
  }

  metricName(id: number): string | undefined {
    return this.metricList[id];
  }

  attrName(id: number): string | undefined {
    return this.attrList[id];
  }

  stringValue(id: number): string | undefined {
    return this.stringList[id];
  }

  /** Snapshots for ProgramSpec.metrics/attrs/strings: copies, so a spec never changes after it is built. */
  get metrics(): string[] {
    return this.metricList.slice();
  }

  get attrs(): string[] {
    return this.attrList.slice();
  }

  get strings(): string[] {
    return this.stringList.slice();
  }

  get metricCount(): number {
    return this.metricList.length;
  }

  get attrCount(): number {
    return this.attrList.length;
  }

  get stringCount(): number {
    return this.stringList.length;
  }
}

function intern(ids: Map<string, number>, list: string[], name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    id = list.length;
    list.push(name);
    ids.set(name, id);
  }
  return id;
}
