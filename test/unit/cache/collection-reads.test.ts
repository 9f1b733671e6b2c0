import { describe, expect, it } from 'vitest';
import { readCollections, scoredMembers } from '../../../src/cache/collection-reads.js';
import type { PipelineLike, PipelineRunner, Replies } from '../../../src/cache/pipelined-reads.js';

// What Redis answers between the steps of a collection read (a key changing under the reader)
// cannot be timed on a real server: a runner that answers each pipeline from a script can.

/** A runner whose n-th exec answers with replies[n]; records each pipeline's commands. */
function scriptedRunner(replies: Replies[]): { run: PipelineRunner; sent: string[][] } {
  const sent: string[][] = [];
  const run: PipelineRunner = {
    pipeline() {
      const commands: string[] = [];
      sent.push(commands);
      return new Proxy({} as PipelineLike, {
        get: (_target, name, proxy) => (...args: unknown[]) => {
          commands.push([String(name), ...args.map(String)].join(' '));
          return proxy as PipelineLike;
        },
      });
    },
    exec: () => {
      const next = replies.shift();
      if (next === undefined) throw new Error('more pipelines than scripted');
      return Promise.resolve(next);
    },
  };
  return { run, sent };
}

const b = (text: string) => Buffer.from(text);

describe('scoredMembers', () => {
  it('pairs members with their score text, binary members kept byte for byte', () => {
    const binary = Buffer.from([0xff, 0x00]);
    expect(scoredMembers([b('a b'), b('1.5'), binary, b('inf'), b('c'), b('-inf')])).toEqual([
      { member: b('a b'), score: '1.5' },
      { member: binary, score: 'inf' },
      { member: b('c'), score: '-inf' },
    ]);
    expect(scoredMembers([])).toEqual([]);
  });

  it('refuses a reply that does not pair up', () => {
    expect(() => scoredMembers([b('a'), b('1'), b('b')])).toThrow(/odd number/);
  });
});

describe('readCollections between its steps', () => {
  it('a key emptied after its count (PTTL -2, empty LRANGE) is gone', async () => {
    const { run, sent } = scriptedRunner([
      [[null, 2]],
      [[null, 120]],
      [
        [null, []],
        [null, -2],
      ],
    ]);
    expect(await readCollections(run, [b('k')], 'list', 64 * 1024)).toEqual([{ kind: 'gone' }]);
    expect(sent).toEqual([['llen k'], ['call MEMORY USAGE k SAMPLES 0'], ['lrangeBuffer k 0 1024', 'pttl k']]);
  });

  it('a key replaced by another type after its count is present with that type (TYPE follow-up)', async () => {
    const { run, sent } = scriptedRunner([
      [[null, 1]],
      [[null, 80]],
      [
        [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), null],
        [null, 5000],
      ],
      [[null, 'hash']],
    ]);
    expect(await readCollections(run, [b('k')], 'zset', 64 * 1024)).toEqual([{ kind: 'present', redisType: 'hash', value: Buffer.alloc(0), pttlMs: -1 }]);
    expect(sent[2]).toEqual(['zrangeBuffer k 0 1024 WITHSCORES', 'pttl k']);
    expect(sent[3]).toEqual(['type k']);
  });

  it('a set that grew past the element limit since SCARD is too-large once fetched, with its size now', async () => {
    const members = Array.from({ length: 3 }, (_, i) => b(String(i)));
    const { run, sent } = scriptedRunner([
      [[null, 1]],
      [[null, 60]],
      [
        [null, members],
        [null, -1],
      ],
      [[null, 4]],
    ]);
    // 128 bytes: an element limit of 2.
    expect(await readCollections(run, [b('k')], 'set', 128)).toEqual([{ kind: 'too-large', redisType: 'set', size: 4, unit: 'elements' }]);
    expect(sent[3]).toEqual(['scard k']);
  });

  it('a list that grew past the element limit since LLEN is fetched no further than one element over it', async () => {
    const { run, sent } = scriptedRunner([
      [[null, 2]],
      [[null, 60]],
      [
        [null, [b('a'), b('b'), b('c')]],
        [null, 1000],
      ],
      [[null, 1_000_000]],
    ]);
    expect(await readCollections(run, [b('k')], 'list', 128)).toEqual([{ kind: 'too-large', redisType: 'list', size: 1_000_000, unit: 'elements' }]);
    expect(sent[2]).toEqual(['lrangeBuffer k 0 2', 'pttl k']);
  });

  it('MEMORY USAGE refused: fetched by the count alone, and too-large by its exact bytes when over', async () => {
    const { run } = scriptedRunner([
      [
        [null, 2],
        [null, 1],
      ],
      [
        [new Error("NOPERM User u has no permissions to run the 'memory|usage' command"), null],
        [new Error("NOPERM User u has no permissions to run the 'memory|usage' command"), null],
      ],
      [
        [null, [b('1'), b('2.5'), b('x'.repeat(200)), b('3')]],
        [null, 9000],
        [null, [b('m'), b('inf')]],
        [null, -1],
      ],
    ]);
    const reads = await readCollections(run, [b('big'), b('small')], 'zset', 64 * 2);
    expect(reads).toEqual([
      { kind: 'too-large', redisType: 'zset', size: 1 + 3 + 200 + 1, unit: 'bytes' },
      { kind: 'present', redisType: 'zset', value: [{ member: b('m'), score: 'inf' }], pttlMs: -1 },
    ]);
  });

  it('a ZRANGE WITHSCORES reply that does not pair up is that key\'s error read, not a crash of the batch', async () => {
    const { run } = scriptedRunner([
      [
        [null, 1],
        [null, 1],
      ],
      [
        [null, 50],
        [null, 50],
      ],
      [
        [null, [b('m')]],
        [null, -1],
        [null, [b('n'), b('2')]],
        [null, -1],
      ],
    ]);
    const reads = await readCollections(run, [b('odd'), b('fine')], 'zset', 64 * 1024);
    expect(reads[0]).toEqual({ kind: 'error', message: expect.stringMatching(/odd number/) as unknown });
    expect(reads[1]).toEqual({ kind: 'present', redisType: 'zset', value: [{ member: b('n'), score: '2' }], pttlMs: -1 });
  });

  it('no key is fetched when every one is over a limit or gone', async () => {
    const { run, sent } = scriptedRunner([
      [
        [null, 5000],
        [null, 0],
        [null, 3],
      ],
      [[null, 10 * 1024 * 1024]],
    ]);
    const reads = await readCollections(run, [b('a'), b('b'), b('c')], 'list', 64 * 1024);
    expect(reads).toEqual([
      { kind: 'too-large', redisType: 'list', size: 5000, unit: 'elements' },
      { kind: 'gone' },
      { kind: 'too-large', redisType: 'list', size: 10 * 1024 * 1024 - 3 * 128, unit: 'bytes' },
    ]);
    expect(sent.flat().some((command) => command.startsWith('lrange'))).toBe(false);
  });
});
