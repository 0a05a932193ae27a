// Collects every problem of a rules file as (file offset, message) and renders them as
// SPEC §4.4 `line:col: message` strings (1-based), in file order.

import type { LineCounter } from 'yaml';

interface Diagnostic {
  offset: number;
  message: string;
}

export class Diagnostics {
  private readonly items: Diagnostic[] = [];

  constructor(private readonly lines: LineCounter) {}

  add(offset: number, message: string): void {
    this.items.push({ offset, message });
  }

  get count(): number {
    return this.items.length;
  }

  /** `line:col: message`, sorted by position (stable for equal positions). */
  format(): string[] {
    return this.items
      .map((d, i) => ({ ...d, i }))
      .sort((a, b) => a.offset - b.offset || a.i - b.i)
      .map((d) => {
        const { line, col } = this.lines.linePos(d.offset);
        return `${line}:${col}: ${d.message}`;
      });
  }
}
