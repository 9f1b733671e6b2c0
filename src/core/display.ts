import { Buffer, isUtf8 } from 'node:buffer';
import { isLosslessNumber } from 'lossless-json';
import { formatInstant, PreciseDate } from './instant.js';
import { setField } from './json-text.js';

const MAX_DISPLAY_CHARS = 200;

/**
 * A value as reports show it, and as JSON.stringify can write it faithfully. Payload values come
 * from codecs and drivers: bigint, LosslessNumber (exact numbers), Date, Buffer, Map/Set, NaN, none
 * of which JSON.stringify renders truthfully (it throws on bigint and writes NaN as null). Exact
 * numbers become their decimal text, since a double would lose digits; bytes their text, or a hex
 * preview when not UTF-8; a cycle '[Circular]'. Undefined is null at the top level and in arrays,
 * and omitted as an object member (as JSON.stringify does).
 */
export function displayValue(value: unknown): unknown {
  return convert(value, new WeakSet());
}

function convert(value: unknown, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value === null) return null;
  if (isLosslessNumber(value)) return value.value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return 'Invalid Date';
    // A database timestamp shows the microseconds it was compared at.
    return value instanceof PreciseDate ? formatInstant({ ms: value.getTime(), nanos: value.nanosOfMs, digits: value.fractionDigits }) : value.toISOString();
  }
  if (value instanceof Uint8Array) return displayBytes(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value) || value instanceof Set) return Array.from(value as Iterable<unknown>, (item) => convert(item, seen));
    const out: Record<string, unknown> = {};
    const entries: Iterable<[unknown, unknown]> = value instanceof Map ? value.entries() : Object.entries(value);
    for (const [k, v] of entries) {
      if (v !== undefined) setField(out, String(k), convert(v, seen));
    }
    return out;
  } finally {
    // Only cycles are circular: the same object reached by two paths is shown twice.
    seen.delete(value);
  }
}

function displayBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    return text.length > MAX_DISPLAY_CHARS ? `${text.slice(0, MAX_DISPLAY_CHARS - 1)}…` : text;
  }
  const preview = bytes.subarray(0, 16).toString('hex');
  return `<${bytes.length} bytes 0x${preview}${bytes.length > 16 ? '…' : ''}>`;
}
