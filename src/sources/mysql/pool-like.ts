/**
 * The parts of mysql2/promise the loader uses, structurally (no mysql2 types leak out, and tests
 * can hand the loader anything of this shape), and the client-side timeout around a connection.
 */
import type { MysqlColumnDefinition } from './column-types.js';

/** A result column as mysql2 describes it (type code, length, flags, charset; column-types.ts reads them). */
export type MysqlFieldLike = MysqlColumnDefinition;

/** What the loader sends: mysql2's QueryOptions subset (`timeout` is client-side, ms). */
export interface MysqlQueryOptions {
  sql: string;
  values?: unknown[];
  timeout?: number;
}

/** The part of a mysql2/promise pool connection the loader uses. */
export interface MysqlConnectionLike {
  /** The server's connection id (mysql2 sets it): lets activity() leave the audit's own sessions out. */
  threadId?: number | null;
  /** Resolves `[rows, fields]` for a SELECT, `[ResultSetHeader, undefined]` otherwise. */
  query(options: MysqlQueryOptions): Promise<[unknown, MysqlFieldLike[] | undefined]>;
  release(): void;
  /** Closes the connection and drops it from the pool. */
  destroy(): void;
}

/** The part of a mysql2/promise Pool the loader uses (structural: no mysql2 types leak out). */
export interface MysqlPoolLike {
  getConnection(): Promise<MysqlConnectionLike>;
  /** mysql2's own placeholder substitution, used to count the `?` a query has. */
  format(sql: string, values?: unknown): string;
  end(): Promise<void>;
}

/** Time past the statement timeout after which the client gives up on a silent server. */
export const CLIENT_TIMEOUT_GRACE_MS = 5000;

/**
 * The client-side query timeout, kept here rather than handed to mysql2: mysql2 leaves its own
 * timer running when the connection dies (a KILL, a restart), which kept the process alive for
 * --timeout + 5 s after the audit ended. This timer is unref'd and always cleared; when it fires
 * the connection is destroyed, as mysql2 would, with the same error code.
 */
export function withQueryTimeout(conn: MysqlConnectionLike): MysqlConnectionLike {
  const guarded: MysqlConnectionLike = {
    async query(options) {
      const { timeout, ...rest } = options;
      if (timeout === undefined) return conn.query(rest);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          conn.destroy();
          reject(Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }));
        }, timeout);
        timer.unref();
      });
      try {
        return await Promise.race([conn.query(rest), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    release: () => conn.release(),
    destroy: () => conn.destroy(),
  };
  if (conn.threadId !== undefined) guarded.threadId = conn.threadId;
  return guarded;
}

/**
 * Connections a mysql2 pool has open or is opening: its connection list, which a connection that
 * failed to open has left by the time the caller hears of it. mysql2 has no public count, so this
 * reads its list where mysql2 3.x keeps it; anything else (another pool) says undefined.
 */
export function mysqlPoolSize(pool: MysqlPoolLike): number | undefined {
  const length = (pool as { pool?: { _allConnections?: { length?: unknown } } }).pool?._allConnections?.length;
  return typeof length === 'number' ? length : undefined;
}
