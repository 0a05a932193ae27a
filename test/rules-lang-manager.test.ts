import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DamperError } from '../src/errors.js';
import type { ProgramSpec } from '../src/kernel/program-spec.js';
import { NameTables, RuleManager, rulesCheck } from '../src/rules/index.js';

const v1 = `rules:
  - id: too-hot
    when: avg(temperature, 5m) > device.setpoint + 4
    actions: [n]
  - id: gone
    when: humidity > 90
actions:
  n: { kind: stream }
`;
const v2 = `rules:
  - id: too-hot
    when: avg(temperature, 5m) > device.setpoint + 4
    actions: [n, w]
  - id: new-one
    when: rate(error, 1m) > 1
actions:
  n: { kind: stream }
  w: { kind: webhook, url: "http://127.0.0.1:9/x" }
`;
const v3 = v2.replace('+ 4', '+ 5');
const invalid = `rules:
  - id: too-hot
    when: avrg(temperature, 5m) > 1
`;

interface Call {
  spec: ProgramSpec;
  prev: ProgramSpec | null;
}

function recorder() {
  const calls: Call[] = [];
  const install = async (spec: ProgramSpec, prev: ProgramSpec | null) => {
    calls.push({ spec, prev });
  };
  return { calls, install };
}

describe('RuleManager', () => {
  it('starts at version 0 and raises the version by one per accepted set', async () => {
    const { calls, install } = recorder();
    const m = new RuleManager({ tables: new NameTables(), install });
    expect(m.version).toBe(0);
    expect(m.active.spec.rules).toEqual([]);

    const r1 = await m.replace(v1);
    expect(r1).toMatchObject({ ok: true, version: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0].prev).toBeNull();
    expect(calls[0].spec.version).toBe(1);
    expect(m.active).toMatchObject({ version: 1, yaml: v1, actions: { n: { kind: 'stream' } } });
    expect(m.active.spec).toBe(calls[0].spec);

    const r2 = await m.replace(v2);
    expect(r2.ok && r2.summary.rules.map((r) => [r.id, r.change])).toEqual([
      ['too-hot', 'kept'],
      ['new-one', 'new'],
    ]);
    expect(r2.ok && r2.summary.removed).toEqual(['gone']);
    expect(calls[1].prev).toBe(calls[0].spec);
    expect(calls[1].spec.version).toBe(2);
    // Unchanged definition → same key, so the kernel keeps its state.
    expect(calls[1].spec.rules[0].key).toBe(calls[0].spec.rules[0].key);

    const r3 = await m.replace(v3);
    expect(r3.ok && r3.summary.rules.map((r) => r.change)).toEqual(['changed', 'kept']);
    expect(m.version).toBe(3);
    expect(calls[2].spec.rules[0].key).not.toBe(calls[1].spec.rules[0].key);
  });

  it('an invalid set changes nothing and reports every error', async () => {
    const { calls, install } = recorder();
    const tables = new NameTables();
    const m = new RuleManager({ tables, install });
    await m.replace(v1);
    const before = m.active;
    const names = [tables.metrics, tables.attrs, tables.strings];

    const r = await m.replace(invalid + '    for: 2x\n');
    expect(r).toEqual({ ok: false, errors: ["3:11: unknown function 'avrg'", "4:10: bad duration '2x' for 'for' (use e.g. 500ms, 10s, 5m, 2h, 1d)"] });
    expect(m.active).toBe(before);
    expect(m.version).toBe(1);
    expect(calls).toHaveLength(1);
    expect([tables.metrics, tables.attrs, tables.strings]).toEqual(names);

    // The next accepted set takes the next version: rejected sets use no number.
    expect(await m.replace(v2)).toMatchObject({ ok: true, version: 2 });
  });

  it('a failed install rejects with a coded error and commits nothing', async () => {
    let fail = true;
    const m = new RuleManager({
      tables: new NameTables(),
      install: async () => {
        if (fail) throw new Error('shard 3 is gone');
      },
    });
    const err = await m.replace(v1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DamperError);
    expect((err as DamperError).code).toBe('DAMPER_ERR_RULES_INSTALL');
    expect(m.version).toBe(0);
    fail = false;
    expect(await m.replace(v1)).toMatchObject({ ok: true, version: 1 });
  });

  it('serialises replacements: one install at a time, in call order', async () => {
    let running = 0;
    let overlapped = false;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const m = new RuleManager({
      tables: new NameTables(),
      install: (spec) => {
        running++;
        if (running > 1) overlapped = true;
        order.push(spec.version);
        return new Promise<void>((resolve) => {
          releases.push(() => {
            running--;
            resolve();
          });
        });
      },
    });
    const p = [m.replace(v1), m.replace(invalid), m.replace(v2), m.replace(v3)];
    // Release each install only once it has started; the next must not start before.
    for (let i = 0; i < 3; i++) {
      while (releases.length <= i) await new Promise((r) => setImmediate(r));
      expect(running).toBe(1);
      releases[i]();
    }
    const results = await Promise.all(p);
    expect(results.map((r) => (r.ok ? r.version : 'rejected'))).toEqual([1, 'rejected', 2, 3]);
    expect(order).toEqual([1, 2, 3]);
    expect(overlapped).toBe(false);
    expect(m.active.yaml).toBe(v3);
  });

  it('validate checks without installing, numbering or interning', async () => {
    const { calls, install } = recorder();
    const tables = new NameTables();
    const m = new RuleManager({ tables, install });
    const ok = m.validate(v2);
    expect(ok.ok && ok.summary.features).toEqual(['avg(temperature, 5m)', 'rate(error, 1m)']);
    expect(m.validate(invalid)).toEqual({ ok: false, errors: ["3:11: unknown function 'avrg'"] });
    expect(calls).toHaveLength(0);
    expect(m.version).toBe(0);
    expect(tables.metrics).toEqual([]);
    expect(m.validate(42 as unknown as string).ok).toBe(false);
  });
});

describe('RuleManager.watch', () => {
  let dir = '';
  let manager: RuleManager | null = null;
  afterEach(() => {
    manager?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads a real file on change, rejects an invalid one, follows rename-over saves', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'damper-rules-'));
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, v1);
    const { calls, install } = recorder();
    manager = new RuleManager({ tables: new NameTables(), install });
    expect(await manager.load(file)).toMatchObject({ ok: true, version: 1 });

    const events: Array<{ version: number } | { errors: string[] }> = [];
    let wake: (() => void) | null = null;
    const push = (e: (typeof events)[number]) => {
      events.push(e);
      wake?.();
    };
    const next = async () => {
      while (events.length === 0) await new Promise<void>((r) => (wake = r));
      return events.shift();
    };
    manager.watch(file, { debounceMs: 20, onReload: (version) => push({ version }), onError: (errors) => push({ errors }) });

    writeFileSync(file, v2);
    expect(await next()).toEqual({ version: 2 });
    expect(manager.active.yaml).toBe(v2);

    writeFileSync(file, invalid);
    expect(await next()).toEqual({ errors: ["3:11: unknown function 'avrg'"] });
    expect(manager.version).toBe(2);
    expect(manager.active.yaml).toBe(v2);

    // Editors save by writing a temporary file and renaming it over the original.
    const tmp = path.join(dir, '.rules.yaml.swp');
    writeFileSync(tmp, v3);
    renameSync(tmp, file);
    expect(await next()).toEqual({ version: 3 });

    // And again: the watch must survive the replaced inode.
    writeFileSync(tmp, v1);
    renameSync(tmp, file);
    expect(await next()).toEqual({ version: 4 });
    expect(calls.map((c) => c.spec.version)).toEqual([1, 2, 3, 4]);
    expect(manager.active.yaml).toBe(v1);

    // A save truncates first; an empty file must not install an empty rule set.
    writeFileSync(file, '');
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(file, v2);
    expect(await next()).toEqual({ version: 5 });
    expect(calls.map((c) => c.spec.rules.length)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('RuleManager.watch with a Kubernetes-style ConfigMap mount', () => {
  let dir = '';
  let manager: RuleManager | null = null;
  afterEach(() => {
    manager?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads when the ..data symlink is swapped to a new directory', async () => {
    // rules.yaml -> ..data/rules.yaml, ..data -> ..v1; an update writes ..v2 and renames a new symlink over ..data.
    dir = mkdtempSync(path.join(tmpdir(), 'damper-rules-k8s-'));
    mkdirSync(path.join(dir, '..v1'));
    writeFileSync(path.join(dir, '..v1', 'rules.yaml'), v1);
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync('..data/rules.yaml', path.join(dir, 'rules.yaml'));
    const { calls, install } = recorder();
    manager = new RuleManager({ tables: new NameTables(), install });
    const file = path.join(dir, 'rules.yaml');
    expect(await manager.load(file)).toMatchObject({ ok: true, version: 1 });
    const reloaded = new Promise<number>((resolve, reject) => {
      manager!.watch(file, { debounceMs: 20, onReload: resolve, onError: (e) => reject(new Error(e.join('\n'))) });
    });
    mkdirSync(path.join(dir, '..v2'));
    writeFileSync(path.join(dir, '..v2', 'rules.yaml'), v2);
    symlinkSync('..v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    expect(await reloaded).toBe(2);
    expect(calls[1].spec.rules.map((r) => r.id)).toEqual(['too-hot', 'new-one']);
  });
});

describe('rulesCheck', () => {
  it('prints every error with the file name and exits 1, or a summary and exits 0', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'damper-check-'));
    try {
      const bad = path.join(d, 'bad.yaml');
      writeFileSync(bad, invalid + '    for: 2x\n');
      let out = '';
      const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
      expect(rulesCheck(bad, sink)).toBe(1);
      expect(out).toBe(`${bad}:3:11: unknown function 'avrg'\n${bad}:4:10: bad duration '2x' for 'for' (use e.g. 500ms, 10s, 5m, 2h, 1d)\n2 errors\n`);

      out = '';
      expect(rulesCheck(new URL('../demo/rules.yaml', import.meta.url).pathname, sink)).toBe(0);
      expect(out).toContain('3 rules');
      for (const f of ['avg(temperature, 1m)', 'rate(error, 2m)', 'rate_deriv(error, 2m)', 'age(temperature)']) expect(out).toContain(`  ${f}\n`);

      out = '';
      expect(rulesCheck(path.join(d, 'missing.yaml'), sink)).toBe(1);
      expect(out).toContain('cannot read');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
