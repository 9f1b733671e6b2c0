/**
 * What a per-key error read from one cluster node means. The standalone reader (run on each node)
 * returns a server's error reply as `{kind: 'error', message}`; in a cluster some of those are
 * not about the key at all but about where it lives, and some are not replies but a lost
 * connection. Only the rest are the key's own error.
 */
export type KeyErrorMeaning =
  /** The slot is served elsewhere (MOVED) or this key already moved there (ASK, slot migrating). */
  | { kind: 'moved' | 'ask'; address: string; message: string }
  /** Come back later: a failover or migration is under way (CLUSTERDOWN, TRYAGAIN, LOADING, MASTERDOWN). */
  | { kind: 'retry'; message: string }
  /** Not a server reply: the connection dropped under the pipeline ("Connection is closed."). */
  | { kind: 'lost'; message: string }
  /** The key's own error (an ERR reply, say): the read stands. */
  | { kind: 'error'; message: string };

export function keyErrorMeaning(message: string, nodeAddress: string): KeyErrorMeaning {
  const pointer = /^(MOVED|ASK) \d+ (\S*)$/.exec(message);
  if (pointer !== null) {
    // An older server may leave the host out (":7001"): it is then the host that answered.
    let address = pointer[2] as string;
    if (address.startsWith(':')) address = `${nodeAddress.slice(0, nodeAddress.lastIndexOf(':'))}${address}`;
    return { kind: pointer[1] === 'MOVED' ? 'moved' : 'ask', address, message };
  }
  if (/^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN)\b/.test(message)) return { kind: 'retry', message };
  // Server error replies start with an upper-case code (ERR, WRONGTYPE, NOPERM...); ioredis' own
  // connection errors do not ("Connection is closed.", "Stream isn't writeable...").
  if (!/^[A-Z][A-Z_]*(?: |$)/.test(message)) return { kind: 'lost', message };
  return { kind: 'error', message };
}
