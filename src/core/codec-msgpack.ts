/**
 * The `msgpack` codec: a MessagePack map to a payload. 64-bit integers decode as exact `bigint`s
 * (compare.ts matches them against pg's int8 strings and LosslessNumbers); bin values become
 * Buffers, like a bytea column; the timestamp extension becomes a Date.
 */
import { Buffer } from 'node:buffer';
import { Decoder, DecodeError } from '@msgpack/msgpack';
import type { Codec, DecodeResult, ParseResult } from './codecs.js';

function typeName(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bin';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (typeof value === 'object') return 'extension';
  return typeof value;
}

/** Uint8Array views (bin) to Buffers, in place; a decoded tree holds no cycles. */
function binToBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = binToBuffers(value[i]);
  } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) object[key] = binToBuffers(object[key]);
  }
  return value;
}

/** A short reason that never quotes the value (the library's messages carry only bytes and offsets). */
function describe(error: unknown): string {
  if (error instanceof RangeError) {
    if (/^Extra /.test(error.message)) return 'invalid MessagePack: extra bytes after the value';
    if (/call stack/i.test(error.message)) return 'invalid MessagePack: nested too deeply';
    // "Insufficient data", or a DataView read past the end.
    return 'invalid MessagePack: truncated';
  }
  if (error instanceof DecodeError) {
    const message = error.message.length > 100 ? `${error.message.slice(0, 99)}…` : error.message;
    return `invalid MessagePack: ${message}`;
  }
  return `invalid MessagePack: ${error instanceof Error ? error.name : 'unknown error'}`;
}

function parseMsgpack(bytes: Buffer): ParseResult {
  const limit = bytes.length;
  const decoder = new Decoder({
    useBigInt64: true,
    maxStrLength: limit,
    maxBinLength: limit,
    maxArrayLength: limit,
    maxMapLength: limit,
    maxExtLength: limit,
  });
  try {
    return { ok: true, value: binToBuffers(decoder.decode(bytes)) };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}

export const msgpackCodec: Codec = {
  decode(bytes): DecodeResult {
    const parsed = parseMsgpack(bytes);
    if (!parsed.ok) return parsed;
    const value = parsed.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value) || Object.getPrototypeOf(value) !== Object.prototype) {
      return { ok: false, error: `expected a MessagePack map, got ${typeName(value)}` };
    }
    return { ok: true, payload: value as Record<string, unknown> };
  },
  parseValue: parseMsgpack,
};
