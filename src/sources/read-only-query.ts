/**
 * The read-only query policy: the one gate every family `query` passes before it is ever sent to
 * its source, whatever the command (audit, explain, init, rules validate --connect). The SQL
 * loaders call `ReadOnlyQueryGuard.require` at the top of `check()` and `load()`, so no command
 * can skip it.
 *
 * Why a parser and not only `BEGIN READ ONLY`: a read-only transaction stops writes to tables, but
 * not everything a SELECT can do. PostgreSQL's large-object functions (`lo_import`,
 * `lo_from_bytea`) write inside it, `dblink_exec` writes through a connection of its own, and
 * MariaDB runs `SELECT ... INTO OUTFILE` in a read-only transaction. So the query itself is parsed
 * with the dialect's own parser and accepted only when it is exactly one SELECT (UNION and CTEs of
 * SELECTs included) with no INTO, no locking clause (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE),
 * no data-modifying statement anywhere in it, and no call of a function on the dialect's deny
 * list. A query the parser cannot read is refused: what we cannot read we cannot vouch for.
 *
 * Each SQL kind's policy is in its folder (postgres/read-only-query.ts: libpg-query;
 * mysql/read-only-query.ts: node-sql-parser), named by its descriptor's
 * `rules.readOnlyQueryProblem`. This file is what they share: what is expected, the error, and the
 * guard the loaders call.
 *
 * Why a deny list and not an allow-list of functions: a family's query legitimately calls the
 * database's hundreds of built-in functions, its extensions' and the application's own (a
 * `full_name(u)` SQL function); an allow-list would refuse ordinary queries and still say nothing
 * about a user function's body. The deny list names the built-in and common-extension functions
 * whose side effects a read-only transaction does not stop (or that reach outside the database:
 * files, other connections, other sessions, locks, sequences, settings). What it cannot see, a
 * user-defined function that calls one of them, is what a read-only database role is for: the
 * loaders warn at start when the role they connect as can write (write-access.ts).
 */
import type { FamilyRule } from '../core/rule.js';
import { SourceCheckError } from './errors.js';

/**
 * A dialect's policy: what is wrong with `sql` as a family query, a sentence naming what was found
 * and what was expected, or undefined when it is one plain SELECT. It imports its parser on the
 * first query, so that checking a rules file without one never loads it.
 */
export type ReadOnlyQueryPolicy = (sql: string) => Promise<string | undefined>;

/** What every policy's refusal ends with ("...; expected " this). */
export const READ_ONLY_EXPECTED = 'one plain SELECT (WITH ... SELECT allowed) without INTO, locking clauses or functions with side effects';

/** A family's query refused by the read-only policy: a rules-file problem (exit 2). */
export class ReadOnlyQueryError extends SourceCheckError {
  /** What the policy found, without the family's name (for a message located at the query's line). */
  readonly problem: string;
  /** Where the refused query sits in the family's entry: `query`, or a child's `children.<name>.query`. */
  readonly path: (string | number)[];

  constructor(family: string, problem: string, path: (string | number)[] = ['query']) {
    super(family, problem, {
      hint: 'shadowcheck sends a family query only when it can read it as one plain SELECT; rewrite it as one, or use `table:` and let the loader write the SELECT',
    });
    this.name = 'ReadOnlyQueryError';
    this.problem = problem;
    this.path = path;
  }
}

/**
 * Checks each distinct query once per loader (the verdict is a pure function of policy and text)
 * and refuses a family whose query the policy does not accept. `table` families run SQL the
 * loader writes from quoted identifiers: nothing to check.
 */
export class ReadOnlyQueryGuard {
  private readonly verdicts = new Map<string, Promise<string | undefined>>();

  constructor(private readonly policy: ReadOnlyQueryPolicy) {}

  async require(rule: Pick<FamilyRule, 'name' | 'query' | 'table'>, path: (string | number)[] = ['query']): Promise<void> {
    if (rule.table !== undefined || rule.query === undefined) return;
    let verdict = this.verdicts.get(rule.query);
    if (verdict === undefined) {
      verdict = this.policy(rule.query);
      this.verdicts.set(rule.query, verdict);
    }
    const problem = await verdict;
    if (problem !== undefined) throw new ReadOnlyQueryError(rule.name, problem, path);
  }
}
