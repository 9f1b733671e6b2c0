import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { performAudit, type AuditRequest } from '../../../src/audit/session.js';
import type { CacheReader } from '../../../src/cache/types.js';
import type { RunSummary } from '../../../src/core/run-summary.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { FakeCache, FakeSource, ITEM_FAMILY_YAML, json, rulesOf, TEST_AUDIT_OPTIONS } from './fakes/pipeline.js';

// performAudit from connection to exit code, with the connections replaced by the fakes: what the
// gate makes of the pipeline's outcome (exit 0, 1, 4, 130) and the report it writes.
const connected = vi.hoisted(() => ({ cache: undefined as CacheReader | undefined, source: undefined as SourceLoader | undefined }));
vi.mock('../../../src/cache/index.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  createCacheReader: async () => connected.cache,
}));
vi.mock('../../../src/sources/index.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  createSourceLoader: async () => connected.source,
}));

const CONFIG = rulesOf(ITEM_FAMILY_YAML);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowcheck-session-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
// performAudit says its notices on stderr: kept off the test output, and asserted.
let stderr: MockInstance<typeof process.stderr.write>;
beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());
const notices = () => stderr.mock.calls.map((call) => String(call[0])).join('');

/** 30 keys equal to their rows, but item:3 stale with no TTL. */
function connect(): { cache: FakeCache; source: FakeSource } {
  const ids = Array.from({ length: 30 }, (_, i) => String(i + 1));
  const cache = new FakeCache(ids.map((id) => [`item:${id}`, json({ v: id === '3' ? 'old' : 'new' }, id === '3' ? -1 : 100_000)]));
  const source = new FakeSource({ item: Object.fromEntries(ids.map((id) => [id, { v: 'new' }])) });
  connected.cache = cache;
  connected.source = source;
  return { cache, source };
}

async function audit(name: string, overrides: Partial<AuditRequest> = {}): Promise<{ exitCode: number; run: RunSummary; report: RunSummary }> {
  const runs: RunSummary[] = [];
  const outputFile = join(dir, `${name}.json`);
  const exitCode = await performAudit({
    config: CONFIG,
    redisUrl: 'redis://fake',
    familyNames: [],
    audit: TEST_AUDIT_OPTIONS,
    timeoutMs: 1000,
    format: 'json',
    outputFile,
    gate: { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.5 },
    color: false,
    sinks: [{ onRunEnd: (run) => void runs.push(run) }],
    ...overrides,
  });
  expect(runs).toHaveLength(1);
  return { exitCode, run: runs[0] as RunSummary, report: JSON.parse(await readFile(outputFile, 'utf8')) as RunSummary };
}

describe('performAudit over fake connections', () => {
  it('a divergent key fails the gate: exit 1, and the report counts what the pipeline judged', async () => {
    connect();
    const { exitCode, run, report } = await audit('divergent');
    expect(exitCode).toBe(1);
    expect(run.gate.passed).toBe(false);
    expect(report.summary).toMatchObject({ sampled: 30, match: 29, divergent: 1 });
    expect(report.summary.byReason['no-ttl']).toBe(1);
  });

  it('divergences within --max-divergent pass: exit 0', async () => {
    connect();
    const { exitCode, run } = await audit('tolerated', { gate: { failOn: 'divergent', maxDivergent: 1, maxErrorRatio: 0.5 } });
    expect(exitCode).toBe(0);
    expect(run.gate.passed).toBe(true);
  });

  it('a whole batch failing at the source exits 4 even when the error ratio is tolerated', async () => {
    const { source } = connect();
    source.beforeAnswer = (_ids, call) => {
      if (call === 3) throw new SourceQueryError('permission denied for table items', { timeout: false });
    };
    const { exitCode, run } = await audit('source-failure', { gate: { failOn: 'divergent', maxDivergent: 1, maxErrorRatio: 0.5 } });
    expect(exitCode).toBe(4);
    expect(run.summary).toMatchObject({ error: 10, divergent: 1 });
    const message = 'family item: the source query failed for a whole batch (10 keys not judged): permission denied for table items';
    expect(run.gate.failures).toContain(message);
    expect(notices()).toContain(`shadowcheck: ${message}\n`);
  });

  it('an interrupted audit reports an incomplete run and exits 130', async () => {
    const { cache } = connect();
    const controller = new AbortController();
    cache.beforeRead = () => controller.abort('SIGINT');
    const { exitCode, run } = await audit('interrupted', { signal: controller.signal, gate: { failOn: 'divergent', maxDivergent: 1, maxErrorRatio: 0.5 } });
    expect(exitCode).toBe(130);
    expect(run).toMatchObject({ incomplete: true, abortReason: 'interrupted' });
    expect(run.gate.passed).toBe(false);
    expect(run.summary.sampled).toBeLessThan(30);
    expect(notices()).toContain('audit incomplete: interrupted');
  });
});
