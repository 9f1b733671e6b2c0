/**
 * ConnectionCap against a fake pool in front of a fake server that accepts at most `limit`
 * connections: the cap's concurrency follows what the server accepts, refused batches wait for a
 * connection of ours instead of failing, one warning is logged, and other errors pass unchanged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConnectionCap, type CapLog } from '../../../src/sources/connection-cap.js';

interface FakeConnection {
  id: number;
}

const REFUSED = 'too many connections for role "app"';

/** A pool that reuses idle connections and opens new ones (after `openMs`) while the server has room. */
class FakePool {
  open = 0;
  inUse = 0;
  peakInUse = 0;
  opened = 0;
  refusals = 0;
  private readonly idle: FakeConnection[] = [];

  constructor(
    public limit: number,
    private readonly openMs = 2,
  ) {}

  async connect(): Promise<FakeConnection> {
    const reused = this.idle.pop();
    if (reused !== undefined) return this.take(reused);
    if (this.open >= this.limit) {
      await sleep(1);
      this.refusals++;
      throw Object.assign(new Error(REFUSED), { code: '53300' });
    }
    this.open++;
    await sleep(this.openMs);
    return this.take({ id: ++this.opened });
  }

  release(connection: FakeConnection): void {
    this.inUse--;
    this.idle.push(connection);
  }

  private take(connection: FakeConnection): FakeConnection {
    this.inUse++;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    return connection;
  }
}

function recordingLog(): CapLog & { warnings: { fields: Record<string, unknown>; message: string }[] } {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  return { warnings, warn: (fields, message) => warnings.push({ fields: fields as Record<string, unknown>, message }) };
}

/** A cap over the pool; it counts the pool's connections (open or opening) as pg's totalCount does, unless `uncounted`. */
function capOver(pool: FakePool, options: { maxConnections: number; patienceMs?: number; log?: CapLog; uncounted?: boolean }): ConnectionCap<FakeConnection> {
  return new ConnectionCap<FakeConnection>({
    source: 'main',
    maxConnections: options.maxConnections,
    acquire: () => pool.connect(),
    isLimitRefusal: (error) => (error as { code?: unknown }).code === '53300',
    ...(options.uncounted === true ? {} : { openConnections: () => pool.open }),
    patienceMs: options.patienceMs ?? 5000,
    log: options.log,
  });
}

/** A batch: holds its connection for `ms`, then gives it back. */
function batch(pool: FakePool, ms: number, value: number): (connection: FakeConnection) => Promise<number> {
  return async (connection) => {
    try {
      await sleep(ms);
      return value;
    } finally {
      pool.release(connection);
    }
  };
}

describe('ConnectionCap', () => {
  it('runs every batch when the server accepts fewer connections than the pool may open, and warns once', async () => {
    const pool = new FakePool(3);
    const log = recordingLog();
    const cap = capOver(pool, { maxConnections: 20, log });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cap.run(batch(pool, 20, i))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.refusals).toBeGreaterThan(0);
    expect(pool.open).toBe(3);
    expect(pool.peakInUse).toBeLessThanOrEqual(3);
    expect(cap.concurrency).toBe(3);
    expect(log.warnings).toEqual([
      { fields: { source: 'main', connections: 3, requested: 20 }, message: 'source "main" accepts only 3 connections: running 3 queries at a time' },
    ]);

    // Later batches run at the cap without asking the server for more, and say nothing again.
    const refusalsBefore = pool.refusals;
    await Promise.all(Array.from({ length: 20 }, (_, i) => cap.run(batch(pool, 5, i))));
    expect(pool.refusals).toBe(refusalsBefore);
    expect(log.warnings).toHaveLength(1);
  });

  it('settles on what the server accepted even when batches end before the refusals arrive', async () => {
    for (const batchMs of [0, 1, 3]) {
      const pool = new FakePool(3, 4);
      const log = recordingLog();
      const cap = capOver(pool, { maxConnections: 20, log });
      await Promise.all(Array.from({ length: 20 }, (_, i) => cap.run(batch(pool, batchMs, i))));
      expect(cap.concurrency).toBe(3);
      expect(log.warnings.map((w) => w.fields['connections'])).toEqual([3]);
    }
  });

  it('without a count of the pool, caps to the connections in use', async () => {
    const pool = new FakePool(3);
    const log = recordingLog();
    const cap = capOver(pool, { maxConnections: 20, log, uncounted: true });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cap.run(batch(pool, 20, i))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.peakInUse).toBeLessThanOrEqual(3);
    expect(cap.concurrency).toBeGreaterThanOrEqual(1);
    expect(cap.concurrency).toBeLessThanOrEqual(3);
    expect(log.warnings).toHaveLength(1);
  });

  it('goes down to one connection at a time when that is all the server gives', async () => {
    const pool = new FakePool(1);
    const log = recordingLog();
    const cap = capOver(pool, { maxConnections: 8, log });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => cap.run(batch(pool, 5, i))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(cap.concurrency).toBe(1);
    expect(log.warnings.map((w) => w.message)).toEqual(['source "main" accepts only 1 connection: running 1 query at a time']);
  });

  it('changes nothing while the server accepts every connection: no cap, no warning', async () => {
    const pool = new FakePool(100);
    const log = recordingLog();
    const cap = capOver(pool, { maxConnections: 8, log });
    await Promise.all(Array.from({ length: 30 }, (_, i) => cap.run(batch(pool, 5, i))));
    expect(pool.refusals).toBe(0);
    expect(pool.peakInUse).toBe(8);
    expect(cap.concurrency).toBe(8);
    expect(log.warnings).toEqual([]);
  });

  it('waits for a connection another client holds, and runs once it is free', async () => {
    const pool = new FakePool(0);
    const cap = capOver(pool, { maxConnections: 4, patienceMs: 5000 });
    setTimeout(() => (pool.limit = 2), 150);
    const results = await Promise.all([cap.run(batch(pool, 5, 1)), cap.run(batch(pool, 5, 2))]);
    expect(results).toEqual([1, 2]);
    expect(pool.refusals).toBeGreaterThan(0);
  });

  it('gives up with the refusal itself when no connection of ours opens within its patience', async () => {
    const pool = new FakePool(0);
    const cap = capOver(pool, { maxConnections: 4, patienceMs: 200 });
    const started = Date.now();
    await expect(cap.run(batch(pool, 5, 1))).rejects.toMatchObject({ code: '53300', message: REFUSED });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("passes any other error of acquire or of the batch through unchanged, without retrying", async () => {
    let asked = 0;
    const failing = new ConnectionCap<FakeConnection>({
      source: 'main',
      maxConnections: 4,
      acquire: () => {
        asked++;
        return Promise.reject(Object.assign(new Error('password authentication failed'), { code: '28P01' }));
      },
      isLimitRefusal: (error) => (error as { code?: unknown }).code === '53300',
      patienceMs: 5000,
    });
    await expect(failing.run(() => Promise.resolve(1))).rejects.toMatchObject({ code: '28P01' });
    expect(asked).toBe(1);

    const pool = new FakePool(5);
    const cap = capOver(pool, { maxConnections: 4 });
    const broken = new Error('relation "nope" does not exist');
    await expect(
      cap.run(async (connection) => {
        pool.release(connection);
        throw broken;
      }),
    ).rejects.toBe(broken);
    expect(cap.concurrency).toBe(4);
  });
});
