import { describe, expect, it } from 'vitest';
import { summarizeCoverage, type ScanRecord } from '../../../src/cache/cluster/coverage.js';
import { formatRanges, type NodeRole } from '../../../src/cache/cluster/topology.js';

type Ranges = [number, number][];
const node = (address: string, role: NodeRole, ranges: Ranges, complete = true) => ({ address, role, slots: formatRanges(ranges), complete, ranges });
const SHARD_A: Ranges = [[0, 5460]];
const SHARD_B: Ranges = [[5461, 10922]];
const SHARD_C: Ranges = [[10923, 16383]];

/** A scan of three shards that ran to the end. */
const fullScan = (): ScanRecord => ({
  nodes: [node('n1:7000', 'master', SHARD_A), node('n2:7001', 'master', SHARD_B), node('n3:7002', 'master', SHARD_C)],
  finished: true,
});

describe('summarizeCoverage', () => {
  it('reports no scan as complete, with no node and nothing missing', () => {
    expect(summarizeCoverage([], 'master')).toEqual({ readFrom: 'master', scans: 0, nodes: [], complete: true });
  });

  it('merges the scans per node: each node once, in slot order, complete when every scan of it was', () => {
    const reversed: ScanRecord = { nodes: [...fullScan().nodes].reverse(), finished: true };
    expect(summarizeCoverage([fullScan(), reversed], 'master')).toEqual({
      readFrom: 'master',
      scans: 2,
      nodes: [
        { address: 'n1:7000', role: 'master', slots: '0-5460', complete: true },
        { address: 'n2:7001', role: 'master', slots: '5461-10922', complete: true },
        { address: 'n3:7002', role: 'master', slots: '10923-16383', complete: true },
      ],
      complete: true,
    });
  });

  it('names a shard read from its master when reading from replicas as a master, apart from the replicas', () => {
    const scan: ScanRecord = {
      nodes: [node('r1:7100', 'replica', SHARD_A), node('n2:7001', 'master', SHARD_B), node('r3:7102', 'replica', SHARD_C)],
      finished: true,
    };
    const coverage = summarizeCoverage([scan], 'replica');
    expect(coverage.readFrom).toBe('replica');
    expect(coverage.nodes.map((n) => `${n.role}@${n.address}`)).toEqual(['replica@r1:7100', 'master@n2:7001', 'replica@r3:7102']);
  });

  it('after a failover, lists the lost master and the replica that took over with the slots each was scanned for', () => {
    const before = fullScan();
    const after: ScanRecord = { nodes: [node('n1:7000', 'master', SHARD_A), node('r2:7101', 'master', SHARD_B), node('n3:7002', 'master', SHARD_C)], finished: true };
    const coverage = summarizeCoverage([before, after], 'master');
    expect(coverage.complete).toBe(true);
    expect(coverage.nodes.filter((n) => n.slots === '5461-10922').map((n) => n.address)).toEqual(['n2:7001', 'r2:7101']);
  });

  it('names the slots an unfinished scan did not list: those of the node lost mid-scan and those not reached', () => {
    const cut: ScanRecord = { nodes: [node('n1:7000', 'master', SHARD_A), node('n2:7001', 'master', SHARD_B, false)], finished: false };
    const coverage = summarizeCoverage([fullScan(), cut], 'master');
    expect(coverage.complete).toBe(false);
    expect(coverage.missing).toBe('5461-16383');
    // n2 ran to the end in the first scan but not in the second: not complete.
    expect(coverage.nodes.find((n) => n.address === 'n2:7001')?.complete).toBe(false);
    expect(coverage.nodes.find((n) => n.address === 'n1:7000')?.complete).toBe(true);
  });

  it('merges the missing slots of several unfinished scans into sorted ranges', () => {
    const lostA: ScanRecord = { nodes: [node('n1:7000', 'master', SHARD_A, false), node('n2:7001', 'master', SHARD_B), node('n3:7002', 'master', SHARD_C)], finished: false };
    const lostC: ScanRecord = { nodes: [node('n1:7000', 'master', SHARD_A), node('n2:7001', 'master', SHARD_B), node('n3:7002', 'master', SHARD_C, false)], finished: false };
    expect(summarizeCoverage([lostC, lostA], 'master').missing).toBe('0-5460,10923-16383');
  });
});

describe('summarizeCoverage with --shard', () => {
  it('expects only the shard\'s slots: its one node complete means the run is complete, and says which slots', () => {
    const scan: ScanRecord = { nodes: [node('n2:7001', 'master', SHARD_B)], finished: true };
    expect(summarizeCoverage([scan], 'master', SHARD_B)).toEqual({
      readFrom: 'master',
      scans: 1,
      nodes: [{ address: 'n2:7001', role: 'master', slots: '5461-10922', complete: true }],
      complete: true,
      slots: '5461-10922',
    });
  });

  it('names the shard\'s slots left out when its scan was cut short, not the other shards\'', () => {
    const scan: ScanRecord = { nodes: [node('n1:7000', 'master', [[0, 2729]], false)], finished: false };
    expect(summarizeCoverage([scan], 'master', [[0, 2729]])).toMatchObject({ complete: false, missing: '0-2729', slots: '0-2729' });
  });
});
