// The reference model: plain TypeScript oracles of the feature kernel and the rule VM.
import type { ProgramSpec } from '../kernel/program-spec.js';
import { ReferenceFeatures } from './features.js';
import { ReferenceEngine } from './rules.js';

export { ReferenceFeatures } from './features.js';
export { ReferenceEngine, type Transition, type AttrValue, type FeatureStore } from './rules.js';

/** A reference engine over the reference feature model. */
export function createReferenceEngine(spec: ProgramSpec): ReferenceEngine {
  return new ReferenceEngine(spec, (s) => new ReferenceFeatures(s));
}
