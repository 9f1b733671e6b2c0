/**
 * The keys of a cluster read batch while they are being read: each key's slot and what its last
 * attempt said (MOVED, come back later, node lost), how a round's keys are grouped into one
 * pipeline per node, and when a key has been tried enough. Pure: no connection, no clock; the
 * batch reader (batch-read.ts) does the I/O around it.
 */
import calculateSlot from 'cluster-key-slot';
import { keyErrorMeaning, type KeyErrorMeaning } from './redirect.js';
import { routeKey, type Route } from './topology.js';

/** MOVED hops per key before it becomes an error read (error/cache-error). */
export const MAX_REDIRECTS = 5;
/** Rounds of a batch's read before what is left becomes error reads, whatever the cause. */
export const MAX_ROUNDS = 12;

/** A node that could not be read; `dropped` when a working connection failed (worth one reconnect). */
export type LostNode = Route & { dropped: boolean };

/** One key of a read batch on its way to the node that holds it. */
export interface Pending {
  /** Its place in the batch: its CacheRead goes there. */
  index: number;
  key: Buffer;
  slot: number;
  /** MOVED hops so far. */
  redirects: number;
  /** This round's MOVED reply: its target, and the node that sent it (for a slot map that lags). */
  moved?: { from: string; to: string };
  /** This round said "come back later" (CLUSTERDOWN, TRYAGAIN, ASK...). */
  retry?: boolean;
  /** This round could not reach this node. */
  unreachable?: LostNode;
  /** The last redirect or failure, for the error read should the key never be read. */
  last?: string;
}

/** A batch's keys, in order, each with its hash slot (as CLUSTER KEYSLOT computes it). */
export function pendingKeys(keys: readonly Buffer[]): Pending[] {
  return keys.map((key, index) => ({ index, key, slot: calculateSlot(key), redirects: 0 }));
}

/** Keys routed to the same node and role form one group (one pipeline), groups in order of first key. */
export function groupByNode(routed: readonly { item: Pending; route: Route }[]): { route: Route; items: Pending[] }[] {
  const groups = new Map<string, { route: Route; items: Pending[] }>();
  for (const { item, route } of routed) {
    const key = routeKey(route);
    const group = groups.get(key) ?? { route, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * Records on `item` what a per-key error reply from `route` means for it, and returns that
 * meaning: kind 'error' is the key's own error (the read stands); any other kind means the key is
 * to be tried again (MOVED counts a hop, 'lost' marks the node unreachable, the rest retry).
 */
export function noteKeyError(item: Pending, message: string, route: Route): KeyErrorMeaning {
  const meaning = keyErrorMeaning(message, route.address);
  item.last = meaning.message;
  if (meaning.kind === 'moved') {
    item.redirects++;
    item.moved = { from: route.address, to: meaning.address };
  } else if (meaning.kind === 'lost') {
    item.unreachable = { ...route, dropped: true };
  } else if (meaning.kind !== 'error') {
    // Come back later. For ASK (the key already moved to a slot's importing node), reading it
    // there needs ASKING, which is not a read command: the key is read once the migration ends
    // and the slot answers MOVED.
    if (meaning.kind === 'ask') item.last = `${meaning.message} (slot ${item.slot} is migrating; shadowcheck does not send ASKING)`;
    item.retry = true;
  }
  return meaning;
}

/** The nodes this round could not reach, each once (per node and role), in order of first key. */
export function lostNodes(again: readonly Pending[]): LostNode[] {
  const lost = new Map(again.flatMap((item) => (item.unreachable === undefined ? [] : [[routeKey(item.unreachable), item.unreachable] as const])));
  return [...lost.values()];
}

/**
 * Whether a key to try again has been tried enough after `round` rounds: too many rounds or hops,
 * a retry past the deadline, or still no node to read it from (after waiting for a failover).
 * `routable` is asked only for a key whose node could not be reached.
 */
export function isStuck(item: Pending, round: number, expired: boolean, routable: (slot: number) => boolean): boolean {
  return (
    round >= MAX_ROUNDS ||
    item.redirects > MAX_REDIRECTS ||
    (item.retry === true && expired) ||
    (item.unreachable !== undefined && !routable(item.slot))
  );
}
