import { describe, expect, it } from 'vitest';
import { parseRules } from '../../../src/config/load.js';
import { uniqueNames, withoutOverlaps } from '../../../src/init/finalize.js';
import type { FamilyProposal } from '../../../src/init/proposal.js';
import { commentSafe, renderProposal, type ProposalDocument } from '../../../src/init/render.js';
import { pickSample } from '../../../src/init/sample.js';

function family(overrides: Partial<FamilyProposal> = {}): FamilyProposal {
  return {
    name: 'demo-account-limits',
    pattern: 'demo:account-limits:{accountId}',
    type: 'string',
    codec: 'json',
    source: 'main',
    load: { query: 'SELECT account_id AS "accountId", plan\nFROM app.account_limits\nWHERE account_id = ANY($1)' },
    key: 'accountId',
    fields: ['plan'],
    ttl: '60s',
    normalize: { plan: 'lowercase' },
    redact: [],
    negativeMarker: '__none__',
    notes: { family: ['review: 494 of 3311 scanned keys'], ttl: ['guess: from PTTL', 'review: maxStaleness'], source: ['guess: 50 of 50'] },
    keyCount: 494,
    ...overrides,
  };
}

const DOC: Omit<ProposalDocument, 'families'> = {
  schemaPath: './rules.schema.json',
  header: ['Proposed by init'],
  sources: [{ name: 'main', kind: 'postgres', url: '${MAIN_DATABASE_URL:-postgres://app@db/app}', notes: ['review: set MAIN_DATABASE_URL'] }],
  footer: ['Keys no family covers:', '  odd\nkey  1 key'],
};

describe('renderProposal', () => {
  const text = renderProposal({ ...DOC, families: [family(), family({ name: 'demo-product', pattern: 'demo:product:{sku}', type: 'hash', load: { table: 'shop.products' }, key: 'sku', normalize: {}, notes: {} })] });

  it('starts with the yaml-language-server line and validates with the rules loader, unedited', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./rules.schema.json');
    const config = parseRules(text, 'proposal.yaml', {});
    expect(config.families.map((f) => f.name)).toEqual(['demo-account-limits', 'demo-product']);
    expect(config.sources['main']?.url).toBe('postgres://app@db/app');
    const limits = config.families[0];
    expect(limits?.query).toBe('SELECT account_id AS "accountId", plan\nFROM app.account_limits\nWHERE account_id = ANY($1)');
    expect(limits?.negativeMarker).toBe('__none__');
    expect(config.families[1]?.type).toBe('hash');
  });

  it('puts each note on the line before the property it explains', () => {
    const lines = text.split('\n');
    const ttl = lines.findIndex((l) => l.trim() === 'ttl: 60s');
    expect(lines.slice(ttl - 2, ttl).map((l) => l.trim())).toEqual(['# guess: from PTTL', '# review: maxStaleness']);
    expect(lines[lines.findIndex((l) => l.trim() === '- name: demo-account-limits') - 1]?.trim()).toBe('# review: 494 of 3311 scanned keys');
    expect(text).toContain('fields: [plan]');
    expect(text).toContain('normalize: {plan: lowercase}');
    expect(text).toContain('query: |-');
  });

  it('keeps comments on one line each (a key name with a line break is escaped)', () => {
    expect(text).toContain('#   odd\\u000akey  1 key');
    expect(text.endsWith('\n')).toBe(true);
    expect(commentSafe('a\tb')).toBe('a\\u0009b');
  });
});

describe('finalizing families', () => {
  it('leaves out a pattern that overlaps one with more keys', () => {
    const big = family({ pattern: 'a:{id}:b', keyCount: 10 });
    const small = family({ pattern: 'a:x:{id}', keyCount: 5 });
    const apart = family({ pattern: 'c:{id}', keyCount: 3 });
    const { kept, dropped } = withoutOverlaps([big, small, apart]);
    expect(kept.map((f) => f.pattern)).toEqual(['a:{id}:b', 'c:{id}']);
    expect(dropped).toEqual([{ pattern: 'a:x:{id}', keys: 5, reason: 'overlaps a:{id}:b, which has more keys (a key may belong to one family only)' }]);
  });

  it('makes family names unique', () => {
    expect(uniqueNames([family({ name: 'a' }), family({ name: 'a' }), family({ name: 'a' })]).map((f) => f.name)).toEqual(['a', 'a-2', 'a-3']);
  });

  it('samples deterministically', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    expect(pickSample(items, 10)).toEqual(pickSample(items, 10));
    expect(new Set(pickSample(items, 10)).size).toBe(10);
    expect(pickSample([1, 2], 10)).toEqual([1, 2]);
  });
});
