import { UsageError } from '../../errors.js';
import { PERCENT_ENCODE_HINT, redactUrl } from '../../util/redact-url.js';

/** A parsed `redis+cluster://[user:pass@]host:port,host:port,.../` URL. */
export interface ClusterUrl {
  /** The seed nodes, in the order written. */
  seeds: { host: string; port: number }[];
  username?: string;
  /** Applies to every node of the cluster. */
  password?: string;
  /** The URL with the password masked, for reports and logs. */
  redacted: string;
}

export const CLUSTER_SCHEME = 'redis+cluster:';

/**
 * Parses a cluster URL. WHATWG URL parsing cannot be used: a list of hosts is not a valid
 * authority. A path other than `/` or `/0` is refused, since a cluster has only database 0.
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const prefix = `${CLUSTER_SCHEME}//`;
  if (!url.toLowerCase().startsWith(prefix)) throw invalid(redactUrl(url), `expected a URL starting with ${prefix}`);
  const rest = url.slice(prefix.length);
  // The last '@' ends the credentials: a password may hold '@' or '/', a host list holds neither.
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : rest.slice(0, at);
  const hostsAndPath = rest.slice(at + 1);
  const slash = hostsAndPath.search(/[/?#]/);
  const hostList = slash < 0 ? hostsAndPath : hostsAndPath.slice(0, slash);
  const tail = slash < 0 ? '' : hostsAndPath.slice(slash);

  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const masked = `${prefix}***@${hostList}/`;
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user !== '') username = decode(user, masked);
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), masked);
  }
  const credentials =
    userinfo === undefined ? '' : `${username === undefined ? '' : encodeURIComponent(username)}${password === undefined ? '' : ':***'}@`;
  // The tail may carry `?password=`: the one masker hides it too.
  const redacted = redactUrl(`${prefix}${credentials}${hostList}${tail === '' ? '/' : tail}`);

  if (tail !== '' && tail !== '/' && tail !== '/0') {
    throw invalid(redacted, 'a cluster has only database 0: end the URL with the host list or "/"');
  }
  const seeds = hostList.split(',').map((entry) => parseHostPort(entry.trim(), redacted));
  if (seeds.length === 0 || hostList.trim() === '') throw invalid(redacted, 'expected at least one host:port');
  return {
    seeds,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    redacted,
  };
}

function parseHostPort(entry: string, redacted: string): { host: string; port: number } {
  // [v6]:port, host:port, or host alone (port 6379).
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/i.exec(entry);
  if (match === null) throw invalid(redacted, `"${entry}" is not a host:port`);
  const host = (match[1] ?? match[2]) as string;
  const port = match[3] === undefined ? 6379 : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(redacted, `"${entry}": port must be 1-65535`);
  return { host, port };
}

function decode(text: string, masked: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(masked, 'the credentials are not valid percent-encoding', PERCENT_ENCODE_HINT);
  }
}

function invalid(redacted: string, why: string, hint = 'for example redis+cluster://127.0.0.1:7000,127.0.0.1:7001/'): UsageError {
  return new UsageError(`--redis ${redacted}: ${why}`, { hint });
}
