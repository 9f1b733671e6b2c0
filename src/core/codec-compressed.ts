/**
 * `gzip-json` and `brotli-json`: JSON compressed by the application. Decompression is bounded
 * (MAX_DECOMPRESSED_BYTES) so a small value that inflates to gigabytes (a "zip bomb") is an
 * undecodable key, not an exhausted heap. node:zlib is computation, not I/O.
 */
import type { Buffer } from 'node:buffer';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Codec, DecodeResult, ParseResult } from './codecs.js';

/** Largest decompressed value accepted: 64 MiB. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

function compressedJsonCodec(format: string, inflate: (bytes: Buffer) => Buffer, json: Codec): Codec {
  const inflated = (bytes: Buffer): { ok: true; text: Buffer } | { ok: false; error: string } => {
    try {
      return { ok: true, text: inflate(bytes) };
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (error instanceof RangeError || code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, error: `${format} value inflates past the ${MAX_DECOMPRESSED_BYTES / 1024 / 1024} MiB limit` };
      }
      return { ok: false, error: `invalid ${format} data${typeof code === 'string' ? ` (${code})` : ''}` };
    }
  };
  return {
    decode(bytes, fields): DecodeResult {
      const result = inflated(bytes);
      return result.ok ? json.decode(result.text, fields) : result;
    },
    parseValue(bytes): ParseResult {
      const result = inflated(bytes);
      return result.ok ? json.parseValue(result.text) : result;
    },
  };
}

export function gzipJsonCodec(json: Codec): Codec {
  return compressedJsonCodec('gzip', (bytes) => gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES }), json);
}

export function brotliJsonCodec(json: Codec): Codec {
  return compressedJsonCodec('brotli', (bytes) => brotliDecompressSync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES }), json);
}
