/**
 * `kind: module` sources: a loader the user writes, in an ES module of their own.
 *
 * The contract (README "Custom loaders"): the module's default export is a SourceLoaderFactory,
 * `async (spec, options) => SourceLoader`, called once per audit with the source's spec (`name`,
 * `kind`, the absolute `module` path, and `url` when the rules file gives one, `${ENV}`
 * interpolated) and the LoaderOptions (`timeoutMs`, `maxConnections`). One documented way only:
 * a named `createSourceLoader` is not looked for, so there is never a question of which one runs.
 *
 * Everything the module can get wrong is reported against its path and the source's name:
 * - cannot be found, does not parse, throws at import, has no default function → UsageError (2);
 * - the factory throws → ConnectionError (3), unless it threw one of our typed errors;
 * - the factory returns something without load()/close() → UsageError (2);
 * - load() throws anything but SourceQueryError/ConnectionError → SourceQueryError for that batch.
 *
 * `rows: many` families (README "Custom loaders"): load() returns the key's rows flat, each row
 * with its key columns, in `orderBy` order and at most `limit` per key (the module applies the
 * order and limit; the loader keeps the order it is given): `{ rows: Row[], nowMs }`, grouped here
 * by toGroups (sources/rows.ts), exactly as the SQL loaders group theirs. Its declared `columns`
 * (and check()'s) are each row's, wrapped here under `members`. A module that groups its rows
 * itself returns the Map toGroups builds. `children:` are the module's to attach: each parent
 * row's array of child rows under the child's name.
 *
 * The user's loader is wrapped in ModuleLoader, so the pipeline sees an ordinary SourceLoader.
 * Errors are recognised by name as well as by class: a module that imports its own copy of
 * shadowcheck (a project-local install next to a global CLI, or dist/ next to src/ in the tests)
 * throws instances of *that* copy's classes, which `instanceof` here would not see.
 */
import type { SourceSpec } from '../../config/types.js';
import type { FamilyRule } from '../../core/rule.js';
import { ConnectionError, UsageError } from '../../errors.js';
import { redactSecrets } from '../../util/redact-url.js';
import type { ColumnTypes } from '../../core/column-type.js';
import { declaredColumnTypes } from '../declared-columns.js';
import { SourceCheckError } from '../errors.js';
import { checkFailed } from '../errors.js';
import { membersColumns, positiveInt, toGroups } from '../rows.js';
import { SourceQueryError, type SourceBatch, type SourceLoader, type SourceLoaderFactory } from '../types.js';
import { asTypedError, closeQuietly, describeValue, factoryFailed, importFactory, isLoaderShaped, reasonOf, type UserLoader } from './user-module.js';

/** How long past timeoutMs a load() that ignores the timeout is waited for before its batch fails. */
const BACKSTOP_GRACE_MS = 5000;


export const createModuleLoader: SourceLoaderFactory = async (spec, options) => {
  const path = spec.module;
  if (path === undefined || path === '') {
    throw new UsageError(`source "${spec.name}" (kind module) has no module`, {
      hint: `give source "${spec.name}" a module path, relative to the rules file, e.g. module: ./loaders/billing.js`,
    });
  }
  const factory = await importFactory(spec, path);
  let inner: unknown;
  try {
    inner = await factory(spec, options);
  } catch (error) {
    throw factoryFailed(spec, path, error);
  }
  if (!isLoaderShaped(inner)) {
    // It may still hold something open (a pool, a socket): let it go if it can.
    await closeQuietly(inner);
    throw new UsageError(`source "${spec.name}": the factory of loader module ${path} returned ${describeValue(inner)}, not a loader`, {
      hint: 'the default export must resolve to an object with load(rule, ids) and close() functions',
    });
  }
  return new ModuleLoader(inner, spec, path, positiveInt(options.timeoutMs, 5000));
};


/**
 * The user's loader as the pipeline expects one: errors made typed and named, batches checked.
 * The optional methods exist exactly when the module's loader has them, so that the pipeline's
 * "does this source tell its lag / activity / recent rows" questions get the module's answer.
 */
class ModuleLoader implements SourceLoader {
  check?: (rule: FamilyRule) => Promise<ColumnTypes | void>;
  recentIds?: (rule: FamilyRule, withinMs: number, limit: number) => Promise<string[]>;
  sampleIds?: (rule: FamilyRule, count: number, seed: number) => Promise<{ ids: string[]; tableRows: number }>;
  activity?: () => Promise<number>;
  replicaLagMs?: () => Promise<number | undefined>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inner: UserLoader,
    private readonly spec: SourceSpec,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {
    const { check, recentIds, sampleIds, activity, replicaLagMs } = inner;
    if (typeof check === 'function') this.check = (rule) => this.checkFamily(rule, check);
    if (typeof recentIds === 'function') this.recentIds = (rule, withinMs, limit) => this.loadRecentIds(rule, withinMs, limit, recentIds);
    if (typeof sampleIds === 'function') this.sampleIds = (rule, count, seed) => this.loadSampleIds(rule, count, seed, sampleIds);
    if (typeof activity === 'function') this.activity = () => this.call(activity, []).then((n) => Number(n));
    if (typeof replicaLagMs === 'function') {
      this.replicaLagMs = () => this.call(replicaLagMs, []).then((lag) => (lag === undefined || lag === null ? undefined : Number(lag)));
    }
  }

  async load(rule: FamilyRule, ids: readonly string[]): Promise<SourceBatch> {
    let batch: unknown;
    try {
      batch = await this.withBackstop(rule, this.call(this.inner.load, [rule, ids]));
    } catch (error) {
      throw this.batchError(rule, error);
    }
    return this.checkedBatch(rule, batch);
  }

  /** Ends the user's loader once; later calls share that ending. */
  close(): Promise<void> {
    this.closing ??= this.call(this.inner.close, []).then(() => undefined);
    return this.closing;
  }

  /**
   * The user's check; when it resolves to `{ columns: {...} }` (the form load() batches declare
   * them in), those column types are returned and the family's names are checked against them.
   */
  private async checkFamily(rule: FamilyRule, check: (...args: never[]) => unknown): Promise<ColumnTypes | void> {
    let result: unknown;
    try {
      result = await this.call(check, [rule]);
    } catch (error) {
      const typed = asTypedError(error, this.spec);
      // A SourceQueryError from check() means the family does not work: a rules problem, or no answer in time.
      if (typed instanceof SourceQueryError) {
        const problem = typed.message.replace(/^family "[^"]*": /, '');
        throw checkFailed(this.spec, rule, typed.timeout ? 'timeout' : 'query', typed, this.timeoutMs, { message: `${this.where()}: ${problem}` });
      }
      if (typed !== undefined) throw typed;
      throw checkFailed(this.spec, rule, 'query', error, this.timeoutMs, {
        message: `${this.where()}: check failed: ${redactSecrets(reasonOf(error), this.spec.url)}`,
        hint: `the loader module's check() rejected the family; see its message, and the family's table, query and key`,
      });
    }
    const columns = typeof result === 'object' && result !== null ? (result as { columns?: unknown }).columns : undefined;
    if (columns === undefined) return undefined;
    const declared = declaredColumnTypes(columns);
    if ('problem' in declared) throw new SourceCheckError(rule.name, `${this.where()}: check() returned ${declared.problem}`);
    return rule.many === undefined ? declared.columns : membersColumns(declared.columns);
  }

  private async loadRecentIds(rule: FamilyRule, withinMs: number, limit: number, recentIds: (...args: never[]) => unknown): Promise<string[]> {
    let ids: unknown;
    try {
      ids = await this.call(recentIds, [rule, withinMs, limit]);
    } catch (error) {
      throw this.batchError(rule, error);
    }
    if (!Array.isArray(ids)) {
      throw new SourceQueryError(`family "${rule.name}": ${this.where()}: recentIds() returned ${describeValue(ids)}, not an array of ids`, { timeout: false });
    }
    return ids.map((id) => String(id));
  }

  /** `--sampling source` with a module: its sampleIds answer, checked to be `{ ids: [...], tableRows: n }`. */
  private async loadSampleIds(rule: FamilyRule, count: number, seed: number, sampleIds: (...args: never[]) => unknown): Promise<{ ids: string[]; tableRows: number }> {
    let answer: unknown;
    try {
      answer = await this.call(sampleIds, [rule, count, seed]);
    } catch (error) {
      throw this.batchError(rule, error);
    }
    const { ids, tableRows } = (typeof answer === 'object' && answer !== null ? answer : {}) as { ids?: unknown; tableRows?: unknown };
    if (!Array.isArray(ids) || typeof tableRows !== 'number' || !Number.isFinite(tableRows) || tableRows < 0) {
      throw new SourceQueryError(`family "${rule.name}": ${this.where()}: sampleIds() returned ${describeValue(answer)}, not { ids: [...], tableRows: n }`, { timeout: false });
    }
    return { ids: ids.map((id) => String(id)), tableRows };
  }

  /** Calls one of the user's methods with the loader as `this`; a synchronous throw becomes a rejection. */
  private async call(method: (...args: never[]) => unknown, args: unknown[]): Promise<unknown> {
    return (await (method as (...a: unknown[]) => unknown).apply(this.inner, args)) as unknown;
  }

  /**
   * Stops waiting for a load() that ignores timeoutMs, so one hung request cannot hold the audit.
   * The work itself cannot be cancelled from here; its late outcome is dropped.
   */
  private withBackstop<T>(rule: FamilyRule, work: Promise<T>): Promise<T> {
    const limitMs = this.timeoutMs + BACKSTOP_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new SourceQueryError(`family "${rule.name}": ${this.where()} did not answer within ${limitMs} ms (the loader ignores timeoutMs ${this.timeoutMs})`, { timeout: true }));
      }, limitMs);
      timer.unref();
    });
    work.catch(() => {});
    return Promise.race([work, backstop]).finally(() => clearTimeout(timer));
  }

  /** A batch the pipeline can read: a Map of rows and a whole-millisecond clock. */
  private checkedBatch(rule: FamilyRule, batch: unknown): SourceBatch {
    const fields = typeof batch === 'object' && batch !== null ? (batch as Record<string, unknown>) : {};
    const { nowMs, duplicateIds } = fields;
    // rows: many: the flat rows of the batch's keys, grouped as the SQL loaders group theirs.
    const flat = rule.many !== undefined && Array.isArray(fields['rows']);
    const rows = flat ? toGroups(fields['rows'] as Record<string, unknown>[], rule.key, 0).rows : fields['rows'];
    const problem = !(rows instanceof Map)
      ? rule.many === undefined
        ? `rows is ${describeValue(rows)}, not a Map of id to row (build batches with toBatch from 'shadowcheck')`
        : `rows is ${describeValue(rows)}, not an array of rows (each with its key columns, in orderBy order)`
      : typeof nowMs !== 'number' || !Number.isFinite(nowMs)
        ? `nowMs is ${describeValue(nowMs)}, not the source's clock in epoch ms`
        : duplicateIds !== undefined && !Array.isArray(duplicateIds)
          ? `duplicateIds is ${describeValue(duplicateIds)}, not an array of ids`
          : undefined;
    if (problem !== undefined) {
      throw new SourceQueryError(`family "${rule.name}": ${this.where()}: load() returned a batch whose ${problem}`, { timeout: false });
    }
    const out: SourceBatch = { rows: rows as Map<string, Record<string, unknown>>, nowMs: Math.floor(nowMs as number) };
    if (Array.isArray(duplicateIds) && duplicateIds.length > 0) out.duplicateIds = duplicateIds.map((id) => String(id));
    if (fields['columns'] !== undefined) {
      // Declared column types: the fields are then compared by type, as for the SQL sources.
      const declared = declaredColumnTypes(fields['columns']);
      if ('problem' in declared) {
        throw new SourceQueryError(`family "${rule.name}": ${this.where()}: load() returned a batch whose ${declared.problem}`, { timeout: false });
      }
      out.columns = rule.many === undefined ? declared.columns : membersColumns(declared.columns);
    }
    return out;
  }

  /** Typed errors keep their meaning; anything else fails only this batch, named by family and module. */
  private batchError(rule: FamilyRule, error: unknown): Error {
    const typed = asTypedError(error, this.spec);
    // The audit ends on a lost source and prints its message: it must say which source.
    if (typed instanceof ConnectionError && !typed.message.includes(`source "${this.spec.name}"`)) {
      typed.message = `lost source "${this.spec.name}" (module ${this.path}): ${typed.message}`;
    }
    if (typed !== undefined) return typed;
    return new SourceQueryError(`family "${rule.name}": ${this.where()} failed: ${redactSecrets(reasonOf(error), this.spec.url)}`, { timeout: false, cause: error });
  }

  private where(): string {
    return `loader module ${this.path} (source "${this.spec.name}")`;
  }
}
