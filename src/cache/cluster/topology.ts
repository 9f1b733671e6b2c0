/** Redis Cluster hash slots: every key lives in one of these, and every slot in one shard. */
export const SLOT_COUNT = 16384;

export type NodeRole = 'master' | 'replica';

/** A node as the reader uses it: its `host:port` and the role it is read in. */
export interface Route {
  address: string;
  role: NodeRole;
}

/** `master@host:port`: the reader keeps one connection per node and role. */
export function routeKey(route: Route): string {
  return `${route.role}@${route.address}`;
}

/** One master with its replicas and the slot ranges it serves (inclusive), in slot order. */
export interface Shard {
  master: string;
  replicas: readonly string[];
  ranges: readonly (readonly [number, number])[];
}

/**
 * A snapshot of the slot map: which shard serves each slot. Built from ioredis' `cluster.slots`
 * (the CLUSTER SLOTS reply, one `host:port` list per slot, master first).
 */
export class Topology {
  /** In the order of their first slot. */
  readonly shards: readonly Shard[];
  private readonly bySlot: (Shard | undefined)[];

  private constructor(shards: Shard[], bySlot: (Shard | undefined)[]) {
    this.shards = shards;
    this.bySlot = bySlot;
  }

  static fromSlots(slots: readonly (readonly string[] | undefined)[]): Topology {
    const byMaster = new Map<string, { master: string; replicas: string[]; ranges: [number, number][] }>();
    const shardOfSlot = new Array<string | undefined>(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const owners = slots[slot];
      const master = owners?.[0];
      if (master === undefined) continue;
      shardOfSlot[slot] = master;
      let shard = byMaster.get(master);
      if (shard === undefined) {
        shard = { master, replicas: [], ranges: [] };
        byMaster.set(master, shard);
      }
      for (const replica of (owners as readonly string[]).slice(1)) if (!shard.replicas.includes(replica)) shard.replicas.push(replica);
      const last = shard.ranges[shard.ranges.length - 1];
      if (last !== undefined && last[1] === slot - 1) last[1] = slot;
      else shard.ranges.push([slot, slot]);
    }
    const shards = [...byMaster.values()];
    const bySlot = shardOfSlot.map((master) => (master === undefined ? undefined : byMaster.get(master)));
    return new Topology(shards, bySlot);
  }

  shardOf(slot: number): Shard | undefined {
    return this.bySlot[slot];
  }

  /** Slot ranges no master serves. */
  unassigned(): [number, number][] {
    const ranges: [number, number][] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (this.bySlot[slot] !== undefined) continue;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last[1] === slot - 1) last[1] = slot;
      else ranges.push([slot, slot]);
    }
    return ranges;
  }
}

/** `0-5460,6000`: slot ranges as people write them. */
export function formatRanges(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`)).join(',');
}

/** Merges overlapping or adjacent ranges, sorted. */
export function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].map(([a, b]) => [a, b] as [number, number]).sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** The slots of `all` not in `covered` (both sorted, merged). */
export function subtractRanges(all: readonly (readonly [number, number])[], covered: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  for (const [from, to] of all) {
    let start = from;
    for (const [a, b] of covered) {
      if (b < start || a > to) continue;
      if (a > start) out.push([start, a - 1]);
      start = Math.max(start, b + 1);
    }
    if (start <= to) out.push([start, to]);
  }
  return out;
}
