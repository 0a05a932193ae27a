// The rule language: public surface for the rest of the engine.
export { NameTables } from './name-tables.js';
export { compileRules, type CompileOptions, type CompileResult } from './compile-rules.js';
export { RuleManager, type ActiveRules, type InstallFn, type RuleManagerOptions } from './rule-manager.js';
export type { ReplaceResult, ValidateResult } from './results.js';
export type { RulesWatcher, WatchHandlers } from './rules-watcher.js';
export { rulesCheck } from './check-command.js';
export { formatSummary, type RulesSummary, type RuleSummary } from './summary.js';
export { formatDuration, parseDuration } from './durations.js';
