import { PassThrough } from 'node:stream';
import { Tally } from '../../../src/core/stats.js';
import type { Finding } from '../../../src/core/verdict.js';
import { createReporter, type ReporterName } from '../../../src/report/index.js';
import type { RunSummary } from '../../../src/report/types.js';

/** A RunSummary with real counters (Tally) for these findings; the gate fails on any divergent key. */
export function runFor(findings: Finding[], overrides: Partial<RunSummary> = {}, unmatched = 0): RunSummary {
  const total = new Tally();
  const byFamily = new Map<string, Tally>();
  for (const f of findings) {
    const t = byFamily.get(f.family) ?? new Tally();
    t.add(f);
    byFamily.set(f.family, t);
  }
  for (const t of byFamily.values()) total.merge(t);
  total.unmatched = unmatched;
  const divergent = total.counters().divergent;
  const failures = divergent > 0 ? [`divergent ${divergent} > max 0`] : [];
  return {
    version: '0.1.0',
    startedAt: '2024-05-01T12:00:00.000Z',
    durationMs: 1234,
    target: { redis: 'redis://:***@cache.internal:6379/0' },
    summary: total.counters(),
    families: [...byFamily].map(([name, t]) => ({ name, ...t.counters() })),
    gate: { passed: failures.length === 0, failures },
    incomplete: false,
    ...overrides,
  };
}

export interface Sink {
  out: PassThrough;
  text: () => string;
}

/** A stream that keeps what is written to it. */
export function sink(): Sink {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Feeds the findings to a reporter, ends the run, and returns what it wrote. */
export async function renderReport(
  name: ReporterName,
  findings: Finding[],
  options: { run?: RunSummary; color?: boolean; maxFindings?: number } = {},
): Promise<string> {
  const s = sink();
  const reporter = createReporter(name, { out: s.out, color: options.color ?? false, maxFindings: options.maxFindings ?? 10_000 });
  for (const f of findings) await reporter.onFinding?.(f);
  await reporter.onEnd?.(options.run ?? runFor(findings));
  return s.text();
}
