import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('demo: the README documents its variables', () => {
  it('names every SHADOWCHECK_DEMO_* variable the demo and its rules read, in the demo section', () => {
    const used = new Set([...`${read('src/demo/seed.ts')}\n${read('rules/demo.yaml')}`.matchAll(/SHADOWCHECK_DEMO_[A-Z_]+/g)].map((m) => m[0]));
    expect([...used].sort()).toEqual(['SHADOWCHECK_DEMO_MYSQL_URL', 'SHADOWCHECK_DEMO_POSTGRES_URL', 'SHADOWCHECK_DEMO_REDIS_URL', 'SHADOWCHECK_DEMO_SCHEMA']);
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('The demo writes only to what it owns'), readme.indexOf('## Using it'));
    for (const variable of used) expect(section, variable).toContain(`\`${variable}\``);
  });
});
