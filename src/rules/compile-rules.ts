// compileRules: rules file text → ProgramSpec (SPEC §4). Parses the YAML and every
// expression, reports every error as `line:col: message`, and plans the features:
// deduplicated by canonical text across rules. Names are interned into the engine's
// NameTables only once the whole set is valid.

import type { ActionDefinition } from '../actions/types.js';
import { DamperError } from '../errors.js';
import type { Expr, FeatureSpec, MatchClause, ProgramSpec, Read, RuleSpec } from '../kernel/program-spec.js';
import { FeatureFn } from '../kernel/program-spec.js';
import { Diagnostics } from './diagnostics.js';
import type { ExprError } from './expr/ast.js';
import { checkCondition } from './expr/check.js';
import { parseExpression } from './expr/parser.js';
import { printExpr } from './expr/print.js';
import type { Resolved } from './expr/resolved.js';
import type { NameTables } from './name-tables.js';
import { type ExprSource, parseRulesYaml, readRulesDocument, type RuleSource } from './rules-document.js';
import { ruleKey } from './rule-key.js';
import { type RulesSummary, summarize } from './summary.js';

export interface CompileOptions {
  tables: NameTables;
  /** Version the new set gets (the active version + 1). */
  version: number;
  /** The active program, to report which rules keep their state. */
  prevSpec?: ProgramSpec | null;
  /** Buckets per window when a feature gives no bucket width (SPEC: 20, i.e. B = W/20). */
  defaultBuckets?: number;
}

export type CompileResult =
  | { ok: true; spec: ProgramSpec; actions: Record<string, ActionDefinition>; summary: RulesSummary }
  | { ok: false; errors: string[] };

interface CheckedRule {
  src: RuleSource;
  when: Resolved;
  clear: Resolved | null;
}

export function compileRules(yamlText: string, options: CompileOptions): CompileResult {
  const defaultBuckets = options.defaultBuckets ?? 20;
  if (typeof yamlText !== 'string') return { ok: false, errors: ['1:1: the rules must be YAML text'] };
  if (!Number.isInteger(defaultBuckets) || defaultBuckets < 1) {
    throw new DamperError('DAMPER_ERR_RULES_OPTIONS', `defaultBuckets must be a positive integer, not ${defaultBuckets}`);
  }
  try {
    return compile(yamlText, options, defaultBuckets);
  } catch (e) {
    // Rules text is user input: whatever it does to the parsers (e.g. exhaust the stack),
    // it is rejected, never thrown at the API or the watcher.
    return { ok: false, errors: [`1:1: cannot compile this file: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

function compile(yamlText: string, options: CompileOptions, defaultBuckets: number): CompileResult {
  const { doc, lines } = parseRulesYaml(yamlText);
  const diag = new Diagnostics(lines);
  if (doc.errors.length > 0) {
    // A broken YAML structure would only produce confusing follow-up errors.
    for (const e of doc.errors) {
      const message = e.code === 'MULTIPLE_DOCS' ? 'a rules file holds one YAML document (remove the second ---)' : e.message.split('\n')[0];
      diag.add(e.pos[0], message);
    }
    return { ok: false, errors: diag.format() };
  }
  const file = readRulesDocument(yamlText, doc, diag);
  const checked: CheckedRule[] = [];
  for (const rule of file.rules) {
    const when = rule.when === null ? null : expression(rule.when, diag, defaultBuckets);
    const clear = rule.clear === null ? null : expression(rule.clear, diag, defaultBuckets);
    if (when !== null && (rule.clear === null || clear !== null)) checked.push({ src: rule, when, clear });
  }
  if (diag.count > 0) return { ok: false, errors: diag.format() };

  const spec = buildSpec(checked, options.tables, options.version);
  return { ok: true, spec, actions: file.actions, summary: summarize(spec, options.prevSpec ?? null) };
}

function expression(src: ExprSource, diag: Diagnostics, defaultBuckets: number): Resolved | null {
  const parsed = parseExpression(src.text);
  if ('error' in parsed) {
    diag.add(src.map(parsed.error.pos), parsed.error.message);
    return null;
  }
  const errors: ExprError[] = [];
  const r = checkCondition(parsed.node, errors, { defaultBuckets });
  for (const e of errors) diag.add(src.map(e.pos), e.message);
  return r;
}

function buildSpec(rules: CheckedRule[], tables: NameTables, version: number): ProgramSpec {
  const features: FeatureSpec[] = [];
  const featureIndex = new Map<string, number>();

  const lower = (e: Resolved, reads: Read[]): Expr => {
    switch (e.op) {
      case 'num':
        return { op: 'num', value: e.value };
      case 'feature': {
        const f = e.feature;
        let index = featureIndex.get(f.canonical);
        if (index === undefined) {
          index = features.length;
          featureIndex.set(f.canonical, index);
          features.push({
            fn: f.fn,
            metric: tables.metric(f.metric),
            windowMs: f.windowMs,
            bucketMs: f.bucketMs,
            halfLifeMs: f.halfLifeMs,
            canonical: f.canonical,
          });
        }
        if (!reads.some((r) => r.kind === 'feature' && r.index === index)) reads.push({ kind: 'feature', index });
        return { op: 'feature', index };
      }
      case 'attr': {
        const attr = tables.attr(e.name);
        if (!reads.some((r) => r.kind === 'attr' && r.attr === attr)) reads.push({ kind: 'attr', attr });
        return { op: 'attr', attr };
      }
      case 'abs':
      case 'neg':
      case 'not':
        return { op: e.op, arg: lower(e.arg, reads) };
      default:
        return { op: e.op, left: lower(e.left, reads), right: lower(e.right, reads) };
    }
  };

  const specs: RuleSpec[] = rules.map(({ src, when, clear }) => {
    const reads: Read[] = [];
    const whenExpr = lower(when, reads);
    const clearExpr = clear === null ? null : lower(clear, reads);
    const match: MatchClause[] = src.match.map((m) => ({
      attr: tables.attr(m.attr),
      values: m.values.map((v) =>
        typeof v === 'number' ? { kind: 'number' as const, value: v } : { kind: 'string' as const, value: tables.string(v) },
      ),
    }));
    return {
      id: src.id,
      key: ruleKey({
        when: printExpr(when),
        clear: clear === null ? null : printExpr(clear),
        forMs: src.forMs,
        cooldownMs: src.cooldownMs,
        match: src.match,
      }),
      when: whenExpr,
      clear: clearExpr,
      forMs: src.forMs,
      cooldownMs: src.cooldownMs,
      usesAge: reads.some((r) => r.kind === 'feature' && features[r.index].fn === FeatureFn.Age),
      match,
      reads,
      actions: src.actions.slice(),
    };
  });

  // Snapshot the tables after interning: the spec carries every name its ids refer to.
  return { version, metrics: tables.metrics, attrs: tables.attrs, strings: tables.strings, features, rules: specs };
}
