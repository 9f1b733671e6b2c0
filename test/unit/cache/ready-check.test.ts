/**
 * The reader's ready check (quietReadyCheck in src/cache/ready-check.ts) against a fake Redis
 * speaking RESP on a loopback port: it still waits while the server is loading its data, and an
 * ACL user that may not run INFO connects without ioredis printing anything to the console.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';

interface FakeRedis {
  url: string;
  /** Commands received, upper-cased name first (`INFO`, `PING`, `CLIENT SETINFO`...). */
  commands: string[];
  close(): Promise<void>;
}

/** Reads RESP arrays of bulk strings (what ioredis sends) off a socket, one command at a time. */
function onCommands(socket: Socket, handle: (args: string[]) => string): void {
  let buffer = '';
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      const parsed = parseCommand(buffer);
      if (parsed === undefined) return;
      buffer = buffer.slice(parsed.length);
      socket.write(handle(parsed.args));
    }
  });
}

function parseCommand(text: string): { args: string[]; length: number } | undefined {
  if (!text.startsWith('*')) return undefined;
  let at = text.indexOf('\r\n');
  if (at === -1) return undefined;
  const count = Number(text.slice(1, at));
  at += 2;
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    const end = text.indexOf('\r\n', at);
    if (end === -1) return undefined;
    const size = Number(text.slice(at + 1, end));
    if (text.length < end + 2 + size + 2) return undefined;
    args.push(text.slice(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return { args, length: at };
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** A fake server whose INFO reply is `info(n)` for the n-th INFO (from 1), or a NOPERM error. */
async function fakeRedis(info: (n: number) => string | 'NOPERM'): Promise<FakeRedis> {
  const commands: string[] = [];
  let infos = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onCommands(socket, (args) => {
      const name = (args[0] ?? '').toUpperCase();
      commands.push(name === 'CLIENT' ? `CLIENT ${(args[1] ?? '').toUpperCase()}` : name);
      if (name === 'INFO') {
        const reply = info(++infos);
        return reply === 'NOPERM' ? "-NOPERM this user has no permissions to run the 'info' command\r\n" : bulk(reply);
      }
      if (name === 'PING') return '+PONG\r\n';
      if (name === 'DBSIZE') return ':0\r\n';
      return `-ERR unknown command '${name}'\r\n`;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}/0`,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const INFO_READY = '# Server\r\nredis_version:7.0.15\r\n\r\n# Persistence\r\nloading:0\r\n';
const INFO_LOADING = '# Server\r\nredis_version:7.0.15\r\n\r\n# Persistence\r\nloading:1\r\nloading_eta_seconds:0\r\n';

describe('the ready check of the Redis reader', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const step of cleanup.splice(0)) await step();
  });

  it('connects quietly when the ACL user may not run INFO: nothing on the console', async () => {
    const server = await fakeRedis(() => 'NOPERM');
    cleanup.push(() => server.close());
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const log = vi.spyOn(console, 'log');
    const reader = await createRedisReader(server.url, { timeoutMs: 2000, readScript: false });
    cleanup.push(() => reader.close());
    expect(await reader.size()).toBe(0);
    expect(server.commands).toContain('INFO');
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('waits while the server is loading its data, and sends nothing else until it has loaded', async () => {
    const server = await fakeRedis((n) => (n <= 2 ? INFO_LOADING : INFO_READY));
    cleanup.push(() => server.close());
    const reader = await createRedisReader(server.url, { timeoutMs: 5000, readScript: false });
    cleanup.push(() => reader.close());
    const infos = server.commands.flatMap((c, i) => (c === 'INFO' ? [i] : []));
    expect(infos).toHaveLength(3);
    expect(server.commands.indexOf('PING')).toBeGreaterThan(infos[2] as number);
  });

  it('fails to connect when the server is still loading at the deadline', async () => {
    const server = await fakeRedis(() => INFO_LOADING);
    cleanup.push(() => server.close());
    const failure = await createRedisReader(server.url, { timeoutMs: 1000, readScript: false }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
    expect(server.commands).not.toContain('PING');
  });
});
