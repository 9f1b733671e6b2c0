/**
 * What the example loader (rules/examples/http-json-loader.js) does beyond the loader contract
 * (loader-contract.test.ts runs that against it): composite keys sent as their parts, HTTP errors
 * and malformed answers as batch errors, a family without `table` refused by check().
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { SourceCheckError } from '../../../src/sources/errors.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { familyRule } from '../helpers/db.js';
import { startJsonApi, type JsonApi } from './json-api-server.js';

const EXAMPLE_LOADER = fileURLToPath(new URL('../../../rules/examples/http-json-loader.js', import.meta.url));

describe('the example HTTP JSON loader', () => {
  let api: JsonApi;
  let loader: SourceLoader;

  beforeAll(async () => {
    api = await startJsonApi({
      rows: [
        { key: { tenant_id: 'acme', id: '42' }, json: '{"tenant_id":"acme","id":42,"name":"Ada","seen":"2024-05-01 10:00:00"}' },
        { key: { tenant_id: 'globex', id: '42' }, json: '{"tenant_id":"globex","id":42,"name":"Hank","seen":"yesterday"}' },
      ],
      dates: ['seen'],
    });
    loader = await createSourceLoader({ name: 'api', kind: 'module', module: EXAMPLE_LOADER, url: api.url }, { timeoutMs: 2000, maxConnections: 2 });
  });

  afterAll(async () => {
    await loader?.close();
    await api?.close();
  });

  it('sends a composite id as its parts and keys the row by the same id', async () => {
    const rule = familyRule({ name: 'tenant-user', table: 'items', key: ['tenant_id', 'id'] });
    const batch = await loader.load(rule, ['["acme","42"]', '["acme","43"]']);
    expect([...batch.rows.keys()]).toEqual(['["acme","42"]']);
    expect(batch.rows.get('["acme","42"]')).toMatchObject({ name: 'Ada' });
    // A zone-less timestamp with a space, listed in "dates": UTC.
    expect((batch.rows.get('["acme","42"]')?.['seen'] as Date).toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });

  it('fails the batch when a column listed in "dates" holds something else', async () => {
    const rule = familyRule({ name: 'tenant-user', table: 'items', key: ['tenant_id', 'id'] });
    const error = await loader.load(rule, ['["globex","42"]']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as Error).message).toBe('family "tenant-user": column "seen" is listed in "dates" but a row holds a string that is not an ISO 8601 timestamp');
  });

  it('an HTTP 500 fails only the batch, with the status and the body', async () => {
    const error = await loader.load(familyRule({ name: 'item', table: 'broken' }), ['1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceQueryError);
    expect((error as SourceQueryError).timeout).toBe(false);
    expect((error as Error).message).toBe('family "item": POST /broken/lookup answered HTTP 500: {"error":"the database behind the API is down"}');
  });

  it('check() refuses a family without `table` (exit 2): the loader does not know which resource to read', async () => {
    const error = await loader.check?.(familyRule({ name: 'item', query: 'items' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceCheckError);
    expect((error as SourceCheckError).exitCode).toBe(ExitCode.usage);
    expect((error as Error).message).toContain('needs "table"');
  });

  it('wrong credentials: the service answers 401 at start and the source is refused (exit 3)', async () => {
    const wrong = api.url.replace('api-pw', 'wrong-pw');
    const error = await createSourceLoader({ name: 'api', kind: 'module', module: EXAMPLE_LOADER, url: wrong }, { timeoutMs: 2000, maxConnections: 1 }).catch(
      (e: unknown) => e,
    );
    expect((error as { exitCode?: number }).exitCode).toBe(ExitCode.connection);
    expect((error as Error).message).toContain('answered HTTP 401');
    expect((error as Error).message).not.toContain('wrong-pw');
  });
});
