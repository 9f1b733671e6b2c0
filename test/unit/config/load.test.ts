import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRulesFile, parseRules } from '../../../src/config/load.js';
import { RulesError } from '../../../src/errors.js';

const MINIMAL = `version: 1
sources:
  main: { kind: postgres, url: "postgres://127.0.0.1/app" }
families:
  - name: user-profile
    pattern: "user:{id}"
    source: main
    query: "SELECT * FROM users WHERE id = ANY($1)"
    ttl: 300s
`;

function problemsOf(run: () => unknown): RulesError['problems'] {
  try {
    run();
  } catch (error) {
    if (error instanceof RulesError) return error.problems;
    throw error;
  }
  throw new Error('expected a RulesError');
}

describe('loadRulesFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowcheck-rules-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says a missing file was not found, with the path it looked for', async () => {
    const file = join(dir, 'nope.yaml');
    await expect(loadRulesFile(file)).rejects.toThrow(`${file}: rules file not found (looked for ${file}); check the path`);
  });

  it('says a directory is not a rules file', async () => {
    await expect(loadRulesFile(dir)).rejects.toThrow(`${dir}: is a directory; pass the path of a rules file`);
  });

  it('rejects with a RulesError (exit code 2)', async () => {
    await expect(loadRulesFile(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(RulesError);
  });

  it('accepts a UTF-8 file with a byte order mark', async () => {
    const file = join(dir, 'bom.yaml');
    await writeFile(file, `\uFEFF${MINIMAL}`);
    const config = await loadRulesFile(file, {});
    expect(config.families).toHaveLength(1);
  });

  it('resolves a module source against the rules file folder', async () => {
    const file = join(dir, 'module.yaml');
    await writeFile(file, 'version: 1\nsources:\n  billing: { kind: module, module: ./loaders/billing.js }\nfamilies:\n  - { name: invoice, pattern: "invoice:{id}", source: billing, ttl: 5m }\n');
    const missing = await loadRulesFile(file, {}).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RulesError);
    expect((missing as Error).message).toContain(`source "billing": loader module ${join(dir, 'loaders', 'billing.js')} does not exist`);
    await mkdir(join(dir, 'loaders'));
    await writeFile(join(dir, 'loaders', 'billing.js'), 'export default async () => ({});\n');
    const config = await loadRulesFile(file, {});
    expect(config.sources.billing).toEqual({ name: 'billing', kind: 'module', module: join(dir, 'loaders', 'billing.js') });
  });
});

describe('parseRules', () => {
  it('fills in the defaults: type string, codec json, key from the placeholder, maxStaleness = ttl, clockSkew 1s', () => {
    const [family] = parseRules(MINIMAL, 'rules.yaml', {}).families;
    expect(family).toMatchObject({
      name: 'user-profile',
      type: 'string',
      codec: 'json',
      source: 'main',
      key: ['id'],
      ttlMs: 300_000,
      maxStalenessMs: 300_000,
      clockSkewMs: 1_000,
      normalize: {},
      redact: [],
    });
    expect(family?.pattern.match('user:7')).toBe('7');
    expect(family).not.toHaveProperty('fields');
    expect(family).not.toHaveProperty('minConsistency');
  });

  it('resolves a relative module path against the folder of the rules file, not the working directory', () => {
    const text = 'version: 1\nsources:\n  m: { kind: module, module: ../loaders/x.js }\nfamilies:\n  - { name: f, pattern: "f:{id}", source: m, ttl: 1s }\n';
    expect(parseRules(text, 'rules/prod/rules.yaml', {}).sources.m?.module).toBe(resolve('rules/loaders/x.js'));
    expect(parseRules(text.replace('../loaders/x.js', '/opt/x.js'), 'rules.yaml', {}).sources.m?.module).toBe('/opt/x.js');
  });

  it('follows YAML anchors and aliases', () => {
    const text = `${MINIMAL}  - name: order\n    pattern: "order:{id}"\n    source: main\n    table: orders\n    ttl: &ttl 10m\n    maxStaleness: *ttl\n`;
    expect(parseRules(text, 'rules.yaml', {}).families[1]?.maxStalenessMs).toBe(600_000);
  });

  it('requires query or table for a database source, and names the source', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace(/ {4}query: .*\n/, ''), 'rules.yaml', {}));
    expect(problems).toEqual([
      {
        file: 'rules.yaml',
        line: 5,
        column: 5,
        family: 'user-profile',
        message: 'the family reads from postgres source "main" and needs "query" (SQL that loads a batch of ids) or "table" (table or schema.table)',
      },
    ]);
  });

  it('requires ? in a mysql query and accepts mariadb:// URLs', () => {
    const text = MINIMAL.replace('kind: postgres, url: "postgres://127.0.0.1/app"', 'kind: mysql, url: "mariadb://root@127.0.0.1/shop"');
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', {}));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 8, column: 12, message: expect.stringContaining('a mysql "query" must take the batch of ids as ?') as string });
  });

  it('does not take $10 for $1 in a postgres query', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace('ANY($1)', 'ANY($10)'), 'rules.yaml', {}));
    expect(problems[0]?.message).toContain('$1');
  });

  it('rejects a table that is not an identifier or schema.identifier', () => {
    const text = MINIMAL.replace(/ {4}query: .*\n/, '    table: "users; DROP TABLE users"\n');
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', {}));
    expect(problems).toEqual([
      expect.objectContaining({ line: 8, column: 12, message: expect.stringContaining('"table" must be a table name or schema.table, like app.users') as string }),
    ]);
    expect(parseRules(MINIMAL.replace(/ {4}query: .*\n/, '    table: app.users\n'), 'r.yaml', {}).families[0]?.table).toBe('app.users');
  });

  it('masks the password of an invalid URL in the message', () => {
    const text = MINIMAL.replace('postgres://127.0.0.1/app', 'postgres://app:s3cr3t@db host/app');
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', {}));
    expect(problems[0]?.message).toBe(
      '"url" is not a valid URL (got "postgres://app:***@db host/app"); expected postgres://user@host:5432/database; ' +
        'percent-encode special characters in the password: # is %23, @ is %40, / is %2F, ? is %3F, : is %3A, % is %25, a space is %20',
    );
  });

  it.each(['Xq7#Zr@Wk9', 'Xq7/Zr Wk9', 'Xq7?Zr#Wk9', '1234#Zr@Wk9'])('masks an unencoded password %j up to the last "@" and says to percent-encode it', (password) => {
    const text = MINIMAL.replace('postgres://127.0.0.1/app', '${DB_URL}');
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', { DB_URL: `postgres://app:${password}@db:5432/app` }));
    expect(problems).toHaveLength(1);
    const message = problems[0]?.message ?? '';
    expect(message).toContain('(got "postgres://app:***@db:5432/app")');
    expect(message).toContain('percent-encode special characters in the password');
    for (const piece of ['Xq7', 'Zr', 'Wk9', '1234']) expect(message).not.toContain(piece);
  });

  it('masks a password that arrived through an environment variable', () => {
    const text = MINIMAL.replace('postgres://127.0.0.1/app', '${DB_URL}');
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', { DB_URL: 'http://admin:topsecret@db/app' }));
    expect(problems[0]?.message).toContain('http://admin:***@db/app');
    expect(JSON.stringify(problems)).not.toContain('topsecret');
  });

  it('rejects module on a database source, and passes a module source its url', () => {
    const text = 'version: 1\nsources:\n  a: { kind: module, module: ./a.js, url: "https://api.example/v1" }\n  b: { kind: postgres, url: "postgres://x/y", module: ./b.js }\nfamilies:\n  - { name: f, pattern: "f:{id}", source: a, ttl: 1s }\n';
    const problems = problemsOf(() => parseRules(text, 'rules.yaml', {}));
    expect(problems.map((p) => [p.line, p.column])).toEqual([[4, 47]]);
    expect(problems[0]?.message).toContain('"module" is only used by kind: module sources');
    const config = parseRules(text.replace(', module: ./b.js', ''), '/etc/sc/rules.yaml', {});
    expect(config.sources['a']).toEqual({ name: 'a', kind: 'module', url: 'https://api.example/v1', module: '/etc/sc/a.js' });
  });

  it('compiles a composite key, and checks it names one column per placeholder and a query takes each', () => {
    const base = 'version: 1\nsources:\n  main: { kind: postgres, url: "postgres://x/y" }\nfamilies:\n  - name: f\n    pattern: "t:{tenant}:u:{id}"\n    source: main\n    ttl: 1s\n';
    const [family] = parseRules(`${base}    table: users\n`, 'rules.yaml', {}).families;
    expect(family?.key).toEqual(['tenant', 'id']);
    expect(family?.pattern.placeholders).toEqual(['tenant', 'id']);
    const listed = parseRules(`${base}    table: users\n    key: [tenant_id, id]\n`, 'rules.yaml', {}).families[0];
    expect(listed?.key).toEqual(['tenant_id', 'id']);

    const arity = problemsOf(() => parseRules(`${base}    table: users\n    key: id\n`, 'rules.yaml', {}));
    expect(arity.map((p) => [p.line, p.message])).toEqual([
      [10, 'the pattern has 2 placeholders ({tenant}, {id}) but "key" names 1 column; give one source column per placeholder, in order, like key: [tenant_column, id_column]'],
    ]);
    const query = problemsOf(() => parseRules(`${base}    query: "SELECT * FROM users WHERE id = ANY($1)"\n`, 'rules.yaml', {}));
    expect(query[0]?.message).toContain('takes one array per column, $1 to $2 in placeholder order');
  });

  it('compiles fieldCodecs for a hash family and rejects them on a string family', () => {
    const base = 'version: 1\nsources:\n  main: { kind: postgres, url: "postgres://x/y" }\nfamilies:\n  - name: f\n    pattern: "f:{id}"\n    source: main\n    table: t\n    ttl: 1s\n    fieldCodecs: { prefs: json, blob: msgpack }\n';
    expect(parseRules(`${base}    type: hash\n`, 'rules.yaml', {}).families[0]?.fieldCodecs).toEqual({ prefs: 'json', blob: 'msgpack' });
    const problems = problemsOf(() => parseRules(base, 'rules.yaml', {}));
    expect(problems.map((p) => [p.line, p.message])).toEqual([[10, '"fieldCodecs" decodes the fields of a hash; use it with type: hash, or "codec" for a string value']]);
    const typo = problemsOf(() => parseRules(`${base}    type: hash\n    fields: [prefs, name]\n`, 'rules.yaml', {}));
    expect(typo.map((p) => p.message)).toEqual(['"fieldCodecs" names "blob", a field the family does not compare (fields: prefs, name); fix the name or compare it']);
  });

  it('rejects a ttl of zero and a duration that is not whole milliseconds', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace('ttl: 300s', 'ttl: 0s\n    clockSkew: 0.5ms'), 'rules.yaml', {}));
    expect(problems.map((p) => p.message)).toEqual([
      '"ttl" must be greater than 0: it is the expiry the application writes these keys with',
      '"clockSkew" must be a whole number of milliseconds, got "0.5ms"; use a smaller unit, like 1500ms',
    ]);
  });

  it('says what is missing at the top level', () => {
    const problems = problemsOf(() => parseRules('sources: {}\nfamilies: []\n', 'rules.yaml', {}));
    expect(problems.map((p) => [p.line, p.column, p.message])).toEqual([
      [1, 1, 'missing required key "version"; add "version: 1" at the top of the file'],
      [1, 10, '"sources" must define at least one source, like main: { kind: postgres, url: "${DATABASE_URL}" }'],
      [2, 11, '"families" must list at least one key family'],
    ]);
  });

  it('points at the key of an empty value', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace('ttl: 300s', 'ttl:'), 'rules.yaml', {}));
    expect(problems).toEqual([expect.objectContaining({ line: 9, column: 5, message: '"ttl" must be a duration like 300s (a number followed by ms, s, m, h or d), got nothing' })]);
  });

  it('reports a duplicate field in a list', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace('ttl: 300s', 'ttl: 300s\n    fields: [name, email, name]'), 'rules.yaml', {}));
    expect(problems).toEqual([expect.objectContaining({ line: 10, column: 13, message: '"fields" lists "name" twice; remove the duplicate' })]);
  });

  it('suggests the closest value of an enum', () => {
    const problems = problemsOf(() => parseRules(MINIMAL.replace('ttl: 300s', 'ttl: 300s\n    codec: jsno'), 'rules.yaml', {}));
    expect(problems[0]?.message).toBe('"codec" must be one of: json, raw, msgpack, gzip-json, brotli-json (got "jsno"); did you mean "json"?');
  });
});

describe('parseRules: normalize, fields and exclude', () => {
  const withLines = (...lines: string[]): string => MINIMAL.replace('ttl: 300s', ['ttl: 300s', ...lines].join('\n    '));
  const rulesError = (text: string): RulesError => {
    try {
      parseRules(text, 'rules.yaml', {});
    } catch (error) {
      if (error instanceof RulesError) return error;
      throw error;
    }
    throw new Error('expected a RulesError');
  };

  it('compiles a list per field, applied in order, and paths under their top-level field', () => {
    const config = parseRules(withLines('fields: [email, meta, items]', 'normalize: { email: [trim, lowercase], "meta.at": timestamp, "items[].at": [timestamp], "items[].day": date }'), 'rules.yaml', {});
    const family = config.families[0];
    expect(family?.normalize).toEqual({ email: [{ name: 'trim' }, { name: 'lowercase' }] });
    expect(family?.normalizePaths).toEqual({
      meta: [{ path: 'meta.at', steps: ['at'], specs: [{ name: 'timestamp' }] }],
      items: [
        { path: 'items[].at', steps: ['[]', 'at'], specs: [{ name: 'timestamp' }] },
        { path: 'items[].day', steps: ['[]', 'day'], specs: [{ name: 'date' }] },
      ],
    });
  });

  it('reads a key that fields lists verbatim as that field, dot included', () => {
    const family = parseRules(withLines('fields: ["a.b"]', 'normalize: { "a.b": [empty-as-null] }'), 'rules.yaml', {}).families[0];
    expect(family?.normalize).toEqual({ 'a.b': [{ name: 'empty-as-null' }] });
    expect(family?.normalizePaths).toBeUndefined();
  });

  it('rejects an unknown normalizer in a list, naming the file, line, family and the normalizers there are', () => {
    const error = rulesError(withLines('normalize: { email: [trim, lowercas] }'));
    expect(error.exitCode).toBe(2);
    expect(error.problems).toEqual([
      expect.objectContaining({ line: 10, column: 32, family: 'user-profile', message: expect.stringContaining('normalizer 2 for "email" must be one of lowercase, trim, number, decimal:N, timestamp, date, boolean, sorted, json, empty-as-null, got "lowercas"; did you mean "lowercase"?') as unknown }),
    ]);
    expect(error.message).toContain('rules.yaml:10:32 (family "user-profile"): ');
  });

  it('rejects an empty list and decimal places out of range inside a list', () => {
    expect(rulesError(withLines('normalize: { email: [] }')).problems[0]?.message).toBe('normalizer for "email" must list at least 1 entry; remove the key if you do not need it');
    expect(rulesError(withLines('normalize: { price: [trim, "decimal:45"] }')).problems).toEqual([
      expect.objectContaining({ line: 10, column: 32, message: 'normalizer 2 for "price": decimal places must be from 0 to 30, got decimal:45' }),
    ]);
  });

  it.each([
    ['items[', 'items[" is not a field or a path into one ("items[" is not a name optionally followed by [])'],
    ['.a', '".a" is not a field or a path into one (it starts with a dot)'],
    ['a..b', '"a..b" is not a field or a path into one (it has an empty step (two dots, or a dot at the end))'],
    ['a.', '"a." is not a field or a path into one (it has an empty step'],
    ['items[0].at', '("items[0]" names an index; paths reach every element with [], like items[].at)'],
    ['[].at', '("[]" has no name before its brackets)'],
  ])('rejects the malformed path %s at its key', (path, fragment) => {
    const error = rulesError(withLines(`normalize: { "${path}": timestamp }`));
    expect(error.problems).toEqual([expect.objectContaining({ line: 10, column: 18, family: 'user-profile' })]);
    expect(error.problems[0]?.message).toContain(fragment);
    expect(error.problems[0]?.message).toContain('write a field (email), a key inside it (meta.at) or a key inside every element of a list (items[].at)');
  });

  it('rejects a normalizer or path on a field that fields does not list, suggesting the close one', () => {
    const error = rulesError(withLines('fields: [name, email, meta]', 'normalize: { emial: lowercase, "metta.at": timestamp, "meta.at": timestamp }'));
    expect(error.problems.map((p) => [p.line, p.column, p.family, p.message])).toEqual([
      [11, 18, 'user-profile', '"normalize" names "emial", a field the family does not compare (fields: name, email, meta); did you mean "email"?; fix the name or add it to "fields"'],
      [11, 36, 'user-profile', '"normalize" names "metta" (in "metta.at"), a field the family does not compare (fields: name, email, meta); did you mean "meta"?; fix the name or add it to "fields"'],
    ]);
    expect(error.message).toContain('rules.yaml:11:18 (family "user-profile"): ');
  });

  it('rejects a normalizer or path on a field that exclude lists', () => {
    const error = rulesError(withLines('exclude: [password_hash, meta]', 'normalize: { password_hash: trim, "meta[].at": timestamp, email: lowercase }'));
    expect(error.problems.map((p) => [p.line, p.column, p.message])).toEqual([
      [11, 18, '"normalize" names "password_hash", a field "exclude" leaves out of the comparison; remove the normalizer or the exclusion'],
      [11, 39, '"normalize" names "meta" (in "meta[].at"), a field "exclude" leaves out of the comparison; remove the normalizer or the exclusion'],
    ]);
  });

  it('rejects a path into a hash field that holds text, and accepts it once the field is decoded', () => {
    const hash = (lines: string[]): string => withLines('type: hash', 'fields: [prefs]', ...lines);
    expect(rulesError(hash(['normalize: { "prefs.at": timestamp }'])).problems).toEqual([
      expect.objectContaining({ line: 12, column: 18, message: '"prefs.at" reaches inside hash field "prefs", which holds text; decode it first with fieldCodecs: { prefs: json } (or normalize prefs: json)' }),
    ]);
    expect(() => parseRules(hash(['fieldCodecs: { prefs: json }', 'normalize: { "prefs.at": timestamp }']), 'rules.yaml', {})).not.toThrow();
    expect(() => parseRules(hash(['normalize: { prefs: json, "prefs.at": timestamp }']), 'rules.yaml', {})).not.toThrow();
  });

  it('rejects a path into a raw value unless json parses it first', () => {
    const raw = (normalize: string): string => withLines('codec: raw', 'fields: [prefs]', `normalize: ${normalize}`);
    expect(rulesError(raw('{ "prefs.at": timestamp }')).problems[0]?.message).toBe('"prefs.at" reaches inside the raw value of "prefs", which is text; parse it first with normalize prefs: json');
    expect(() => parseRules(raw('{ prefs: [json], "prefs.at": timestamp }'), 'rules.yaml', {})).not.toThrow();
  });

  it('rejects an exclude entry that fields also lists, naming it', () => {
    const error = rulesError(withLines('fields: [name, email]', 'exclude: [email]'));
    expect(error.problems).toEqual([
      expect.objectContaining({
        line: 11,
        column: 5,
        family: 'user-profile',
        message: 'give either "fields" (the fields to compare) or "exclude" (the fields to leave out), not both; "exclude" lists "email", which "fields" also lists',
      }),
    ]);
  });

  it('rejects duplicates in fields and in exclude', () => {
    expect(rulesError(withLines('fields: [name, email, name]')).problems).toEqual([
      expect.objectContaining({ line: 10, column: 13, family: 'user-profile', message: '"fields" lists "name" twice; remove the duplicate' }),
    ]);
    expect(rulesError(withLines('exclude: [a, a]')).problems).toEqual([
      expect.objectContaining({ line: 10, column: 14, family: 'user-profile', message: '"exclude" lists "a" twice; remove the duplicate' }),
    ]);
  });
});
