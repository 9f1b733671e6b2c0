import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/verdict.js';
import { renderReport } from './harness.js';

const FINDING: Finding = {
  key: 'user:7:orders',
  family: 'recent-orders',
  verdict: 'divergent',
  reason: 'stale-beyond-budget',
  step: 8,
  pttlMs: 1000,
  diff: [
    { path: 'members', cache: '2 elements', source: '3 rows', change: '+42, +43, -17' },
    { path: 'members (order)', cache: '(cached order)', source: '(source order)', change: '42 moved 3 → 0' },
    { path: 'members[42].total', cache: 10, source: '12' },
  ],
};

describe('reporters print a collection change as `path: change`', () => {
  it('table', async () => {
    const text = await renderReport('table', [FINDING]);
    expect(text).toContain('members: +42, +43, -17');
    expect(text).toContain('members (order): 42 moved 3 → 0');
    expect(text).toContain('members[42].total: 10 → "12"');
    expect(text).not.toContain('2 elements');
  });
  it('junit', async () => {
    const xml = await renderReport('junit', [FINDING]);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('  members: +42, +43, -17');
    expect(xml).toContain('  members (order): 42 moved 3 → 0');
    expect(xml).not.toContain('2 elements');
  });
  it('markdown: one cell across cache and source', async () => {
    const md = await renderReport('markdown', [FINDING]);
    expect(md).toContain('<tr><td><code>members</code></td><td colspan="2"><code>+42, +43, -17</code></td></tr>');
    expect(md).not.toContain('2 elements');
  });
  it('json and ndjson carry it', async () => {
    const json = JSON.parse(await renderReport('json', [FINDING])) as { findings: { diff: unknown[] }[] };
    expect(json.findings[0]?.diff[0]).toEqual({ path: 'members', cache: '2 elements', source: '3 rows', change: '+42, +43, -17' });
    expect(json.findings[0]?.diff[2]).toEqual({ path: 'members[42].total', cache: 10, source: '12' });
    const lines = (await renderReport('ndjson', [FINDING])).trim().split('\n').map((l) => JSON.parse(l) as { type?: string; diff?: unknown[] });
    expect(lines.find((l) => l.diff !== undefined)?.diff?.[1]).toMatchObject({ change: '42 moved 3 → 0' });
  });
  it('a hostile member name is escaped in the change text', async () => {
    const hostile: Finding = { ...FINDING, diff: [{ path: 'members', cache: '1 element', source: '1 row', change: '+<b>\u001b[31m</b>' }] };
    expect(await renderReport('table', [hostile])).not.toContain('\u001b[31m');
    const md = await renderReport('markdown', [hostile]);
    expect(md).toContain('<td colspan="2"><code>+&lt;b&gt;');
    expect(md).not.toContain('+<b>');
  });
});
