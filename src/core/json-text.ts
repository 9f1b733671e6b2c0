/**
 * JSON text to values without losing numbers. JSON.parse stays the common path because it is
 * several times faster; lossless-json re-parses only text that may hold a number a double cannot
 * carry. Numbers that survive a double round trip stay plain `number`s; the others become
 * `LosslessNumber`s (their exact decimal text), which compare.ts and normalize.ts understand.
 */
import { LosslessNumber, isSafeNumber, parse as parseLossless } from 'lossless-json';

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * 16+ significant digits in a row (a `.` may sit between them), or a 3-digit exponent: the only
 * shapes of number that JSON.parse may round (2^53 has 16 digits; doubles hold 15 for sure) or
 * overflow. Matches inside strings too, which only costs a needless, still exact, second parse.
 */
const MAYBE_LOSSY_NUMBER = /\d(?:\.?\d){15}|[eE][+-]?\d{3}/;

function parseNumber(text: string): unknown {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

// JSON.parse keeps the last of duplicate keys; lossless-json would throw. Behave like JSON.parse.
const LOSSLESS_OPTIONS = { parseNumber, onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue };

/**
 * A short reason, without echoing the value: V8's JSON.parse message quotes the input, and a
 * cached value may hold personal data. lossless-json's messages carry a position instead.
 */
function describeError(text: string): string {
  let message = 'malformed';
  try {
    parseLossless(text, null, LOSSLESS_OPTIONS);
  } catch (error) {
    if (error instanceof RangeError) return 'invalid JSON: nested too deeply';
    // It quotes single characters, but also a partial number: keep the former, elide the latter.
    if (error instanceof Error) message = error.message.replace(/'([^']*)'/g, (quoted, inner: string) => (inner.length > 3 ? "'…'" : quoted));
  }
  return `invalid JSON: ${message.length > 120 ? `${message.slice(0, 119)}…` : message}`;
}

export function parseJsonText(text: string): JsonParseResult {
  // A byte-order mark is not JSON, but .NET and some editors write one.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    const value: unknown = MAYBE_LOSSY_NUMBER.test(body)
      ? parseLossless(body, null, LOSSLESS_OPTIONS)
      : JSON.parse(body);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, error: 'invalid JSON: nested too deeply' };
    return { ok: false, error: describeError(body) };
  }
}

/** `array`, `string`, `null`, ... for messages like "expected a JSON object, got array". */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof LosslessNumber) return 'number';
  return typeof value;
}

/**
 * `target[key] = value` that stays a data property for `__proto__`: plain assignment would call
 * the inherited setter and swap the object's prototype for a value taken from the cache.
 */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

const SAFE_INTEGER_TEXT = /^-?(?:0|[1-9]\d{0,15})$/;

/**
 * JSON.parse for rows read from a JSON API (loader modules), keeping every number exact the way
 * the SQL loaders do: integers a double holds stay numbers, every other number (a bigint past
 * 2^53, a decimal like 19.90 with its scale, as a numeric column has it) becomes a LosslessNumber
 * holding its text. Throws a SyntaxError on text that is not JSON.
 */
export function parseJsonExact(text: string): unknown {
  const options = {
    parseNumber: (digits: string): unknown =>
      SAFE_INTEGER_TEXT.test(digits) && Number.isSafeInteger(Number(digits)) ? Number(digits) : new LosslessNumber(digits),
    onDuplicateKey: LOSSLESS_OPTIONS.onDuplicateKey,
  };
  try {
    return parseLossless(text, null, options);
  } catch (error) {
    if (error instanceof SyntaxError) throw error;
    // lossless-json reports malformed text as a plain Error with a position.
    throw new SyntaxError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * JSON a database sent (pg json/jsonb, MySQL and MariaDB JSON), parsed as the cache side is,
 * numbers past 2^53 exact. The server only sends valid JSON; should that ever fail, the text is
 * kept rather than thrown on.
 */
export function parseSourceJson(text: string): unknown {
  const parsed = parseJsonText(text);
  return parsed.ok ? parsed.value : text;
}
