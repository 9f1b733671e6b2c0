import { describe, expect, it } from 'vitest';
import { BATCH_VALUE_BYTES, BatchSizer, BusyGate, RedisLatencyGate, ReplicaLagWatch, type LagProbe } from '../../../src/audit/governor.js';

describe('BatchSizer', () => {
  it('starts at --batch and shrinks so that a query takes about the target', () => {
    const sizer = new BatchSizer(100, 500, 1);
    expect(sizer.size()).toBe(500);
    sizer.record(1000, 500); // 2 ms per key: 50 keys make 100 ms
    expect(sizer.size()).toBe(50);
  });

  it('grows back as queries get faster, never above --batch', () => {
    const sizer = new BatchSizer(100, 500, 1);
    sizer.record(1000, 500);
    for (let i = 0; i < 30; i++) sizer.record(5, 50); // 0.1 ms per key
    expect(sizer.size()).toBe(500);
  });

  it('never goes below 10 keys', () => {
    const sizer = new BatchSizer(100, 500, 1);
    sizer.record(60_000, 10);
    expect(sizer.size()).toBe(10);
  });

  it('decays: one slow query moves the size only part of the way', () => {
    const sizer = new BatchSizer(100, 1000, 1);
    sizer.record(100, 1000); // 0.1 ms/key: 1000
    sizer.record(1000, 1000); // 1 ms/key once: average 0.37 ms/key
    expect(sizer.size()).toBe(270);
  });
});

describe('BatchSizer by value bytes', () => {
  const MiB = 1024 * 1024;

  it('before any read, takes every value to be --max-value-bytes: the first batches hold at most BATCH_VALUE_BYTES', () => {
    expect(new BatchSizer(100, 500, MiB).size()).toBe(BATCH_VALUE_BYTES / MiB);
    expect(new BatchSizer(100, 500, 1024).size()).toBe(500);
    expect(new BatchSizer(100, 500, 512 * MiB).size()).toBe(1);
  });

  it('grows to --batch once the values are measured small', () => {
    const sizer = new BatchSizer(100, 500, MiB);
    sizer.recordBytes(16 * 200, 16);
    expect(sizer.size()).toBe(500);
  });

  it('shrinks at once when a read brings large values, so a batch of 900 kB values holds about BATCH_VALUE_BYTES', () => {
    const sizer = new BatchSizer(100, 500, MiB);
    sizer.recordBytes(500 * 200, 500);
    expect(sizer.size()).toBe(500);
    sizer.recordBytes(10 * 900_000, 10);
    const size = sizer.size();
    expect(size).toBe(Math.floor(BATCH_VALUE_BYTES / 900_000));
    expect(size * 900_000).toBeLessThanOrEqual(BATCH_VALUE_BYTES);
  });

  it('grows back slowly as the values get small again, and obeys the query-time target too', () => {
    const sizer = new BatchSizer(100, 500, MiB);
    sizer.recordBytes(10 * 900_000, 10);
    sizer.recordBytes(10 * 100, 10);
    expect(sizer.size()).toBeLessThan(30); // one small read decays the estimate by 30% only
    for (let i = 0; i < 40; i++) sizer.recordBytes(100 * 100, 100);
    expect(sizer.size()).toBe(500);
    sizer.record(1000, 500); // 2 ms per key
    expect(sizer.size()).toBe(50);
  });
});

describe('BusyGate', () => {
  const log = { warnings: [] as string[], debug() {}, info() {}, warn(_: object, m: string) { this.warnings.push(m); } };

  it('passes while the source is at most 20% (and 2) busier than at the start', async () => {
    const warnings = log.warnings.length;
    // Baseline 10, then 12: at the threshold. A gate that judged 12 busy would pause and probe again.
    const answers = [10, 12];
    let probes = 0;
    const gate = new BusyGate('main', async () => answers[probes++] ?? 100, log, 0);
    await gate.start();
    await gate.waitUntilCalm(() => false);
    expect(probes).toBe(2);
    expect(log.warnings.length).toBe(warnings);
  });

  it('pauses while the source is busier, says so, and resumes when it calms down', async () => {
    // Baseline 3, then busy for two probes, then calm: a scripted source, no race with a timer.
    const answers = [3, 9, 9, 3];
    let probes = 0;
    const gate = new BusyGate('main', async () => answers[probes++] ?? 100, log, 20);
    await gate.start();
    await gate.waitUntilCalm(() => false);
    expect(probes).toBe(4);
    expect(log.warnings).toContain('source busy: pausing the audit until it calms down');
    expect(log.warnings).toContain('source calm again: resuming');
  });

  it('stops waiting when the audit is stopped, even while the source stays busy', async () => {
    let active = 1;
    let probes = 0;
    const gate = new BusyGate('main', async () => {
      probes++;
      return active;
    }, log, 10);
    await gate.start();
    active = 100;
    let checks = 0;
    await gate.waitUntilCalm(() => ++checks > 2);
    expect(checks).toBe(3);
    expect(probes).toBeGreaterThanOrEqual(3);
  });
});

describe('ReplicaLagWatch', () => {
  const quiet = { debug() {}, info() {}, warn() {} };

  it('adds the Redis replica lag and the source replica lag for that source; masters count 0', async () => {
    const watch = new ReplicaLagWatch(
      new Map<string, LagProbe>([
        ['redis', async () => 2000],
        ['main', async () => 500],
        ['shop', async () => undefined],
      ]),
      quiet,
      undefined,
    );
    await watch.start();
    expect(watch.lagFor('main')).toBe(2500);
    expect(watch.lagFor('shop')).toBe(2000);
    expect(watch.observed()).toEqual({ redis: 2000, main: 500 });
  });

  it('pauses while a replica is over --max-replica-lag, then resumes', async () => {
    let lag = 100;
    const warnings: string[] = [];
    const watch = new ReplicaLagWatch(new Map([['redis', async () => lag]]), { ...quiet, warn: (_: object, m: string) => warnings.push(m) }, 1000, 10);
    await watch.start();
    lag = 5000;
    setTimeout(() => (lag = 200), 80);
    await new Promise((r) => setTimeout(r, 15));
    await watch.waitUntilCaughtUp(() => false);
    expect(warnings).toEqual(['replica too far behind: pausing the audit', 'replicas caught up: resuming']);
    expect(watch.lagFor('x')).toBe(200);
    expect(watch.observed()).toEqual({ redis: 5000 });
  });

  it('does nothing when nothing read is a replica', async () => {
    const watch = new ReplicaLagWatch(new Map<string, LagProbe>([['redis', async () => undefined]]), quiet, 1);
    await watch.start();
    await watch.waitUntilCaughtUp(() => false);
    expect(watch.observed()).toEqual({});
    expect(watch.lagFor('main')).toBe(0);
  });
});

describe('RedisLatencyGate', () => {
  it('learns a baseline from the first reads and pauses when reads get four times slower', async () => {
    const warnings: string[] = [];
    const gate = new RedisLatencyGate({ debug() {}, info() {}, warn: (_: object, m: string) => warnings.push(m) }, 20);
    for (let i = 0; i < 5; i++) gate.record(10);
    expect(gate.slow()).toBe(false);
    for (let i = 0; i < 10; i++) gate.record(100);
    expect(gate.slow()).toBe(true);
    const started = Date.now();
    await gate.waitIfSlow(() => false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(warnings).toEqual(['Redis answers slowly: pausing the audit']);
  });

  it('does not pause on small absolute changes (under 20 ms more than the baseline)', () => {
    const gate = new RedisLatencyGate({ debug() {}, info() {}, warn() {} }, 20);
    for (let i = 0; i < 5; i++) gate.record(1);
    for (let i = 0; i < 10; i++) gate.record(15);
    expect(gate.slow()).toBe(false);
  });

  it('notices recovery', () => {
    const gate = new RedisLatencyGate({ debug() {}, info() {}, warn() {} }, 20);
    for (let i = 0; i < 5; i++) gate.record(10);
    for (let i = 0; i < 10; i++) gate.record(200);
    expect(gate.slow()).toBe(true);
    for (let i = 0; i < 15; i++) gate.record(10);
    expect(gate.slow()).toBe(false);
  });
});
