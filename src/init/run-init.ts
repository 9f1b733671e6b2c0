/**
 * `shadowcheck init`: key names and values from Redis, schemas and rows from the sources, a
 * proposed rules file out. Read-only on every side: the cache reader's command allowlist,
 * READ ONLY transactions for the catalogs, the audit's own loaders for rows.
 */
import { UsageError } from '../errors.js';
import { createCacheReader, type CacheReader } from '../cache/index.js';
import type { TlsOptions } from '../cache/tls.js';
import { redactUrl } from '../util/redact-url.js';
import type { TableInfo } from './catalog.js';
import { searchFamily } from './family-search.js';
import { finalizeProposal, type LeftOut } from './finalize.js';
import { introspectionOf } from './introspection.js';
import { inferPatterns, patternText, shapeText, type InferredPattern, type UncoveredGroup } from './patterns.js';
import type { ValueSample } from './payloads.js';
import { SourceRows } from './probe.js';
import type { FamilyProposal } from './proposal.js';
import type { SourceEntry } from './render.js';
import { pickSample } from './sample.js';
import { readSamples, SAMPLES_PER_PATTERN, SCAN_LIMIT, scanKeys, type ScanResult } from './sampler.js';
import { fileUrl, type SourceArg } from './source-args.js';

/** Patterns examined, at most (the most keys first); the rest are listed in the footer. */
const MAX_PATTERNS = 100;
/** Groups of uncovered keys listed in the footer, at most. */
const MAX_FOOTER_LINES = 25;

export interface InitOptions {
  redisUrl: string;
  sources: readonly SourceArg[];
  timeoutMs: number;
  readFrom: 'master' | 'replica';
  tls: TlsOptions;
  /** `$schema=` path for the header. */
  schemaPath: string;
  /** Validation messages name this file. */
  file: string;
  /** Progress and notes, one line each, for stderr. */
  log: (line: string) => void;
}

export interface InitResult {
  text: string;
  families: FamilyProposal[];
  leftOut: LeftOut[];
  uncovered: UncoveredGroup[];
}

interface Sampled {
  scan: ScanResult;
  size: number | undefined;
  patterns: InferredPattern[];
  uncovered: UncoveredGroup[];
  samples: Map<InferredPattern, ValueSample[]>;
}

async function sampleRedis(reader: CacheReader, options: InitOptions): Promise<Sampled> {
  const scan = await scanKeys(reader);
  const size = await reader.size().catch(() => undefined);
  options.log(`scanned ${scan.keys.length} keys${scan.truncated ? ` (stopped at ${SCAN_LIMIT}; the database holds about ${size ?? '?'})` : ''}`);
  const { patterns, uncovered } = inferPatterns(scan.keys);
  if (patterns.length === 0) throw noPatterns(scan.keys.length, uncovered);
  for (const p of patterns.slice(MAX_PATTERNS)) {
    uncovered.push({ shape: shapeText(p.parts), count: p.keys.length, example: p.keys[0] as string, reason: `not examined: init looks at the ${MAX_PATTERNS} largest patterns` });
  }
  const samples = new Map<InferredPattern, ValueSample[]>();
  for (const p of patterns.slice(0, MAX_PATTERNS)) {
    const picked = pickSample(
      p.keys.map((key, i) => ({ key, id: p.ids[i] as string })),
      SAMPLES_PER_PATTERN,
    );
    samples.set(p, await readSamples(reader, picked));
  }
  options.log(`${plural(samples.size, 'key pattern')} found; ${plural(uncovered.reduce((n, u) => n + u.count, 0), 'key')} fit none`);
  return { scan, size, patterns: patterns.slice(0, MAX_PATTERNS), uncovered, samples };
}

async function introspect(sources: SourceRows, options: InitOptions): Promise<TableInfo[]> {
  const tables: TableInfo[] = [];
  for (const spec of sources.specs.values()) {
    const opts = { timeoutMs: options.timeoutMs, tlsInsecure: options.tls.insecure === true };
    // The kind's own introspector; a kind without one is refused by name (introspection.ts).
    const introspection = introspectionOf(spec);
    const found = await introspection.introspect(spec, opts);
    const schemas = new Set(found.map((t) => t.schema)).size;
    options.log(`source ${spec.name}: ${plural(found.length, 'table')} in ${plural(schemas, introspection.namespace)}`);
    tables.push(...found);
  }
  return tables;
}

/** Nothing to match against tables: say what the keys looked like rather than blame the sources. */
export function noPatterns(scanned: number, uncovered: readonly UncoveredGroup[]): UsageError {
  if (scanned === 0) {
    return new UsageError('the Redis database is empty: init proposes families from the keys it finds', {
      hint: 'point --redis at the cache, with its logical database (redis://host:6379/3)',
    });
  }
  const groups = uncovered.slice(0, 5).map((u) => `${u.shape}  ${plural(u.count, 'key')}: ${u.reason}`);
  return new UsageError(`none of the ${plural(scanned, 'scanned key')} share a pattern with an id in it:\n  ${groups.join('\n  ')}`, {
    hint: 'init needs at least a few keys per family (user:1, user:2, ...); check that --redis points at the cache',
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function footer(sampled: Sampled, leftOut: readonly LeftOut[]): string[] {
  const lines: string[] = [];
  if (leftOut.length > 0) {
    lines.push('Key patterns found but not proposed:');
    for (const l of leftOut.slice(0, MAX_FOOTER_LINES)) lines.push(`  ${l.pattern}  ${l.keys} keys: ${l.reason}`);
    if (leftOut.length > MAX_FOOTER_LINES) lines.push(`  ... and ${leftOut.length - MAX_FOOTER_LINES} more`);
  }
  if (sampled.uncovered.length > 0) {
    const total = sampled.uncovered.reduce((n, u) => n + u.count, 0);
    lines.push(`Keys no family covers (${total} of ${sampled.scan.keys.length} scanned; an audit counts each of them as unmatched):`);
    for (const u of sampled.uncovered.slice(0, MAX_FOOTER_LINES)) {
      lines.push(`  ${u.shape}  ${u.count} ${u.count === 1 ? 'key' : 'keys'}${u.count > 1 ? `, like ${u.example}` : ''}: ${u.reason}`);
    }
    if (sampled.uncovered.length > MAX_FOOTER_LINES) lines.push(`  ... and ${sampled.uncovered.length - MAX_FOOTER_LINES} more groups`);
  }
  if (sampled.scan.binary > 0) lines.push(`${sampled.scan.binary} keys whose names are not UTF-8 text were left out.`);
  return lines;
}

/** Redis and every source connected before any work, so a wrong URL fails fast (exit 3). */
async function connect(options: InitOptions): Promise<{ reader: CacheReader; sources: SourceRows }> {
  const reader = await createCacheReader(options.redisUrl, { timeoutMs: options.timeoutMs, readFrom: options.readFrom, tls: options.tls });
  try {
    const sources = await SourceRows.open(options.sources, { timeoutMs: options.timeoutMs, tlsInsecure: options.tls.insecure === true });
    return { reader, sources };
  } catch (error) {
    await reader.close();
    throw error;
  }
}

export async function runInit(options: InitOptions): Promise<InitResult> {
  const { reader, sources } = await connect(options);
  let sampled: Sampled;
  try {
    sampled = await sampleRedis(reader, options);
  } catch (error) {
    await sources.close();
    throw error;
  } finally {
    await reader.close();
  }
  try {
    const tables = await introspect(sources, options);
    const families: FamilyProposal[] = [];
    const leftOut: LeftOut[] = [];
    const ids = new Map<string, string[]>();
    for (const pattern of sampled.patterns) {
      const samples = sampled.samples.get(pattern) ?? [];
      const result = await searchFamily(pattern, samples, tables, sources, sampled.scan.keys.length, options.log);
      if ('skipped' in result) {
        leftOut.push({ pattern: patternText(pattern, 'id'), keys: pattern.keys.length, reason: result.skipped });
        options.log(`${patternText(pattern, 'id')}: not proposed: ${result.skipped}`);
        continue;
      }
      families.push(result.family);
      ids.set(result.family.pattern, [...new Set(samples.map((s) => s.id))].slice(0, 100));
    }

    const variables = new Map<string, string>();
    const entries: SourceEntry[] = options.sources.map((s) => {
      const url = fileUrl(s);
      if (url.variable !== undefined) variables.set(s.name, url.variable);
      const count = tables.filter((t) => t.source === s.name).length;
      const notes = [`guess: kind ${s.kind} from the URL scheme; ${plural(count, 'table')} read`];
      if (url.variable !== undefined) notes.push(`review: the password given to init is not written here: set ${url.variable} to the full URL`);
      return { name: s.name, kind: s.kind, url: url.text, notes };
    });
    const header = [
      `Proposed by \`shadowcheck init\` from ${sampled.scan.keys.length} keys of ${redactUrl(options.redisUrl)}${sampled.scan.truncated ? ` (a bounded scan of about ${sampled.size ?? '?'})` : ''}`,
      `and the ${plural(tables.length, 'table')} of ${options.sources.map((s) => s.name).join(', ')}.`,
      'Each "guess" was inferred from samples and each "review" needs a decision: read them all before',
      'trusting an audit run with this file (check it with `shadowcheck rules validate FILE`).',
    ];
    const result = await finalizeProposal({
      document: { schemaPath: options.schemaPath, header, sources: entries },
      families,
      footer: (out) => footer(sampled, out),
      leftOut,
      file: options.file,
      variables,
      ids,
      sources,
    });
    return { ...result, uncovered: sampled.uncovered };
  } finally {
    await sources.close();
  }
}
