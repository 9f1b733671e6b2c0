import { describe, expect, it } from 'vitest';
import { BATCH_VALUE_BYTES } from '../../../src/audit/governor.js';
import { auditFakes, FakeCache, FakeSource, familiesOf } from './fakes/pipeline.js';

// In-process pipeline test: a fake Redis whose values are large, a fake source. The audit must cut
// its batches so that no cache read brings more than BATCH_VALUE_BYTES into memory, whatever --batch.
const FAMILIES = familiesOf(`
  - name: blob
    pattern: "blob:{id}"
    source: main
    table: blobs
    key: id
    ttl: 1h
`);

const VALUE_BYTES = 900_000;
const KEYS = 400;
const blob = 'x'.repeat(VALUE_BYTES - 20);
// One buffer shared by every key: the fake keyspace itself must not hold 360 MB.
const value = Buffer.from(JSON.stringify({ blob }));

describe('runAudit with large values', () => {
  it('keeps every cache read under BATCH_VALUE_BYTES at --batch 500, and judges every key', async () => {
    const ids = Array.from({ length: KEYS }, (_, i) => String(i + 1));
    const cache = new FakeCache(ids.map((id) => [`blob:${id}`, { value, pttlMs: 60_000 }]));
    const source = new FakeSource({ blob: Object.fromEntries(ids.map((id) => [id, { blob }])) });
    const run = await auditFakes({
      families: FAMILIES,
      cache,
      source,
      options: { batch: 500, concurrency: 4, maxValueBytes: 1024 * 1024, targetQueryMs: 100 },
    });
    expect(run.outcome.total.counters().judged).toBe(KEYS);
    expect(run.findings.every((f) => f.verdict === 'match')).toBe(true);
    expect(Math.max(...cache.readBytes)).toBeLessThanOrEqual(BATCH_VALUE_BYTES);
    // Cut by bytes, not left at one key per read: about BATCH_VALUE_BYTES / VALUE_BYTES keys each.
    expect(cache.readBytes.length).toBeLessThanOrEqual(Math.ceil(KEYS / Math.floor(BATCH_VALUE_BYTES / (1024 * 1024))) + 4);
  });
});
