/**
 * Cache bytes to a payload of named fields. One entry in CODECS per codec: adding `msgpack` is a
 * new codec object here (or in its own file) and one line in the registry.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { brotliJsonCodec, gzipJsonCodec } from './codec-compressed.js';
import { decodeCollection, MEMBERS_FIELD } from './codec-collection.js';
import { msgpackCodec } from './codec-msgpack.js';
import { jsonTypeName, parseJsonText, setField } from './json-text.js';
import type { CacheValue } from './observation.js';
import type { CodecName, FamilyRule } from './rule.js';

export type DecodeResult = { ok: true; payload: Record<string, unknown> } | { ok: false; error: string };
export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

export interface Codec {
  /**
   * A whole string value to a payload of fields. `fields` is the rule's compared fields; only
   * codecs that carry no field names need it.
   */
  decode(bytes: Buffer, fields: readonly string[] | undefined): DecodeResult;
  /** One hash field's bytes to its value, any shape (`fieldCodecs`: a hash field holding JSON). */
  parseValue(bytes: Buffer): ParseResult;
  /**
   * Binary codecs: an error also shows the value's first bytes as hex (see decodeCacheValue),
   * since nothing else would tell an operator what the cache really holds.
   */
  readonly previewBytes?: boolean;
}

/** Text when the bytes are UTF-8; otherwise the bytes themselves, so that a bytea column still compares exactly. */
function textOrBytes(bytes: Buffer): string | Buffer {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
}

function parseJsonBytes(bytes: Buffer): ParseResult {
  if (!isUtf8(bytes)) return { ok: false, error: 'value is not valid UTF-8, so not JSON' };
  return parseJsonText(bytes.toString('utf8'));
}

const jsonCodec: Codec = {
  decode(bytes) {
    const parsed = parseJsonBytes(bytes);
    if (!parsed.ok) return parsed;
    const value = parsed.value;
    if (jsonTypeName(value) !== 'object') return { ok: false, error: `expected a JSON object, got ${jsonTypeName(value)}` };
    return { ok: true, payload: value as Record<string, unknown> };
  },
  parseValue: parseJsonBytes,
};

const rawCodec: Codec = {
  decode(bytes, fields) {
    const field = fields?.[0];
    if (field === undefined || fields?.length !== 1) {
      return { ok: false, error: 'the raw codec needs exactly one entry in `fields` to name the value' };
    }
    const payload: Record<string, unknown> = {};
    setField(payload, field, textOrBytes(bytes));
    return { ok: true, payload };
  },
  parseValue: (bytes) => ({ ok: true, value: textOrBytes(bytes) }),
};

export const CODECS = {
  json: jsonCodec,
  raw: rawCodec,
  msgpack: { ...msgpackCodec, previewBytes: true },
  'gzip-json': { ...gzipJsonCodec(jsonCodec), previewBytes: true },
  'brotli-json': { ...brotliJsonCodec(jsonCodec), previewBytes: true },
} satisfies Record<CodecName, Codec>;

/**
 * Hash field values are always strings to Redis; compare.ts matches them against the source
 * column's type. A field that is not UTF-8 is kept as its bytes (see textOrBytes). A field with a
 * codec in `fieldCodecs` is parsed by it; one that does not parse makes the key undecodable.
 */
function decodeHash(
  map: Readonly<Record<string, Buffer>>,
  fieldCodecs: Readonly<Record<string, CodecName>>,
  redact: readonly string[] | undefined,
): DecodeResult {
  const payload: Record<string, unknown> = {};
  for (const name of Object.keys(map)) {
    const raw = map[name];
    if (raw === undefined) continue;
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
    const codec: Codec | undefined = Object.hasOwn(fieldCodecs, name) ? CODECS[fieldCodecs[name] as CodecName] : undefined;
    if (codec === undefined) {
      setField(payload, name, textOrBytes(bytes));
      continue;
    }
    const parsed = codec.parseValue(bytes);
    if (!parsed.ok) {
      const failed = { ok: false as const, error: `field "${name}" (${fieldCodecs[name] as string}): ${parsed.error}` };
      return codec.previewBytes === true ? withPreview(failed, bytes, redact) : failed;
    }
    setField(payload, name, parsed.value);
  }
  return { ok: true, payload };
}

/** A string caching a `rows: many` family holds an array (JSON `[...]`, a MessagePack array): its elements are the members. */
function decodeArrayString(bytes: Buffer, codec: Codec): DecodeResult {
  const parsed = codec.parseValue(bytes);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) return { ok: false, error: `expected an array (the family has rows: many), got ${jsonTypeName(parsed.value)}` };
  return { ok: true, payload: { [MEMBERS_FIELD]: parsed.value } };
}

/** At most this many leading bytes are shown in an error of a binary codec. */
const PREVIEW_BYTES = 16;

function withPreview(result: DecodeResult, bytes: Buffer, redact: readonly string[] | undefined): DecodeResult {
  if (result.ok) return result;
  if (redact !== undefined && redact.length > 0) {
    return { ok: false, error: `${result.error} (first bytes hidden: the family redacts fields)` };
  }
  const shown = bytes.subarray(0, PREVIEW_BYTES).toString('hex');
  const more = bytes.length > PREVIEW_BYTES ? '…' : '';
  return { ok: false, error: `${result.error} (${bytes.length} bytes, first: ${shown === '' ? 'none' : `${shown}${more}`})` };
}

/**
 * Never throws: an undecodable value is a per-key `error/undecodable` verdict, not a crashed audit.
 * Messages are short and never quote the value (it may hold personal data); binary codecs add at
 * most 16 leading bytes as hex, unless the family redacts fields.
 */
export function decodeCacheValue(
  rule: Pick<FamilyRule, 'type' | 'codec' | 'fields'> & Partial<Pick<FamilyRule, 'redact' | 'fieldCodecs' | 'many'>>,
  value: CacheValue,
): DecodeResult {
  try {
    const isBytes = Buffer.isBuffer(value);
    const codec: Codec | undefined = CODECS[rule.codec];
    if (codec === undefined) return { ok: false, error: `unknown codec "${String(rule.codec)}"` };
    if (rule.type === 'list' || rule.type === 'set' || rule.type === 'zset') return decodeCollection(rule, value, codec.parseValue);
    if (Array.isArray(value)) return { ok: false, error: `expected a ${rule.type} value, got a collection` };
    if (rule.type === 'hash') {
      return isBytes ? { ok: false, error: 'expected a hash, got a string value' } : decodeHash(value as Readonly<Record<string, Buffer>>, rule.fieldCodecs ?? {}, rule.redact);
    }
    if (!isBytes) return { ok: false, error: 'expected a string value, got a hash' };
    if (rule.many !== undefined) return decodeArrayString(value, codec);
    const result = codec.decode(value, rule.fields);
    return codec.previewBytes === true ? withPreview(result, value, rule.redact) : result;
  } catch (error) {
    return { ok: false, error: `could not decode: ${error instanceof Error ? error.name : 'unknown error'}` };
  }
}
