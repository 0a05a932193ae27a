// Small helpers over `yaml` nodes: resolve aliases, read positions, describe kinds.
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, type Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

export type AnyNode = Node | null | undefined;

export function deref(doc: Document, node: unknown): AnyNode {
  let n = node as AnyNode;
  for (let i = 0; i < 32 && isAlias(n); i++) n = n.resolve(doc) as AnyNode;
  return isAlias(n) ? null : n;
}

export function offsetOf(node: unknown, fallback: number): number {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : fallback;
}

export function asMap(n: AnyNode): YAMLMap | null {
  return isMap(n) ? n : null;
}

export function asSeq(n: AnyNode): YAMLSeq | null {
  return isSeq(n) ? n : null;
}

export function asScalar(n: AnyNode): Scalar | null {
  return isScalar(n) ? n : null;
}

/** Key text of a map pair (keys are strings in a rules file; others are reported by the caller). */
export function keyText(pair: Pair): string | null {
  const k = pair.key;
  if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number')) return String(k.value);
  return null;
}

export function kindOf(n: AnyNode): string {
  if (n === null || n === undefined) return 'nothing';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    if (n.value === null) return 'null';
    if (typeof n.value === 'string') return 'a string';
    if (typeof n.value === 'number') return 'a number';
    if (typeof n.value === 'boolean') return 'a boolean';
  }
  return 'a value of another kind';
}
