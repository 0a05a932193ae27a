// Outcomes of validating and replacing a rule set (shared by RuleManager and its watcher).
import type { RulesSummary } from './summary.js';

export type ValidateResult = { ok: true; summary: RulesSummary } | { ok: false; errors: string[] };
export type ReplaceResult = { ok: true; version: number; summary: RulesSummary } | { ok: false; errors: string[] };
