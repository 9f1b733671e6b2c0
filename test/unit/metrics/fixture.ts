/**
 * A hand-built run: findings for three families, tallied with the real Tally, and the RunSummary
 * an audit would hand to its sinks. Key names are distinctive so tests can assert they never leak.
 */
import { Tally } from '../../../src/core/stats.js';
import type { Finding, Judgement } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';

export const KEY_PREFIXES = ['user:', 'product:', 'session:'] as const;

function finding(key: string, family: string, verdict: Judgement['verdict'], extra: Partial<Finding> = {}): Finding {
  return { key, family, verdict, step: 4, diff: [], ...extra };
}

export function fixtureFindings(): Finding[] {
  const user = 'user-profile';
  const findings: Finding[] = [];
  for (let i = 0; i < 4; i++) findings.push(finding(`user:plain-${i}@example.com`, user, 'match'));
  findings.push(finding('user:versioned-1@example.com', user, 'match', { cacheVersion: 5, sourceVersion: 5 }));
  findings.push(finding('user:versioned-2@example.com', user, 'match', { cacheVersion: '12', sourceVersion: 12n }));
  findings.push(
    finding('user:healing@example.com', user, 'within-ttl', { reason: 'ttl-bounded', staleAgeMs: 30_000, cacheVersion: 4, sourceVersion: 5 }),
  );
  findings.push(
    finding('user:racer-1@example.com', user, 'divergent', {
      reason: 'stale-repopulated',
      staleAgeMs: 95_000,
      cacheVersion: '3',
      sourceVersion: '10',
    }),
  );
  findings.push(
    finding('user:racer-2@example.com', user, 'divergent', {
      reason: 'stale-repopulated',
      staleAgeMs: 4_000_000,
      // An LSN above 2^53: the lag must still come out exact.
      cacheVersion: '9007199254740993000',
      sourceVersion: '9007199254740993250',
    }),
  );
  findings.push(finding('user:garbled@example.com', user, 'error', { reason: 'undecodable' }));
  findings.push(finding('user:gone@example.com', user, 'skipped', { reason: 'vanished' }));

  const product = 'product';
  findings.push(finding('product:SKU-AHEAD-77', product, 'divergent', { reason: 'cache-ahead', cacheVersion: 9, sourceVersion: 8 }));
  findings.push(finding('product:SKU-SLOW-78', product, 'error', { reason: 'timeout' }));

  findings.push(finding('session:tok_wrongtype_99', 'session', 'skipped', { reason: 'wrong-type' }));
  return findings;
}

export const FIXTURE_UNMATCHED = 3;

/** Tallies the findings per family and in total, as the audit does, into a RunSummary. */
export function fixtureRun(findings: readonly Finding[] = fixtureFindings(), overrides: Partial<RunSummary> = {}): RunSummary {
  const byFamily = new Map<string, Tally>();
  for (const f of findings) {
    let tally = byFamily.get(f.family);
    if (tally === undefined) byFamily.set(f.family, (tally = new Tally()));
    tally.add(f);
  }
  const total = new Tally();
  for (const tally of byFamily.values()) total.merge(tally);
  total.unmatched = FIXTURE_UNMATCHED;
  return {
    version: '0.1.0-test',
    startedAt: '2026-01-02T03:04:05.000Z',
    durationMs: 12_345,
    target: { redis: 'redis://:***@cache.internal:6379/0' },
    summary: total.counters(),
    families: [...byFamily].map(([name, tally]) => ({ name, ...tally.counters() })),
    gate: { passed: false, failures: ['divergent 3 > max 0'] },
    incomplete: false,
    ...overrides,
  };
}
