// `damper rules check FILE`: validates a rules file the way the engine would and prints
// either every error (`FILE:line:col: message`, exit 1) or a summary of the rules and
// the features they plan (canonical names, exit 0).

import { readFileSync } from 'node:fs';
import { compileRules } from './compile-rules.js';
import { NameTables } from './name-tables.js';
import { formatSummary } from './summary.js';

export function rulesCheck(file: string, out: NodeJS.WritableStream, options: { defaultBuckets?: number } = {}): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    out.write(`${file}: cannot read: ${(e as Error).message}\n`);
    return 1;
  }
  const r = compileRules(text, { tables: new NameTables(), version: 1, defaultBuckets: options.defaultBuckets });
  if (!r.ok) {
    for (const e of r.errors) out.write(`${file}:${e}\n`);
    out.write(`${r.errors.length} error${r.errors.length === 1 ? '' : 's'}\n`);
    return 1;
  }
  out.write(`${file}: ok\n`);
  out.write(formatSummary(r.summary));
  return 0;
}
