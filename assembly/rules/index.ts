// Rule VM seam (see docs/internals.md, "Seam between the feature kernel and the rule VM").
// Until the VM lands, a program has no rules: no state, no output.
export function rulesStateBytes(rules: usize): i32 { return 0; }
export function rulesMaxOutBytes(rules: usize): i32 { return 0; }
export function rulesEvaluate(rules: usize, epoch: u32, slot: u32, state: usize, ts: f64, tau: f64, nowMs: f64, onTick: bool): void {}
export function rulesMigrate(oldRules: usize, oldState: usize, newRules: usize, newState: usize): void {}
export function rulesState(rules: usize, slot: u32, state: usize, rule: i32): i32 { return -1; }
