import { decimalToNumber, formatDecimal, toDecimal, type Decimal } from '../core/decimal.js';

/**
 * How many versions the cache is behind the source (source - cache), when both versions are
 * numbers (JS numbers, bigints, lossless numbers or numeric strings, as drivers and codecs hand
 * them over). Undefined when either is missing or not numeric (timestamps, opaque strings), and
 * when the cache is ahead (that is `cache-ahead`, not lag). Integer versions subtract exactly, so
 * a bigint LSN far above 2^53 still gives the right small lag.
 */
export function versionLag(cacheVersion: unknown, sourceVersion: unknown): number | undefined {
  const cache = numericVersion(cacheVersion);
  const source = numericVersion(sourceVersion);
  if (cache === undefined || source === undefined) return undefined;
  const cacheInt = integerOf(cache);
  const sourceInt = integerOf(source);
  const lag =
    cacheInt !== undefined && sourceInt !== undefined
      ? Number(sourceInt - cacheInt)
      : decimalToNumber(source) - decimalToNumber(cache);
  return Number.isFinite(lag) && lag >= 0 ? lag : undefined;
}

function numericVersion(value: unknown): Decimal | undefined {
  if (value === null || value === undefined || typeof value === 'boolean') return undefined;
  // A Redis hash field may arrive as bytes; compareVersions reads those as UTF-8 too.
  const v = value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') : value;
  return toDecimal(v);
}

function integerOf(d: Decimal): bigint | undefined {
  const text = formatDecimal(d);
  return text !== undefined && /^-?\d+$/.test(text) ? BigInt(text) : undefined;
}

/** A finding's stale age in seconds (the base unit Prometheus expects), when its change time is known. */
export function staleAgeSeconds(staleAgeMs: number | undefined): number | undefined {
  if (staleAgeMs === undefined || !Number.isFinite(staleAgeMs)) return undefined;
  return Math.max(0, staleAgeMs) / 1000;
}
