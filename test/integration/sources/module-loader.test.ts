/**
 * How a `kind: module` source fails when its module does not keep the factory contract, and how
 * the user's loader is wrapped: each failure with its exit code and a message naming the module
 * and the source. The modules are small files written to a temp dir per test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../../src/config/types.js';
import { ConnectionError, ExitCode, ShadowcheckError, UsageError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { parseJsonExact } from '../../../src/core/json-text.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { familyRule } from '../helpers/db.js';

const OPTIONS = { timeoutMs: 1000, maxConnections: 2 };
const RULE = familyRule({ name: 'invoice', source: 'billing', table: 'invoices' });

let dir: TempDir;
let count = 0;

beforeAll(async () => {
  dir = await makeTempDir('sc-module-loader-');
  // Plain .js files in this folder are ES modules, as in a "type": "module" project.
  await dir.write('package.json', '{"type":"module"}');
});
afterAll(async () => {
  await dir?.remove();
});

/** Writes `source` as a fresh module file (a new name each time: imports are cached) and returns its path. */
async function moduleFile(source: string): Promise<string> {
  count += 1;
  return dir.write(`loader-${count}.js`, source);
}

function spec(module: string, url?: string): SourceSpec {
  return { name: 'billing', kind: 'module', module, ...(url === undefined ? {} : { url }) };
}

async function failure(module: string, url?: string): Promise<ShadowcheckError> {
  const error = await createSourceLoader(spec(module, url), OPTIONS).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShadowcheckError);
  return error as ShadowcheckError;
}

/** A loader module whose load() runs `body` (with `rule` and `ids` in scope). */
function loaderModule(loadBody: string, extra = ''): string {
  return `export default async function create(spec, options) {
  return {
    async load(rule, ids) { ${loadBody} },
    async close() {},
    ${extra}
  };
}
`;
}

describe('loading a loader module', () => {
  it('a module that does not exist: exit 2 naming the path and the source', async () => {
    const path = dir.file('no-such-loader.js');
    const error = await failure(path);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`source "billing": loader module ${path} does not exist`);
    expect(error.hint).toContain("resolved against the rules file's folder");
  });

  it('a syntax error: exit 2 saying so', async () => {
    const path = await moduleFile('export default async function (spec {\n');
    const error = await failure(path);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(`source "billing": loader module ${path} `);
    expect(error.message).toMatch(/syntax error|failed while being imported/);
  });

  it('top-level code that throws: exit 2, told to connect in the factory', async () => {
    const path = await moduleFile("throw new Error('boom at import');\nexport default async () => ({});\n");
    const error = await failure(path);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`source "billing": loader module ${path} failed while being imported: boom at import`);
    expect(error.hint).toContain('factory');
  });

  it('no default export: exit 2 listing what it exports', async () => {
    const path = await moduleFile('export async function createSourceLoader() {}\nexport const version = 1;\n');
    const error = await failure(path);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `source "billing": loader module ${path} does not export a loader factory: it has no default export; it exports createSourceLoader, version`,
    );
    expect(error.hint).toContain('export default async function');
  });

  it('a default export that is not a function: exit 2', async () => {
    const path = await moduleFile('export default { load() {}, close() {} };\n');
    const error = await failure(path);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain('its default export is an object with load, close, not a function');
  });

  it('a factory that throws: exit 3 naming the source, the module and the redacted url, never the password', async () => {
    const path = await moduleFile(
      'export default async function (spec) { throw new Error(`cannot reach ${spec.url} (password s3cret-pw rejected)`); }\n',
    );
    const error = await failure(path, 'https://svc:s3cret-pw@billing.internal/api');
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.exitCode).toBe(ExitCode.connection);
    expect(error.message).toContain(`cannot connect to source "billing" (module ${path}, https://svc:***@billing.internal/api): cannot reach`);
    expect(error.message).not.toContain('s3cret');
    expect(error.hint).toBeDefined();
  });

  it("a factory's own typed errors keep their exit code (a UsageError stays 2)", async () => {
    // Shaped like shadowcheck's UsageError without importing it: another copy of the package throws these.
    const path = await moduleFile(`export default async function () {
  const error = new Error('source "billing" has no url');
  error.name = 'UsageError';
  error.exitCode = 2;
  error.hint = 'give it one';
  throw error;
}
`);
    const error = await failure(path);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe('source "billing" has no url');
    expect(error.hint).toBe('give it one');
  });

  it('a factory returning something that is not a loader: exit 2, and whatever it opened is closed', async () => {
    const path = await moduleFile(`export const closed = [];
export default async function () { return { close() { closed.push(true); }, fetchRows() {} }; }
`);
    const error = await failure(path);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(`source "billing": the factory of loader module ${path} returned an object with close, fetchRows, not a loader`);
    const module = (await import(path)) as { closed: boolean[] };
    expect(module.closed).toEqual([true]);
  });

  it('a factory returning nothing: exit 2', async () => {
    const error = await failure(await moduleFile('export default async function () {}\n'));
    expect(error.message).toContain('returned undefined, not a loader');
  });
});

describe('the wrapped loader', () => {
  async function open(source: string, url?: string): Promise<SourceLoader> {
    return createSourceLoader(spec(await moduleFile(source), url), OPTIONS);
  }

  it('passes batches through, with a whole-millisecond clock', async () => {
    const loader = await open(loaderModule("return { rows: new Map(ids.map((id) => [id, { id, n: 1 }])), nowMs: 1714557600123.7 };"));
    const batch = await loader.load(RULE, ['7']);
    expect(batch.rows.get('7')).toEqual({ id: '7', n: 1 });
    expect(batch.nowMs).toBe(1714557600123);
    await loader.close();
  });

  it('load() throwing an untyped error fails only the batch: SourceQueryError naming the family and the module, password masked', async () => {
    const path = await moduleFile(loaderModule("throw new Error('upstream said no to https://svc:s3cret-pw@billing.internal');"));
    const loader = await createSourceLoader(spec(path, 'https://svc:s3cret-pw@billing.internal'), OPTIONS);
    const error = await loader.load(RULE, ['1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as SourceQueryError).timeout).toBe(false);
    expect((error as Error).message).toBe(
      `family "invoice": loader module ${path} (source "billing") failed: upstream said no to https://svc:***@billing.internal`,
    );
  });

  it('load() throwing SourceQueryError or ConnectionError keeps them (also from another copy of shadowcheck)', async () => {
    const loader = await open(
      loaderModule(`
      const error = new Error(ids[0] === 'lost' ? 'lost the connection to source "billing"' : 'family "invoice": slow');
      if (ids[0] === 'lost') { error.name = 'ConnectionError'; error.exitCode = 3; }
      else { error.name = 'SourceQueryError'; error.timeout = true; }
      throw error;`),
    );
    const slow = await loader.load(RULE, ['1']).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(SourceQueryError);
    expect((slow as SourceQueryError).timeout).toBe(true);
    expect((slow as Error).message).toBe('family "invoice": slow');
    const lost = await loader.load(RULE, ['lost']).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(ConnectionError);
    expect((lost as ConnectionError).exitCode).toBe(ExitCode.connection);
    expect((lost as Error).message).toBe('lost the connection to source "billing"');
  });

  it('a ConnectionError from load() that does not name the source is prefixed with it and the module', async () => {
    const loader = await open(loaderModule(`const error = new Error('backend gone'); error.name = 'ConnectionError'; error.exitCode = 3; throw error;`));
    const lost = await loader.load(RULE, ['1']).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(ConnectionError);
    expect((lost as Error).message).toMatch(/^lost source "billing" \(module .*\): backend gone$/);
  });

  it('a batch that is not { rows: Map, nowMs } fails as SourceQueryError saying what is wrong', async () => {
    const loader = await open(loaderModule('return { rows: [{ id: 1 }], nowMs: Date.now() };'));
    const error = await loader.load(RULE, ['1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as Error).message).toContain('load() returned a batch whose rows is an array, not a Map');
    const noClock = await open(loaderModule('return { rows: new Map() };'));
    expect(((await noClock.load(RULE, ['1']).catch((e: unknown) => e)) as Error).message).toContain('nowMs is undefined');
  });

  it('has the optional methods exactly when the module does', async () => {
    const bare = await open(loaderModule('return { rows: new Map(), nowMs: Date.now() };'));
    expect(bare.check).toBeUndefined();
    expect(bare.recentIds).toBeUndefined();
    expect(bare.sampleIds).toBeUndefined();
    expect(bare.activity).toBeUndefined();
    expect(bare.replicaLagMs).toBeUndefined();
    const full = await open(
      loaderModule(
        'return { rows: new Map(), nowMs: Date.now() };',
        'async check() {}, async recentIds(rule, withinMs, limit) { return [1, 2].slice(0, limit); }, async sampleIds(rule, count, seed) { return { ids: [seed, 8].slice(0, count), tableRows: 50 }; }, async activity() { return 3; }, async replicaLagMs() { return undefined; },',
      ),
    );
    await expect(full.check?.(RULE)).resolves.toBeUndefined();
    await expect(full.recentIds?.(RULE, 60_000, 1)).resolves.toEqual(['1']);
    await expect(full.sampleIds?.(RULE, 2, 7)).resolves.toEqual({ ids: ['7', '8'], tableRows: 50 });
    await expect(full.activity?.()).resolves.toBe(3);
    await expect(full.replicaLagMs?.()).resolves.toBeUndefined();
  });

  it('a sampleIds() answer of the wrong shape fails as a SourceQueryError naming the module', async () => {
    const loader = await open(loaderModule('return { rows: new Map(), nowMs: 0 };', 'async sampleIds() { return [1, 2]; },'));
    const error = await loader.sampleIds?.(RULE, 2, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as Error).message).toContain('sampleIds() returned');
    expect((error as Error).message).toContain('not { ids: [...], tableRows: n }');
    await loader.close();
  });

  it('declared column types pass through load() and check(); a wrong declaration names the column', async () => {
    const loader = await open(
      loaderModule(
        "return { rows: new Map(ids.map((id) => [id, { id, price: '19.90' }])), nowMs: 0, columns: { id: 'integer', price: 'decimal', tags: 'text[]' } };",
        "async check() { return { columns: { id: 'integer', price: 'decimal' } }; },",
      ),
    );
    const batch = await loader.load(RULE, ['7']);
    expect(batch.columns).toMatchObject({ price: { kind: 'decimal' }, tags: { kind: 'array', element: { kind: 'text' } } });
    await expect(loader.check?.(RULE)).resolves.toMatchObject({ id: { kind: 'integer' }, price: { kind: 'decimal' } });
    await loader.close();
    const wrong = await open(loaderModule("return { rows: new Map(), nowMs: 0, columns: { price: 'decimel' } };"));
    const error = await wrong.load(RULE, ['7']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as Error).message).toContain('columns.price: "decimel" is not a column kind');
    await wrong.close();
  });

  it("check() throwing makes the family unusable: SourceCheckError, exit 2, naming family and module", async () => {
    const path = await moduleFile(loaderModule('return { rows: new Map(), nowMs: 0 };', "async check(rule) { throw new Error(`no resource ${rule.table}`); },"));
    const loader = await createSourceLoader(spec(path), OPTIONS);
    const error = await loader.check?.(RULE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceCheckError);
    expect((error as SourceCheckError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).toBe(`family "invoice": loader module ${path} (source "billing"): check failed: no resource invoices`);
  });

  it('close() is called once however often the loader is closed', async () => {
    const path = await moduleFile(`export const closes = [];
export default async function () { return { async load() { return { rows: new Map(), nowMs: 0 }; }, async close() { closes.push(1); } }; }
`);
    const loader = await createSourceLoader(spec(path), OPTIONS);
    await Promise.all([loader.close(), loader.close()]);
    await loader.close();
    expect(((await import(path)) as { closes: number[] }).closes).toEqual([1]);
  });

  it('stops waiting for a load() that ignores timeoutMs (timeout + 5 s) with SourceQueryError{timeout: true}', async () => {
    const loader = await createSourceLoader(spec(await moduleFile(loaderModule('return new Promise(() => {});'))), { timeoutMs: 100, maxConnections: 1 });
    const started = Date.now();
    const error = await loader.load(RULE, ['1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as SourceQueryError).timeout).toBe(true);
    expect((error as Error).message).toContain('did not answer within 5100 ms');
    expect(Date.now() - started).toBeLessThan(7000);
  }, 15_000);
});

describe('parseJsonExact', () => {
  it('keeps safe integers as numbers and every other number exact', () => {
    const value = parseJsonExact('{"id":1,"big":9007199254740993,"price":19.90,"tiny":1e-400,"neg":-0.5}') as Record<string, unknown>;
    expect(value['id']).toBe(1);
    expect(String(value['big'])).toBe('9007199254740993');
    expect(String(value['price'])).toBe('19.90');
    expect(String(value['tiny'])).toBe('1e-400');
    expect(typeof value['neg']).toBe('object');
  });

  it('throws a SyntaxError on text that is not JSON', () => {
    expect(() => parseJsonExact('{"a":')).toThrow(SyntaxError);
  });
});
