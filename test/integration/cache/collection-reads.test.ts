import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReader } from '../../../src/cache/redis-standalone.js';
import type { CacheReader } from '../../../src/cache/types.js';
import type { CacheRead, ScoredMember } from '../../../src/core/observation.js';
import { createAclUser, openTestDb, type AclUser, type TestDb } from '../helpers/redis.js';

// Lists, sets and sorted sets read as a Python, Go or PHP writer leaves them, on a private
// redis-server (logical database 3). Both readers: one that would use the batch read script for
// strings and hashes, one without it; collections take the pipelined path either way.

let testDb: TestDb;
let admin: Redis;
const readers: Record<'script' | 'pipeline', CacheReader | undefined> = { script: undefined, pipeline: undefined };
const KiB = 1024;
/** hashFieldLimit(64 KiB) = 1024 elements. */
const LIMIT_BYTES = 64 * KiB;
const key = (name: string) => Buffer.from(`coll:${name}`);

beforeAll(async () => {
  testDb = await openTestDb(3);
  admin = testDb.redis;
  readers.script = await createRedisReader(testDb.url, { timeoutMs: 5000 });
  readers.pipeline = await createRedisReader(testDb.url, { timeoutMs: 5000, readScript: false });
});

afterAll(async () => {
  await readers.script?.close();
  await readers.pipeline?.close();
  await testDb?.sweep(['coll:']);
  await testDb?.close();
});

async function calls(command: string): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

async function fetchCalls(): Promise<number> {
  return (await calls('lrange')) + (await calls('smembers')) + (await calls('zrange'));
}

function present(read: CacheRead | undefined): { redisType: string; value: unknown; pttlMs: number } {
  if (read?.kind !== 'present') throw new Error(`expected a present read, got ${JSON.stringify(read)}`);
  return read;
}

describe.each(['script', 'pipeline'] as const)('collection reads (%s reader)', (path) => {
  const reader = () => readers[path] as CacheReader;

  it('reads a list in LRANGE order, binary and UTF-8 elements byte for byte, with its PTTL', async () => {
    const elements = [Buffer.from('42'), Buffer.from([0xff, 0x00, 0xfe, 0x0a]), Buffer.from('Zürich ✓', 'utf8'), Buffer.from('42')];
    await admin.del(key('list'));
    await admin.rpush(key('list'), ...elements);
    await admin.pexpire(key('list'), 300_000);
    const [read] = await reader().read([key('list')], 'list', LIMIT_BYTES);
    const got = present(read);
    expect(got.redisType).toBe('list');
    expect((got.value as Buffer[]).map((b) => b.toString('hex'))).toEqual(elements.map((b) => b.toString('hex')));
    expect(got.pttlMs).toBeGreaterThan(290_000);
    expect(got.pttlMs).toBeLessThanOrEqual(300_000);
  });

  it('reads a set: every member once, PTTL -1 when it has no expiry', async () => {
    await admin.del(key('set'));
    await admin.sadd(key('set'), '7', '8', 'user:9', Buffer.from([0x80, 0x81]));
    const [read] = await reader().read([key('set')], 'set', LIMIT_BYTES);
    const got = present(read);
    expect(got.redisType).toBe('set');
    expect((got.value as Buffer[]).map((b) => b.toString('hex')).sort()).toEqual(['7', '8', 'user:9', Buffer.from([0x80, 0x81])].map((m) => Buffer.from(m).toString('hex')).sort());
    expect(got.pttlMs).toBe(-1);
  });

  it('reads a zset in score order with each score as Redis spells it (1.5, 10, inf, -inf)', async () => {
    await admin.del(key('zset'));
    await admin.zadd(key('zset'), '1.5', 'alice', '10', 'bob smith', 'inf', 'line\nbreak', '-inf', Buffer.from([0xc3, 0x28]), '-0.25', 'zed');
    await admin.expire(key('zset'), 60);
    const [read] = await reader().read([key('zset')], 'zset', LIMIT_BYTES);
    const got = present(read);
    expect(got.redisType).toBe('zset');
    const members = got.value as ScoredMember[];
    expect(members.map((m) => [m.member.toString('hex'), m.score])).toEqual([
      [Buffer.from([0xc3, 0x28]).toString('hex'), '-inf'],
      [Buffer.from('zed').toString('hex'), '-0.25'],
      [Buffer.from('alice').toString('hex'), '1.5'],
      [Buffer.from('bob smith').toString('hex'), '10'],
      [Buffer.from('line\nbreak').toString('hex'), 'inf'],
    ]);
    expect(got.pttlMs).toBeGreaterThan(0);
  });

  it('hands zset scores over as Redis formats them: text that parses back to the stored double (0.1, 1e20, a bigint past 2^53)', async () => {
    // Redis <= 7.0 replies %.17g ("0.10000000000000001", "1.2345678901234568e+17"), 7.2+ the shortest
    // form ("0.1"): the reader passes the text on; only the double it spells is the same everywhere.
    const written: [string, string][] = [
      ['0.1', 'tenth'],
      ['1e20', 'huge'],
      ['123456789012345678', 'bigint'],
      ['1e-7', 'tiny'],
    ];
    await admin.del(key('scores'));
    await admin.zadd(key('scores'), ...written.flat());
    const [read] = await reader().read([key('scores')], 'zset', LIMIT_BYTES);
    const byMember = new Map((present(read).value as ScoredMember[]).map((m) => [m.member.toString(), m.score]));
    for (const [score, member] of written) expect(Number(byMember.get(member))).toBe(Number(score));
    expect(byMember.get('bigint')).not.toBe('123456789012345678');
  });

  it('a collection with more elements than the limit is too-large by count, and never fetched', async () => {
    const over = 1025;
    const members = Array.from({ length: over }, (_, i) => String(i));
    await admin.del(key('long'), key('wide'), key('board'));
    await admin.rpush(key('long'), ...members);
    await admin.sadd(key('wide'), ...members);
    await admin.zadd(key('board'), ...members.flatMap((m) => [m, m]));
    const before = await fetchCalls();
    const reads = [
      ...(await reader().read([key('long')], 'list', LIMIT_BYTES)),
      ...(await reader().read([key('wide')], 'set', LIMIT_BYTES)),
      ...(await reader().read([key('board')], 'zset', LIMIT_BYTES)),
    ];
    expect(reads).toEqual([
      { kind: 'too-large', redisType: 'list', size: over, unit: 'elements' },
      { kind: 'too-large', redisType: 'set', size: over, unit: 'elements' },
      { kind: 'too-large', redisType: 'zset', size: over, unit: 'elements' },
    ]);
    expect(await fetchCalls()).toBe(before);
  });

  it('a few elements too large in bytes are too-large, and never fetched', async () => {
    const big = 'x'.repeat(40 * KiB);
    await admin.del(key('fat'), key('fatset'), key('fatboard'));
    await admin.rpush(key('fat'), big, big, big);
    await admin.sadd(key('fatset'), `a${big}`, `b${big}`);
    await admin.zadd(key('fatboard'), 1, `a${big}`, 2, `b${big}`);
    const before = await fetchCalls();
    const reads = [
      ...(await reader().read([key('fat')], 'list', LIMIT_BYTES)),
      ...(await reader().read([key('fatset')], 'set', LIMIT_BYTES)),
      ...(await reader().read([key('fatboard')], 'zset', LIMIT_BYTES)),
    ];
    for (const read of reads) {
      expect(read.kind).toBe('too-large');
      if (read.kind === 'too-large') {
        expect(read.unit).toBe('bytes');
        expect(read.size).toBeGreaterThan(LIMIT_BYTES);
      }
    }
    expect(await fetchCalls()).toBe(before);
  });

  it('a list, set or zset of many short members, exactly at the element limit, is read whole, not taken for too large', async () => {
    const members = Array.from({ length: 1024 }, (_, i) => `member-${i}`);
    await admin.del(key('many'), key('manyset'), key('manylist'));
    await admin.zadd(key('many'), ...members.flatMap((m, i) => [String(i / 4), m]));
    await admin.sadd(key('manyset'), ...members);
    await admin.rpush(key('manylist'), ...members);
    const [zset, set, list] = [
      ...(await reader().read([key('many')], 'zset', LIMIT_BYTES)),
      ...(await reader().read([key('manyset')], 'set', LIMIT_BYTES)),
      ...(await reader().read([key('manylist')], 'list', LIMIT_BYTES)),
    ];
    expect((present(zset).value as ScoredMember[]).length).toBe(1024);
    expect((present(zset).value as ScoredMember[])[3]?.score).toBe('0.75');
    expect((present(zset).value as ScoredMember[])[1023]?.member.toString()).toBe('member-1023');
    expect((present(set).value as Buffer[]).length).toBe(1024);
    expect((present(list).value as Buffer[]).map(String)).toEqual(members);
  });

  it('another type is present with its real type (a list read as a zset), for the classifier to skip', async () => {
    await admin.del(key('wrong'), key('str'));
    await admin.rpush(key('wrong'), 'a');
    await admin.set(key('str'), 'text');
    const reads = await reader().read([key('wrong'), key('str')], 'zset', LIMIT_BYTES);
    expect(reads.map((r) => r.kind === 'present' && r.redisType)).toEqual(['list', 'string']);
  });

  it('a key that does not exist, and a list whose last element was popped, are gone', async () => {
    await admin.del(key('popped'));
    await admin.rpush(key('popped'), 'only');
    await admin.lpop(key('popped'));
    expect(await admin.exists(key('popped'))).toBe(0);
    const reads = await reader().read([key('never'), key('popped')], 'list', LIMIT_BYTES);
    expect(reads).toEqual([{ kind: 'gone' }, { kind: 'gone' }]);
  });

  it('one batch mixes every outcome, each key its own answer in order', async () => {
    await admin.del(key('m1'), key('m2'), key('m3'));
    await admin.rpush(key('m1'), 'a', 'b');
    await admin.set(key('m2'), 'not a list');
    await admin.rpush(key('m3'), ...Array.from({ length: 2000 }, (_, i) => String(i)));
    const reads = await reader().read([key('m1'), key('gone'), key('m2'), key('m3')], 'list', LIMIT_BYTES);
    expect(reads.map((r) => (r.kind === 'present' ? `${r.redisType}:${(r.value as Buffer[]).length}` : r.kind))).toEqual(['list:2', 'gone', 'string:0', 'too-large']);
  });
});

describe('collection reads when the ACL refuses MEMORY USAGE', () => {
  let user: AclUser;
  let reader: CacheReader;

  beforeAll(async () => {
    user = await createAclUser(admin, 'coll', ['~*', '+@read', '+@connection', '-memory', '-eval_ro']);
    reader = await createRedisReader(user.url(3), { timeoutMs: 5000 });
  });

  afterAll(async () => {
    await reader?.close();
    await user?.drop();
  });

  it('reads what fits by the element count alone, and calls what turns out over the byte limit too-large', async () => {
    const big = 'y'.repeat(40 * KiB);
    await admin.del(key('acl-small'), key('acl-fat'));
    await admin.rpush(key('acl-small'), '1', '2');
    await admin.rpush(key('acl-fat'), big, big);
    const reads = await reader.read([key('acl-small'), key('acl-fat')], 'list', LIMIT_BYTES);
    expect((present(reads[0]).value as Buffer[]).map(String)).toEqual(['1', '2']);
    expect(reads[1]).toEqual({ kind: 'too-large', redisType: 'list', size: 2 * big.length, unit: 'bytes' });
    expect((await user.deniedLog()).some((entry) => entry['object'] === 'memory|usage' || entry['object'] === 'memory')).toBe(true);
  });
});
