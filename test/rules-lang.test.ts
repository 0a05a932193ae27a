import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FeatureFn, type ProgramSpec } from '../src/kernel/program-spec.js';
import { compileRules, type CompileResult, formatDuration, NameTables, parseDuration } from '../src/rules/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/rules/${name}`, import.meta.url), 'utf8');

function compile(yaml: string, tables = new NameTables()): CompileResult {
  return compileRules(yaml, { tables, version: 1 });
}

function errorsOf(yaml: string): string[] {
  const r = compile(yaml);
  if (r.ok) throw new Error(`expected errors, compiled: ${JSON.stringify(r.summary)}`);
  return r.errors;
}

function specOf(yaml: string, tables = new NameTables()): ProgramSpec {
  const r = compile(yaml, tables);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.spec;
}

/** One rule `a` with the given `when`; the expression starts at column 11 of line 3. */
const when = (expr: string) => `rules:\n  - id: a\n    when: ${expr}\n`;

describe('rule language: errors with line:col in the YAML file', () => {
  const table: Array<[string, string, string[]]> = [
    ['unknown function', when('avrg(temperature, 5m) > 3'), ["3:11: unknown function 'avrg'"]],
    ['B does not divide W', when('avg(x, 1m, 7s) > 3'), ['3:22: bucket width 7s does not divide window 1m']],
    ['bad duration', when('max(x, 10x) > 3'), ["3:18: bad duration '10x'"]],
    ['window without unit', when('avg(x, 300) > 1'), ["3:18: window '300' needs a unit: ms, s, m, h or d"]],
    ['zero window', when('avg(x, 0s) > 1'), ['3:18: window must be longer than 0']],
    ['default bucket not whole ms', when('avg(x, 30ms) > 1'), ['3:18: default bucket width 30ms/20 is not a whole number of ms; give a bucket width as the third argument']],
    ['too many buckets', when('avg(x, 1d, 1s) > 1'), ['3:22: too many buckets: window 1d / bucket 1s = 86400 (at most 1000)']],
    ['rate fits need completed buckets', when('rate_deriv(e, 1m, 30s) > 0 or rate_deriv2(e, 1m, 20s) > 0 or rate_deriv(e, 1m, 20s) > 0'), ["3:29: 'rate_deriv' needs a window of at least 3 buckets (it fits completed buckets only), got 2", "3:60: 'rate_deriv2' needs a window of at least 4 buckets (it fits completed buckets only), got 3"]],
    ['comparison used as a number', when('(x > 3) + 1 > 2'), ['3:12: a comparison used as a number']],
    ['chained comparison', when('avg(x, 1m) > 1 < 2'), ['3:11: a comparison used as a number']],
    ['number used as a condition', when('x > 3 and 4'), ['3:21: a number used as a condition']],
    ['not of a number', when('not x'), ['3:15: a number used as a condition']],
    ['when is a number', when('1'), ['3:11: a number used as a condition']],
    ['and of numbers', when('x and y'), ['3:11: a number used as a condition', '3:17: a number used as a condition']],
    ['duration as a number', when('x > 5m'), ["3:15: duration '5m' used as a number"]],
    ['wrong arity', when('avg(x) > 1 or last(x, 5m) > 2'), ["3:11: 'avg' takes 2 or 3 arguments (metric, window[, bucket]), got 1", "3:25: 'last' takes 1 argument (metric), got 2"]],
    ['ewma, age, abs arity', when('ewma(x, 0s) > 1 and ewma(x) > 2 and age(x, 1m) > 3 and abs(1, 2) > 0'), ['3:19: half-life must be longer than 0', "3:31: 'ewma' takes 2 arguments (metric, half-life), got 1", "3:47: 'age' takes 1 argument (metric), got 2", "3:66: 'abs' takes 1 argument, got 2"]],
    ['metric argument', when('avg(device.x, 1m) > 1'), ["3:15: first argument of 'avg' must be a metric name"]],
    ['bad metric name', when("last('bad metric') > 1 and last('') > 2"), ["3:16: bad metric name 'bad metric' (1..64 characters of A-Z a-z 0-9 . _ : -)", "3:43: bad metric name '' (1..64 characters of A-Z a-z 0-9 . _ : -)"]],
    ['metric name too long', when(`${'m'.repeat(65)} > 1`), [`3:11: bad metric name '${'m'.repeat(65)}' (1..64 characters of A-Z a-z 0-9 . _ : -)`]],
    ['unexpected end', when('x > 3 and'), ['3:20: unexpected end of expression']],
    ['missing paren', when('(x > 3'), ["3:17: missing ')'"]],
    ['single =', when('x = 3'), ["3:13: unexpected '=' (use '==' to compare)"]],
    ['C operators', when('x > 3 && y < 2'), ["3:17: unexpected '&' (use 'and', 'or', 'not')"]],
    ['number out of range', when('x > 1e400'), ["3:15: bad number '1e400'"]],
    ['nested too deeply', when(`x > ${'('.repeat(300)}1${')'.repeat(300)}`), ['3:215: expression nested too deeply']],
    ['literal block scalar', 'rules:\n  - id: a\n    when: |\n      avg(temperature, 5m)\n        > avrg(x, 1m)\n', ["5:11: unknown function 'avrg'"]],
    ['folded block scalar', 'rules:\n  - id: a\n    when: >\n      avg(temperature, 5m) >\n      foo(x)\n', ["5:7: unknown function 'foo'"]],
    ['multi-line plain scalar', 'rules:\n  - id: a\n    when: avg(temperature, 5m) >\n      bad(1)\n', ["4:7: unknown function 'bad'"]],
    ['double-quoted with escapes', 'rules:\n  - id: a\n    when: "avg(temperature, 5m) > \\"x\\" + bad(1)"\n', ["3:43: unknown function 'bad'"]],
    ['single-quoted with doubled quotes', "rules:\n  - id: a\n    when: 'avg(temperature, 5m) > ''x'' + bad(1)'\n", ["3:43: unknown function 'bad'"]],
    ['bad for and cooldown', 'rules:\n  - id: a\n    when: x > 1\n    for: -2m\n    cooldown: 5\n', ["4:10: bad duration '-2m' for 'for' (use e.g. 500ms, 10s, 5m, 2h, 1d)", "5:15: bad duration '5' for 'cooldown' (use e.g. 500ms, 10s, 5m, 2h, 1d)"]],
    ['bad match values', 'rules:\n  - id: a\n    when: x > 1\n    match: { type: { a: 1 }, x: [], y: [1, true] }\n', ["4:20: match 'type': values must be strings or numbers (or a list of them), not a mapping", "4:33: match 'x': an empty list matches no device", "4:44: match 'y': values must be strings or numbers (or a list of them), not a boolean"]],
    ['rules not a list', 'rules: 3\n', ["1:8: 'rules' must be a list, not a number"]],
    ['file not a mapping', '- a\n', ["1:1: the rules file must be a mapping with 'rules' and 'actions', not a list"]],
    ['YAML duplicate key', 'rules:\n  - id: a\n    when: x > 1\nrules: []\n', ['4:1: Map keys must be unique']],
    ['two YAML documents', 'rules: []\n---\nrules: []\n', ['2:1: a rules file holds one YAML document (remove the second ---)']],
    ['tab indentation', 'rules:\n\t- id: a\n', ['2:1: Tabs are not allowed as indentation']],
    ['missing id', 'rules:\n  - when: x > 1\n', ["2:5: rule: missing 'id'"]],
    ['missing when', 'rules:\n  - id: a\n    for: 1m\n', ["2:5: rule 'a': missing 'when'"]],
    ['rule not a mapping', 'rules:\n  - 3\n', ["2:5: a rule must be a mapping with 'id' and 'when', not a number"]],
    ['unknown top-level key and bad action name', 'rules: []\nextra: 1\nactions:\n  bad name: { kind: stream }\n', ["2:1: unknown key 'extra' (expected rules, actions)", "4:3: bad action name 'bad name' (1..128 characters of A-Z a-z 0-9 . _ -)"]],
    ['stream with a url', "rules: []\nactions:\n  notify: { kind: stream, url: 'http://x' }\n", ["3:27: action 'notify': unknown key 'url' (expected kind)"]],
    ['webhook url must be http', 'rules: []\nactions:\n  w: { kind: webhook, url: ftp://x }\n', ["3:28: action 'w': 'url' must be an http or https URL"]],
    ['action without kind', 'rules: []\nactions:\n  w: { url: "http://x" }\n', ["3:6: action 'w': missing 'kind' (stream or webhook)"]],
  ];

  it.each(table)('%s', (_name, yaml, expected) => {
    expect(errorsOf(yaml)).toEqual(expected);
  });

  it('reports every error of a file, in file order', () => {
    expect(errorsOf(fixture('many-errors.yaml'))).toEqual([
      "2:9: bad rule id 'Too_Hot' (1..128 characters of a-z 0-9 -)",
      "3:33: match 'type': values must be strings or numbers (or a list of them), not a boolean",
      "4:11: unknown function 'avrg'",
      "5:10: bad duration '2 minutes' for 'for' (use e.g. 500ms, 10s, 5m, 2h, 1d)",
      "7:29: unknown action 'page-someone'",
      '9:32: bucket width 7s does not divide window 1m',
      "9:58: bad duration '10x'",
      '10:13: a comparison used as a number',
      "11:5: rule 'ok-rule': missing 'when'",
      "11:9: duplicate rule id 'ok-rule'",
      "12:5: unknown key 'wen' (expected id, description, match, when, for, clear, cooldown, actions)",
      "14:11: 'avg' takes 2 or 3 arguments (metric, window[, bucket]), got 1",
      "14:35: 'last' takes 1 argument (metric), got 2",
      '14:64: a number used as a condition',
      "17:9: action 'case': a webhook needs a 'url'",
      "17:39: action 'case': 'maxAttempts' must be an integer ≥ 1",
      "18:18: action 'other': unknown kind 'email' (stream or webhook)",
    ]);
  });

  it('never throws on hostile input', () => {
    const inputs = ['', '\0', ':', '[', '{{{', 'rules: [', 'rules:\n  - id: a\n    when: "', 'rules:\n  - id: a\n    when: ((((', '*x', 'a: &a [*a]', 'rules:\n  - &r {id: a, when: x > 1}\n  - *r\n', '\t\trules:', 'rules:\n  - id: a\n    when: x > 1\n'.repeat(50), `rules: ${'['.repeat(20_000)}`, `a: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`];
    for (const text of inputs) expect(() => compile(text)).not.toThrow();
  });

  it('action names are plain keys, even __proto__', () => {
    const r = compile('rules:\n  - id: a\n    when: x > 1\n    actions: [__proto__]\nactions:\n  __proto__: { kind: stream }\n');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(Object.keys(r.actions)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(r.actions)).toBe(Object.prototype);
    expect(r.spec.rules[0].actions).toEqual(['__proto__']);
  });

  it('an empty file or an empty list is a valid set without rules', () => {
    for (const text of ['', 'rules:\n', 'rules: []\nactions: {}\n', '# only a comment\n']) {
      const spec = specOf(text);
      expect(spec.rules).toEqual([]);
      expect(spec.features).toEqual([]);
    }
  });
});

describe('rule language: canonical names', () => {
  const canon = (expr: string) => specOf(when(`${expr} > 0`)).features.map((f) => f.canonical);

  it.each([
    ['temperature', 'last(temperature)'],
    ['last(temperature)', 'last(temperature)'],
    ['avg(temperature,5m)', 'avg(temperature, 5m)'],
    ['avg( temperature , 300s )', 'avg(temperature, 5m)'],
    ['avg(temperature, 5m, 15s)', 'avg(temperature, 5m)'],
    ['avg(temperature, 5m, 10s)', 'avg(temperature, 5m, 10s)'],
    ['sum(x, 90s)', 'sum(x, 90s)'],
    ['sum(x, 1.5m)', 'sum(x, 90s)'],
    ['count(x, 1500ms)', 'count(x, 1500ms)'],
    ['max(x, 120m)', 'max(x, 2h)'],
    ['min(x, 24h)', 'min(x, 1d)'],
    ['rate_deriv(error, 10m, 1m)', 'rate_deriv(error, 10m, 1m)'],
    ['ewma(x, 60s)', 'ewma(x, 1m)'],
    ['age(x)', 'age(x)'],
    ["last('cpu-load')", 'last(cpu-load)'],
    ["0 + 'cpu-load'", 'last(cpu-load)'],
    ['stddev(sensor:1.temp, 1m)', 'stddev(sensor:1.temp, 1m)'],
  ])('%s → %s', (expr, expected) => {
    expect(canon(expr)).toEqual([expected]);
  });

  it('durations format in the largest exact unit', () => {
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(7_200_000)).toBe('2h');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('0.5ms')).toBeNull();
    expect(parseDuration('5 m')).toBeNull();
  });
});

describe('rule language: planner', () => {
  it('plans every function with its parameters, deduplicated across rules', () => {
    const tables = new NameTables();
    const spec = specOf(fixture('good.yaml'), tables);
    const canon = spec.features.map((f) => f.canonical);
    expect(new Set(canon).size).toBe(canon.length);
    expect(canon).toEqual([
      'avg(temperature, 5m)',
      'rate(error, 10m)',
      'rate_deriv(error, 10m)',
      'count(temperature, 1m)',
      'sum(temperature, 1m)',
      'min(temperature, 1m, 6s)',
      'max(temperature, 1m, 10s)',
      'stddev(humidity, 90s)',
      'delta(humidity, 90s)',
      'deriv(temperature, 1h)',
      'deriv2(temperature, 1h, 6m)',
      'rate_deriv2(error, 1d)',
      'ewma(temperature, 30s)',
      'last(temperature)',
      'last(cpu-load)',
      'age(temperature)',
      'last(humidity)',
    ]);
    const byName = Object.fromEntries(spec.features.map((f) => [f.canonical, f]));
    expect(byName['avg(temperature, 5m)']).toEqual({ fn: FeatureFn.Avg, metric: tables.lookupMetric('temperature'), windowMs: 300_000, bucketMs: 15_000, halfLifeMs: 0, canonical: 'avg(temperature, 5m)' });
    expect(byName['rate_deriv2(error, 1d)']).toMatchObject({ fn: FeatureFn.RateDeriv2, windowMs: 86_400_000, bucketMs: 4_320_000 });
    expect(byName['ewma(temperature, 30s)']).toMatchObject({ fn: FeatureFn.Ewma, windowMs: 0, bucketMs: 0, halfLifeMs: 30_000 });
    expect(byName['age(temperature)']).toMatchObject({ fn: FeatureFn.Age, windowMs: 0, bucketMs: 0 });
    expect(spec.metrics).toEqual(['temperature', 'error', 'humidity', 'cpu-load']);
    expect(spec.attrs).toEqual(['setpoint', 'type', 'owner', 'floor']);
    expect(spec.strings).toEqual(['thermostat', 'alice', 'bob']);
  });

  it('builds rules with reads, match, timing, usesAge and actions', () => {
    const tables = new NameTables();
    const r = compile(fixture('good.yaml'), tables);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const [hot, errs, all] = r.spec.rules;
    const type = tables.lookupAttr('type');
    const owner = tables.lookupAttr('owner');
    const setpoint = tables.lookupAttr('setpoint');
    expect(hot).toMatchObject({ id: 'too-hot', forMs: 120_000, cooldownMs: 1_800_000, usesAge: false, actions: ['notify-owner', 'service-case'] });
    expect(hot.match).toEqual([
      { attr: type, values: [{ kind: 'string', value: tables.lookupString('thermostat') }] },
      { attr: owner, values: [{ kind: 'string', value: tables.lookupString('alice') }, { kind: 'string', value: tables.lookupString('bob') }] },
    ]);
    // The clear's avg(temperature, 300s) is the same feature as the when's avg(temperature, 5m).
    expect(hot.reads).toEqual([{ kind: 'feature', index: 0 }, { kind: 'attr', attr: setpoint }]);
    expect(hot.when).toEqual({ op: '>', left: { op: 'feature', index: 0 }, right: { op: '+', left: { op: 'attr', attr: setpoint }, right: { op: 'num', value: 4 } } });
    expect(hot.clear).toEqual({ op: '<', left: { op: 'feature', index: 0 }, right: { op: '+', left: { op: 'attr', attr: setpoint }, right: { op: 'num', value: 2 } } });
    expect(errs).toMatchObject({ clear: null, forMs: 0, cooldownMs: 0, match: [], usesAge: false });
    expect(errs.reads).toEqual([{ kind: 'feature', index: 1 }, { kind: 'feature', index: 2 }]);
    expect(all.usesAge).toBe(true);
    expect(all.match).toEqual([{ attr: tables.lookupAttr('floor'), values: [{ kind: 'number', value: 3 }] }]);
    expect(all.reads.map((x) => (x.kind === 'feature' ? r.spec.features[x.index].canonical : x.attr))).toEqual(r.spec.features.slice(3).map((f) => f.canonical));
    expect(r.actions).toEqual({
      'notify-owner': { kind: 'stream' },
      'service-case': { kind: 'webhook', url: 'http://127.0.0.1:9000/cases', maxAttempts: 8, timeoutMs: 2000 },
    });
    expect(r.summary.rules.map((x) => [x.id, x.reads])).toEqual([
      ['too-hot', ['avg(temperature, 5m)', 'device.setpoint']],
      ['errors-accelerating', ['rate(error, 10m)', 'rate_deriv(error, 10m)']],
      ['everything', r.spec.features.slice(3).map((f) => f.canonical)],
    ]);
  });

  it('parses precedence: or < and < not < comparison < + - < * / < unary minus', () => {
    const spec = specOf(when('not a > 1 and b < 2 or -c * 2 + 3 / -d >= 4'));
    const f = (name: string) => ({ op: 'feature', index: spec.features.findIndex((x) => x.canonical === `last(${name})`) });
    expect(spec.rules[0].when).toEqual({
      op: 'or',
      left: { op: 'and', left: { op: 'not', arg: { op: '>', left: f('a'), right: { op: 'num', value: 1 } } }, right: { op: '<', left: f('b'), right: { op: 'num', value: 2 } } },
      right: {
        op: '>=',
        left: { op: '+', left: { op: '*', left: { op: 'neg', arg: f('c') }, right: { op: 'num', value: 2 } }, right: { op: '/', left: { op: 'num', value: 3 }, right: { op: 'neg', arg: f('d') } } },
        right: { op: 'num', value: 4 },
      },
    });
    expect(specOf(when('a - b - c > 0')).rules[0].when).toMatchObject({ left: { op: '-', left: { op: '-' } } });
    expect(specOf(when('abs(a - 3) > -2')).rules[0].when).toMatchObject({ op: '>', left: { op: 'abs', arg: { op: '-' } }, right: { op: 'num', value: -2 } });
  });

  it('ids are global and append-only across compiles; a rejected set interns nothing', () => {
    const tables = new NameTables();
    specOf(when('avg(b, 1m) > device.x'), tables);
    expect(tables.metrics).toEqual(['b']);
    errorsOf(when('avg(zzz, 1m) > device.yyy and avrg(q, 1m) > 0'));
    const before = [tables.metrics, tables.attrs, tables.strings];
    expect(compileRules(when('avg(zzz, 1m) > device.yyy and avrg(q, 1m) > 0'), { tables, version: 2 }).ok).toBe(false);
    expect([tables.metrics, tables.attrs, tables.strings]).toEqual(before);
    const spec = specOf(when('a > 1 and b > device.x'), tables);
    expect(spec.metrics).toEqual(['b', 'a']);
    expect(spec.features.map((f) => spec.metrics[f.metric])).toEqual(['a', 'b']);
    expect(spec.attrs).toEqual(['x']);
  });
});

describe('rule language: rule keys', () => {
  const base = `rules:
  - id: too-hot
    description: one
    match: { type: thermostat, owner: [a, b] }
    when: avg(temperature, 5m) > device.setpoint + 4
    for: 2m
    clear: avg(temperature, 5m) < device.setpoint + 2
    cooldown: 30m
    actions: [n]
actions:
  n: { kind: stream }
  m: { kind: stream }
`;
  const keyOf = (yaml: string) => specOf(yaml).rules[0].key;

  it('is stable under reformatting, equivalent spellings, description and actions', () => {
    const reformatted = `rules:
  - id: too-hot
    description: two
    actions: [m]
    cooldown: 1800s
    clear: "(avg(temperature,300s)) < (device.setpoint + 2.0)"
    for: 120000ms
    when: >
      avg(temperature, 5m, 15s)
      > device.setpoint+4
    match: { owner: [b, a], type: [thermostat] }
actions:
  n: { kind: stream }
  m: { kind: stream }
`;
    expect(keyOf(reformatted)).toBe(keyOf(base));
  });

  it.each([
    ['threshold', base.replace('+ 4', '+ 5')],
    ['clear', base.replace('+ 2', '+ 1')],
    ['no clear', base.replace(/ {4}clear:.*\n/, '')],
    ['for', base.replace('for: 2m', 'for: 3m')],
    ['cooldown', base.replace('30m', '20m')],
    ['match', base.replace('[a, b]', '[a]')],
    ['match number vs string', base.replace('[a, b]', '[1, b]')],
    ['window', base.replace('avg(temperature, 5m) >', 'avg(temperature, 6m) >')],
    ['bucket', base.replace('avg(temperature, 5m) >', 'avg(temperature, 5m, 1m) >')],
    ['grouping', base.replace('device.setpoint + 4', '(device.setpoint + 4) * 1')],
  ])('changes with the %s', (_what, changed) => {
    expect(keyOf(changed)).not.toBe(keyOf(base));
  });
});
