import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/config/env-interpolation.js';
import { parseRules } from '../../../src/config/load.js';
import { RulesError } from '../../../src/errors.js';

describe('interpolateEnv', () => {
  it('replaces ${VAR} with the variable', () => {
    expect(interpolateEnv('postgres://${HOST}:5432/${DB}', { HOST: 'db', DB: 'app' }).value).toBe('postgres://db:5432/app');
  });

  it('uses the default when the variable is unset or empty, the variable otherwise', () => {
    expect(interpolateEnv('${URL:-postgres://127.0.0.1/test}', {}).value).toBe('postgres://127.0.0.1/test');
    expect(interpolateEnv('${URL:-fallback}', { URL: '' }).value).toBe('fallback');
    expect(interpolateEnv('${URL:-fallback}', { URL: 'set' }).value).toBe('set');
    expect(interpolateEnv('${URL:-}', {}).value).toBe('');
  });

  it('keeps a variable that is set but empty when there is no default', () => {
    expect(interpolateEnv('a${EMPTY}b', { EMPTY: '' }).value).toBe('ab');
  });

  it('reads $${ as a literal ${ and leaves other dollars alone', () => {
    expect(interpolateEnv('$${HOME}', { HOME: '/root' }).value).toBe('${HOME}');
    expect(interpolateEnv('price $5, $$, ANY($1) $', {}).value).toBe('price $5, $$, ANY($1) $');
  });

  it('takes a default verbatim, up to the first }', () => {
    expect(interpolateEnv('${A:-$${B}}', { B: 'b' }).value).toBe('$${B}');
  });

  it('reports every unset variable, naming it and where it starts', () => {
    const result = interpolateEnv('x${ONE}y${TWO:-ok}z${THREE}', {});
    expect(result.value).toBeUndefined();
    expect(result.problems.map((p) => [p.index, p.reference])).toEqual([
      [1, '${ONE}'],
      [19, '${THREE}'],
    ]);
    expect(result.problems[0]?.message).toBe('environment variable ONE is not set; set it, or give a default like ${ONE:-value}');
  });

  it('reports a malformed reference instead of passing it through', () => {
    expect(interpolateEnv('${1BAD}', {}).problems[0]?.message).toContain('malformed variable reference "${1BAD}"');
    expect(interpolateEnv('abc ${UNCLOSED', {}).problems[0]).toMatchObject({ index: 4, reference: '${UNCLOSED' });
  });
});

describe('interpolation in a rules file', () => {
  const rules = (url: string, extra = ''): string =>
    [
      'version: 1',
      'sources:',
      `  main: { kind: postgres, url: "${url}" }`,
      'families:',
      '  - name: user-profile',
      '    pattern: "user:{id}"',
      '    source: main',
      '    query: "SELECT * FROM users WHERE id = ANY($1)"',
      '    ttl: ${TTL:-300s}',
      extra,
    ].join('\n');

  it('interpolates before validation, so a duration or a URL may come from the environment', () => {
    const config = parseRules(rules('${DB_URL}'), 'rules.yaml', { DB_URL: 'postgres://db/app', TTL: '10m' });
    expect(config.sources.main?.url).toBe('postgres://db/app');
    expect(config.families[0]?.ttlMs).toBe(600_000);
  });

  it('points at the reference of a missing variable inside the string, and reports it once', () => {
    const error = catchRulesError(() => parseRules(rules('postgres://${DB_USER}@${DB_HOST}/app'), 'rules.yaml', {}));
    expect(error.problems).toEqual([
      { file: 'rules.yaml', line: 3, column: 44, message: expect.stringContaining('DB_USER is not set') as string },
      { file: 'rules.yaml', line: 3, column: 55, message: expect.stringContaining('DB_HOST is not set') as string },
    ]);
  });

  it('names the family of a missing variable inside a family', () => {
    const error = catchRulesError(() => parseRules(rules('postgres://db/app', '    negativeMarker: "${MARKER}"'), 'rules.yaml', {}));
    expect(error.problems).toEqual([{ file: 'rules.yaml', line: 10, column: 22, family: 'user-profile', message: expect.stringContaining('MARKER') as string }]);
  });

  it('keeps $${ as a literal ${ in the compiled rule', () => {
    const config = parseRules(rules('postgres://db/app', '    negativeMarker: "$${none}"'), 'rules.yaml', {});
    expect(config.families[0]?.negativeMarker).toBe('${none}');
  });
});

function catchRulesError(run: () => unknown): RulesError {
  try {
    run();
  } catch (error) {
    if (error instanceof RulesError) return error;
    throw error;
  }
  throw new Error('expected a RulesError');
}
