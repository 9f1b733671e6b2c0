import { describe, expect, it, vi } from 'vitest';
import type { Route } from '../../../src/cache/cluster/topology.js';
import { groupByNode, isStuck, lostNodes, MAX_REDIRECTS, MAX_ROUNDS, noteKeyError, pendingKeys, type Pending } from '../../../src/cache/cluster/pending-keys.js';

const master = (address: string): Route => ({ address, role: 'master' });
const replica = (address: string): Route => ({ address, role: 'replica' });
const pending = (index: number, slot = 0): Pending => ({ index, key: Buffer.from(`k${index}`), slot, redirects: 0 });

describe('pendingKeys', () => {
  it('gives each key its place in the batch and the hash slot CLUSTER KEYSLOT computes, hash tags included', () => {
    const keys = ['foo', 'somekey', 'foo{hash_tag}', 'bar{hash_tag}'].map((k) => Buffer.from(k));
    const items = pendingKeys(keys);
    expect(items.map((i) => i.index)).toEqual([0, 1, 2, 3]);
    // The values of the CLUSTER KEYSLOT examples in the Redis documentation.
    expect(items.map((i) => i.slot)).toEqual([12182, 11058, 2515, 2515]);
    expect(items.every((i) => i.redirects === 0 && i.key === keys[i.index])).toBe(true);
  });
});

describe('groupByNode', () => {
  it('makes one group per node and role, in order of first key, keeping the keys in batch order', () => {
    const [a, b, c, d] = [pending(0), pending(1), pending(2), pending(3)] as [Pending, Pending, Pending, Pending];
    const groups = groupByNode([
      { item: a, route: master('10.0.0.2:7001') },
      { item: b, route: master('10.0.0.1:7000') },
      { item: c, route: master('10.0.0.2:7001') },
      // Same address, other role: another connection, so another pipeline.
      { item: d, route: replica('10.0.0.2:7001') },
    ]);
    expect(groups.map((g) => [g.route, g.items.map((i) => i.index)])).toEqual([
      [master('10.0.0.2:7001'), [0, 2]],
      [master('10.0.0.1:7000'), [1]],
      [replica('10.0.0.2:7001'), [3]],
    ]);
  });

  it('makes no group of no key', () => {
    expect(groupByNode([])).toEqual([]);
  });
});

describe('noteKeyError', () => {
  it('counts a MOVED hop and remembers which node sent it where', () => {
    const item = pending(0, 42);
    expect(noteKeyError(item, 'MOVED 42 10.0.0.3:7002', master('10.0.0.1:7000')).kind).toBe('moved');
    expect(item).toMatchObject({ redirects: 1, moved: { from: '10.0.0.1:7000', to: '10.0.0.3:7002' }, last: 'MOVED 42 10.0.0.3:7002' });
    expect(item.retry).toBeUndefined();
  });

  it('reads a MOVED target without a host as a port on the host that answered', () => {
    const item = pending(0, 42);
    noteKeyError(item, 'MOVED 42 :7002', master('10.0.0.1:7000'));
    expect(item.moved).toEqual({ from: '10.0.0.1:7000', to: '10.0.0.1:7002' });
  });

  it('retries an ASK later without counting a hop, saying that ASKING is not sent', () => {
    const item = pending(0, 7);
    expect(noteKeyError(item, 'ASK 7 10.0.0.3:7002', master('10.0.0.1:7000')).kind).toBe('ask');
    expect(item.retry).toBe(true);
    expect(item.redirects).toBe(0);
    expect(item.moved).toBeUndefined();
    expect(item.last).toBe('ASK 7 10.0.0.3:7002 (slot 7 is migrating; shadowcheck does not send ASKING)');
  });

  it.each(['CLUSTERDOWN The cluster is down', 'TRYAGAIN Multiple keys request during rehashing of slot', 'LOADING Redis is loading the dataset in memory', 'MASTERDOWN Link with MASTER is down'])(
    'retries %s later',
    (message) => {
      const item = pending(0);
      expect(noteKeyError(item, message, master('10.0.0.1:7000')).kind).toBe('retry');
      expect(item).toMatchObject({ retry: true, last: message, redirects: 0 });
    },
  );

  it('marks the node unreachable, as a dropped connection worth a reconnect, when the pipeline lost its connection', () => {
    const item = pending(0);
    expect(noteKeyError(item, 'Connection is closed.', replica('10.0.0.4:7003')).kind).toBe('lost');
    expect(item.unreachable).toEqual({ address: '10.0.0.4:7003', role: 'replica', dropped: true });
    expect(item.retry).toBeUndefined();
  });

  it("leaves a key's own error reply as its read: nothing to try again", () => {
    const item = pending(0);
    const meaning = noteKeyError(item, 'WRONGTYPE Operation against a key holding the wrong kind of value', master('10.0.0.1:7000'));
    expect(meaning.kind).toBe('error');
    expect(item).toEqual({ ...pending(0), last: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
  });
});

describe('lostNodes', () => {
  it('names each unreachable node and role once, as its first key saw it, and skips reachable keys', () => {
    const keys = [pending(0), pending(1), pending(2), pending(3), pending(4)];
    keys[0]!.unreachable = { ...master('10.0.0.1:7000'), dropped: true };
    keys[2]!.unreachable = { ...master('10.0.0.1:7000'), dropped: false };
    keys[3]!.unreachable = { ...replica('10.0.0.1:7000'), dropped: false };
    keys[4]!.retry = true;
    expect(lostNodes(keys)).toEqual([
      { address: '10.0.0.1:7000', role: 'master', dropped: false },
      { address: '10.0.0.1:7000', role: 'replica', dropped: false },
    ]);
  });
});

describe('isStuck', () => {
  const routable = () => true;

  it('keeps trying a key redirected or told to retry, within the rounds, hops and deadline', () => {
    const item = { ...pending(0), redirects: MAX_REDIRECTS, retry: true };
    expect(isStuck(item, MAX_ROUNDS - 1, false, routable)).toBe(false);
  });

  it('gives up after MAX_ROUNDS rounds, or more than MAX_REDIRECTS hops', () => {
    expect(isStuck(pending(0), MAX_ROUNDS, false, routable)).toBe(true);
    expect(isStuck({ ...pending(0), redirects: MAX_REDIRECTS + 1 }, 1, false, routable)).toBe(true);
  });

  it('gives up on a key told to retry once the deadline passed, but not on a redirected one', () => {
    expect(isStuck({ ...pending(0), retry: true }, 1, true, routable)).toBe(true);
    expect(isStuck({ ...pending(0), redirects: 1, retry: false }, 1, true, routable)).toBe(false);
  });

  it('gives up on a key whose node was unreachable only when its slot still has no node to read', () => {
    const item = { ...pending(0, 99), unreachable: { ...master('10.0.0.1:7000'), dropped: false } };
    const nowhere = vi.fn(() => false);
    expect(isStuck(item, 1, false, nowhere)).toBe(true);
    expect(nowhere).toHaveBeenCalledWith(99);
    expect(isStuck(item, 1, false, routable)).toBe(false);
  });

  it('does not ask where a reachable key could be read', () => {
    const asked = vi.fn(() => false);
    expect(isStuck({ ...pending(0), retry: true }, 1, false, asked)).toBe(false);
    expect(asked).not.toHaveBeenCalled();
  });
});
