import { globMatches } from '../../../../src/audit/key-ref.js';
import { SILENT_LOG } from '../../../../src/audit/log.js';
import { runAudit, type AuditOptions, type AuditOutcome } from '../../../../src/audit/run-audit.js';
import type { CacheReader } from '../../../../src/cache/types.js';
import { parseRules } from '../../../../src/config/load.js';
import type { RulesConfig } from '../../../../src/config/types.js';
import type { CacheRead } from '../../../../src/core/observation.js';
import type { FamilyRule, RedisValueType } from '../../../../src/core/rule.js';
import type { Finding } from '../../../../src/core/verdict.js';
import type { SourceBatch, SourceLoader } from '../../../../src/sources/types.js';

/**
 * In-process fakes of the audit's two edges (CacheReader, SourceLoader) for pipeline tests: no
 * network, no timers. Both record what the pipeline asked of them, so a test can assert the keys
 * of each read and the ids of each query as well as the verdicts.
 */

/** One cached entry: a string value (Buffer or text) and its remaining TTL (-1: none). */
export interface CachedEntry {
  value: Buffer | string;
  pttlMs: number;
  /** The Redis type the key holds; `string` when absent. */
  redisType?: string;
}

export class FakeCache implements CacheReader {
  readonly target = 'fake://cache';
  /** The keys of each `read` call, in order. */
  readonly reads: string[][] = [];
  /** The value bytes each `read` call returned. */
  readonly readBytes: number[] = [];
  /** SCAN calls sent (each awaited its `beforeCommand`). */
  scanCalls = 0;
  /** Runs before each SCAN call is sent, with its number (1-based). */
  beforeScan: ((call: number) => void) | undefined;
  /** Runs before each read answers: a test changes the keyspace here (a write in flight). */
  beforeRead: ((keys: readonly string[], call: number) => void) | undefined;
  private readonly entries: Map<string, CachedEntry>;

  /** `scanPage`: keys per SCAN reply. Entries are scanned in insertion order. */
  constructor(
    entries: Iterable<[string, CachedEntry]>,
    private readonly scanPage = 100,
  ) {
    this.entries = new Map(entries);
  }

  set(key: string, entry: CachedEntry): void {
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  async *scan(glob: string, _count: number, beforeCommand?: () => Promise<void>): AsyncIterable<Buffer[]> {
    // A snapshot, as a SCAN cursor sees keys that existed when it passed them.
    const keys = [...this.entries.keys()].filter((k) => globMatches(glob, k));
    for (let i = 0; i === 0 || i < keys.length; i += this.scanPage) {
      this.scanCalls++;
      this.beforeScan?.(this.scanCalls);
      await beforeCommand?.();
      yield keys.slice(i, i + this.scanPage).map((k) => Buffer.from(k));
    }
  }

  async read(keys: readonly Buffer[], type: RedisValueType, maxValueBytes: number): Promise<CacheRead[]> {
    const names = keys.map((k) => k.toString());
    this.reads.push(names);
    this.beforeRead?.(names, this.reads.length);
    let bytes = 0;
    const reads = names.map((name): CacheRead => {
      const entry = this.entries.get(name);
      if (entry === undefined) return { kind: 'gone' };
      const redisType = entry.redisType ?? 'string';
      const value = Buffer.isBuffer(entry.value) ? entry.value : Buffer.from(entry.value);
      if (redisType === type && value.length > maxValueBytes) return { kind: 'too-large', redisType, size: value.length, unit: 'bytes' };
      bytes += value.length;
      return { kind: 'present', redisType, value, pttlMs: entry.pttlMs };
    });
    this.readBytes.push(bytes);
    return reads;
  }

  async size(): Promise<number> {
    return this.entries.size;
  }

  /** RANDOMKEY calls sent, and a seeded pick so that a test's draw is the same every run. */
  randomCalls = 0;
  private randomState = 1;

  /** Opt-in (`withRandomKeys`): a cache reader without RANDOMKEY leaves `randomKeys` undefined. */
  randomKeys?: (count: number, beforeCommand?: (calls: number) => Promise<void>) => Promise<Buffer[]>;
  exists?: (keys: readonly Buffer[]) => Promise<boolean[]>;

  /** Gives this fake RANDOMKEY (uniform over the keys, seeded) and EXISTS. */
  withRandomKeys(): this {
    this.randomKeys = async (count, beforeCommand) => {
      await beforeCommand?.(count);
      this.randomCalls += count;
      const keys = [...this.entries.keys()];
      if (keys.length === 0) return [];
      return Array.from({ length: count }, () => {
        // xorshift32: deterministic, good enough to spread picks over a small keyspace.
        let x = this.randomState;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.randomState = x >>> 0;
        return Buffer.from(keys[this.randomState % keys.length] as string);
      });
    };
    this.exists = async (keys) => keys.map((k) => this.entries.has(k.toString()));
    return this;
  }

  async close(): Promise<void> {}
}

/** A family's rows by id; an array stands for several rows with one id (a query that fans out). */
export type FakeTable = Record<string, Record<string, unknown> | Record<string, unknown>[]>;

export class FakeSource implements SourceLoader {
  /** Every query: the family and the ids asked for, in order. */
  readonly loads: { family: string; ids: string[] }[] = [];
  /** Queries running now, and the most that ever ran at once. */
  inFlight = 0;
  maxInFlight = 0;
  /**
   * Runs before a query answers, with the query's number (1-based): it may throw (SourceQueryError,
   * ConnectionError), change the tables, or wait (to hold queries in flight together).
   */
  beforeAnswer: ((ids: readonly string[], call: number) => void | Promise<void>) | undefined;

  /** `tables`: rows per family name. `now`: the database's clock. */
  constructor(
    readonly tables: Record<string, FakeTable>,
    private readonly now: () => number = Date.now,
  ) {}

  async load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch> {
    this.loads.push({ family: rule.name, ids: [...ids] });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.beforeAnswer?.(ids, this.loads.length);
      const table = this.tables[rule.name] ?? {};
      const rows = new Map<string, Record<string, unknown>>();
      const duplicateIds: string[] = [];
      for (const id of ids) {
        const found = table[id];
        if (found === undefined) continue;
        const list = Array.isArray(found) ? found : [found];
        // As the real loaders do: the first row is kept, the id is named a duplicate.
        if (list[0] !== undefined) rows.set(id, list[0]);
        if (list.length > 1) duplicateIds.push(id);
      }
      return { rows, nowMs: this.now(), ...(duplicateIds.length > 0 ? { duplicateIds } : {}) };
    } finally {
      this.inFlight--;
    }
  }

  /** Opt-in (`withSampleIds`): the first `count` ids of the family's table, in a seed-rotated order. */
  sampleIds?: (rule: FamilyRule, count: number, seed: number) => Promise<{ ids: string[]; tableRows: number }>;

  withSampleIds(): this {
    this.sampleIds = async (rule, count, seed) => {
      const ids = Object.keys(this.tables[rule.name] ?? {});
      const start = ids.length === 0 ? 0 : seed % ids.length;
      const rotated = [...ids.slice(start), ...ids.slice(0, start)];
      return { ids: rotated.slice(0, count), tableRows: ids.length };
    };
    return this;
  }

  async close(): Promise<void> {}
}

/** Defaults with nothing left to chance: no rate, no re-read, a query-time target no fake reaches. */
export const TEST_AUDIT_OPTIONS: AuditOptions = {
  sample: 'all',
  seed: 1,
  batch: 10,
  scanCount: 100,
  concurrency: 1,
  confirmDelayMs: 0,
  maxValueBytes: 64 * 1024,
  targetQueryMs: 3_600_000,
};

/** A family for tests of the pipeline rather than of the verdicts: one compared field `v`, TTL 300 s. */
export const ITEM_FAMILY_YAML = `
  - name: item
    pattern: "item:{id}"
    source: main
    table: items
    key: id
    fields: [v]
    ttl: 300s
`;

/** A rules file with one postgres source `main` and these families (YAML list items). */
export function rulesOf(familiesYaml: string): RulesConfig {
  const text = `version: 1\nsources:\n  main: { kind: postgres, url: "postgres://localhost/x" }\nfamilies:\n${familiesYaml}`;
  return parseRules(text, 'rules.yaml', {});
}

export function familiesOf(familiesYaml: string): readonly FamilyRule[] {
  return rulesOf(familiesYaml).families;
}

export interface FakeRun {
  outcome: AuditOutcome;
  findings: Finding[];
  /** The finding of a key; throws when the key was not judged, so a test cannot read undefined. */
  finding(key: string): Finding;
}

/** Runs the whole pipeline over the fakes and collects every finding. */
export async function auditFakes(setup: {
  families: readonly FamilyRule[];
  cache: CacheReader;
  source: SourceLoader;
  options?: Partial<AuditOptions>;
  signal?: AbortSignal;
  onFinding?: (finding: Finding) => void;
}): Promise<FakeRun> {
  const findings: Finding[] = [];
  const outcome = await runAudit(
    {
      families: setup.families,
      allFamilies: setup.families,
      cache: setup.cache,
      loaders: new Map([['main', setup.source]]),
      onFinding: (f) => {
        findings.push(f);
        setup.onFinding?.(f);
      },
      ...(setup.signal === undefined ? {} : { signal: setup.signal }),
      log: SILENT_LOG,
    },
    { ...TEST_AUDIT_OPTIONS, ...setup.options },
  );
  return {
    outcome,
    findings,
    finding(key) {
      const found = findings.filter((f) => f.key === key);
      if (found.length !== 1) throw new Error(`${key}: ${found.length} findings, expected one`);
      return found[0] as Finding;
    },
  };
}

/** Cached JSON of a payload, with a remaining TTL. */
export function json(payload: unknown, pttlMs: number): CachedEntry {
  return { value: JSON.stringify(payload), pttlMs };
}
