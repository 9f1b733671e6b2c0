import { describe, expect, it } from 'vitest';
import { ReadOnlyQueryError, ReadOnlyQueryGuard } from '../../../src/sources/read-only-query.js';
import { SOURCE_KINDS } from '../../../src/sources/registry.js';

/**
 * The shared part of the policy: the guard the loaders call holds a family to its kind's policy
 * (each dialect's own is tested in its folder's test). A recording policy stands in for a parser.
 */
function recordingPolicy(refused: string): { calls: string[]; policy: (sql: string) => Promise<string | undefined> } {
  const calls: string[] = [];
  return {
    calls,
    policy: async (sql) => {
      calls.push(sql);
      return sql === refused ? 'the query is not a SELECT (DELETE statement)' : undefined;
    },
  };
}

describe('ReadOnlyQueryGuard', () => {
  it("refuses a family whose query its policy refuses, with the policy's words and the rewrite hint", async () => {
    const { policy } = recordingPolicy('DELETE FROM t');
    const error = await new ReadOnlyQueryGuard(policy).require({ name: 'user', query: 'DELETE FROM t' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadOnlyQueryError);
    expect((error as ReadOnlyQueryError).problem).toBe('the query is not a SELECT (DELETE statement)');
    expect((error as ReadOnlyQueryError).message).toContain('user');
    expect((error as ReadOnlyQueryError).hint).toMatch(/use `table:`/);
  });

  it('asks the policy once per distinct query, and never for a table family', async () => {
    const { calls, policy } = recordingPolicy('DELETE FROM t');
    const guard = new ReadOnlyQueryGuard(policy);
    await guard.require({ name: 'a', query: 'SELECT 1' });
    await guard.require({ name: 'b', query: 'SELECT 1' });
    await guard.require({ name: 'c', table: 'users' });
    await guard.require({ name: 'd', query: 'SELECT 2' });
    expect(calls).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it("each SQL kind's descriptor names its own dialect's policy; a module source has none", async () => {
    // GET_LOCK is on MySQL's deny list only; lo_import on PostgreSQL's only.
    const namedLock = "SELECT GET_LOCK('x', 1)";
    expect(await SOURCE_KINDS.mysql.rules.readOnlyQueryProblem(namedLock)).toMatch(/calls GET_LOCK\(\)/);
    expect(await SOURCE_KINDS.postgres.rules.readOnlyQueryProblem(namedLock)).toBeUndefined();
    const largeObject = "SELECT lo_import('/x')";
    expect(await SOURCE_KINDS.postgres.rules.readOnlyQueryProblem(largeObject)).toMatch(/calls lo_import\(\)/);
    expect(await SOURCE_KINDS.mysql.rules.readOnlyQueryProblem(largeObject)).toBeUndefined();
    expect(SOURCE_KINDS.module.rules.readOnlyQueryProblem).toBeNull();
  });
});
