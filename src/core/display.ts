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

/**
 * The most characters one side of a diff keeps. Reports show at most 60 (table) to 120 (junit) of
 * a value, so 256 leaves the JSON formats two to four times more context (a short object whole,
 * the start of a long text) while a finding's diff can never hold a whole cached value: 600
 * findings on 900 kB values keep a few hundred kB, not a gigabyte.
 */
export const MAX_EXCERPT_CHARS = 256;

/**
 * displayValue, bounded: a value whose text (JSON text for arrays and objects) is longer than `max`
 * characters becomes a string of at most `max` characters that starts like it and says it was cut
 * and how large it was (`"xxxx… (cut, 900 kB)"`). What it returns never refers to the value it
 * was given, so keeping it does not keep the decoded payload alive. Redaction comes first
 * (redaction.ts): an excerpt is cut from what may be shown, never from the secret.
 */
export function displayExcerpt(value: unknown, max = MAX_EXCERPT_CHARS): unknown {
  if (typeof value === 'string') return value.length <= max ? value : cutText(value, Buffer.byteLength(value, 'utf8'), max);
  if (typeof value !== 'object' || value === null || isLosslessNumber(value) || value instanceof Date) return displayValue(value);
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    // Bytes that are not UTF-8 show as a short hex preview already (displayBytes).
    if (!isUtf8(bytes)) return displayValue(value);
    const text = bytes.subarray(0, max * 4).toString('utf8');
    return bytes.byteLength <= max * 4 && text.length <= max ? text : cutText(text, bytes.byteLength, max);
  }
  const text = new BoundedJson(max + 1);
  text.write(value, new WeakSet());
  if (text.size <= max) return displayValue(value);
  return cutText(text.head, text.size, max);
}

/** `text` cut to fit `max` characters with the marker, as a string of its own (a slice would keep `text` alive). */
function cutText(text: string, totalBytes: number, max: number): string {
  const marker = `… (cut, ${formatBytes(totalBytes)})`;
  let end = Math.max(0, max - marker.length);
  // Never split a surrogate pair: half a character is not text.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return Buffer.from(text.slice(0, end) + marker, 'utf16le').toString('utf16le');
}

/** 900 B, 5 kB, 9.5 kB, 900 kB, 1.4 MB (decimal units, as `ls -h --si` and most UIs say). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit] as string}`;
}

/**
 * The compact JSON text displayValue would give, without building it: the first `limit`
 * characters, and the size of the whole (UTF-8 bytes, escapes not counted). Walks the whole value
 * once, as displayValue would, but allocates no more than `limit` characters.
 */
class BoundedJson {
  head = '';
  size = 0;
  constructor(private readonly limit: number) {}

  private emit(piece: string, bytes = piece.length): void {
    this.size += bytes;
    const room = this.limit - this.head.length;
    if (room > 0) this.head += piece.length <= room ? piece : piece.slice(0, room);
  }

  private emitString(s: string): void {
    // Only the part that can still show is quoted; the rest is counted.
    const room = this.limit - this.head.length;
    if (room > 0) this.emit(JSON.stringify(s.length <= room ? s : s.slice(0, room)), 0);
    this.size += Buffer.byteLength(s, 'utf8') + 2;
  }

  write(value: unknown, seen: WeakSet<object>): void {
    if (typeof value === 'string') return this.emitString(value);
    if (typeof value !== 'object' || value === null || isLosslessNumber(value) || value instanceof Date || value instanceof Uint8Array) {
      const shown = displayValue(value);
      if (typeof shown === 'string') return this.emitString(shown);
      return this.emit(JSON.stringify(shown));
    }
    if (seen.has(value)) return this.emitString('[Circular]');
    seen.add(value);
    try {
      if (Array.isArray(value) || value instanceof Set) {
        this.emit('[');
        let first = true;
        for (const item of value as Iterable<unknown>) {
          if (!first) this.emit(',');
          first = false;
          this.write(item, seen);
        }
        return this.emit(']');
      }
      this.emit('{');
      let first = true;
      const entries: Iterable<[unknown, unknown]> = value instanceof Map ? value.entries() : Object.entries(value);
      for (const [k, v] of entries) {
        if (v === undefined) continue;
        if (!first) this.emit(',');
        first = false;
        this.emitString(String(k));
        this.emit(':');
        this.write(v, seen);
      }
      this.emit('}');
    } finally {
      seen.delete(value);
    }
  }
}
