import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import { ConnectionError } from '../../../src/errors.js';
import { freePort, REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

// A script call blocks every other client of that Redis while it runs: it must never copy a large
// value, and must stop at a byte budget. Large values are fetched with plain commands, or not at
// all when over --max-value-bytes. --timeout is per command, not per batch.

const MiB = 1024 * 1024;
let server: RedisServer;
let admin: Redis;
let url: string;

beforeAll(async () => {
  server = await startRedisServer();
  url = `redis://${REDIS_HOST}:${server.port}/0`;
  admin = new Redis(server.port, REDIS_HOST);
  const field = 'v'.repeat(256 * 1024);
  // Under the field limit (HLEN) and the old inline limit (256 fields): 10 MiB each.
  for (const name of ['big:1', 'big:2', 'big:3']) {
    await admin.hset(name, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, field])));
  }
  const pipe = admin.pipeline();
  for (let i = 0; i < 1000; i++) pipe.set(`small:${i}`, String(i).padEnd(1024, '.'), 'EX', 600);
  await pipe.exec();
});

afterAll(async () => {
  admin.disconnect();
  await server.kill();
});

async function commandCalls(name: string): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

/** Commands the server ran from inside scripts, as MONITOR shows them ("lua" source). */
async function monitorScripts(work: () => Promise<void>): Promise<string[][]> {
  const monitor = await admin.duplicate().monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') seen.push(args);
  });
  try {
    await work();
  } finally {
    monitor.disconnect();
  }
  return seen;
}

describe('the batch read script never copies a large value', () => {
  it('hashes over --max-value-bytes in bytes are too-large, and never fetched (HGETALL)', async () => {
    const reader = await createRedisReader(url, { timeoutMs: 5000 });
    try {
      const before = await commandCalls('hgetall');
      const reads = await reader.read([Buffer.from('big:1'), Buffer.from('big:2'), Buffer.from('big:3')], 'hash', MiB);
      expect(reads.map((r) => r.kind)).toEqual(['too-large', 'too-large', 'too-large']);
      expect(reads[0]?.kind === 'too-large' && reads[0].size).toBeGreaterThan(10 * MiB);
      // Its size is told in bytes (counted field by field), not as the field count HLEN gives.
      expect(reads[0]?.kind === 'too-large' && reads[0].unit).toBe('bytes');
      expect(await commandCalls('hgetall')).toBe(before);
    } finally {
      await reader.close();
    }
  });

  it('hashes under a larger --max-value-bytes are fetched outside the script', async () => {
    const reader = await createRedisReader(url, { timeoutMs: 5000 });
    try {
      let reads: Awaited<ReturnType<typeof reader.read>> = [];
      const inScripts = await monitorScripts(async () => {
        reads = await reader.read([Buffer.from('big:1'), Buffer.from('big:2')], 'hash', 64 * MiB);
      });
      expect(reads.map((r) => r.kind)).toEqual(['present', 'present']);
      expect(reads[0]?.kind === 'present' && Object.keys(reads[0].value as object).length).toBe(40);
      expect(inScripts.filter((args) => /^hgetall$/i.test(args[0] ?? ''))).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('a batch of small values is split into script calls of a bounded number of bytes', async () => {
    const reader = await createRedisReader(url, { timeoutMs: 5000 });
    try {
      const keys = Array.from({ length: 1000 }, (_, i) => Buffer.from(`small:${i}`));
      const before = await commandCalls('eval_ro');
      const reads = await reader.read(keys, 'string', MiB);
      const calls = (await commandCalls('eval_ro')) - before;
      // 1000 KiB of values at 256 KiB per call at most.
      expect(calls).toBeGreaterThanOrEqual(4);
      expect(calls).toBeLessThan(20);
      expect(reads.every((r, i) => r.kind === 'present' && r.value.toString().startsWith(`${i}.`))).toBe(true);
    } finally {
      await reader.close();
    }
  });
});

describe('--timeout is per command', () => {
  let proxy: Server;
  let proxyPort: number;
  const open: Socket[] = [];

  beforeAll(async () => {
    // Replies reach the client at ~1.3 MiB/s: a 3 MiB read takes seconds, each chunk well within --timeout.
    proxyPort = await freePort();
    proxy = createServer((client) => {
      const upstream = connect(server.port, REDIS_HOST);
      open.push(client, upstream);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream);
      const queue: Buffer[] = [];
      let pumping = false;
      const pump = () => {
        const chunk = queue.shift();
        if (chunk === undefined) return void (pumping = false);
        pumping = true;
        client.write(chunk.subarray(0, 64 * 1024));
        if (chunk.length > 64 * 1024) queue.unshift(chunk.subarray(64 * 1024));
        setTimeout(pump, 50);
      };
      upstream.on('data', (data: Buffer) => {
        queue.push(data);
        if (!pumping) pump();
      });
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPort, REDIS_HOST, resolve));
    await admin.set('mid:1', 'm'.repeat(MiB));
    await admin.set('mid:2', 'n'.repeat(MiB));
    await admin.set('mid:3', 'o'.repeat(MiB));
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('a healthy Redis streaming large values slowly is read, not reported lost', async () => {
    const reader = await createRedisReader(`redis://${REDIS_HOST}:${proxyPort}/0`, { timeoutMs: 1000 });
    try {
      const started = Date.now();
      const reads = await reader.read(['mid:1', 'mid:2', 'mid:3'].map((k) => Buffer.from(k)), 'string', 2 * MiB);
      expect(Date.now() - started).toBeGreaterThan(1000);
      expect(reads.map((r) => r.kind === 'present' && r.value.length)).toEqual([MiB, MiB, MiB]);
    } finally {
      await reader.close();
    }
  });

  it('a Redis frozen mid-audit stopped answering; it did not lose the connection', async () => {
    const reader = await createRedisReader(url, { timeoutMs: 1000 });
    server.process.kill('SIGSTOP');
    try {
      const error = await reader.read([Buffer.from('small:1')], 'string', MiB).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).message).toMatch(/stopped answering: no reply within 1000 ms/);
      expect((error as ConnectionError).message).not.toMatch(/lost the connection/);
    } finally {
      server.process.kill('SIGCONT');
      await reader.close();
    }
  });
});
