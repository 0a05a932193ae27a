// A strict parser of the Prometheus text format subset the engine writes. Tests use it to
// check that /metrics parses and that its counters match what was sent; any malformed line
// throws, so a formatting bug cannot pass unnoticed.
import { DamperError } from '../errors.js';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_RE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`);
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;

export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') fail(lines.length, 'text must end with a newline');
  lines.pop();
  lines.forEach((line, i) => {
    const at = i + 1;
    let m: RegExpExecArray | null;
    if ((m = HELP_RE.exec(line))) {
      if (families.has(m[1]!)) fail(at, `duplicate family ${m[1]}`);
      families.set(m[1]!, { name: m[1]!, type: 'untyped', help: unescape(m[2]!), samples: [] });
    } else if ((m = TYPE_RE.exec(line))) {
      const f = families.get(m[1]!);
      if (!f) fail(at, `TYPE before HELP for ${m[1]}`);
      if (f.samples.length > 0) fail(at, `TYPE after samples for ${m[1]}`);
      f.type = m[2]!;
    } else if ((m = SAMPLE_RE.exec(line))) {
      const name = m[1]!;
      const f = families.get(name) ?? families.get(name.replace(/_(sum|count|bucket)$/, ''));
      if (!f) fail(at, `sample ${name} outside its family`);
      f.samples.push({ name, labels: parseLabels(m[2] ?? '', at), value: parseValue(m[3]!, at) });
    } else {
      fail(at, `cannot parse ${JSON.stringify(line)}`);
    }
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

function parseLabels(src: string, at: number): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL_RE.lastIndex = 0;
  while (LABEL_RE.lastIndex < src.length) {
    const m = LABEL_RE.exec(src);
    if (!m) fail(at, `bad labels {${src}}`);
    out[m[1]!] = unescape(m[2]!);
    if (m[3] === '' && LABEL_RE.lastIndex < src.length) fail(at, `bad labels {${src}}`);
  }
  return out;
}

function parseValue(v: string, at: number): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  const n = Number(v);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) || !Number.isFinite(n)) fail(at, `bad value ${v}`);
  return n;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function fail(line: number, message: string): never {
  throw new DamperError('DAMPER_ERR_BAD_EXPOSITION', `line ${line}: ${message}`);
}
