import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Logs go to stderr, never stdout (which carries only the report): JSON lines for machines, or
 * pretty lines when stderr is a terminal. Connection strings are redacted where they are logged,
 * and these paths are censored as a second line of defence.
 */
export function createLogger(level: (typeof LOG_LEVELS)[number], stderr: NodeJS.WriteStream = process.stderr): Logger {
  const options = {
    level,
    base: { name: 'shadowcheck' },
    redact: { paths: ['password', '*.password', 'url', '*.url', 'connectionString', '*.connectionString'], censor: '***' },
  };
  if (stderr.isTTY === true) {
    // Synchronous pretty printing on the main thread: no transport worker for an interactive run.
    return pino(options, PinoPretty({ destination: 2, sync: true, colorize: (process.env['NO_COLOR'] ?? '') === '', ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
