// What a compiled rule set contains, for `damper rules check`, logs and the API: each
// rule with the canonical names of the features it reads, the planned (deduplicated)
// features, and against the running set which rules keep their state.

import type { ProgramSpec } from '../kernel/program-spec.js';
import { formatDuration } from './durations.js';

export type RuleChange = 'new' | 'changed' | 'kept';

export interface RuleSummary {
  id: string;
  /** Features and `device.NAME` values the rule reads, as action records name them. */
  reads: string[];
  forMs: number;
  cooldownMs: number;
  usesAge: boolean;
  actions: string[];
  /** Against the running set: kept = same definition, so its state carries over. */
  change: RuleChange;
}

export interface RulesSummary {
  version: number;
  rules: RuleSummary[];
  /** Planned features (canonical names), each computed once per device however many rules read it. */
  features: string[];
  /** Ids of running rules the new set drops. */
  removed: string[];
}

export function summarize(spec: ProgramSpec, prev: ProgramSpec | null): RulesSummary {
  const prevKeys = new Set(prev?.rules.map((r) => r.key) ?? []);
  const prevIds = new Set(prev?.rules.map((r) => r.id) ?? []);
  const ids = new Set(spec.rules.map((r) => r.id));
  return {
    version: spec.version,
    rules: spec.rules.map((r) => ({
      id: r.id,
      reads: r.reads.map((x) => (x.kind === 'feature' ? spec.features[x.index].canonical : `device.${spec.attrs[x.attr]}`)),
      forMs: r.forMs,
      cooldownMs: r.cooldownMs,
      usesAge: r.usesAge,
      actions: r.actions.slice(),
      change: prevKeys.has(r.key) ? 'kept' : prevIds.has(r.id) ? 'changed' : 'new',
    })),
    features: spec.features.map((f) => f.canonical),
    removed: [...prevIds].filter((id) => !ids.has(id)),
  };
}

/** Human-readable summary, one line per rule and per feature. */
export function formatSummary(s: RulesSummary): string {
  const out: string[] = [];
  out.push(`${s.rules.length} rule${s.rules.length === 1 ? '' : 's'}, ${s.features.length} feature${s.features.length === 1 ? '' : 's'}`);
  out.push('rules:');
  for (const r of s.rules) {
    const timing = [r.forMs > 0 ? `for ${formatDuration(r.forMs)}` : '', r.cooldownMs > 0 ? `cooldown ${formatDuration(r.cooldownMs)}` : '', r.usesAge ? 'on tick' : '']
      .filter((x) => x !== '')
      .join(', ');
    const acts = r.actions.length > 0 ? ` -> ${r.actions.join(', ')}` : '';
    out.push(`  ${r.id}${timing ? ` (${timing})` : ''}: reads ${r.reads.join(', ')}${acts}`);
  }
  out.push('features:');
  for (const f of s.features) out.push(`  ${f}`);
  return out.join('\n') + '\n';
}
