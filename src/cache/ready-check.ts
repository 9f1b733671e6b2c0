import type { Redis } from 'ioredis';

type ReadyCallback = (error: Error | null, info?: unknown) => void;

/**
 * ioredis' ready check, without its console.warn. On every connect (and reconnect) ioredis sends
 * INFO before it lets commands through: while the server is still loading its data (`loading:1`)
 * it asks again after the loading ETA (at most maxLoadingRetryTime), and the Sentinel connector
 * checks the node's `role` from the same reply. That is the waiting the reader relies on. But
 * when the ACL user may not run INFO, ioredis skips the check with a console.warn ("Skipping the
 * ready check because INFO command fails") onto the user's terminal, which a CLI must not print.
 * This installs the same check on `client`, quiet: a NOPERM on INFO skips it silently, as ioredis
 * would (such a user cannot learn whether the server is loading; its commands then fail with
 * LOADING as they would have). Installed before connecting; the client is returned.
 */
export function quietReadyCheck<T extends Redis>(client: T): T {
  const target = client as unknown as { _readyCheck?: (callback: ReadyCallback) => void };
  // ioredis 5 calls it from its connect handler when enableReadyCheck is on.
  if (typeof target._readyCheck !== 'function') return client;
  const check = (callback: ReadyCallback): void => {
    client
      .info((error, reply) => {
        if (error) {
          if (/NOPERM/.test(error.message)) callback(null, {});
          else callback(error);
          return;
        }
        if (typeof reply !== 'string') {
          callback(null, reply);
          return;
        }
        const info = parseInfo(reply);
        if (info['loading'] === undefined || info['loading'] === '0') {
          callback(null, info);
          return;
        }
        const eta = Number(info['loading_eta_seconds'] ?? NaN);
        const etaMs = Number.isFinite(eta) ? Math.max(100, eta * 1000) : 1000;
        const cap = client.options.maxLoadingRetryTime;
        setTimeout(() => check(callback), cap !== undefined && cap > 0 && cap < etaMs ? cap : etaMs);
      })
      .catch(() => {});
  };
  target._readyCheck = check;
  return client;
}

/** INFO's `field:value` lines (section headers and blank lines skipped). */
function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && colon < line.length - 1) info[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return info;
}
