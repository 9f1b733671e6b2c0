import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';
import { RulesError } from '../../../src/errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/rules/${name}`, import.meta.url));

async function rulesError(file: string): Promise<RulesError> {
  try {
    await loadRulesFile(file, {});
  } catch (error) {
    if (error instanceof RulesError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without a RulesError`);
}

interface BrokenFixture {
  name: string;
  /** `line:column` of the (first) problem, or null when the problem is about the whole file. */
  at: string | null;
  family?: string;
  fragments: string[];
  problems?: number;
}

const BROKEN: BrokenFixture[] = [
  { name: 'bad-yaml-syntax.yaml', at: '10:5', fragments: ['YAML syntax error', 'end with a ]'] },
  { name: 'duplicate-key.yaml', at: '10:5', fragments: ['duplicate key "ttl"', 'only once'] },
  { name: 'unknown-key.yaml', at: '9:5', family: 'user-profile', fragments: ['unknown key "tll"', 'did you mean "ttl"?', 'expected one of: name, pattern'] },
  { name: 'bare-number-duration.yaml', at: '9:10', family: 'user-profile', fragments: ['"ttl" must be a duration with a unit', 'like 300s or 300ms'] },
  { name: 'bad-duration.yaml', at: '10:19', family: 'user-profile', fragments: ['"maxStaleness" must be a duration', 'like 300s', 'got "5 minutes"'] },
  { name: 'unknown-source.yaml', at: '8:13', family: 'product', fragments: ['unknown source "catalog"', 'defined sources: main, shop'] },
  { name: 'missing-env.yaml', at: '5:26', fragments: ['environment variable SHADOWCHECK_TEST_DB_HOST is not set', '${SHADOWCHECK_TEST_DB_HOST:-value}'] },
  { name: 'key-arity.yaml', at: '8:10', family: 'user-field', fragments: ['has 2 placeholders ({id}, {field}) but "key" names 3 columns', 'like key: [id_column, field_column]'] },
  { name: 'empty-placeholder.yaml', at: '6:14', family: 'user-profile', fragments: ['empty placeholder "{}"', 'like user:{id}'] },
  { name: 'fields-and-exclude.yaml', at: '10:5', family: 'user-profile', fragments: ['either "fields"', '"exclude"', 'not both'] },
  { name: 'duplicate-family-names.yaml', at: '10:11', family: 'user', fragments: ['family name "user" is already used by the family at line 5', 'must be unique'] },
  {
    name: 'overlapping-patterns.yaml',
    at: '11:14',
    family: 'admin-profile',
    fragments: ['pattern "user:admin-{id}" overlaps family "user-profile"', 'at line 6', 'the key "user:admin-x" would match both'],
  },
  { name: 'wrong-type.yaml', at: '9:13', family: 'user-profile', fragments: ['"fields" must be a list, got "name"'] },
  { name: 'missing-required.yaml', at: '5:5', family: 'user-profile', fragments: ['missing required key "pattern"', 'like user:{id}'] },
  { name: 'query-and-table.yaml', at: '9:5', family: 'user-profile', fragments: ['either "query" or "table", not both'] },
  { name: 'postgres-query-without-param.yaml', at: '8:12', family: 'user-profile', fragments: ['postgres "query" must take the batch of ids as $1', 'ANY($1)'] },
  { name: 'wrong-url-scheme.yaml', at: '5:10', fragments: ['must start with postgres:// or postgresql://', 'mysql://app:***@db.internal'] },
  { name: 'raw-codec-two-fields.yaml', at: '10:13', family: 'session', fragments: ['codec "raw"', 'exactly that column in "fields"'] },
  { name: 'wrong-version.yaml', at: '1:10', fragments: ['"version" must be 1', 'got 2'] },
  { name: 'not-a-mapping.yaml', at: '1:1', fragments: ['must be a YAML mapping with version, sources and families, got a list'] },
  { name: 'not-utf8.yaml', at: '2:6', fragments: ['not valid UTF-8 (byte 0xe9)', 'save it as UTF-8'] },
  { name: 'empty.yaml', at: null, fragments: ['the rules file is empty', 'version: 1'] },
  { name: 'comments-only.yaml', at: null, fragments: ['the rules file is empty'] },
  {
    name: 'bad-normalizers.yaml',
    at: '11:14',
    family: 'product',
    fragments: ['decimal places must be from 0 to 30, got decimal:45', ':12:14 (family "product"): normalizer for "title" must be one of lowercase, trim'],
    problems: 2,
  },
  {
    name: 'bad-normalize-paths.yaml',
    at: '13:7',
    family: 'order',
    fragments: ['"normalize" key "items[.at" is not a field or a path into one', ':15:7 (family "order"): "normalize" names "note" (in "note.at"), a field the family does not compare'],
    problems: 2,
  },
  {
    name: 'module-source-without-module.yaml',
    at: '4:5',
    fragments: ['source "billing" is missing required key "module"', ':10:21 (family "invoice"): "minConsistency" must be between 0 and 1, got 1.5'],
    problems: 2,
  },
];

describe('broken rules files', () => {
  it.each(BROKEN)('$name is rejected at $at', async ({ name, at, family, fragments, problems }) => {
    const file = fixture(name);
    const error = await rulesError(file);
    expect(error.exitCode).toBe(2);
    expect(error.problems).toHaveLength(problems ?? 1);
    const location = at === null ? `${file}: ` : `${file}:${at}`;
    expect(error.message).toContain(location);
    if (at === null) expect(error.problems[0]).not.toHaveProperty('line');
    const first = error.problems[0];
    expect(first?.family).toBe(family);
    if (family !== undefined) expect(error.message).toContain(`${file}:${at} (family "${family}"): `);
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it('reports every problem of a file, in file order, each with its family', async () => {
    const file = fixture('many-problems.yaml');
    const error = await rulesError(file);
    expect(error.problems.map((p) => [p.line, p.column, p.family])).toEqual([
      [7, 11, 'user-profile'],
      [13, 13, 'order'],
      [15, 10, 'order'],
      [16, 5, 'order'],
    ]);
    expect(error.message).toContain('4 problems in the rules file:');
    expect(error.problems[0]?.message).toBe('"type" must be one of: string, hash, list, set, zset (got "stream")');
    expect(error.problems[1]?.message).toBe('unknown source "orders"; defined sources: main');
    expect(error.problems[2]?.message).toContain('add one to the bare number 5');
    expect(error.problems[3]?.message).toContain('unknown key "colour"');
  });

  it('never prints the password of a URL', async () => {
    const error = await rulesError(fixture('wrong-url-scheme.yaml'));
    expect(error.message).not.toContain('hunter2');
  });
});
