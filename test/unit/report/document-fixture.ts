import type { Finding } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';
import { runFor } from './harness.js';

/**
 * A run that fills every optional part of the JSON report document: warnings, shard meta, the
 * --recent population, source failures, cluster coverage, replica lag, an incomplete run with its
 * reason, a gate with a baseline, and findings with diffs (a bigint version, an omitted diff tail,
 * an error's detail, a recent key). Shared by the byte-identity and round-trip tests.
 */
export const RICH_FINDINGS: Finding[] = [
  { key: 'user:1', family: 'user-profile', verdict: 'match', step: 4, pttlMs: 120_000, cacheVersion: 7, sourceVersion: 7, diff: [] },
  {
    key: 'user:42',
    family: 'user-profile',
    verdict: 'divergent',
    reason: 'stale-repopulated',
    step: 7,
    pttlMs: 280_000,
    cacheVersion: 3n,
    sourceVersion: 4,
    staleAgeMs: 95_000,
    diff: [
      { path: 'plan', cache: 'basic', source: 'pro' },
      { path: 'email', cache: '***', source: '***' },
      { path: 'tags', cache: ['a', 'b'], source: undefined },
      { path: 'version', cache: 3, source: 4 },
    ],
    diffOmitted: 12,
  },
  { key: 'user:7', family: 'user-profile', verdict: 'error', reason: 'source-error', step: 2, diff: [], detail: 'source query failed: relation "users" does not exist' },
  { key: 'order:9', family: 'order', verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, pttlMs: 30_000, staleAgeMs: 4_000, diff: [{ path: 'total', cache: '9.50', source: '9.75' }] },
  { key: 'order:10', family: 'order', verdict: 'skipped', reason: 'vanished', step: 1, diff: [] },
  { key: 'order:11', family: 'order', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [{ path: 'status', cache: 'open', source: 'closed' }] },
  {
    key: 'order:12',
    family: 'order',
    verdict: 'divergent',
    reason: 'payload-drift',
    step: 8,
    pttlMs: 50_000,
    diff: [{ path: 'lines[0].qty', cache: 1, source: { n: 2, note: 'line\nbreak "quoted"' } }],
    population: 'recent',
  },
];

/** The concluded run for RICH_FINDINGS, with every optional field of the contract present. */
export function richRun(): RunSummary {
  const recentFindings = RICH_FINDINGS.filter((f) => f.population === 'recent');
  const recent = runFor(recentFindings);
  return runFor(
    RICH_FINDINGS.filter((f) => f.population === undefined),
    {
      warnings: [
        { kind: 'rules', family: 'order', field: 'legacyCode', message: 'no sampled cache value holds "legacyCode"' },
        { kind: 'systematic', family: 'user-profile', message: '9 of 10 differing keys differ on "plan"' },
      ],
      shard: { index: 1, count: 4, rulesDigest: 'sha256:0123abcd', minConsistency: { order: 0.99, 'user-profile': 0.95 } },
      recent: { withinMs: 60_000, summary: recent.summary, families: recent.families },
      sourceFailures: [{ family: 'user-profile', batches: 2, keys: 150, message: 'relation "users" does not exist' }],
      gate: {
        passed: false,
        failures: ['divergent 2 > max 0', 'user-profile: 2 source batches (150 keys) failed: relation "users" does not exist'],
        baseline: { file: 'baseline.json', knownDivergent: 1, newDivergent: 2 },
      },
      coverage: {
        readFrom: 'replica',
        scans: 3,
        nodes: [
          { address: '10.0.0.1:6379', role: 'replica', slots: '0-8191', complete: true },
          { address: '10.0.0.2:6379', role: 'replica', slots: '8192-16383', complete: false },
        ],
        complete: false,
        missing: 'slots 8192-16383 scanned partly',
      },
      replicaLagMs: { redis: 120, orders: 45 },
      incomplete: true,
      abortReason: 'lost connection to redis after 4 retries',
    },
    3,
  );
}
