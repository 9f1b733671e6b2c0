// Public entry point: the types a user needs to write a custom SourceLoader or read a report.
export type { FamilyRule, KeyPattern, NormalizerSpec, PathNormalizer } from './core/rule.js';
export type { Observation, CacheRead, SourceRead } from './core/observation.js';
export type { Verdict, Reason, Judgement, Finding, FieldDiff } from './core/verdict.js';
export { classifyObservation, confirmJudgement } from './core/classify.js';

// Custom loaders (`kind: module` sources): the factory contract a loader module's default export
// keeps, and the helpers that keep it. A loader throws SourceQueryError when one batch failed and
// the source is still usable, ConnectionError when the source is gone, UsageError when its spec is unusable.
export type { SourceSpec } from './config/types.js';
export type { LoaderOptions, SourceBatch, SourceLoader, SourceLoaderFactory } from './sources/types.js';
export { SourceQueryError } from './sources/types.js';
export { ConnectionError, UsageError } from './errors.js';
/** Rows to a SourceBatch keyed the way the audit looks ids up (first of duplicates kept, noted). */
export { toBatch } from './sources/rows.js';
/** `rows: many`: flat rows to a SourceBatch of each id's rows under `members`, in the order given. */
export { toGroups } from './sources/rows.js';
/** The parts of a composite id (`["acme","42"]`), one per key column; a one-column id is itself. */
export { idParts } from './core/source-key.js';
/** JSON text to values with every number exact (LosslessNumber past 2^53 and for decimals). */
export { parseJsonExact } from './core/json-text.js';
/** A connection URL with its password masked, for messages. */
export { redactUrl } from './util/redact-url.js';
