/**
 * Reads rows the way an audit will: each probe is a small rules file compiled by the config
 * loader and run through the source loaders (read-only transactions, batched ids). URLs reach the
 * compiled config through `${VAR}` references, so no password is ever part of a rules text.
 */
import type { ColumnTypes } from '../core/column-type.js';
import { Document } from 'yaml';
import { parseRules } from '../config/load.js';
import type { RulesConfig, SourceSpec } from '../config/types.js';
import { isKnownError, ConnectionError } from '../errors.js';
import { createSourceLoader, type SourceLoader } from '../sources/index.js';
import type { LoadSpec } from './load-spec.js';
import type { SourceArg } from './source-args.js';

const PROBE_FILE = '<init probe>';

export interface ProbeTarget {
  source: string;
  load: LoadSpec;
  key: string;
  /** Load every row per id (`rows: many`): each id's rows come back under `members`. */
  many?: true;
}

export interface ProbeResult {
  rows: Map<string, Record<string, unknown>>;
  /** The result's column types, when the loader tells them: values are compared by them. */
  columns?: ColumnTypes;
  error?: string;
}

/** The loaders of every source, opened once, and the environment their URLs are read from. */
export class SourceRows {
  private constructor(
    private readonly sources: readonly SourceArg[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly loaders: ReadonlyMap<string, SourceLoader>,
    readonly specs: ReadonlyMap<string, SourceSpec & { url: string }>,
  ) {}

  /** Connects to every source (a ConnectionError, exit 3, names the one that failed). */
  static async open(sources: readonly SourceArg[], options: { timeoutMs: number; tlsInsecure: boolean }): Promise<SourceRows> {
    const env: NodeJS.ProcessEnv = {};
    sources.forEach((s, i) => (env[variable(i)] = s.url));
    const config = compile(sources, { source: sources[0]?.name ?? '', load: { table: 'probe' }, key: 'id' }, env);
    const loaders = new Map<string, SourceLoader>();
    const specs = new Map<string, SourceSpec & { url: string }>();
    try {
      for (const s of sources) {
        const spec = config.sources[s.name] as SourceSpec;
        specs.set(s.name, { ...spec, url: s.url });
        loaders.set(s.name, await createSourceLoader(spec, { timeoutMs: options.timeoutMs, maxConnections: 1, tlsInsecure: options.tlsInsecure }));
      }
    } catch (error) {
      await Promise.all([...loaders.values()].map((l) => l.close().catch(() => {})));
      // The loaders' hints speak of the rules file; here the URL came from --source.
      if (error instanceof ConnectionError && error.hint !== undefined) {
        throw new ConnectionError(error.message, { hint: error.hint.replace(/ in the rules file$/, ' given to --source'), cause: error.cause });
      }
      throw error;
    }
    return new SourceRows(sources, env, loaders, specs);
  }

  /** Rows for `ids` by id, or the reason the query failed (a connection lost ends the run). */
  async probe(target: ProbeTarget, ids: readonly string[]): Promise<ProbeResult> {
    let config: RulesConfig;
    try {
      config = compile(this.sources, target, this.env);
    } catch (error) {
      return { rows: new Map(), error: isKnownError(error) ? error.message : String(error) };
    }
    return this.load(config, 'probe', ids, false);
  }

  /**
   * Loads `ids` with a family of a compiled rules config; with `check`, after the loader's own
   * check of the family's query, as an audit with the file would do first.
   */
  async load(config: RulesConfig, family: string, ids: readonly string[], check = true): Promise<ProbeResult> {
    const rule = config.families.find((f) => f.name === family);
    const loader = rule === undefined ? undefined : this.loaders.get(rule.source);
    if (rule === undefined || loader === undefined) return { rows: new Map(), error: `no family ${family}` };
    try {
      if (check) await loader.check?.(rule);
      const batch = await loader.load(rule, ids);
      const rows = new Map([...batch.rows].map(([id, row]) => [id, { ...row }]));
      return batch.columns === undefined ? { rows } : { rows, columns: batch.columns };
    } catch (error) {
      if (error instanceof ConnectionError) throw error;
      return { rows: new Map(), error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** The environment that makes a proposal's `${VAR}` URLs the ones given to init. */
  envFor(variables: ReadonlyMap<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const s of this.sources) {
      const name = variables.get(s.name);
      if (name !== undefined) env[name] = s.url;
    }
    return env;
  }

  async close(): Promise<void> {
    await Promise.all([...this.loaders.values()].map((l) => l.close().catch(() => {})));
  }
}

function variable(index: number): string {
  return `SHADOWCHECK_INIT_SOURCE_${index}`;
}

function compile(sources: readonly SourceArg[], target: ProbeTarget, env: NodeJS.ProcessEnv): RulesConfig {
  const family: Record<string, unknown> = { name: 'probe', pattern: 'shadowcheck-init-probe:{id}', source: target.source };
  if ('table' in target.load) family['table'] = target.load.table;
  else family['query'] = target.load.query;
  family['key'] = target.key;
  if (target.many === true) family['rows'] = 'many';
  family['ttl'] = '1s';
  const data = {
    version: 1,
    sources: Object.fromEntries(sources.map((s, i) => [s.name, { kind: s.kind, url: `\${${variable(i)}}` }])),
    families: [family],
  };
  return parseRules(new Document(data).toString({ lineWidth: 0 }), PROBE_FILE, env);
}
