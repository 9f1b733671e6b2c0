import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../../src/config/load.js';
import { RulesError } from '../../../src/errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/rules/${name}`, import.meta.url));

async function problems(name: string): Promise<string> {
  try {
    await loadRulesFile(fixture(name), {});
  } catch (error) {
    if (error instanceof RulesError) return error.message;
    throw error;
  }
  throw new Error(`${name} loaded without a RulesError`);
}

/** [line:column, family, what the message must say] */
const EXPECTED: [string, string, string][] = [
  ['7:11', 'list-without-many', 'type: list holds many source rows per key: add rows: many'],
  ['10:5', 'list-without-many', '"member" applies to rows: many families'],
  ['15:11', 'hash-many', 'rows: many is not supported with type: hash'],
  ['19:5', 'zset-without-score', 'type: zset needs "score"'],
  ['27:5', 'raw-list-without-member', 'raw elements of a list are the value of one column: add member'],
  ['34:5', 'doc-set-without-member', 'the document elements of a set have no order to match them by: add member'],
  ['47:5', 'many-with-version', '"version" cannot be used with rows: many'],
  ['48:5', 'many-with-version', '"negativeMarker" cannot be used with rows: many'],
  ['57:5', 'limit-without-order', '"limit" needs "orderBy": which rows the cache keeps is undefined'],
  ['66:5', 'ordered-set', '"ordered" does not apply to a set'],
  ['78:5', 'many-with-children', '"children" nests rows under one parent row; it cannot be used with rows: many'],
  ['84:18', 'tolerance-typo', '"tolerance" names "lkes", a field the family does not compare (fields: likes)'],
  ['93:5', 'score-on-list', '"score" is a sorted set\'s score column; it applies to type: zset only'],
  ['104:41', 'child-key-arity', 'child "variants" "key" names 1 column but the pattern has 2 placeholders'],
  ['105:64', 'child-key-arity', 'child "reviews": "limit" needs "orderBy"'],
  ['106:5', 'zset-without-member', 'type: zset needs "member"'],
  ['116:12', 'raw-string-many', 'rows: many in a string needs a codec that holds an array'],
  ['127:16', 'scalar-tolerance-on-document', '"tolerance: 2" would let every number the family compares lag, ids included'],
];

describe('rules checks of collection families (exit 2, file:line, family, what was expected)', () => {
  it.each(EXPECTED)('%s (family "%s"): %s', async (at, family, text) => {
    const message = await problems('collection-problems.yaml');
    const line = message.split('\n').find((l) => l.includes(`collection-problems.yaml:${at} (family "${family}"): `));
    expect(line).toBeDefined();
    expect(line).toContain(text);
  });
  it('reports exactly these problems and no others', async () => {
    const message = await problems('collection-problems.yaml');
    expect(message.split('\n')[0]).toBe(`${EXPECTED.length} problems in the rules file:`);
  });
  it('the design examples (list, zset, documents, children, counter) load', async () => {
    const config = await loadRulesFile(fixture('collections-valid.yaml'), {});
    const board = config.families.find((f) => f.name === 'board');
    expect(board?.many).toEqual({ ordered: false, member: 'player', score: 'points' });
    expect(board?.tolerance).toEqual({ '*': { kind: 'relative', ratio: 0.01 } });
  });
});

describe('a rows: many query with its own LIMIT (it would cut the whole batch, not each key)', () => {
  it('is refused for a family and for a child, with the per-key limit as the fix', async () => {
    const message = await problems('collection-query-limit.yaml');
    expect(message.split('\n')[0]).toBe('2 problems in the rules file:');
    expect(message).toMatch(/collection-query-limit\.yaml:11:\d+ \(family "recent-orders"\): the query ends with its own LIMIT.*write limit: <n>/);
    expect(message).toMatch(/collection-query-limit\.yaml:22:\d+ \(family "product"\): child "reviews": the query ends with its own LIMIT/);
  });
});
