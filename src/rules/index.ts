// The rule language: public surface for the rest of the engine.
export { NameTables } from './name-tables.js';
export { compileRules, type CompileOptions, type CompileResult } from './compile-rules.js';
export { formatSummary, type RulesSummary, type RuleSummary } from './summary.js';
export { formatDuration, parseDuration } from './durations.js';
