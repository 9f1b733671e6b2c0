/**
 * The session settings a MySQL loader pins on every batch: the statement timeout the server
 * supports (detected once at connect) and an sql_mode without NO_BACKSLASH_ESCAPES.
 */
import { errno } from './errors.js';
import { CLIENT_TIMEOUT_GRACE_MS, type MysqlConnectionLike } from './pool-like.js';

/** How the server bounds one statement's run time. */
export type TimeoutMode = 'max_statement_time' | 'max_execution_time' | 'client-only';

/** The session's sql_mode without NO_BACKSLASH_ESCAPES, or undefined when it does not have it. */
export function withoutBackslashMode(sqlMode: string): string | undefined {
  const modes = sqlMode.split(',').filter((m) => m !== '');
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return undefined;
  const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES');
  // Mode names are [A-Z_] words; anything else is not pasted into SQL.
  return kept.every((m) => /^[A-Z0-9_]+$/.test(m)) ? kept.join(',') : '';
}

/** MariaDB has max_statement_time, MySQL 5.7.8+ max_execution_time; error 1193 means unknown. */
export async function detectTimeoutMode(conn: MysqlConnectionLike, timeoutMs: number): Promise<TimeoutMode> {
  for (const mode of ['max_statement_time', 'max_execution_time'] as const) {
    try {
      await conn.query({ sql: `SET SESSION ${mode} = ${timeoutSetting(mode, timeoutMs)}`, timeout: timeoutMs + CLIENT_TIMEOUT_GRACE_MS });
      return mode;
    } catch (error) {
      if (errno(error) !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
    }
  }
  return 'client-only';
}

export function timeoutSetting(mode: 'max_statement_time' | 'max_execution_time', timeoutMs: number): string {
  return mode === 'max_statement_time' ? (timeoutMs / 1000).toFixed(3) : String(timeoutMs);
}

const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;
