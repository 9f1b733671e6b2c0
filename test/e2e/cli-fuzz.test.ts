/**
 * A fuzz run of the CLI's flags and URLs (fast-check) through the built CLI: number flags at, just
 * past and far past their documented limits, unknown and garbled flag values, and connection URLs
 * of every shape with every special character in the password, given as --redis or as a rules
 * file's source url. Whatever the input: never exit 70, never a stack trace, never a piece of the
 * password on stdout or stderr. Each case is a child process, so the runs are few but varied;
 * every URL points at port 1 (refused at once) or does not parse, so no case waits on a network.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUMBER_RANGES } from '../../src/cli/parse.js';
import { runCli, STACK_TRACE, type CliResult } from './cli.js';

const VALID = 'test/fixtures/bad-input/valid.yaml';
/** Two marker pieces with a special character between them: neither may ever be printed. */
const LEFT = 'Qz7Kx';
const RIGHT = 'Wv4Jy';
const SPECIALS = [...'#@/?:%& =+$,;[]{}|\\^`"\'<>!*()~', '%', '%2', '%zz', '\t', '\u00e9', '..'];

function expectSafe(result: CliResult, args: readonly string[]): void {
  const context = `args: ${JSON.stringify(args)}\nstderr: ${result.stderr}`;
  expect(result.code, context).not.toBe(70);
  expect(result.code, context).not.toBeNull();
  expect(result.stderr, context).not.toMatch(STACK_TRACE);
  expect(result.stderr, context).not.toMatch(/internal error|TypeError|ReplyError/);
  for (const piece of [LEFT, RIGHT]) {
    expect(result.stdout, context).not.toContain(piece);
    expect(result.stderr, context).not.toContain(piece);
  }
}

const numberFlag = fc.constantFrom(...(Object.keys(NUMBER_RANGES) as (keyof typeof NUMBER_RANGES)[]));
const numberValue = (flag: keyof typeof NUMBER_RANGES): fc.Arbitrary<{ value: string; valid: boolean }> => {
  const { min, max } = NUMBER_RANGES[flag];
  const values = [min, max, max + 1, min - 1, 2147483648, 3000000000].map(String);
  return fc.constantFrom(...values, '1e9', '9'.repeat(30), '', ' ', '-0x10', '1.5', 'NaN', 'Infinity', '12abc').map((value) => {
    const n = Number(value);
    return { value, valid: /^\d+$/.test(value) && n >= min && n <= max };
  });
};

/** A URL-shaped string holding LEFT + special + RIGHT as its password, in many malformed shapes. */
const urlCase = fc
  .record({
    scheme: fc.constantFrom('redis://', 'rediss://', 'redis:/', 'redis:', '', 'redis+sentinel://', 'redis+cluster://', 'postgres://', 'postgresql:/', 'mysql://', 'http://'),
    user: fc.constantFrom('', 'app', 'a b', 'u@x'),
    special: fc.constantFrom(...SPECIALS),
    host: fc.constantFrom('127.0.0.1:1', '127.0.0.1:99999', '127.0.0.1', '[::1]:1', '127.0.0.1:1,127.0.0.1:1'),
    path: fc.constantFrom('', '/0', '/abc', '/15/x', '/0?db=1', '#frag'),
    where: fc.constantFrom('redis', 'rules'),
  })
  .map((c) => ({ ...c, url: `${c.scheme}${c.user}:${LEFT}${c.special}${RIGHT}@${c.host}${c.path}` }));

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowcheck-fuzz-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('CLI fuzz', () => {
  it.concurrent('number flags at and past their limits: exit 2 naming flag, value and range, or accepted', async () => {
    await fc.assert(
      fc.asyncProperty(
        numberFlag.chain((flag) => numberValue(flag).map((v) => ({ flag, ...v }))),
        fc.constantFrom('audit', 'explain'),
        async ({ flag, value, valid }, command) => {
          const explainable = flag === '--timeout' || flag === '--max-value-bytes';
          const args = command === 'explain' && explainable ? ['explain', 'user:1', '--rules', VALID, flag, value] : ['audit', '--rules', VALID, '--redis', 'redis://127.0.0.1:1/0', '--timeout', '2000', flag, value];
          const result = await runCli(args, {}, 30_000);
          expectSafe(result, args);
          if (valid) {
            // Accepted: it reaches the connection step, which the unreachable Redis refuses.
            expect(result.code, result.stderr).toBe(3);
          } else {
            expect(result.code, result.stderr).toBe(2);
            const { min, max } = NUMBER_RANGES[flag];
            expect(result.stderr).toContain(`${flag} takes a whole number >= ${min}`);
            expect(result.stderr).toContain(`(range: ${min} to ${max})`);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  it.concurrent('URLs of every shape, password with any special character: exit 2 or 3, no password shown', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(urlCase, async ({ url, where }) => {
        let args: string[];
        if (where === 'redis') {
          args = ['audit', '--rules', VALID, '--redis', url, '--timeout', '2000'];
        } else {
          const file = join(dir, `rules-${n++}.yaml`);
          const text = ['version: 1', 'sources:', `  main: { kind: postgres, url: ${JSON.stringify(url)} }`, 'families:', '  - name: f', '    pattern: "p:{id}"', '    source: main', '    table: t', '    ttl: 300s', ''].join('\n');
          await writeFile(file, text);
          args = ['rules', 'validate', file];
        }
        const result = await runCli(args, {}, 30_000);
        expectSafe(result, [args[0] ?? '', '<url with password>']);
        expect([0, 2, 3], result.stderr).toContain(result.code);
      }),
      { numRuns: 60 },
    );
  }, 240_000);

  it.concurrent('unknown and repeated flags: exit 2, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('--frob', '--output', '--format', '--redis', '--family', '--shard', '--recent', '--max-replica-lag', '--min-consistency', '--', '-x'), fc.constantFrom('', '%', '-1', '../x', '\u0007', '9'.repeat(400), '1/0', '99999d'), async (flag, value) => {
        const args = ['audit', '--rules', VALID, '--redis', 'redis://127.0.0.1:1/0', '--timeout', '2000', flag, value];
        const result = await runCli(args, {}, 30_000);
        expectSafe(result, args);
        expect([1, 2, 3], result.stderr).toContain(result.code);
      }),
      { numRuns: 20 },
    );
  }, 240_000);
});
