import { describe, expect, it } from 'vitest';
import type { CacheReader } from '../../../src/cache/types.js';
import { BATCH_VALUE_BYTES } from '../../../src/audit/governor.js';
import { SILENT_LOG } from '../../../src/audit/log.js';
import { runAudit } from '../../../src/audit/run-audit.js';
import { parseRules } from '../../../src/config/load.js';
import type { CacheRead } from '../../../src/core/observation.js';
import type { Finding } from '../../../src/core/verdict.js';
import type { SourceLoader } from '../../../src/sources/types.js';

// In-process pipeline test: a fake Redis whose values are large, a fake source. The audit must cut
// its batches so that no cache read brings more than BATCH_VALUE_BYTES into memory, whatever --batch.
const RULES = `
version: 1
sources:
  main: { kind: postgres, url: "postgres://localhost/x" }
families:
  - name: blob
    pattern: "blob:{id}"
    source: main
    table: blobs
    key: id
    ttl: 1h
`;

const VALUE_BYTES = 900_000;
const KEYS = 400;
const blob = 'x'.repeat(VALUE_BYTES - 40);

function valueOf(id: string): Buffer {
  return Buffer.from(JSON.stringify({ id: Number(id), blob }));
}

function fakeRedis(readSizes: number[]): CacheReader {
  const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(`blob:${i + 1}`));
  return {
    target: 'fake',
    async *scan() {
      for (let i = 0; i < keys.length; i += 100) yield keys.slice(i, i + 100);
    },
    async read(batch): Promise<CacheRead[]> {
      const reads = batch.map((key): CacheRead => ({ kind: 'present', redisType: 'string', value: valueOf(key.toString().slice(5)), pttlMs: 60_000 }));
      readSizes.push(reads.reduce((sum, r) => sum + (r.kind === 'present' ? (r.value as Buffer).length : 0), 0));
      return reads;
    },
    async size() {
      return KEYS;
    },
    async close() {},
  };
}

const source: SourceLoader = {
  async load(_rule, ids) {
    return { rows: new Map(ids.map((id) => [id, { id: Number(id), blob }])), nowMs: Date.now() };
  },
  async close() {},
};

describe('runAudit with large values', () => {
  it('keeps every cache read under BATCH_VALUE_BYTES at --batch 500, and judges every key', async () => {
    const config = parseRules(RULES, 'rules.yaml', {});
    const readSizes: number[] = [];
    const findings: Finding[] = [];
    const outcome = await runAudit(
      {
        families: config.families,
        allFamilies: config.families,
        cache: fakeRedis(readSizes),
        loaders: new Map([['main', source]]),
        onFinding: (f) => void findings.push(f),
        log: SILENT_LOG,
      },
      { sample: 'all', seed: 1, batch: 500, scanCount: 100, concurrency: 4, confirmDelayMs: 0, maxValueBytes: 1024 * 1024 },
    );
    expect(outcome.total.counters().judged).toBe(KEYS);
    expect(findings.every((f) => f.verdict === 'match')).toBe(true);
    expect(Math.max(...readSizes)).toBeLessThanOrEqual(BATCH_VALUE_BYTES);
    // Cut by bytes, not left at one key per read: about BATCH_VALUE_BYTES / VALUE_BYTES keys each.
    expect(readSizes.length).toBeLessThanOrEqual(Math.ceil(KEYS / Math.floor(BATCH_VALUE_BYTES / (1024 * 1024))) + 4);
  });
});
