/**
 * What a finding keeps of its observation, bounded whatever the values: up to 100,000 findings
 * are kept for an end-of-run report, so nothing of a decoded payload may outlive its batch.
 */
import { isLosslessNumber } from 'lossless-json';
import { displayExcerpt, MAX_EXCERPT_CHARS } from './display.js';
import { redactValue } from './redaction.js';
import type { FamilyRule } from './rule.js';
import type { FieldDiff, Finding } from './verdict.js';

/** Diff entries a finding keeps at most: every text report shows 10, the JSON formats get twice that. */
export const MAX_DIFF_ENTRIES = 20;
/**
 * Characters of paths and values a finding's diff keeps at most (each value is already an excerpt
 * of at most MAX_EXCERPT_CHARS): with up to 100,000 findings kept for an end-of-run report, what
 * findings hold must not depend on how large the cached values are.
 */
export const MAX_DIFF_CHARS = 4096;

/**
 * Bounds, in place, what a finding still refers to of its observation: versions (taken from the
 * payload as they are) become excerpts, redacted like any field, and a long diff keeps its first
 * entries and counts the rest (`diffOmitted`).
 */
export function boundFinding(rule: Pick<FamilyRule, 'version' | 'redact'>, finding: Finding): Finding {
  if (rule.version !== undefined) {
    if (finding.cacheVersion !== undefined) finding.cacheVersion = shownVersion(rule, rule.version, finding.cacheVersion);
    if (finding.sourceVersion !== undefined) finding.sourceVersion = shownVersion(rule, rule.version, finding.sourceVersion);
  }
  if (finding.diff.length > 0) boundDiff(rule, finding);
  return finding;
}

/**
 * A version as a finding keeps it. Scalars (numbers, exact numbers, dates, short strings) stay as
 * they are: reports compare them and the metrics compute the version lag from them.
 */
function shownVersion(rule: Pick<FamilyRule, 'redact'>, field: string, value: unknown): unknown {
  const redacted = redactValue(rule.redact, field, value);
  if (typeof redacted === 'string') return redacted.length <= MAX_EXCERPT_CHARS ? redacted : displayExcerpt(redacted);
  if (typeof redacted !== 'object' || redacted === null || redacted instanceof Date || isLosslessNumber(redacted)) return redacted;
  return displayExcerpt(redacted);
}

function boundDiff(rule: Pick<FamilyRule, 'version' | 'redact'>, finding: Finding): void {
  const kept: FieldDiff[] = [];
  let chars = 0;
  for (const d of finding.diff) {
    // The classifier adds the version entry with the payload's own values: bound it like diff.ts does.
    const entry = d.path === rule.version ? { path: d.path, cache: shownVersion(rule, d.path, d.cache), source: shownVersion(rule, d.path, d.source) } : d;
    const size = d.path.length + textSize(entry.cache) + textSize(entry.source) + (d.change?.length ?? 0);
    if (kept.length > 0 && (kept.length >= MAX_DIFF_ENTRIES || chars + size > MAX_DIFF_CHARS)) break;
    kept.push(entry);
    chars += size;
  }
  if (kept.length < finding.diff.length) finding.diffOmitted = finding.diff.length - kept.length;
  finding.diff = kept;
}

/** About how many characters a diff value takes when written (values here are already excerpts). */
function textSize(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return 8;
  return JSON.stringify(value)?.length ?? 8;
}
