import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Tally } from '../../../src/core/stats.js';
import type { Finding } from '../../../src/core/verdict.js';
import { UsageError } from '../../../src/errors.js';
import { findingToJson } from '../../../src/core/report-document/index.js';
import { REPORTERS, REPORTER_NAMES, createReporter, isReporterName, type ReporterName } from '../../../src/report/index.js';
import { TABLE_MAX_ROWS } from '../../../src/report/table.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor as baseRunFor, sink } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: findings by hand, counters from a real Tally.

const FINDINGS: Finding[] = [
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
      // The classifier adds differing versions to the diff.
      { path: 'version', cache: 3, source: 4 },
    ],
  },
  { key: 'user:7', family: 'user-profile', verdict: 'error', reason: 'undecodable', step: 2, diff: [], detail: 'cached value is not valid JSON' },
  { key: 'order:9', family: 'order', verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, pttlMs: 30_000, staleAgeMs: 4_000, diff: [{ path: 'total', cache: '9.50', source: '9.75' }] },
  { key: 'order:10', family: 'order', verdict: 'skipped', reason: 'vanished', step: 1, diff: [] },
  { key: 'order:11', family: 'order', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [{ path: 'status', cache: 'open', source: 'closed' }] },
];




const COUNTER_KEYS = [
  'sampled',
  'judged',
  'match',
  'withinTtl',
  'divergent',
  'error',
  'skipped',
  'unmatched',
  'consistency',
  'consistencyLowerBound',
  'strictConsistency',
  'nines',
  'byReason',
  'staleAgeMs',
  'ttlAdvice',
  'staleAgeHistogram',
];

/** The fixtures' run reports 5 unmatched keys. */
const runFor = (findings: Finding[], overrides: Partial<RunSummary> = {}): RunSummary => baseRunFor(findings, overrides, 5);
const runReporter = (name: ReporterName, findings: Finding[], options: { run?: RunSummary; color?: boolean; maxFindings?: number } = {}) =>
  renderReport(name, findings, { run: options.run ?? runFor(findings), ...(options.color === undefined ? {} : { color: options.color }), ...(options.maxFindings === undefined ? {} : { maxFindings: options.maxFindings }) });

const nonMatch = (findings: Finding[]): Finding[] => findings.filter((f) => f.verdict !== 'match');

function manyWithinTtl(n: number, prefix = 'bulk'): Finding[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${prefix}:${i}`,
    family: 'order',
    verdict: 'within-ttl' as const,
    reason: 'ttl-bounded' as const,
    step: 7,
    diff: [],
  }));
}

// ---------------------------------------------------------------------------------------------

describe('reporter registry', () => {
  it('registers table, json, ndjson, markdown and junit, each a factory that returns hooks', () => {
    expect(Object.keys(REPORTERS)).toEqual(['table', 'json', 'ndjson', 'markdown', 'junit']);
    expect(REPORTER_NAMES).toEqual(['table', 'json', 'ndjson', 'markdown', 'junit']);
    for (const name of REPORTER_NAMES) {
      const reporter = createReporter(name, { out: new PassThrough(), color: false, maxFindings: 10 });
      expect(typeof reporter.onEnd).toBe('function');
    }
  });

  it('recognises only registered names, not inherited properties', () => {
    expect(isReporterName('ndjson')).toBe(true);
    expect(isReporterName('markdown')).toBe(true);
    expect(isReporterName('xml')).toBe(false);
    expect(isReporterName('toString')).toBe(false);
  });

  it('rejects an unchecked unknown name with a usage error naming the formats', () => {
    const make = (): unknown => createReporter('xml' as ReporterName, { out: new PassThrough(), color: false, maxFindings: 10 });
    expect(make).toThrow(UsageError);
    expect(make).toThrow(/unknown report format "xml"/);
  });
});

describe('json reporter', () => {
  it('prints one pretty-printed document with the contract fields in the contract order', async () => {
    const text = await runReporter('json', FINDINGS);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "tool": "shadowcheck",\n');
    const doc = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['tool', 'version', 'startedAt', 'durationMs', 'target', 'summary', 'families', 'findings', 'gate']);
    const run = runFor(FINDINGS);
    expect(doc).toMatchObject({
      tool: 'shadowcheck',
      version: '0.1.0',
      startedAt: '2024-05-01T12:00:00.000Z',
      durationMs: 1234,
      target: { redis: 'redis://:***@cache.internal:6379/0' },
      gate: { passed: false, failures: ['divergent 2 > max 0'] },
    });
    expect(doc['summary']).toEqual(JSON.parse(JSON.stringify(run.summary)));
    expect(Object.keys(doc['summary'] as object)).toEqual(COUNTER_KEYS);
    const families = doc['families'] as Record<string, unknown>[];
    expect(families.map((f) => f['name'])).toEqual(['user-profile', 'order']);
    for (const f of families) expect(Object.keys(f)).toEqual(['name', ...COUNTER_KEYS]);
    expect(families[1]).toMatchObject({ sampled: 3, withinTtl: 1, divergent: 1, skipped: 1 });
    expect(Object.keys(doc['gate'] as object)).toEqual(['passed', 'failures']);
  });

  it('lists every non-match finding, in arrival order, in the contract shape', async () => {
    const doc = JSON.parse(await runReporter('json', FINDINGS)) as { findings: Record<string, unknown>[] };
    expect(doc.findings.map((f) => f['key'])).toEqual(['user:42', 'user:7', 'order:9', 'order:10', 'order:11']);
    expect(doc.findings[0]).toEqual({
      key: 'user:42',
      family: 'user-profile',
      verdict: 'divergent',
      reason: 'stale-repopulated',
      pttlMs: 280_000,
      cacheVersion: '3',
      sourceVersion: 4,
      staleAgeMs: 95_000,
      diff: [
        { path: 'plan', cache: 'basic', source: 'pro' },
        { path: 'email', cache: '***', source: '***' },
        { path: 'version', cache: 3, source: 4 },
      ],
    });
    expect(Object.keys(doc.findings[0] ?? {})).toEqual(['key', 'family', 'verdict', 'reason', 'pttlMs', 'cacheVersion', 'sourceVersion', 'staleAgeMs', 'diff']);
    expect(doc.findings[1]).toEqual({ key: 'user:7', family: 'user-profile', verdict: 'error', reason: 'undecodable', diff: [], detail: 'cached value is not valid JSON' });
    for (const f of doc.findings) expect(f).not.toHaveProperty('step');
  });

  it('marks an incomplete run with incomplete and abortReason after the gate', async () => {
    const run = runFor(FINDINGS, { incomplete: true, abortReason: 'lost connection to redis' });
    const doc = JSON.parse(await runReporter('json', FINDINGS, { run })) as Record<string, unknown>;
    expect(Object.keys(doc).slice(-3)).toEqual(['gate', 'incomplete', 'abortReason']);
    expect(doc['incomplete']).toBe(true);
    expect(doc['abortReason']).toBe('lost connection to redis');
  });

  it('keeps at most maxFindings findings and reports how many were omitted', async () => {
    const findings = [...manyWithinTtl(4), ...FINDINGS];
    const doc = JSON.parse(await runReporter('json', findings, { maxFindings: 3 })) as { findings: { key: string; verdict: string }[] } & Record<string, unknown>;
    expect(doc.findings).toHaveLength(3);
    expect(doc['findingsOmitted']).toBe(nonMatch(findings).length - 3);
    expect(Object.keys(doc).slice(-3)).toEqual(['findings', 'findingsOmitted', 'gate']);
    // Divergent keys found after the buffer filled still make it in, ahead of within-ttl ones.
    expect(doc.findings.map((f) => f.key)).toEqual(['user:42', 'user:7', 'order:11']);
  });

  it('writes no findingsOmitted when nothing was dropped', async () => {
    const doc = JSON.parse(await runReporter('json', FINDINGS, { maxFindings: nonMatch(FINDINGS).length })) as Record<string, unknown>;
    expect(doc).not.toHaveProperty('findingsOmitted');
    expect(doc['findings']).toHaveLength(nonMatch(FINDINGS).length);
  });
});

describe('ndjson reporter', () => {
  it('writes one key line per finding, match included, then one nested summary line', async () => {
    const text = await runReporter('ndjson', FINDINGS);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(FINDINGS.length + 1);
    const keyLines = lines.filter((l) => l['type'] === 'key');
    expect(keyLines).toHaveLength(FINDINGS.length);
    FINDINGS.forEach((f, i) => {
      expect(lines[i]).toEqual(JSON.parse(JSON.stringify({ type: 'key', ...findingToJson(f) })));
      expect(Object.keys(lines[i] ?? {})[0]).toBe('type');
    });
    expect(lines[0]).toMatchObject({ key: 'user:1', verdict: 'match' });
    expect(lines[0]).not.toHaveProperty('reason');
    const last = lines.at(-1) ?? {};
    expect(Object.keys(last)).toEqual(['type', 'summary', 'families', 'gate']);
    expect(last['type']).toBe('summary');
    const run = runFor(FINDINGS);
    expect(last['summary']).toEqual(JSON.parse(JSON.stringify(run.summary)));
    expect((last['families'] as unknown[]).length).toBe(2);
    expect(last['gate']).toEqual(run.gate);
  });

  it('adds incomplete and abortReason to the summary line of an incomplete run', async () => {
    const run = runFor(FINDINGS, { incomplete: true, abortReason: 'SIGINT' });
    const last = JSON.parse((await runReporter('ndjson', FINDINGS, { run })).trimEnd().split('\n').at(-1) ?? '') as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'summary', incomplete: true, abortReason: 'SIGINT' });
  });

  it('keeps a value with a newline on one line', async () => {
    const f: Finding = { key: 'k:1', family: 'f', verdict: 'divergent', reason: 'payload-drift', step: 5, diff: [{ path: 'bio', cache: 'a\nb', source: 'a' }] };
    const text = await runReporter('ndjson', [f]);
    expect(text.split('\n')).toHaveLength(3);
  });

  it('writes each line as the finding is decided, before the run ends', async () => {
    const s = sink();
    const reporter = createReporter('ndjson', { out: s.out, color: false, maxFindings: 0 });
    await reporter.onFinding?.(FINDINGS[1] as Finding);
    expect(JSON.parse(s.text())).toMatchObject({ type: 'key', key: 'user:42' });
  });

  it('waits for drain when the output is full', async () => {
    const callbacks: (() => void)[] = [];
    const out = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        callbacks.push(() => cb());
      },
    });
    const reporter = createReporter('ndjson', { out, color: false, maxFindings: 0 });
    let done = false;
    const pending = Promise.resolve(reporter.onFinding?.(FINDINGS[0] as Finding)).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    callbacks.shift()?.();
    await pending;
    expect(done).toBe(true);
  });

  it('rejects instead of hanging when the output closes before it drains', async () => {
    const out = new Writable({ highWaterMark: 1, write: () => undefined });
    const reporter = createReporter('ndjson', { out, color: false, maxFindings: 0 });
    const pending = reporter.onFinding?.(FINDINGS[0] as Finding);
    out.destroy();
    await expect(pending).rejects.toThrow();
  });
});

describe('table reporter', () => {
  it('prints the header, per-family and total rows, non-match keys, reasons and the gate, with no ANSI escape when colour is off', async () => {
    const text = await runReporter('table', FINDINGS);
    expect(text).not.toContain('\u001b');
    expect(text.split('\n')[0]).toMatch(/redis:\/\/:\*\*\*@cache\.internal:6379\/0.*1\.2s/);
    for (const f of nonMatch(FINDINGS)) {
      expect(text).toContain(f.key);
      expect(text).toContain(`${f.verdict}/${f.reason ?? ''}`);
    }
    expect(text).not.toContain('user:1 ');
    expect(text).toMatch(/│ user-profile +│ +3 │ +1 │ +0 │ +1 │ +1 │ +0 │ +50\.00% │/);
    expect(text).toMatch(/│ TOTAL +│ +6 │ +1 │ +1 │ +2 │ +1 │ +1 │ +50\.00% │/);
    expect(text).toContain('unmatched: 5');
    expect(text).toContain('plan: "basic" → "pro"');
    expect(text).toContain('email: *** → ***');
    expect(text).toContain('version: 3 → 4');
    expect(text.match(/version: 3 → 4/g)).toHaveLength(1);
    expect(text).toContain('cached value is not valid JSON');
    expect(text).toMatch(/│ none +│/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('gate: FAILED: divergent 2 > max 0');
    expect(text).not.toContain('INCOMPLETE');
  });

  it('says PASSED when the gate passed', async () => {
    const findings = FINDINGS.filter((f) => f.verdict !== 'divergent');
    const text = await runReporter('table', findings);
    expect(text.trimEnd().split('\n').at(-1)).toBe('gate: PASSED');
  });

  it('shows - for consistency and stale ages when nothing could be judged', async () => {
    const findings = FINDINGS.filter((f) => f.verdict === 'error');
    const text = await runReporter('table', findings);
    expect(text).toMatch(/│ TOTAL +│ +1 │ +0 │ +0 │ +0 │ +1 │ +0 │ +- │ +- │ +- │ +- │/);
  });

  it('shows a clear INCOMPLETE banner with the reason when the run stopped early', async () => {
    const run = runFor(FINDINGS, { incomplete: true, abortReason: 'lost connection to redis' });
    const text = await runReporter('table', FINDINGS, { run });
    const banner = text.split('\n').find((l) => l.includes('INCOMPLETE'));
    expect(banner).toBeDefined();
    expect(banner).toContain('lost connection to redis');
  });

  it('lists divergent keys first, then error, within-ttl and skipped', async () => {
    const text = await runReporter('table', [...FINDINGS].reverse());
    const at = (key: string): number => text.indexOf(`│ ${key} `);
    expect(at('order:11')).toBeGreaterThan(0);
    expect(at('user:42')).toBeGreaterThan(0);
    const divergentLast = Math.max(at('order:11'), at('user:42'));
    expect(divergentLast).toBeLessThan(at('user:7'));
    expect(at('user:7')).toBeLessThan(at('order:9'));
    expect(at('order:9')).toBeLessThan(at('order:10'));
  });

  it('shows at most 50 rows and says how many more there are', async () => {
    const findings = [...manyWithinTtl(70), ...FINDINGS];
    const text = await runReporter('table', findings);
    const rows = text.split('\n').filter((l) => /^│ (bulk|user|order):/.test(l));
    expect(rows).toHaveLength(TABLE_MAX_ROWS);
    expect(text).toContain(`... and ${nonMatch(findings).length - TABLE_MAX_ROWS} more (use --format json for all)`);
    // The late divergent keys are among the rows shown.
    expect(text).toContain('│ order:11 ');
    expect(text).toContain('│ user:42 ');
  });

  it('counts findings beyond maxFindings as more', async () => {
    const text = await runReporter('table', FINDINGS, { maxFindings: 2 });
    const rows = text.split('\n').filter((l) => /^│ (user|order):/.test(l));
    expect(rows).toHaveLength(2);
    expect(text).toContain(`... and ${nonMatch(FINDINGS).length - 2} more (use --format json for all)`);
  });

  it('truncates long values with an ellipsis', async () => {
    const long = 'x'.repeat(500);
    const f: Finding = { key: 'k:1', family: 'f', verdict: 'divergent', reason: 'payload-drift', step: 5, diff: [{ path: 'bio', cache: long, source: 'short' }] };
    const text = await runReporter('table', [f]);
    expect(text).not.toContain('x'.repeat(61));
    expect(text).toMatch(/bio: "x{55,60}… → "short"/);
  });

  it('caps a wide diff at ten field lines and cuts very long keys', async () => {
    const diff = Array.from({ length: 14 }, (_, i) => ({ path: `field${i}`, cache: i, source: i + 1 }));
    const f: Finding = { key: `k:${'y'.repeat(300)}`, family: 'f', verdict: 'divergent', reason: 'payload-drift', step: 5, diff };
    const text = await runReporter('table', [f]);
    expect(text).toContain('field9: 9 → 10');
    expect(text).not.toContain('field10:');
    expect(text).toContain('… 4 more field(s)');
    expect(text).not.toContain('y'.repeat(120));
    expect(text).toContain(`k:${'y'.repeat(117)}…`);
  });

  it('neutralises terminal escapes and control characters from cached keys, paths, values and errors', async () => {
    const hostile: Finding[] = [
      {
        key: 'evil:\u001b[2J\u001b[H',
        family: 'f',
        verdict: 'divergent',
        reason: 'payload-drift',
        step: 5,
        diff: [{ path: 'n\u001b]0;title\u0007', cache: 'ok\r\u001b[2Jfake: PASSED', source: '\u009b31m\u202e' }],
      },
      { key: 'evil:2', family: 'f', verdict: 'error', reason: 'undecodable', step: 2, diff: [], detail: 'bad byte \u001b[2J' },
    ];
    for (const color of [false, true]) {
      const text = await runReporter('table', hostile, { color });
      expect(text).toContain('evil:\\x1b[2J\\x1b[H');
      expect(text).toContain('n\\x1b]0;title\\x07');
      expect(text).toContain('"ok\\x0d\\x1b[2Jfake: PASSED"');
      expect(text).toContain('"\\x9b31m\\u202e"');
      expect(text).toContain('bad byte \\x1b[2J');
      for (const bad of ['\r', '\u0007', '\u009b', '\u202e']) expect(text).not.toContain(bad);
      // With colour on, the only escapes left are the SGR colour codes the reporter writes itself.
      for (const afterEscape of text.split('\u001b').slice(1)) expect(afterEscape).toMatch(/^\[\d+m/);
    }
  });

  it('leaves already-escaped non-UTF-8 key bytes as they are', async () => {
    const f: Finding = { key: 'bin:\\xff\\xfe', family: 'f', verdict: 'skipped', reason: 'wrong-type', step: 1, diff: [] };
    const text = await runReporter('table', [f]);
    expect(text).toContain('│ bin:\\xff\\xfe ');
  });

  it('colours verdicts only when colour is allowed', async () => {
    const coloured = await runReporter('table', FINDINGS, { color: true });
    expect(coloured).toContain('\u001b[31mdivergent/stale-repopulated\u001b[39m');
    expect(coloured).toContain('\u001b[33mwithin-ttl/ttl-bounded\u001b[39m');
    expect(coloured).toContain('\u001b[35merror/undecodable\u001b[39m');
    const plain = await runReporter('table', FINDINGS, { color: false });
    expect(plain).toContain('│ divergent/stale-repopulated ');
    expect(plain).not.toContain('\u001b');
  });

  it('says so when every key matched', async () => {
    const text = await runReporter('table', FINDINGS.filter((f) => f.verdict === 'match'));
    expect(text).toContain('no non-match keys');
    expect(text).not.toContain('... and');
  });
});

describe('table reporter: versions', () => {
  it('shows equal versions, which make a difference payload-drift, on a line of their own', async () => {
    const f: Finding = {
      key: 'user:5',
      family: 'user-profile',
      verdict: 'divergent',
      reason: 'payload-drift',
      step: 5,
      cacheVersion: 4,
      sourceVersion: '4',
      diff: [{ path: 'name', cache: 'Old', source: 'New' }],
    };
    const text = await runReporter('table', [f]);
    expect(text).toContain('version: 4 on both sides');
  });
});

describe('table reporter: honest figures', () => {
  /** The run summary of one product finding, with this gate. */
  function runOf(f: Finding, gate: RunSummary['gate']): RunSummary {
    const t = new Tally();
    t.add(f);
    return {
      version: '0.1.0',
      startedAt: '2024-05-01T12:00:00.000Z',
      durationMs: 10,
      target: { redis: 'redis://127.0.0.1:6379/0' },
      summary: t.counters(),
      families: [{ name: 'product', ...t.counters() }],
      gate,
      incomplete: false,
    };
  }

  it('gives no TTL as advice when some stale window was over the budget whatever the TTL', async () => {
    const f: Finding = { key: 'p:1', family: 'product', verdict: 'divergent', reason: 'stale-repopulated', step: 7, ttlAdviceMs: 0, staleAgeMs: 1000, diff: [] };
    const text = await runReporter('table', [f], { run: runOf(f, { passed: false, failures: ['divergent 1 > max 0'] }) });
    expect(text).toContain('TTL advice product: no TTL would have kept every observed stale window within the budget (from 1 stale key(s))');
    expect(text).not.toContain('at most 0ms');
  });

  it('shows the lower bound column, TTL advice per family and the baseline split', async () => {
    const f: Finding = { key: 'p:1', family: 'product', verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, ttlAdviceMs: 120_000, staleAgeMs: 1000, diff: [] };
    const text = await runReporter('table', [f], { run: runOf(f, { passed: true, failures: [], baseline: { file: 'base.json', knownDivergent: 3, newDivergent: 0 } }) });
    expect(text).toContain('95% ≥');
    expect(text).toContain('TTL advice product: a TTL of at most 2m would have kept every observed stale window within the budget (from 1 stale key(s))');
    expect(text).toContain('gate: PASSED (baseline base.json: 3 known, 0 new divergent)');
  });
});
