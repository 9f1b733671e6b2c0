import type { Finding } from '../core/verdict.js';

/** The narrow logging interface the audit uses (pino's Logger fits it); the core never logs. */
export interface AuditLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const SILENT_LOG: AuditLog = { debug() {}, info() {}, warn() {} };

/** Progress of an audit: keys judged against an estimate of how many there will be. */
export interface AuditProgress {
  start(estimatedKeys: number): void;
  tick(finding: Finding): void;
  stop(): void;
}
