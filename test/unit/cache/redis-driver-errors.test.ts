/**
 * redis-errors.ts against ioredis errors recorded from a real redis-server
 * (test/fixtures/driver-errors/ioredis.json; record-ioredis.test.ts there says how to re-record).
 * Each case holds what the reader's own code had when it failed: the command's error and the
 * errors the client emitted, i.e. redisFailure's arguments. The ConnectionError it makes must end
 * the run with exit 3 and name the cause in plain words (no ioredis phrasing) and the server by its
 * masked URL; the fixture itself holds no password used while recording. A cluster node's MOVED,
 * ASK and CLUSTERDOWN replies are judged by keyErrorMeaning (cluster/redirect.ts) instead.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError, ExitCode } from '../../../src/errors.js';
import { keyErrorMeaning } from '../../../src/cache/cluster/redirect.js';
import { describeRedisError, redisFailure } from '../../../src/cache/redis-errors.js';
import { installedVersion, rebuiltCases, RECORDING_PASSWORD } from '../../fixtures/driver-errors/fixture.js';

/** As createRedisReader passes it: redactUrl of the --redis URL, password masked. */
const TARGET = 'redis://app:***@127.0.0.1:6379';
const PERMISSION_HINT = /^give the Redis user read permission on the audited keys and these read commands: ACL SETUSER/;
const CHECK_REDIS_HINT = /^check --redis \(or SHADOWCHECK_REDIS_URL\) and that redis-server is running and reachable$/;
/** ioredis' own words, which must never reach the user. */
const DRIVER_PHRASING = /Reached the max retries|Please report this|Connection is closed|maxRetriesPerRequest/;

interface Expected {
  phase: 'connect' | 'read';
  says: RegExp;
  hint: RegExp;
}

const EXPECTED: Record<string, Expected> = {
  'connection-refused': { phase: 'connect', says: /^cannot connect to Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:6379: .*connect ECONNREFUSED 127\.0\.0\.1:\d+/, hint: CHECK_REDIS_HINT },
  noauth: { phase: 'connect', says: /^cannot connect to Redis at .*: .*NOAUTH Authentication required/, hint: CHECK_REDIS_HINT },
  wrongpass: { phase: 'connect', says: /^cannot connect to Redis at .*: .*WRONGPASS invalid username-password pair/, hint: CHECK_REDIS_HINT },
  'noperm-ping': { phase: 'connect', says: /^the Redis user in --redis may not run a command shadowcheck needs at .*: NOPERM .* 'ping' command$/, hint: PERMISSION_HINT },
  maxclients: { phase: 'connect', says: /refuses new connections: it already serves as many clients as it allows \(maxclients\)$/, hint: /raise maxclients/ },
  'not-redis': { phase: 'connect', says: /^cannot connect to Redis at .*: .*the server does not speak the Redis protocol/, hint: CHECK_REDIS_HINT },
  'noperm-command': { phase: 'read', says: /may not run a command shadowcheck needs at .*: NOPERM .* 'get' command$/, hint: PERMISSION_HINT },
  'noperm-key': { phase: 'read', says: /may not run a command shadowcheck needs at .*: NOPERM .* access one of the keys/, hint: PERMISSION_HINT },
  'server-killed': { phase: 'read', says: /^lost the connection to Redis at .*: the server closed it and now refuses new connections/, hint: /check that redis-server is running/ },
};

/** Replies of a cluster node, judged per key by keyErrorMeaning: where the key lives, or come back later. */
const CLUSTER_EXPECTED: Record<string, 'moved' | 'ask' | 'retry'> = {
  'cluster-moved': 'moved',
  'cluster-ask': 'ask',
  'cluster-down': 'retry',
};

const { file, cases: all } = rebuiltCases('ioredis');
const cases = all.filter((c) => CLUSTER_EXPECTED[c.name] === undefined);
const clusterCases = all.filter((c) => CLUSTER_EXPECTED[c.name] !== undefined);

describe('recorded ioredis errors', () => {
  it('were recorded with the installed major version of ioredis, and every case has an expectation', () => {
    expect(file.driverVersion.split('.')[0], 'ioredis was upgraded: re-record the fixtures').toBe(installedVersion('ioredis').split('.')[0]);
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(clusterCases.map((c) => c.name).sort()).toEqual(Object.keys(CLUSTER_EXPECTED).sort());
    expect(JSON.stringify(file)).not.toMatch(RECORDING_PASSWORD);
  });

  describe.each(cases)('$name ($provoked)', ({ name, error, emitted }) => {
    const expected = EXPECTED[name]!;

    it(`ends the run (exit 3) when met at ${expected.phase}, naming the cause in plain words and no password`, () => {
      const failure = redisFailure(error, emitted[emitted.length - 1], TARGET, expected.phase, emitted);
      expect(failure).toBeInstanceOf(ConnectionError);
      expect(failure.exitCode).toBe(ExitCode.connection);
      expect(failure.message).toMatch(expected.says);
      expect(failure.hint).toMatch(expected.hint);
      expect(failure.message).not.toMatch(DRIVER_PHRASING);
      expect(failure.message).toContain(`at ${TARGET}`);
    });

    it('is described without ioredis phrasing, each error it came with too', () => {
      for (const each of [error, ...emitted]) {
        const described = describeRedisError(each);
        expect(described).not.toBe('');
        expect(described).not.toMatch(/Reached the max retries|Please report this/);
      }
    });
  });
});

describe.each(clusterCases)('cluster reply $name ($provoked)', ({ name, error }) => {
  const kind = CLUSTER_EXPECTED[name]!;

  it(`means ${kind}${kind === 'retry' ? '' : ', to the address the reply names'}`, () => {
    const meaning = keyErrorMeaning(error.message, '127.0.0.1:7000');
    expect(meaning.kind).toBe(kind);
    if (meaning.kind === 'moved' || meaning.kind === 'ask') {
      expect(meaning.address).toBe(/ (\S+)$/.exec(error.message)?.[1]);
      expect(meaning.address).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });
});
