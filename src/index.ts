// Damper as a library: the engine and its configuration. Wiring only.
export { Engine, type EngineState, type EngineHooks } from './engine/engine.js';
export { loadConfig, type ConfigSources } from './config/load-config.js';
export { DEFAULT_CONFIG, type DamperConfig } from './config/options.js';
export { DamperError } from './errors.js';
