// Reads the structure of a rules file (SPEC §4) from YAML, keeping node positions:
// rules with their expressions as source text (parsed later), match selectors, timing
// and action names, and the action definitions. Every structural problem is reported;
// whatever is well-formed is still returned so later stages can report their errors too.

import { type Document, isScalar, LineCounter, type Pair, parseDocument, type Scalar } from 'yaml';
import type { ActionDefinition } from '../actions/types.js';
import type { Diagnostics } from './diagnostics.js';
import { formatDuration, MAX_DURATION_MS, parseDuration } from './durations.js';
import { type OffsetMap, scalarOffsetMap } from './source-map.js';
import { type AnyNode, asMap, asScalar, asSeq, deref, keyText, kindOf, offsetOf } from './yaml-nodes.js';

export interface ExprSource {
  text: string;
  /** Offset in the expression text → offset in the file. */
  map: OffsetMap;
}

export interface MatchSource {
  attr: string;
  values: Array<string | number>;
}

export interface RuleSource {
  id: string;
  /** File offset of the rule's mapping. */
  offset: number;
  description: string | null;
  match: MatchSource[];
  when: ExprSource | null;
  clear: ExprSource | null;
  forMs: number;
  cooldownMs: number;
  actions: string[];
}

export interface RulesDocument {
  rules: RuleSource[];
  actions: Record<string, ActionDefinition>;
}

export const RULE_ID_RE = /^[a-z0-9-]{1,128}$/;
export const ACTION_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;
/** Default retry budget of a webhook (SPEC §5.3 leaves it open). */
export const DEFAULT_MAX_ATTEMPTS = 8;

const TOP_KEYS = ['rules', 'actions'];
const RULE_KEYS = ['id', 'description', 'match', 'when', 'for', 'clear', 'cooldown', 'actions'];
const ACTION_KEYS: Record<string, string[]> = {
  stream: ['kind'],
  webhook: ['kind', 'url', 'maxAttempts', 'timeoutMs'],
};

/** Parses YAML text with a line counter for positions; YAML syntax errors go to `diag`. */
export function parseRulesYaml(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines };
}

export function readRulesDocument(text: string, doc: Document, diag: Diagnostics): RulesDocument {
  return new Reader(text, doc, diag).read();
}

class Reader {
  /** Action names defined in the file, also those whose definition has errors (no cascade). */
  private readonly declared = new Set<string>();

  constructor(private readonly text: string, private readonly doc: Document, private readonly diag: Diagnostics) {}

  private node(n: unknown): AnyNode {
    return deref(this.doc, n);
  }

  private err(at: unknown, message: string): void {
    this.diag.add(offsetOf(at, 0), message);
  }

  /** Pairs of a mapping with string keys; reports keys outside `allowed`. */
  private pairs(map: { items: Pair[] }, allowed: string[], where: string): Array<[string, Pair]> {
    const out: Array<[string, Pair]> = [];
    for (const pair of map.items) {
      const key = keyText(pair);
      if (key === null) {
        this.err(pair.key, `${where}keys must be strings`);
      } else if (!allowed.includes(key)) {
        this.err(pair.key, `${where}unknown key '${key}' (expected ${allowed.join(', ')})`);
      } else {
        out.push([key, pair]);
      }
    }
    return out;
  }

  read(): RulesDocument {
    const result: RulesDocument = { rules: [], actions: {} };
    const root = this.node(this.doc.contents);
    if (root === null || root === undefined || (isScalar(root) && root.value === null)) return result;
    const top = asMap(root);
    if (top === null) {
      this.err(root, `the rules file must be a mapping with 'rules' and 'actions', not ${kindOf(root)}`);
      return result;
    }
    let rulesNode: AnyNode = null;
    for (const [key, pair] of this.pairs(top, TOP_KEYS, '')) {
      if (key === 'actions') this.readActions(this.node(pair.value), pair, result.actions);
      else rulesNode = this.node(pair.value) ?? null;
    }
    if (rulesNode !== null && !(isScalar(rulesNode) && rulesNode.value === null)) {
      const seq = asSeq(rulesNode);
      if (seq === null) this.err(rulesNode, `'rules' must be a list, not ${kindOf(rulesNode)}`);
      else this.readRules(seq.items, result);
    }
    return result;
  }

  private readActions(node: AnyNode, pair: Pair, into: Record<string, ActionDefinition>): void {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
    const map = asMap(node);
    if (map === null) {
      this.err(node ?? pair.key, `'actions' must be a mapping of name to definition, not ${kindOf(node)}`);
      return;
    }
    for (const item of map.items) {
      const name = keyText(item);
      if (name === null || !ACTION_NAME_RE.test(name)) {
        this.err(item.key, `bad action name '${name ?? ''}' (1..128 characters of A-Z a-z 0-9 . _ -)`);
        continue;
      }
      this.declared.add(name);
      const def = this.readAction(name, this.node(item.value), item);
      // defineProperty: a name like `__proto__` must become a key, not a prototype.
      if (def !== null) Object.defineProperty(into, name, { value: def, enumerable: true, writable: true, configurable: true });
    }
  }

  private readAction(name: string, node: AnyNode, pair: Pair): ActionDefinition | null {
    const where = `action '${name}': `;
    const map = asMap(node);
    if (map === null) {
      this.err(node ?? pair.key, `${where}definition must be a mapping like { kind: stream }, not ${kindOf(node)}`);
      return null;
    }
    const kindPair = map.items.find((p) => keyText(p) === 'kind');
    const kindNode = asScalar(this.node(kindPair?.value));
    const kind = kindNode?.value;
    if (kindPair === undefined) {
      this.err(map, `${where}missing 'kind' (stream or webhook)`);
      return null;
    }
    if (kind !== 'stream' && kind !== 'webhook') {
      this.err(kindPair.value ?? kindPair.key, `${where}unknown kind '${String(kind ?? '')}' (stream or webhook)`);
      return null;
    }
    const before = this.diag.count;
    const entries = this.pairs(map, ACTION_KEYS[kind], where);
    if (kind === 'stream') return this.diag.count === before ? { kind } : null;
    let url: string | null = null;
    let maxAttempts = DEFAULT_MAX_ATTEMPTS;
    let timeoutMs: number | undefined;
    for (const [key, p] of entries) {
      const v = this.node(p.value);
      const value = asScalar(v)?.value;
      if (key === 'url') {
        if (typeof value !== 'string' || !isHttpUrl(value)) this.err(v ?? p.key, `${where}'url' must be an http or https URL`);
        else url = value;
      } else if (key === 'maxAttempts') {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.err(v ?? p.key, `${where}'maxAttempts' must be an integer ≥ 1`);
        else maxAttempts = value;
      } else if (key === 'timeoutMs') {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.err(v ?? p.key, `${where}'timeoutMs' must be an integer ≥ 1`);
        else timeoutMs = value;
      }
    }
    if (!entries.some(([k]) => k === 'url')) this.err(map, `${where}a webhook needs a 'url'`);
    if (this.diag.count !== before || url === null) return null;
    return timeoutMs === undefined ? { kind, url, maxAttempts } : { kind, url, maxAttempts, timeoutMs };
  }

  private readRules(items: unknown[], result: RulesDocument): void {
    const seen = new Map<string, number>();
    const actionRefs: Array<{ name: string; node: unknown }> = [];
    for (const raw of items) {
      const node = this.node(raw);
      const map = asMap(node);
      if (map === null) {
        this.err(node ?? raw, `a rule must be a mapping with 'id' and 'when', not ${kindOf(node)}`);
        continue;
      }
      const rule: RuleSource = {
        id: '',
        offset: offsetOf(map, 0),
        description: null,
        match: [],
        when: null,
        clear: null,
        forMs: 0,
        cooldownMs: 0,
        actions: [],
      };
      for (const [key, pair] of this.pairs(map, RULE_KEYS, '')) {
        const v = this.node(pair.value);
        switch (key) {
          case 'id': {
            const s = asScalar(v);
            const id = s !== null && (typeof s.value === 'string' || typeof s.value === 'number') ? String(s.value) : null;
            if (id === null || !RULE_ID_RE.test(id)) {
              this.err(v ?? pair.key, `bad rule id '${id ?? ''}' (1..128 characters of a-z 0-9 -)`);
            } else if (seen.has(id)) {
              this.err(v, `duplicate rule id '${id}'`);
            } else {
              seen.set(id, offsetOf(v, 0));
            }
            if (id !== null) rule.id = id;
            break;
          }
          case 'description': {
            const s = asScalar(v);
            if (s === null) this.err(v ?? pair.key, `'description' must be text, not ${kindOf(v)}`);
            else rule.description = s.value === null ? null : String(s.value);
            break;
          }
          case 'when':
          case 'clear': {
            const e = this.exprSource(v, pair, key);
            if (key === 'when') rule.when = e;
            else rule.clear = e;
            break;
          }
          case 'for':
          case 'cooldown': {
            const ms = this.duration(v, pair, key);
            if (key === 'for') rule.forMs = ms;
            else rule.cooldownMs = ms;
            break;
          }
          case 'match':
            rule.match = this.match(v, pair);
            break;
          case 'actions':
            for (const ref of this.actionNames(v, pair)) {
              actionRefs.push(ref);
              if (!rule.actions.includes(ref.name)) rule.actions.push(ref.name);
            }
            break;
        }
      }
      const label = rule.id === '' ? 'rule' : `rule '${rule.id}'`;
      if (!map.items.some((p) => keyText(p) === 'id')) this.err(map, `${label}: missing 'id'`);
      if (!map.items.some((p) => keyText(p) === 'when')) this.err(map, `${label}: missing 'when'`);
      // Rules with a bad or duplicate id are still returned so their expressions get checked too.
      result.rules.push(rule);
    }
    for (const ref of actionRefs) {
      if (!this.declared.has(ref.name)) this.err(ref.node, `unknown action '${ref.name}'`);
    }
  }

  private exprSource(v: AnyNode, pair: Pair, key: string): ExprSource | null {
    const s = asScalar(v);
    if (s === null || s.value === null || typeof s.value === 'boolean' || s.value === '') {
      this.err(v ?? pair.key, `'${key}' must be an expression like avg(temperature, 5m) > 80`);
      return null;
    }
    if (typeof s.value === 'string') return { text: s.value, map: scalarOffsetMap(this.text, s) };
    // A plain number (`when: 1`): its source text is the expression (and a type error).
    const [start, end] = s.range ?? [0, 0];
    return { text: this.text.slice(start, end), map: (o) => start + o };
  }

  private duration(v: AnyNode, pair: Pair, key: string): number {
    const s = asScalar(v);
    if (s !== null && s.value === 0) return 0;
    const text = s !== null && typeof s.value === 'string' ? s.value.trim() : null;
    const ms = text === null ? null : parseDuration(text);
    if (ms === null) {
      const shown = s !== null && s.value !== null ? String(s.value) : '';
      this.err(v ?? pair.key, `bad duration '${shown}' for '${key}' (use e.g. 500ms, 10s, 5m, 2h, 1d)`);
      return 0;
    }
    if (ms > MAX_DURATION_MS) {
      this.err(v, `'${key}' ${formatDuration(ms)} is longer than ${formatDuration(MAX_DURATION_MS)}`);
      return 0;
    }
    return ms;
  }

  private match(v: AnyNode, pair: Pair): MatchSource[] {
    const map = asMap(v);
    if (map === null) {
      this.err(v ?? pair.key, `'match' must be a mapping of attribute to value(s), not ${kindOf(v)}`);
      return [];
    }
    const out: MatchSource[] = [];
    for (const item of map.items) {
      const attr = keyText(item);
      if (attr === null || attr === '') {
        this.err(item.key, `'match' keys must be attribute names`);
        continue;
      }
      const node = this.node(item.value);
      const seq = asSeq(node);
      const elems = seq === null ? [node] : seq.items.map((x) => this.node(x));
      if (seq !== null && elems.length === 0) {
        this.err(node, `match '${attr}': an empty list matches no device`);
        continue;
      }
      const values: Array<string | number> = [];
      for (const e of elems) {
        const val = asScalar(e)?.value;
        if (typeof val === 'string' || (typeof val === 'number' && Number.isFinite(val))) {
          if (!values.includes(val)) values.push(val);
        } else {
          this.err(e ?? item.key, `match '${attr}': values must be strings or numbers (or a list of them), not ${kindOf(e)}`);
        }
      }
      out.push({ attr, values });
    }
    return out;
  }

  private actionNames(v: AnyNode, pair: Pair): Array<{ name: string; node: unknown }> {
    if (v === null || v === undefined || (isScalar(v) && v.value === null)) return [];
    const seq = asSeq(v);
    const elems: AnyNode[] = seq === null ? [v] : seq.items.map((x) => this.node(x));
    const out: Array<{ name: string; node: unknown }> = [];
    for (const e of elems) {
      const val = (asScalar(e) as Scalar | null)?.value;
      if (typeof val !== 'string' || val === '') this.err(e ?? pair.key, `'actions' must list action names, not ${kindOf(e)}`);
      else out.push({ name: val, node: e });
    }
    return out;
  }
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
