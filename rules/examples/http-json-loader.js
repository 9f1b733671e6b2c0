/**
 * An example `kind: module` loader for shadowcheck: reads source rows from an HTTP JSON API.
 * Copy it into your project and adapt it; it is also run by shadowcheck's own tests.
 *
 *   sources:
 *     api: { kind: module, module: ./http-json-loader.js, url: "${ITEMS_API_URL}" }
 *   families:
 *     - name: item
 *       pattern: "item:{id}"
 *       source: api
 *       table: items          # the API resource the family's rows come from
 *       key: id               # composite keys work too: key: [tenant_id, id]
 *
 * The API it expects, under the source's `url` (user:password in the url is sent as HTTP Basic
 * authentication, never in the request line):
 *
 *   GET  {url}/health              any 2xx: the service is up (asked once, at start)
 *   POST {url}/{table}/lookup      one batch of ids (and no ids, once per family before the audit)
 *        request:  {"key": ["id"], "ids": [["1"], ["3"]]}
 *                  one array of parts per id, one part per key column, in the rule's `key` order
 *        response: {"nowMs": 1714557600123, "dates": ["updated_at"], "rows": [{"id": 1, ...}]}
 *                  rows:  the rows found, each with its key columns; absent ids are left out
 *                  nowMs: the service's clock, epoch ms (else the HTTP Date header, 1 s resolution)
 *                  dates: columns holding ISO 8601 timestamps, returned as Dates (zone-less: UTC)
 *
 * Numbers are parsed exactly (a bigint past 2^53 or a decimal like 19.90 as a LosslessNumber), as
 * the SQL loaders return them. Errors keep the loader contract: a request past `timeoutMs`, an
 * HTTP error status or a malformed answer fails its batch (SourceQueryError); a refused or broken
 * connection ends the audit (ConnectionError). Requests go through Node's built-in fetch; the
 * audit's --concurrency bounds how many are in flight.
 */
import { ConnectionError, idParts, parseJsonExact, redactUrl, SourceQueryError, toBatch, UsageError } from 'shadowcheck';

/** Socket-level failures: the service is gone, not one request. */
const NETWORK_REASONS = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** @type {import('shadowcheck').SourceLoaderFactory} */
// eslint-disable-next-line no-restricted-syntax -- the loader contract is the module's default export
export default async function createHttpJsonLoader(spec, options) {
  if (spec.url === undefined) {
    throw new UsageError(`source "${spec.name}" has no url`, { hint: `give source "${spec.name}" the base URL of the JSON API, e.g. url: "\${ITEMS_API_URL}"` });
  }
  const api = new HttpJsonApi(spec, options.timeoutMs);
  try {
    await api.request('GET', 'health');
  } catch (error) {
    throw api.failure(error, 'connect');
  }
  return {
    async load(rule, ids) {
      const resource = resourceOf(rule);
      const key = rule.key;
      let answer;
      try {
        answer = await api.request('POST', `${encodeURIComponent(resource)}/lookup`, { key, ids: ids.map((id) => idParts(id, key.length)) });
      } catch (error) {
        throw api.failure(error, 'batch', rule.name);
      }
      return toBatch(rowsOf(answer.body, rule), key, clockOf(answer, rule));
    },

    /** Before the audit: the family names a resource the API has (a lookup of no ids). */
    async check(rule) {
      const resource = resourceOf(rule);
      try {
        await api.request('POST', `${encodeURIComponent(resource)}/lookup`, { key: rule.key, ids: [] });
      } catch (error) {
        throw api.failure(error, 'check', rule.name);
      }
    },

    // fetch's connections are shared and closed when idle: nothing of ours to end.
    async close() {},
  };
}

class HttpJsonApi {
  /**
   * @param {import('shadowcheck').SourceSpec} spec
   * @param {number} timeoutMs
   */
  constructor(spec, timeoutMs) {
    this.spec = spec;
    this.timeoutMs = timeoutMs;
    const url = new URL(/** @type {string} */ (spec.url));
    /** @type {Record<string, string>} */
    this.headers = { accept: 'application/json' };
    // fetch refuses URLs with credentials: send them as Basic authentication instead.
    if (url.username !== '' || url.password !== '') {
      const login = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(login).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.base = url.href.replace(/\/+$/, '');
    this.shown = redactUrl(/** @type {string} */ (spec.url));
  }

  /**
   * One request within timeoutMs (headers and body), its JSON parsed exactly.
   * @param {'GET' | 'POST'} method
   * @param {string} path
   * @param {unknown} [payload]
   * @returns {Promise<{ body: unknown, date: string | null }>}
   */
  async request(method, path, payload) {
    const response = await fetch(`${this.base}/${path}`, {
      method,
      headers: payload === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new HttpStatusError(method, path, response.status, text);
    if (method === 'GET') return { body: undefined, date: response.headers.get('date') };
    try {
      return { body: parseJsonExact(text), date: response.headers.get('date') };
    } catch (error) {
      throw new HttpStatusError(method, path, response.status, `not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * What a failed request means for the audit, as the contract's typed errors.
   * @param {unknown} error
   * @param {'connect' | 'batch' | 'check'} during
   * @param {string} [family]
   */
  failure(error, during, family) {
    if (error instanceof SourceQueryError || error instanceof ConnectionError) return error;
    const source = `source "${this.spec.name}" (${this.shown})`;
    const network = networkReason(error);
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    if (during === 'connect') {
      const reason = network ?? (timedOut ? `no answer within ${this.timeoutMs} ms` : messageOf(error));
      return new ConnectionError(`cannot connect to ${source}: ${reason}`, {
        hint: `is the service running and reachable at that host and port, and does GET {url}/health answer 2xx? Check the url of source "${this.spec.name}" in the rules file`,
        cause: error,
      });
    }
    if (network !== undefined) {
      return new ConnectionError(`lost the connection to ${source} while loading family "${family}": ${network}`, {
        hint: 'the service closed the connection; run the audit again once it is back',
        cause: error,
      });
    }
    if (timedOut) {
      return new SourceQueryError(`family "${family}": no answer from ${source} within ${this.timeoutMs} ms`, { timeout: true, cause: error });
    }
    return new SourceQueryError(`family "${family}": ${messageOf(error)}`, { timeout: false, cause: error });
  }
}

class HttpStatusError extends Error {
  /**
   * @param {string} method
   * @param {string} path
   * @param {number} status
   * @param {string} body
   */
  constructor(method, path, status, body) {
    const excerpt = body.length > 200 ? `${body.slice(0, 199)}…` : body;
    super(`${method} /${path} answered HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * The API resource of a family: its `table`.
 * @param {import('shadowcheck').FamilyRule} rule
 */
function resourceOf(rule) {
  if (rule.table === undefined) {
    throw new SourceQueryError(`family "${rule.name}": needs "table", the API resource its rows come from (table: items reads POST {url}/items/lookup)`, {
      timeout: false,
    });
  }
  return rule.table;
}

/**
 * The answer's rows, with their date columns as Dates; fails when a row lacks a key column (every
 * id would otherwise look absent, and every cached entry an orphan).
 * @param {unknown} body
 * @param {import('shadowcheck').FamilyRule} rule
 * @returns {Record<string, unknown>[]}
 */
function rowsOf(body, rule) {
  const answer = /** @type {{ rows?: unknown, dates?: unknown }} */ (isObject(body) ? body : {});
  if (!Array.isArray(answer.rows) || !answer.rows.every(isObject)) {
    throw new SourceQueryError(`family "${rule.name}": the answer has no "rows" array of objects`, { timeout: false });
  }
  /** @type {Record<string, unknown>[]} */
  const rows = answer.rows;
  for (const row of rows) {
    const missing = rule.key.find((column) => !Object.hasOwn(row, column));
    if (missing !== undefined) {
      throw new SourceQueryError(`family "${rule.name}": the API's rows have no key column "${missing}"; their columns are: ${Object.keys(row).join(', ')}`, {
        timeout: false,
      });
    }
  }
  const dates = Array.isArray(answer.dates) ? answer.dates.filter((d) => typeof d === 'string') : [];
  for (const row of rows) {
    for (const column of dates) {
      const value = row[column];
      if (value === null || value === undefined) continue;
      const date = typeof value === 'string' ? isoDate(value) : undefined;
      if (date === undefined) {
        // The value itself stays out of the message: error details reach reports, unredacted.
        throw new SourceQueryError(`family "${rule.name}": column "${column}" is listed in "dates" but a row holds a ${typeof value} that is not an ISO 8601 timestamp`, {
          timeout: false,
        });
      }
      row[column] = date;
    }
  }
  return rows;
}

/**
 * An ISO 8601 timestamp as a Date; without a zone it is UTC (never the host's zone).
 * @param {string} text
 */
function isoDate(text) {
  const match = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/i.exec(text);
  if (match === null) return undefined;
  const iso = text.length === 10 ? `${text}T00:00:00Z` : `${text.replace(' ', 'T')}${match[1] === undefined ? 'Z' : ''}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The service's clock: the answer's nowMs, else its Date header.
 * @param {{ body: unknown, date: string | null }} answer
 * @param {import('shadowcheck').FamilyRule} rule
 */
function clockOf(answer, rule) {
  const nowMs = isObject(answer.body) ? Number(answer.body['nowMs']) : NaN;
  if (Number.isFinite(nowMs)) return Math.floor(nowMs);
  const date = answer.date === null ? NaN : Date.parse(answer.date);
  if (Number.isFinite(date)) return date;
  throw new SourceQueryError(`family "${rule.name}": the answer carries no clock ("nowMs" or a Date header)`, { timeout: false });
}

/**
 * Words for a socket-level failure (fetch wraps it: TypeError "fetch failed" with the cause), or
 * undefined when the failure is not one.
 * @param {unknown} error
 */
function networkReason(error) {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = /** @type {{ code?: unknown }} */ (e).code;
    if (typeof code === 'string' && Object.hasOwn(NETWORK_REASONS, code)) return NETWORK_REASONS[/** @type {keyof typeof NETWORK_REASONS} */ (code)];
    // An AggregateError (several addresses tried) carries the reasons in `errors`.
    if (e instanceof AggregateError && e.errors[0] !== undefined) return networkReason(e.errors[0]);
  }
  return undefined;
}

/**
 * The error's message, with its cause's: fetch rejects with a bare "fetch failed".
 * @param {unknown} error
 */
function messageOf(error) {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error && error.cause.message !== '' ? `${error.message} (${error.cause.message})` : error.message;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
