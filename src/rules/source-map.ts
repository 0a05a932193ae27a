// Maps offsets inside a YAML scalar's value back to offsets in the file, so errors in a
// `when:` expression point at the offending token in the file, also for quoted, folded
// and literal block scalars. The value's characters appear in the source in order;
// what lies between them (quotes, escapes, indentation, line folds) is skipped.

import { Scalar } from 'yaml';

export type OffsetMap = (valueOffset: number) => number;

export function scalarOffsetMap(source: string, node: Scalar): OffsetMap {
  const value = String(node.value);
  const [start, end] = node.range ?? [0, 0];
  let p = start;
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) p = start + 1;
  else if (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL) {
    const nl = source.indexOf('\n', start);
    p = nl < 0 || nl >= end ? end : nl + 1;
  }
  const map = new Array<number>(value.length + 1);
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const ws = c === ' ' || c === '\n' || c === '\t';
    let q = p;
    while (q < end && source[q] !== c && !(ws && (source[q] === '\n' || source[q] === ' '))) q++;
    if (q >= end) {
      // The value holds text the source spells differently (an escape): keep the last good offset.
      map[i] = Math.min(p, Math.max(start, end - 1));
    } else {
      map[i] = q;
      p = q + 1;
    }
  }
  map[value.length] = value.length === 0 ? p : map[value.length - 1] + 1;
  return (offset) => map[Math.max(0, Math.min(offset, value.length))];
}
