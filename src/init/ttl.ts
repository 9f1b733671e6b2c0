/**
 * The declared TTL from the remaining TTLs (PTTL) of sampled keys.
 *
 * Under cache-aside, a key's remaining TTL is spread between 0 and the TTL it was written with,
 * so the largest remaining TTLs approach the declared one. The 95th percentile rather than the
 * maximum is taken, so that a few keys written with another expiry (the bugs an audit is for)
 * do not set the contract; it is rounded up to a duration applications use.
 */

/** TTLs applications write, in seconds: rounded up to the next of these. */
export const ROUND_TTLS_S = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800] as const;

/** Below this many keys with an expiry, the maximum is used instead of the 95th percentile. */
const PERCENTILE_FROM = 20;

/** Used when no sampled key has an expiry: the schema needs a ttl, and a human must set it. */
export const NO_EXPIRY_PLACEHOLDER_MS = 3_600_000;

export interface TtlProposal {
  ttlMs: number;
  /** Keys with an expiry, and the largest remaining TTL among them. */
  withExpiry: number;
  maxMs: number | undefined;
  /** The remaining TTL the proposal is rounded up from. */
  basisMs: number | undefined;
  /** Keys with more time left than the proposal: written with a longer expiry. */
  above: number;
  /** Keys without expiry (PTTL -1). */
  noExpiry: number;
}

export function roundUpTtlMs(ms: number): number {
  const seconds = Math.max(ms, 1) / 1000;
  const round = ROUND_TTLS_S.find((s) => s >= seconds);
  if (round !== undefined) return round * 1000;
  return Math.ceil(seconds / 86400) * 86_400_000;
}

/** `300s`, `1h`, `2d`, `1500ms`: whole hours and days as such, seconds below an hour. */
export function formatDuration(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/** `pttls`: PTTL of each sampled key, -1 for no expiry (other negative values are ignored). */
export function proposeTtl(pttls: readonly number[]): TtlProposal {
  const expiring = pttls.filter((p) => p >= 0).sort((a, b) => a - b);
  const noExpiry = pttls.filter((p) => p === -1).length;
  if (expiring.length === 0) {
    return { ttlMs: NO_EXPIRY_PLACEHOLDER_MS, withExpiry: 0, maxMs: undefined, basisMs: undefined, above: 0, noExpiry };
  }
  const maxMs = expiring[expiring.length - 1] as number;
  const basisMs = expiring.length < PERCENTILE_FROM ? maxMs : (expiring[Math.ceil(0.95 * expiring.length) - 1] as number);
  const ttlMs = roundUpTtlMs(basisMs);
  return { ttlMs, withExpiry: expiring.length, maxMs, basisMs, above: expiring.filter((p) => p > ttlMs).length, noExpiry };
}

/** The comment that explains a TTL proposal. */
export function describeTtl(p: TtlProposal): string {
  const total = p.withExpiry + p.noExpiry;
  if (p.withExpiry === 0 || p.basisMs === undefined || p.maxMs === undefined) {
    return `review: none of ${total} sampled keys expires (PTTL -1); ${formatDuration(p.ttlMs)} is a placeholder: set the TTL the application writes with`;
  }
  const basis = p.withExpiry < PERCENTILE_FROM ? `the longest remaining TTL of ${p.withExpiry} sampled keys is` : `95% of ${p.withExpiry} sampled keys have at most`;
  let text = `guess: ${basis} ${seconds(p.basisMs)} left, rounded up`;
  if (p.above > 0) text += `; ${p.above} ${p.above === 1 ? 'has' : 'have'} more (up to ${seconds(p.maxMs)}): written with a longer expiry?`;
  if (p.noExpiry > 0) text += `; ${p.noExpiry} ${p.noExpiry === 1 ? 'has' : 'have'} no expiry`;
  return text;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}
