import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, runCli, STACK_TRACE } from './cli.js';

// Each broken rules file, the position the message must name, and a fragment a user can act on.
const BROKEN: [file: string, position: string, fragment: RegExp][] = [
  ['bad-yaml-syntax.yaml', ':', /YAML|expected/i],
  ['unknown-key.yaml', ':', /unknown key/i],
  ['bad-duration.yaml', ':', /duration/i],
  ['unknown-source.yaml', ':', /source/i],
  ['missing-env.yaml', ':5:26', /SHADOWCHECK_TEST_DB_HOST is not set/],
  ['key-arity.yaml', ':', /placeholder/i],
  ['fields-and-exclude.yaml', ':', /fields.*exclude|exclude.*fields/i],
  ['duplicate-family-names.yaml', ':', /duplicate|already/i],
  ['overlapping-patterns.yaml', ':', /overlap/i],
  ['missing-required.yaml', ':', /required|missing/i],
  ['postgres-query-without-param.yaml', ':', /\$1/],
];

describe('shadowcheck rules validate', () => {
  it('accepts the example rules file (exit 0)', async () => {
    const result = await runCli(['rules', 'validate', 'rules/example.yaml']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rules/example.yaml: OK');
  });

  it('accepts the demo rules file (exit 0)', async () => {
    expect((await runCli(['rules', 'validate', 'rules/demo.yaml'])).code).toBe(0);
  });

  it('accepts the module-loader example, whose source is a module with a url (exit 0)', async () => {
    const result = await runCli(['rules', 'validate', 'rules/examples/http-json.yaml']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('rules/examples/http-json.yaml: OK');
  });

  it.each(BROKEN)('rejects %s with exit 2, file:line:column and no stack trace', async (file, position, fragment) => {
    const path = `test/fixtures/rules/${file}`;
    const result = await runCli(['rules', 'validate', path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`${path.replace(/[.]/g, '\\.')}:\\d+:\\d+`));
    expect(result.stderr).toContain(`${path}${position}`);
    expect(result.stderr).toMatch(fragment);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('names a missing file without a stack trace (exit 2)', async () => {
    const result = await runCli(['rules', 'validate', 'no/such/rules.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no/such/rules.yaml');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('rejects a directory (exit 2)', async () => {
    const result = await runCli(['rules', 'validate', 'rules']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('runs as an executable through its shebang (how npm and npx start it)', () => {
    const result = spawnSync(BIN, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('reports an unknown command as a usage error (exit 2)', async () => {
    const result = await runCli(['rules', 'frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });
});
