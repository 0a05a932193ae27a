// The rules the ingest, latency and peer scenarios run: the demo's rules (demo/rules.yaml,
// so the engine and the peer evaluate what `npm start` runs) plus a probe rule that fires
// and clears on marked events, which the latency scenario times.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT } from './child.js';

export const PROBE_RULE = { id: 'latency-mark', when: 'mark > 0', actions: ['probe'] };

/** Writes the bench rules file into the temp dir and returns its path. */
export function benchRulesFile(): string {
  const doc = YAML.parse(readFileSync(path.join(ROOT, 'demo/rules.yaml'), 'utf8')) as {
    rules: unknown[];
    actions: Record<string, unknown>;
  };
  doc.rules.push(PROBE_RULE);
  doc.actions = { ...doc.actions, probe: { kind: 'stream' } };
  const file = path.join(tmpdir(), `damper-bench-rules-${process.pid}.yaml`);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}
