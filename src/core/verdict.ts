/** Verdicts and reasons, spelled exactly as SEMANTICS.md and the report contract spell them. */
export const VERDICTS = ['match', 'within-ttl', 'divergent', 'error', 'skipped'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const REASONS_BY_VERDICT = {
  match: [],
  'within-ttl': ['ttl-bounded', 'ttl-bounded-assumed', 'converged'],
  divergent: [
    'no-ttl',
    'stale-beyond-budget',
    'stale-repopulated',
    'ttl-exceeds-declared',
    'cache-ahead',
    'payload-drift',
    'orphan',
  ],
  error: ['undecodable', 'source-error', 'cache-error', 'timeout'],
  skipped: ['vanished', 'too-large', 'wrong-type'],
} as const satisfies Record<Verdict, readonly string[]>;

export type Reason = (typeof REASONS_BY_VERDICT)[Verdict][number];
export const REASONS: readonly Reason[] = Object.values(REASONS_BY_VERDICT).flat();

/**
 * One field that differs. Values are shown normalized, redacted fields masked (redaction.ts), and
 * cut to an excerpt of at most MAX_EXCERPT_CHARS (display.ts).
 */
export interface FieldDiff {
  path: string;
  cache: unknown;
  source: unknown;
  /**
   * A collection's change in words (`+42, +43, -17`; `42 moved 3 → 0`), printed as `path: change`
   * instead of `cache → source` (which then only summarize: `3 elements`, `4 rows`).
   */
  change?: string;
}

export const REDACTED = '***';

export interface Judgement {
  verdict: Verdict;
  /** Absent only for `match`. */
  reason?: Reason;
  /** The Decision-order step (SEMANTICS.md) that decided, 1 to 9. */
  step: number;
  pttlMs?: number;
  cacheVersion?: unknown;
  sourceVersion?: unknown;
  /** now - updatedAt, for stale keys whose source change time is known. */
  staleAgeMs?: number;
  /**
   * The largest TTL that would have kept this key's stale window within maxStaleness:
   * maxStaleness + (updatedAt - estimated write time). Known only where step 7 could estimate both.
   */
  ttlAdviceMs?: number;
  diff: FieldDiff[];
  /** Diff entries left out of `diff` to bound what a finding keeps (judge-batch.ts); absent when none were. */
  diffOmitted?: number;
  /** Error text for `error` verdicts, in the user's terms. */
  detail?: string;
}

/** A judged key as reporters see it. */
export interface Finding extends Judgement {
  key: string;
  family: string;
  /** 'recent' for keys of recently changed rows (--recent); absent for the sampled population. */
  population?: 'recent';
}
