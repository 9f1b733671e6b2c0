import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterShardParts, clusterSlotOwners, SLOT_COUNT, type MasterSlots } from '../../../src/core/shard.js';

const THREE: MasterSlots[] = [{ ranges: [[0, 5460]] }, { ranges: [[5461, 10922]] }, { ranges: [[10923, 16383]] }];

/** A random topology: the 16384 slots cut into contiguous ranges, each given to one of `m` masters (each gets at least one). */
const topology = fc
  .integer({ min: 1, max: 8 })
  .chain((m) =>
    fc.record({
      m: fc.constant(m),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: SLOT_COUNT - 1 }), { minLength: m - 1, maxLength: m + 20 }),
      owners: fc.array(fc.nat(m - 1), { minLength: m + 21, maxLength: m + 21 }),
      shuffle: fc.array(fc.nat(), { minLength: m, maxLength: m }),
    }),
  )
  .map(({ m, cuts, owners, shuffle }) => {
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), SLOT_COUNT];
    const masters: [number, number][][] = Array.from({ length: m }, () => []);
    for (let r = 0; r + 1 < bounds.length; r++) {
      // The first m ranges go to masters 0..m-1 so that none is empty; the rest at random.
      const owner = r < m ? r : (owners[r] as number);
      masters[owner]?.push([bounds[r] as number, (bounds[r + 1] as number) - 1]);
    }
    // The order masters are given in must not matter.
    return masters.map((ranges, i) => ({ ranges, key: shuffle[i] as number })).sort((a, b) => a.key - b.key).map(({ ranges }) => ({ ranges }));
  });

describe('clusterShardParts (--shard i/N on a Cluster)', () => {
  it('N <= masters: whole masters, master j (by lowest slot) to shard j mod N', () => {
    expect(clusterShardParts(THREE, 3)).toEqual([
      { masters: [0], slots: [[0, 5460]] },
      { masters: [1], slots: [[5461, 10922]] },
      { masters: [2], slots: [[10923, 16383]] },
    ]);
    expect(clusterShardParts(THREE, 2)).toEqual([
      { masters: [0, 2], slots: [[0, 5460], [10923, 16383]] },
      { masters: [1], slots: [[5461, 10922]] },
    ]);
    expect(clusterShardParts(THREE, 1)).toEqual([{ masters: [0, 1, 2], slots: [[0, 16383]] }]);
  });

  it('orders masters by their lowest slot, whatever order they come in', () => {
    const reversed = [...THREE].reverse();
    expect(clusterShardParts(reversed, 3).map((p) => p.slots)).toEqual(clusterShardParts(THREE, 3).map((p) => p.slots));
    expect(clusterShardParts(reversed, 3)[0]?.masters).toEqual([2]);
  });

  it('N > masters: each shard one master, the master\'s slots cut into contiguous near-equal parts', () => {
    const parts = clusterShardParts(THREE, 5);
    // Master 0 is shared by shards 0 and 3, master 1 by 1 and 4, master 2 by shard 2 alone.
    expect(parts.map((p) => p.masters)).toEqual([[0], [1], [2], [0], [1]]);
    expect(parts.map((p) => p.slots)).toEqual([[[0, 2729]], [[5461, 8191]], [[10923, 16383]], [[2730, 5460]], [[8192, 10922]]]);
  });

  it('a master serving several ranges keeps them together', () => {
    const masters: MasterSlots[] = [{ ranges: [[0, 99], [200, 16383]] }, { ranges: [[100, 199]] }];
    expect(clusterShardParts(masters, 2)).toEqual([
      { masters: [0], slots: [[0, 99], [200, 16383]] },
      { masters: [1], slots: [[100, 199]] },
    ]);
  });

  it('every slot is owned by exactly one shard, within the masters it scans, for any topology and N', () => {
    fc.assert(
      fc.property(topology, fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(16384)), (masters, count) => {
        const parts = clusterShardParts(masters, count);
        const masterOf = new Int32Array(SLOT_COUNT).fill(-1);
        masters.forEach((m, i) => m.ranges.forEach(([a, b]) => masterOf.fill(i, a, b + 1)));
        const owners = new Int32Array(SLOT_COUNT).fill(-1);
        const problems: string[] = [];
        parts.forEach((part, shard) => {
          for (const [from, to] of part.slots) {
            for (let slot = from; slot <= to; slot++) {
              if (owners[slot] !== -1) problems.push(`slot ${slot} owned by shards ${owners[slot]} and ${shard}`);
              owners[slot] = shard;
              // Each owned slot is served by one of the masters the shard scans.
              if (!part.masters.includes(masterOf[slot] as number)) problems.push(`slot ${slot} of shard ${shard} is on a master it does not scan`);
            }
          }
          if (count <= masters.length ? part.masters.length === 0 : part.masters.length !== 1) problems.push(`shard ${shard} scans ${part.masters.length} masters`);
        });
        expect(problems.slice(0, 5)).toEqual([]);
        expect(owners.indexOf(-1)).toBe(-1);
        const fromOwners = clusterSlotOwners(masters, count);
        expect(fromOwners.findIndex((o, slot) => o !== owners[slot])).toBe(-1);
        // No master is scanned by two shards while there are no more shards than masters.
        if (count <= masters.length) expect(new Set(parts.flatMap((p) => p.masters)).size).toBe(masters.length);
        return true;
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
