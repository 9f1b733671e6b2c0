/**
 * `rows: many` through a `kind: module` source: the module returns flat rows with their key
 * columns, in order, and the wrapper groups them under `members` as the SQL loaders do (toGroups),
 * with its declared columns (and check()'s) wrapped the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERS_FIELD } from '../../../src/core/codec-collection.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import { SourceQueryError, type SourceLoader } from '../../../src/sources/types.js';
import { makeTempDir, type TempDir } from '../helpers/audit-cli.js';
import { familyRule } from '../helpers/db.js';

const RULE = familyRule({ name: 'orders', source: 'shop', table: 'orders', key: ['user_id'], type: 'list', codec: 'raw', many: { ordered: true, member: 'id' } });

describe('module loader, rows: many', () => {
  let dir: TempDir;
  let loader: SourceLoader;
  beforeAll(async () => {
    dir = await makeTempDir('sc-module-many-');
    await dir.write('package.json', '{"type":"module"}');
    const module = await dir.write(
      'loader.js',
      `const ROWS = [
        { user_id: 1, id: 30, total: '3.00' }, { user_id: 2, id: 5, total: '1.00' }, { user_id: 1, id: 10, total: '1.50' }, { user_id: null, id: 99, total: '0' },
      ];
      export default async function create() {
        return {
          async load(rule, ids) {
            const rows = ROWS.filter((r) => r.user_id !== null && ids.includes(String(r.user_id)) || r.user_id === null);
            return { rows: ids.includes('bad') ? new Map() : rows, nowMs: 1000.7, columns: { id: 'integer', total: 'decimal' } };
          },
          async check() { return { columns: { user_id: 'integer', id: 'integer', total: 'decimal' } }; },
          async close() {},
        };
      }`,
    );
    loader = await createSourceLoader({ name: 'shop', kind: 'module', module }, { timeoutMs: 1000, maxConnections: 1 });
  });
  afterAll(async () => {
    await loader?.close();
    await dir?.remove();
  });

  it('groups flat rows by key in the order given; an id with no rows and a row without a key are dropped', async () => {
    const batch = await loader.load(RULE, ['1', '2', '3']);
    expect([...batch.rows.keys()].sort()).toEqual(['1', '2']);
    expect((batch.rows.get('1')?.[MEMBERS_FIELD] as { id: number }[]).map((r) => r.id)).toEqual([30, 10]);
    expect(batch.nowMs).toBe(1000);
    expect(batch.columns?.[MEMBERS_FIELD]?.kind).toBe('rows');
    expect(batch.columns?.[MEMBERS_FIELD]?.columns?.['total']?.kind).toBe('decimal');
    const checked = await loader.check?.(RULE);
    expect(Object.keys(checked ?? {})).toEqual([MEMBERS_FIELD]);
    expect(Object.keys(checked?.[MEMBERS_FIELD]?.columns ?? {})).toEqual(['user_id', 'id', 'total']);
  });

  it('takes a Map the module grouped itself, and fails a batch whose rows are neither', async () => {
    const grouped = await loader.load(RULE, ['bad']);
    expect(grouped.rows.size).toBe(0);
    const single = await loader.load({ ...RULE, many: undefined } as typeof RULE, ['1']).catch((e: unknown) => e);
    expect(single).toBeInstanceOf(SourceQueryError);
    expect((single as Error).message).toMatch(/rows is .*not a Map of id to row/);
  });
});
