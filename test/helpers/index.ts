export { startEngine, startEngineProcess, PACKAGE_ROOT, type EngineOptions, type InProcessEngine, type EngineProcess } from './engine.js';
export { IngestClient, type Reply } from './ingest-client.js';
export { until } from './until.js';
export { streamRuleYaml } from './rules.js';
export { startFleetOn } from './fleet.js';
