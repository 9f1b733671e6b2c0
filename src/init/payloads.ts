/**
 * What the sampled values of one pattern hold: their Redis type, the codec that decodes the
 * strings (JSON, or by their first bytes gzip and MessagePack; Brotli by trying), the fields of
 * the decoded payloads, their remaining TTLs, and the values no codec decodes (a negative-cache
 * marker among them, perhaps).
 */
import { isUtf8, type Buffer } from 'node:buffer';
import { decodeCacheValue } from '../core/codecs.js';
import type { CacheValue } from '../core/observation.js';
import type { CodecName } from '../core/rule.js';

/** One sampled key as the cache reader returned it. */
export interface ValueSample {
  key: string;
  /** The id the pattern's placeholder captures. */
  id: string;
  /** `string`, `hash`, another Redis type, or `gone`, `too-large`, `error` when not read. */
  redisType: string;
  /** The value when read: a Buffer (string), a field map (hash), elements (list, set) or scored members (zset). */
  value?: CacheValue;
  /** PTTL when read. */
  pttlMs?: number;
}

export interface PayloadAnalysis {
  sampled: number;
  /** Samples per Redis type (and per reason they were not read). */
  typeCounts: ReadonlyMap<string, number>;
  /** The type most samples have, when it is one a rule can read. */
  type: 'string' | 'hash' | undefined;
  /** Samples of that type. */
  ofType: number;
  /** Strings: the codec most values decode with (undefined when most decode with none). */
  codec: CodecName | undefined;
  decodedCount: number;
  /** Decoded payloads by id. */
  payloads: ReadonlyMap<string, Record<string, unknown>>;
  /** Raw string values by id (for the raw codec). */
  texts: ReadonlyMap<string, Buffer>;
  /** Top-level field names of the payloads with how many payloads have each, most frequent first. */
  fields: readonly { name: string; count: number }[];
  /** String values the codec did not decode. */
  undecodable: readonly { id: string; value: Buffer }[];
  /** PTTLs of the samples of the family's type. */
  pttls: readonly number[];
}

const BINARY_CODECS: readonly { codec: CodecName; looksLike: (b: Buffer) => boolean }[] = [
  { codec: 'gzip-json', looksLike: (b) => b[0] === 0x1f && b[1] === 0x8b },
  // A MessagePack map starts with fixmap (0x80-0x8f), map 16 (0xde) or map 32 (0xdf).
  { codec: 'msgpack', looksLike: (b) => b[0] !== undefined && ((b[0] >= 0x80 && b[0] <= 0x8f) || b[0] === 0xde || b[0] === 0xdf) },
];

function decodeWith(codec: CodecName, bytes: Buffer): Record<string, unknown> | undefined {
  const result = decodeCacheValue({ type: 'string', codec, fields: undefined }, bytes);
  return result.ok ? result.payload : undefined;
}

/** The codec that decodes one string value, if any, and its payload. */
export function detectCodec(bytes: Buffer): { codec: CodecName; payload: Record<string, unknown> } | undefined {
  const json = decodeWith('json', bytes);
  if (json !== undefined) return { codec: 'json', payload: json };
  for (const { codec, looksLike } of BINARY_CODECS) {
    if (!looksLike(bytes)) continue;
    const payload = decodeWith(codec, bytes);
    if (payload !== undefined) return { codec, payload };
  }
  // Brotli has no magic bytes; its output is rarely valid UTF-8 text.
  if (bytes.length > 0 && !isUtf8(bytes)) {
    const payload = decodeWith('brotli-json', bytes);
    if (payload !== undefined) return { codec: 'brotli-json', payload };
  }
  return undefined;
}

function mostCommon<T>(counts: ReadonlyMap<T, number>): [T, number] | undefined {
  let best: [T, number] | undefined;
  for (const entry of counts) if (best === undefined || entry[1] > best[1]) best = entry;
  return best;
}

export function analyzePayloads(samples: readonly ValueSample[]): PayloadAnalysis {
  const typeCounts = new Map<string, number>();
  for (const s of samples) typeCounts.set(s.redisType, (typeCounts.get(s.redisType) ?? 0) + 1);
  const readable = new Map([...typeCounts].filter(([t]) => t === 'string' || t === 'hash'));
  const top = mostCommon(readable)?.[0] as 'string' | 'hash' | undefined;
  const ofType = samples.filter((s) => s.redisType === top && s.value !== undefined);

  const payloads = new Map<string, Record<string, unknown>>();
  const texts = new Map<string, Buffer>();
  const undecodable: { id: string; value: Buffer }[] = [];
  let codec: CodecName | undefined;
  if (top === 'hash') {
    for (const s of ofType) {
      const result = decodeCacheValue({ type: 'hash', codec: 'json', fields: undefined }, s.value as Record<string, Buffer>);
      if (result.ok) payloads.set(s.id, result.payload);
    }
  } else if (top === 'string') {
    const detected = ofType.map((s) => ({ sample: s, found: detectCodec(s.value as Buffer) }));
    const hits = new Map<CodecName, number>();
    for (const d of detected) if (d.found !== undefined) hits.set(d.found.codec, (hits.get(d.found.codec) ?? 0) + 1);
    const best = mostCommon(hits);
    // Most values must decode: otherwise the family holds plain values (the raw codec).
    codec = best !== undefined && best[1] * 2 > ofType.length ? best[0] : undefined;
    for (const { sample, found } of detected) {
      const bytes = sample.value as Buffer;
      texts.set(sample.id, bytes);
      if (found !== undefined && found.codec === codec) payloads.set(sample.id, found.payload);
      else undecodable.push({ id: sample.id, value: bytes });
    }
  }

  // Most frequent first, then in the order the payloads hold them (a Map keeps first-seen order).
  const fieldCounts = new Map<string, number>();
  for (const payload of payloads.values()) for (const name of Object.keys(payload)) fieldCounts.set(name, (fieldCounts.get(name) ?? 0) + 1);
  const fields = [...fieldCounts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
  return {
    sampled: samples.length,
    typeCounts,
    type: top,
    ofType: ofType.length,
    codec,
    decodedCount: payloads.size,
    payloads,
    texts,
    fields,
    undecodable,
    pttls: ofType.map((s) => s.pttlMs ?? -2).filter((p) => p >= -1),
  };
}

/** At most this long, printable and the same on several keys: a negative-cache marker, maybe. */
const MAX_MARKER_BYTES = 64;

/**
 * The most frequent short text among the values the codec did not decode, with the ids holding
 * it: a "no such row" marker (`__none__`, `null`) is written for many ids, while a corrupt value
 * is usually one of a kind.
 */
export function markerCandidate(analysis: PayloadAnalysis): { text: string; ids: string[] } | undefined {
  const byText = new Map<string, string[]>();
  for (const { id, value } of analysis.undecodable) {
    if (value.length === 0 || value.length > MAX_MARKER_BYTES || !isUtf8(value)) continue;
    const text = value.toString('utf8');
    if (!/^[\x20-\x7e]+$/.test(text)) continue;
    const ids = byText.get(text) ?? [];
    ids.push(id);
    byText.set(text, ids);
  }
  let best: { text: string; ids: string[] } | undefined;
  for (const [text, ids] of byText) if (best === undefined || ids.length > best.ids.length) best = { text, ids };
  return best;
}
