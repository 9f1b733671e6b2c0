/**
 * The HTTP JSON API that rules/examples/http-json-loader.js reads, served by the tests themselves
 * on 127.0.0.1 (a free port). The loader stays generic; this server fakes the behaviours a test
 * asks for, chosen by the resource (the family's `table`):
 *
 *   items          the rows whose key columns match the ids
 *   items_slow     the same, after 5 s (for timeouts)
 *   items_twice    every matching row twice (a family that does not identify one row per id)
 *   items_nokey    the matching rows without their key columns
 *   items_hold_*   never answers until kill() destroys its connection (a server dying mid-batch)
 *   broken         HTTP 500
 *   anything else  HTTP 404
 *
 * Rows are kept as JSON text, so numbers past 2^53 and decimals with their scale (19.90) reach
 * the loader exactly as a real API would write them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ApiRow {
  /** The key columns' values, as the ids spell them. */
  key: Record<string, string>;
  /** The row as the API writes it (any valid JSON object text). */
  json: string;
}

export interface JsonApi {
  /** `http://user:password@127.0.0.1:port/api`, the source url. */
  url: string;
  /** Lookups received, by resource. */
  lookups: Map<string, number>;
  /** Destroys the connections of the held requests of `items_hold_<marker>`; true when there was one. */
  kill(marker: string): boolean;
  close(): Promise<void>;
}

export interface JsonApiOptions {
  rows: readonly ApiRow[];
  /** Columns the answers list in `dates`. */
  dates?: readonly string[];
  user?: string;
  password?: string;
}

const PREFIX = '/api/';

export async function startJsonApi(options: JsonApiOptions): Promise<JsonApi> {
  const user = options.user ?? 'shadow';
  const password = options.password ?? 'api-pw';
  const expectedAuth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const held = new Map<string, Set<Socket>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const lookups = new Map<string, number>();

  const answer = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== expectedAuth) return answer(res, 401, '{"error":"bad credentials"}');
    const path = req.url ?? '';
    if (req.method === 'GET' && path === `${PREFIX}health`) return answer(res, 200, '{"ok":true}');
    const lookup = /^\/api\/([^/]+)\/lookup$/.exec(path);
    if (req.method !== 'POST' || lookup === null) return answer(res, 404, '{"error":"no such route"}');
    const resource = decodeURIComponent(lookup[1] as string);
    lookups.set(resource, (lookups.get(resource) ?? 0) + 1);
    const request = JSON.parse(await readBody(req)) as { key: string[]; ids: string[][] };

    if (resource.startsWith('items_hold_')) {
      const set = held.get(resource) ?? new Set();
      set.add(req.socket);
      held.set(resource, set);
      return undefined; // never answered: kill() ends it
    }
    if (resource === 'broken') return answer(res, 500, '{"error":"the database behind the API is down"}');
    if (!['items', 'items_slow', 'items_twice', 'items_nokey'].includes(resource)) return answer(res, 404, `{"error":"no resource ${resource}"}`);

    const wanted = new Set(request.ids.map((parts) => JSON.stringify(parts)));
    let rows = options.rows.filter((row) => wanted.has(JSON.stringify(request.key.map((column) => row.key[column]))));
    if (resource === 'items_twice') rows = [...rows, ...rows];
    const texts = rows.map((row) => (resource === 'items_nokey' ? withoutColumns(row.json, Object.keys(row.key)) : row.json));
    const body = `{"nowMs":${Date.now()},"dates":${JSON.stringify(options.dates ?? [])},"rows":[${texts.join(',')}]}`;
    if (resource === 'items_slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer(res, 200, body);
      }, 5000);
      timers.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
      return undefined;
    }
    return answer(res, 200, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => answer(res, 400, JSON.stringify({ error: String(error) })));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${user}:${password}@127.0.0.1:${port}/api`,
    lookups,
    kill: (marker) => {
      const set = held.get(`items_hold_${marker}`);
      if (set === undefined || set.size === 0) return false;
      for (const socket of set) socket.destroy();
      set.clear();
      return true;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** The row's JSON text without some top-level columns (values are small scalars in these tests). */
function withoutColumns(json: string, columns: readonly string[]): string {
  let out = json;
  for (const column of columns) out = out.replace(new RegExp(`"${column}":(?:"[^"]*"|[^,}]*),?`), '');
  return out.replace(/,}$/, '}');
}
