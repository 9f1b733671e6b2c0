import type { Reason } from './verdict.js';

/** The likely cause of each reason, in one line an on-call engineer can act on. */
export const LIKELY_CAUSE: Record<Reason, string> = {
  'no-ttl': 'a write path stores this key without an expiry (SET without EX, or a PERSIST): it will never heal; find that writer',
  'stale-beyond-budget': 'the declared TTL is longer than the freshness budget allows: invalidate on write, or shorten the TTL (see TTL advice)',
  'stale-repopulated': 'read-populates-stale race: a reader loaded the old row and wrote it to the cache after the update invalidated it (use versioned writes, leases, or a delayed second delete)',
  'ttl-exceeds-declared': 'some writer sets a longer expiry than the rule declares (another service, an old deploy, or a different TTL constant)',
  'cache-ahead': 'the cache holds a newer version than the source: an unflushed write-behind, a rolled-back transaction that still updated the cache, or a lagging replica as the source',
  'payload-drift': 'same version, different payload: an update that did not bump the version, or a serializer change between writer and reader',
  orphan: 'the row was deleted but its cache entry was not: a missed invalidation on the delete path',
  'ttl-bounded': 'ordinary TTL staleness: the entry expires within the freshness budget',
  'ttl-bounded-assumed': 'probably ordinary TTL staleness: the change time is unknown, but the declared TTL fits the budget',
  converged: 'a write was in flight: the second read agreed',
  undecodable: 'the cached bytes do not decode with the rule\'s codec: a different serializer wrote this key, or the rule names the wrong codec',
  'source-error': 'the source query failed for this key: see the detail',
  'cache-error': 'Redis refused the read: see the detail',
  timeout: 'the source did not answer within --timeout: a slow query, a lock, or an overloaded database',
  vanished: 'the key was not found when read: it expired or was deleted (after the scan, in an audit)',
  'too-large': 'the value is over --max-value-bytes and was not fetched',
  'wrong-type': 'the key holds another Redis type than the rule declares: another family shares this pattern, or the rule declares the wrong type',
};
