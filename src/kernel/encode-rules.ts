// Rules section of the program binary (see docs/internals.md). Owned by the rule VM.
// Until the VM lands the section only says "no rules": a u32 rule count of 0.
import type { ProgramSpec } from './program-spec.js';

export function encodeRules(spec: ProgramSpec, prev: ProgramSpec | null): Uint8Array {
  void spec;
  void prev;
  return new Uint8Array(8);
}
