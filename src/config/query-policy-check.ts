import type { ReadOnlyQueryPolicy } from '../sources/read-only-query.js';
import { sourceKind } from '../sources/registry.js';
import type { SemanticReporter } from './semantic-checks.js';
import type { DataPath } from './yaml-document.js';

/**
 * The read-only query policy (sources/read-only-query.ts) applied when a rules file is loaded, so
 * that `rules validate` without `--connect` refuses a `query` the loaders would refuse later (a
 * `lo_import(...)`, an `INTO OUTFILE`, a `FOR UPDATE`), at the line of its `query:`. The policy is
 * the loaders' own guard, not a copy of it.
 *
 * Only families whose source kind has a policy (its descriptor's `rules.readOnlyQueryProblem`)
 * are checked: a kind without one (a `module` loader) gives its `query` whatever meaning it likes.
 * The policy modules, and through them the SQL parsers, are imported only when the file holds such
 * a query, each kind's only for a query of that kind (libpg-query, WebAssembly, only for a
 * PostgreSQL one); no database driver is loaded.
 */

export interface QueryPolicyReporter extends SemanticReporter {
  /** True when a problem was already reported at or under `path` (the query then is not parsed). */
  reportedUnder(path: DataPath): boolean;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The `query` of every family read from a source whose kind has a query policy, with that policy and its path. */
function sqlQueries(data: unknown): { name: string; policy: ReadOnlyQueryPolicy; query: string; path: DataPath }[] {
  const root = asRecord(data);
  const sources = asRecord(root?.sources);
  const families = root?.families;
  if (sources === undefined || !Array.isArray(families)) return [];
  const found: { name: string; policy: ReadOnlyQueryPolicy; query: string; path: DataPath }[] = [];
  families.forEach((value: unknown, index) => {
    const family = asRecord(value);
    const query = family?.query;
    const sourceName = family?.source;
    // A wrong type, or an unknown source, is the schema's and the semantic checks' to report.
    if (typeof query !== 'string' || typeof sourceName !== 'string' || !Object.hasOwn(sources, sourceName)) return;
    const policy = sourceKind(asRecord(sources[sourceName])?.kind)?.rules.readOnlyQueryProblem ?? null;
    if (policy === null) return;
    const name = typeof family?.name === 'string' && family.name !== '' ? family.name : `#${index + 1}`;
    found.push({ name, policy, query, path: ['families', index, 'query'] });
  });
  return found;
}

/**
 * Reports, at each family's `query`, what the read-only policy refuses, in the words the loaders
 * and `rules validate --connect` use. A query that already has a problem (no `$1`, an unset
 * `${VAR}`) is not parsed: one problem per line is enough.
 */
export async function checkQueryPolicy(data: unknown, report: QueryPolicyReporter): Promise<void> {
  const queries = sqlQueries(data).filter((q) => !report.reportedUnder(q.path));
  if (queries.length === 0) return;
  const { ReadOnlyQueryError, ReadOnlyQueryGuard } = await import('../sources/read-only-query.js');
  const guards = new Map<ReadOnlyQueryPolicy, InstanceType<typeof ReadOnlyQueryGuard>>();
  const problems = await Promise.all(
    queries.map(async ({ name, policy, query }) => {
      try {
        let guard = guards.get(policy);
        if (guard === undefined) guards.set(policy, (guard = new ReadOnlyQueryGuard(policy)));
        await guard.require({ name, query });
        return undefined;
      } catch (error) {
        if (!(error instanceof ReadOnlyQueryError)) throw error;
        return `${error.problem}; ${error.hint ?? ''}`.replace(/; $/, '');
      }
    }),
  );
  problems.forEach((problem, i) => {
    const path = queries[i]?.path;
    if (problem !== undefined && path !== undefined) report.add(path, problem);
  });
}
