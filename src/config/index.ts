/** The rules-file module: load a rules file into the compiled config the audit runs on. */
export { loadRulesFile, parseRules } from './load.js';
export { parseDuration, DURATION_UNITS } from './duration.js';
export { compilePattern, parsePattern, PatternError } from './key-pattern.js';
export type { PatternParts } from './key-pattern.js';
export { patternsOverlap, overlapExample } from './pattern-overlap.js';
export { interpolateEnv } from './env-interpolation.js';
export { parseNormalizer, NORMALIZER_NAMES } from './normalizer-spec.js';
export { resolveModulePath, DEFAULT_CLOCK_SKEW_MS } from './compile-rules.js';
export { RULES_SCHEMA_URL, rulesSchema } from './schema-validation.js';
export type { RulesConfig, SourceKind, SourceSpec } from './types.js';
