/**
 * The limit boundary is the database's own RANK(): MariaDB's default collation (utf8mb4_general_ci)
 * ties `Alice` and `alice`, PostgreSQL's does not. Loaded from real servers and judged, so a
 * cached list holding any tied rows matches on MariaDB, while on PostgreSQL a list without the
 * row ranked first is a missing member, not hidden by a guessed tie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/config/key-pattern.js';
import { classifyObservation } from '../../../src/core/classify.js';
import type { FamilyRule } from '../../../src/core/rule.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { createMysqlSandbox, createPgSandbox, familyRule, type Sandbox } from '../helpers/db.js';

const TARGETS = [
  { kind: 'postgres' as const, sandbox: createPgSandbox, table: (t: string) => `CREATE TABLE ${t} (id int PRIMARY KEY, user_id int, name text COLLATE "C")` },
  { kind: 'mysql' as const, sandbox: createMysqlSandbox, table: (t: string) => `CREATE TABLE ${t} (id INT PRIMARY KEY, user_id INT, name VARCHAR(20)) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci` },
];

for (const target of TARGETS) {
  describe(`${target.kind}: a cached list at a limit boundary tied by collation`, () => {
    let sandbox: Sandbox;
    let loader: SourceLoader;
    let rule: FamilyRule;
    beforeAll(async () => {
      sandbox = await target.sandbox();
      const t = sandbox.table('people');
      await sandbox.exec(target.table(t));
      await sandbox.exec(`INSERT INTO ${t} (id, user_id, name) VALUES (1, 7, 'Alice'), (2, 7, 'alice'), (3, 7, 'alice')`);
      loader = await createSourceLoader({ name: target.kind, kind: target.kind, url: sandbox.url }, { timeoutMs: 5000, maxConnections: 1 });
      rule = familyRule({
        name: 'people',
        pattern: compilePattern('user:{id}:people'),
        type: 'list',
        codec: 'raw',
        key: ['user_id'],
        table: t,
        many: { ordered: true, member: 'id', orderBy: [{ column: 'name', descending: false }], limit: 2 },
      });
    });
    afterAll(async () => {
      await loader?.close();
      await sandbox?.drop();
    });

    it(target.kind === 'mysql' ? 'ties all three: the two cached alices match' : 'ranks Alice first: the two alices miss it', async () => {
      const batch = await loader.load(rule, ['7']);
      const row = batch.rows.get('7');
      expect(row).toBeDefined();
      const cache = { kind: 'present' as const, redisType: 'list' as const, value: [Buffer.from('3'), Buffer.from('2')], pttlMs: 100_000 };
      const j = classifyObservation(rule, { key: 'user:7:people', cache, source: { kind: 'row', row: row ?? {}, columns: batch.columns ?? {} }, nowMs: batch.nowMs });
      if (target.kind === 'mysql') expect(j.verdict).toBe('match');
      else expect(j.diff[0]?.change).toBe('+1, -2 (one tie too many at the limit)');
    });
  });
}
