import { describe, expect, it } from 'vitest';
import { checkFamiliesAgainstSources } from '../../../src/audit/rules-check.js';
import { parseRules } from '../../../src/config/load.js';
import type { ColumnTypes } from '../../../src/core/column-type.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { RulesError } from '../../../src/errors.js';
import { checkColumnNames } from '../../../src/sources/result-columns.js';
import type { SourceLoader } from '../../../src/sources/types.js';

/** A rules file with one family; `extra` is appended to the family (6-space indent). */
function rules(extra: string, form = 'query: "SELECT id, name, email, plan FROM users WHERE id = ANY($1)"'): string {
  return `version: 1
sources:
  main: { kind: postgres, url: "postgres://127.0.0.1/app" }
families:
  - name: user-profile
    pattern: "user:{id}"
    source: main
    ${form}
    ttl: 300s
${extra}`;
}

function family(extra: string, form?: string): FamilyRule {
  return parseRules(rules(extra, form), 'rules.yaml', {}).families[0] as FamilyRule;
}

const COLUMNS = ['id', 'name', 'email', 'plan', 'version', 'updated_at', 'meta', 'items'];

describe('checkColumnNames: every name of the rules is a result column', () => {
  it('accepts a family whose every name is a column', () => {
    const rule = family(`    key: id
    fields: [name, email, meta, items]
    version: version
    updatedAt: updated_at
    normalize: { email: lowercase, "meta.at": timestamp, "items[].at": timestamp }
`);
    expect(checkColumnNames(rule, COLUMNS)).toEqual([]);
  });

  it('rejects a misspelled tolerance name, which would leave the counter exact (no fields: every column compared)', () => {
    const [problem, ...rest] = checkColumnNames(family('    tolerance: { versoin: 2 }\n'), COLUMNS);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: ['tolerance', 'versoin'], on: 'key', name: 'versoin' });
    expect(problem?.message).toContain('"tolerance" names "versoin", which is not a column the query returns; did you mean "version"?');
    expect(checkColumnNames(family('    tolerance: { version: 2 }\n'), COLUMNS)).toEqual([]);
  });

  it('rejects a misspelled field with a did-you-mean and the columns that exist', () => {
    const [problem, ...rest] = checkColumnNames(family('    fields: [name, emial]\n'), COLUMNS);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ path: ['fields', 1], name: 'emial', column: 'emial' });
    expect(problem?.message).toContain('"fields" lists "emial", which is not a column the query returns; did you mean "email"?');
    expect(problem?.message).toContain('Its columns are: id, name, email, plan, version, updated_at, meta, items');
  });

  it('rejects a field in the wrong case with a did-you-mean that says names are case-sensitive', () => {
    const [problem] = checkColumnNames(family('    fields: [Email]\n'), COLUMNS);
    expect(problem?.message).toContain('did you mean "email"? (names are case-sensitive)');
  });

  it('rejects a field neither side has, or that the query does not select, and says to select it', () => {
    const [problem] = checkColumnNames(family('    fields: [name, nickname]\n'), ['id', 'name']);
    expect(problem?.message).toContain('"fields" lists "nickname", which is not a column the query returns; select it in the query');
    expect(problem?.message).toContain('Its columns are: id, name');
  });

  it('names the table in table form', () => {
    const [problem] = checkColumnNames(family('    fields: [nickname]\n', 'table: app.users'), COLUMNS);
    expect(problem?.message).toContain('is not a column the table app.users returns; fix the name or remove it from "fields"');
  });

  it('checks exclude names when fields is absent', () => {
    const [problem] = checkColumnNames(family('    exclude: [plna]\n'), COLUMNS);
    expect(problem).toMatchObject({ path: ['exclude', 0], name: 'plna' });
    expect(problem?.message).toContain('did you mean "plan"?');
  });

  it('checks normalize names, and only the first segment of a path', () => {
    const problems = checkColumnNames(family('    normalize: { emali: trim, "meta.nope": timestamp, "itmes[].at": timestamp }\n'), COLUMNS);
    expect(problems.map((p) => [p.path, p.on, p.column])).toEqual([
      [['normalize', 'emali'], 'key', 'emali'],
      [['normalize', 'itmes[].at'], 'key', 'itmes'],
    ]);
    expect(problems[1]?.message).toContain('"normalize" names "itmes[].at", whose field "itmes" is not a column the query returns; did you mean "items"?');
  });

  it('checks version, updatedAt and the key', () => {
    const problems = checkColumnNames(family('    key: uid\n    version: ver\n    updatedAt: updatedAt\n'), COLUMNS);
    expect(problems.map((p) => [p.path, p.name])).toEqual([
      [['key', 0], 'uid'],
      [['updatedAt'], 'updatedAt'],
      [['version'], 'ver'],
    ]);
    expect(problems[0]?.message).toContain('the key column "uid" is not a column the query returns');
    expect(problems[1]?.message).toContain('did you mean "updated_at"?');
  });

  it("says a defaulted key comes from the pattern's placeholder", () => {
    const [problem] = checkColumnNames(family(''), ['user_id', 'name']);
    expect(problem?.message).toContain(`"key" defaults to the pattern's placeholder names; set "key" to the column that holds {id}`);
  });
});

describe('checkFamiliesAgainstSources', () => {
  const loader = (columns: ColumnTypes | undefined, hasCheck = true): SourceLoader => ({
    load: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
    ...(hasCheck ? { check: () => Promise.resolve(columns) } : {}),
  });
  const typed = (names: string[]): ColumnTypes => Object.fromEntries(names.map((n) => [n, { kind: 'text' as const, name: 'text' }]));

  it('throws one RulesError naming file:line:column and the family for every problem', async () => {
    const config = parseRules(rules('    fields: [name, emial, Plan]\n'), 'rules.yaml', {});
    const error = await checkFamiliesAgainstSources(config, config.families, new Map([['main', loader(typed(['id', 'name', 'email', 'plan']))]])).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RulesError);
    const problems = (error as RulesError).problems;
    expect(problems.map((p) => [p.file, p.line, p.column, p.family])).toEqual([
      ['rules.yaml', 10, 20, 'user-profile'],
      ['rules.yaml', 10, 27, 'user-profile'],
    ]);
    expect((error as RulesError).exitCode).toBe(2);
    expect((error as Error).message).toContain('rules.yaml:10:20 (family "user-profile"): "fields" lists "emial"');
  });

  it('points a normalize problem at its key', async () => {
    const config = parseRules(rules('    normalize:\n      "mtea.at": timestamp\n'), 'rules.yaml', {});
    const error = await checkFamiliesAgainstSources(config, config.families, new Map([['main', loader(typed(['id', 'meta']))]])).catch((e: unknown) => e);
    expect((error as RulesError).problems.map((p) => [p.line, p.column])).toEqual([[11, 7]]);
  });

  it('warns, instead of checking, when the loader declares no columns', async () => {
    const config = parseRules(rules('    fields: [whatever]\n'), 'rules.yaml', {});
    for (const l of [loader(undefined), loader(undefined, false)]) {
      const warnings = await checkFamiliesAgainstSources(config, config.families, new Map([['main', l]]));
      expect(warnings).toEqual([expect.objectContaining({ kind: 'rules', family: 'user-profile', message: expect.stringContaining('were not checked against source "main"') })]);
    }
  });

  it('passes a good family without warnings', async () => {
    const config = parseRules(rules('    fields: [name]\n'), 'rules.yaml', {});
    await expect(checkFamiliesAgainstSources(config, config.families, new Map([['main', loader(typed(['id', 'name']))]]))).resolves.toEqual([]);
  });
});
