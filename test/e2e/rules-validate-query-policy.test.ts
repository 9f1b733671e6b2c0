import { describe, expect, it } from 'vitest';
import { runCli, STACK_TRACE } from './cli.js';

/**
 * `rules validate FILE` without --connect applies the read-only query policy the loaders apply:
 * a query they would refuse in production is a rules error (exit 2) now, at its `query:` line.
 */
describe('shadowcheck rules validate: the read-only query policy, offline', () => {
  it('refuses lo_import (postgres), INTO OUTFILE (mysql) and FOR UPDATE at file:line, and passes the fine query and the module loader', async () => {
    const path = 'test/fixtures/rules/read-only-query-refused.yaml';
    const result = await runCli(['rules', 'validate', path]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('3 problems in the rules file:');
    expect(result.stderr).toContain(`${path}:11:12 (family "lo-import"): the query calls lo_import(), which has side effects a read-only transaction does not stop; expected one plain SELECT`);
    expect(result.stderr).toContain(`${path}:17:12 (family "into-outfile"): the query has SELECT ... INTO (a file or variables); expected one plain SELECT`);
    // A folded block scalar: the line of its `query:` key.
    expect(result.stderr).toContain(`${path}:23:12 (family "for-update"): the query has a locking clause (FOR UPDATE / FOR SHARE)`);
    expect(result.stderr).toContain('use `table:` and let the loader write the SELECT');
    expect(result.stderr).not.toContain('family "fine"');
    expect(result.stderr).not.toContain('family "from-module"');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('accepts a file whose queries are plain SELECTs (exit 0)', async () => {
    const path = 'test/fixtures/rules/read-only-query-accepted.yaml';
    const result = await runCli(['rules', 'validate', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${path}: OK: 3 families (fine, fine-mysql, from-module), 3 sources\n`);
    expect(result.stderr).toBe('');
  });
});
