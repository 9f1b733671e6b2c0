import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheReader } from '../../../src/cache/index.js';
import { ConnectionError, ExitCode } from '../../../src/errors.js';
import { freePort, REDIS_HOST, startRedisServer, type RedisServer } from '../helpers/redis.js';

// Every wait at connect time has a deadline (--timeout, at least a second), and each failure is a
// ConnectionError (exit 3) in plain words: a frozen server, a silent listener, a reply that never
// completes, a full server, a missing ACL permission, a killed server.

const TIMEOUT = 1000;

let server: RedisServer;
const listeners: Server[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  server.process.kill('SIGCONT');
  await server.kill();
  for (const s of sockets) s.destroy();
  await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
});

/** A TCP listener that accepts and then does `onData` with what the client sends (or nothing). */
async function listener(onData: (socket: Socket) => void): Promise<number> {
  const port = await freePort();
  const l = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', () => onData(socket));
  });
  listeners.push(l);
  await new Promise<void>((resolve) => l.listen(port, REDIS_HOST, resolve));
  return port;
}

async function connectError(url: string): Promise<{ error: ConnectionError; ms: number }> {
  const started = Date.now();
  const error = await createCacheReader(url, { timeoutMs: TIMEOUT }).then(
    async (reader) => {
      await reader.close();
      throw new Error('connected');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionError);
  return { error: error as ConnectionError, ms: Date.now() - started };
}

describe('connecting to Redis never hangs', () => {
  it('a frozen (SIGSTOPped) server fails within --timeout as not answering', async () => {
    server.process.kill('SIGSTOP');
    try {
      const { error, ms } = await connectError(`redis://${REDIS_HOST}:${server.port}/0`);
      expect(error.exitCode).toBe(ExitCode.connection);
      expect(error.message).toMatch(/accepted the connection but no reply within \d+ ms/);
      expect(error.hint).toMatch(/stopped|overloaded/);
      expect(ms).toBeLessThan(10_000);
    } finally {
      server.process.kill('SIGCONT');
    }
  });

  it('a listener that accepts and stays silent fails within --timeout', async () => {
    const port = await listener(() => {});
    const { error, ms } = await connectError(`redis://${REDIS_HOST}:${port}/0`);
    expect(error.message).toMatch(/no reply within/);
    expect(ms).toBeLessThan(10_000);
  });

  it('a listener that answers a 1 TB bulk header fails within --timeout as not Redis', async () => {
    const port = await listener((socket) => socket.write('$1099511627776\r\n'));
    const { error, ms } = await connectError(`redis://${REDIS_HOST}:${port}/0`);
    expect(error.message).toMatch(/reply did not complete within/);
    expect(error.hint).toMatch(/not be a Redis server/);
    expect(ms).toBeLessThan(10_000);
  });
});

describe('Redis refusals are told in plain words', () => {
  it('a server at its maxclients limit', async () => {
    const admin = new Redis(server.port, REDIS_HOST);
    await admin.config('SET', 'maxclients', '1');
    try {
      const { error } = await connectError(`redis://${REDIS_HOST}:${server.port}/0`);
      expect(error.message).toMatch(/refuses new connections: it already serves as many clients as it allows \(maxclients\)/);
      expect(error.hint).toMatch(/raise maxclients/);
    } finally {
      await admin.config('SET', 'maxclients', '10000');
      admin.disconnect();
    }
  });

  it('a user without permission to SCAN', async () => {
    const admin = new Redis(server.port, REDIS_HOST);
    await admin.call('ACL', 'SETUSER', 'noscan', 'reset', 'on', '>pw', '~*', '+@read', '+@connection', '-scan');
    const reader = await createCacheReader(`redis://noscan:pw@${REDIS_HOST}:${server.port}/0`, { timeoutMs: TIMEOUT });
    try {
      const error = await (async () => {
        for await (const keys of reader.scan('*', 10)) void keys;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).message).toMatch(/may not run a command shadowcheck needs.*NOPERM/);
      expect((error as ConnectionError).message).not.toMatch(/lost the connection/);
      expect((error as ConnectionError).hint).toMatch(/ACL SETUSER/);
    } finally {
      await reader.close();
      await admin.call('ACL', 'DELUSER', 'noscan');
      admin.disconnect();
    }
  });

  it('a server killed mid-audit is said to be stopped, not in driver jargon', async () => {
    const own = await startRedisServer();
    const reader = await createCacheReader(`redis://${REDIS_HOST}:${own.port}/0`, { timeoutMs: TIMEOUT });
    try {
      await own.kill();
      const error = await reader.read([Buffer.from('k')], 'string', 1024).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).message).toMatch(/closed it and now refuses new connections \(it was stopped or killed\)|connection was closed/);
      expect((error as ConnectionError).message).not.toMatch(/maxRetriesPerRequest|max retries per request|Connection is closed/);
    } finally {
      await reader.close();
    }
  });
});
