// Public entry point: the types a user needs to write a custom SourceLoader or read a report.
export type { FamilyRule, KeyPattern, NormalizerSpec } from './core/rule.js';
export type { Observation, CacheRead, SourceRead } from './core/observation.js';
export type { Verdict, Reason, Judgement, Finding, FieldDiff } from './core/verdict.js';
export { classifyObservation, confirmJudgement } from './core/classify.js';
