/**
 * What the SCANs of a cluster run covered: each scan records the nodes it listed and for which
 * slot ranges, and the summary merges them per node and names the slots some scan left out (a
 * node lost mid-scan, a scan cut short). Pure; the reader (cluster-reader.ts) fills the records.
 */
import { formatRanges, mergeRanges, routeKey, SLOT_COUNT, subtractRanges, type NodeRole } from './topology.js';
import type { CacheReader } from '../types.js';

/** What the SCANs of a run listed: the nodes and slot ranges, and whether anything was left out. */
export interface ClusterCoverage {
  readFrom: 'master' | 'replica';
  /** How many scans (one per family) ran or started. */
  scans: number;
  /** Every node scanned, in slot order. With readFrom replica, role 'master' marks a shard read from its master (no replica reachable). */
  nodes: ClusterNodeCoverage[];
  /** True when every scan so far listed all 16384 slots to the end. */
  complete: boolean;
  /** The slot ranges some scan did not list (a node lost mid-scan, a scan cut short); absent when complete. */
  missing?: string;
  /** With --shard on a Cluster: the slots this shard owns, all a complete scan lists (absent: all 16384). */
  slots?: string;
}

export interface ClusterNodeCoverage {
  /** host:port, as the cluster announces it. */
  address: string;
  role: NodeRole;
  /** The slot ranges it was scanned for, e.g. `0-5460`. */
  slots: string;
  /** Its SCAN ran to the end (cursor 0) every time it was used. */
  complete: boolean;
}

/** A CacheReader over a Redis Cluster, which also tells what its scans covered. */
export interface ClusterCacheReader extends CacheReader {
  coverage(): ClusterCoverage;
}

/** One scan: the nodes it listed (in the order it used them), and whether it ran to the end. */
export interface ScanRecord {
  nodes: (ClusterNodeCoverage & { ranges: readonly (readonly [number, number])[] })[];
  finished: boolean;
}

/**
 * Merges the scans' records per node and role, nodes in slot order, with the slots left out of
 * `expected` (every slot, unless --shard limits the run to some).
 */
export function summarizeCoverage(
  scans: readonly ScanRecord[],
  readFrom: 'master' | 'replica',
  expected: readonly (readonly [number, number])[] = [[0, SLOT_COUNT - 1]],
): ClusterCoverage {
  const sharded = !(expected.length === 1 && expected[0]?.[0] === 0 && expected[0][1] === SLOT_COUNT - 1);
  const byNode = new Map<string, { address: string; role: NodeRole; ranges: [number, number][]; complete: boolean }>();
  const missing: [number, number][] = [];
  for (const scan of scans) {
    for (const node of scan.nodes) {
      const key = routeKey(node);
      const entry = byNode.get(key) ?? { address: node.address, role: node.role, ranges: [], complete: true };
      entry.ranges = mergeRanges([...entry.ranges, ...node.ranges]);
      entry.complete &&= node.complete;
      byNode.set(key, entry);
    }
    if (!scan.finished) {
      const listed = mergeRanges(scan.nodes.filter((n) => n.complete).flatMap((n) => n.ranges));
      missing.push(...subtractRanges(expected, listed));
    }
  }
  const nodes = [...byNode.values()]
    .sort((a, b) => (a.ranges[0]?.[0] ?? 0) - (b.ranges[0]?.[0] ?? 0))
    .map(({ address, role, ranges, complete }) => ({ address, role, slots: formatRanges(ranges), complete }));
  const complete = scans.every((s) => s.finished);
  return {
    readFrom,
    scans: scans.length,
    nodes,
    complete,
    ...(complete ? {} : { missing: formatRanges(mergeRanges(missing)) }),
    ...(sharded ? { slots: formatRanges(expected) } : {}),
  };
}
