/**
 * How the MySQL / MariaDB loader reads values (mysql2's typeCast), kept apart from loader.ts, which
 * is about statements and sessions.
 */
import { exactNumber } from '../../core/decimal.js';
import { preciseDateOf } from '../../core/instant.js';
import { parseSourceJson } from '../../core/json-text.js';

interface CastField {
  type: string;
  length: number;
  /** MariaDB's extended metadata: `json` for a JSON column (otherwise reported as LONGTEXT). */
  extendedFormat?: string;
  string(): string | null;
}

/**
 * How values are read, so that they compare by their column type (core/compare-by-type.ts):
 * - DECIMAL and BIGINT as exact numbers (LosslessNumbers);
 * - TINYINT(1) as the integer it stores (any -128..127; compared as a boolean only while 0 or 1);
 * - JSON (MySQL's, and MariaDB's LONGTEXT with the json format) parsed losslessly: mysql2's own
 *   JSON.parse rounds integers past 2^53;
 * - DATETIME as wall-clock time in the source's `timezone` (UTC by default) and TIMESTAMP in UTC
 *   (the session's zone), both keeping their microseconds (PreciseDate);
 * everything else as mysql2 reads it.
 */
export function exactTypeCast(zone: string | undefined) {
  return (field: CastField, next: () => unknown): unknown => {
    switch (field.type) {
      case 'NEWDECIMAL':
      case 'DECIMAL':
      case 'LONGLONG':
        return nullOr(field.string(), exactNumber);
      case 'TINY':
        return field.length === 1 ? nullOr(field.string(), Number) : next();
      case 'JSON':
        return nullOr(field.string(), parseSourceJson);
      case 'DATETIME':
        return nullOr(field.string(), (text) => preciseDateOf(text, zone ?? 'UTC') ?? text);
      case 'TIMESTAMP':
        return nullOr(field.string(), (text) => preciseDateOf(text, 'UTC') ?? text);
    }
    if (field.extendedFormat === 'json') return nullOr(field.string(), parseSourceJson);
    return next();
  };
}

function nullOr(text: string | null, parse: (text: string) => unknown): unknown {
  return text === null ? null : parse(text);
}
