// RuleSpec.key: the canonical text of a rule's definition (when, clear, for, cooldown,
// match). Equal keys keep rule state across reloads; the id, description and actions
// are not part of it, so renaming a rule or retargeting its actions keeps its state.

import { formatDuration } from './durations.js';
import type { MatchSource } from './rules-document.js';

export interface KeyParts {
  when: string;
  clear: string | null;
  forMs: number;
  cooldownMs: number;
  match: MatchSource[];
}

export function ruleKey(p: KeyParts): string {
  const match = p.match
    .map((m) => ({ attr: m.attr, values: m.values.map((v) => (typeof v === 'number' ? v : JSON.stringify(v))).map(String).sort() }))
    .sort((a, b) => (a.attr < b.attr ? -1 : a.attr > b.attr ? 1 : 0))
    .map((m) => `${JSON.stringify(m.attr)}: [${m.values.join(', ')}]`)
    .join(', ');
  return [
    `when ${p.when}`,
    `clear ${p.clear ?? '-'}`,
    `for ${formatDuration(p.forMs)}`,
    `cooldown ${formatDuration(p.cooldownMs)}`,
    `match {${match}}`,
  ].join('; ');
}
