/**
 * Semantic checks of collection families (`rows: many`, list/set/zset, `children`, `tolerance`):
 * combinations the schema cannot express and that would otherwise compare something other than
 * what the user meant, silently. Each message names what was expected.
 */
import type { DataPath } from './yaml-document.js';

type Fields = Record<string, unknown>;

export interface CollectionReporter {
  add(path: DataPath, message: string, on?: 'key' | 'value'): void;
}

const COLLECTIONS = ['list', 'set', 'zset'];
const MANY_ONLY = ['orderBy', 'limit', 'member', 'score', 'ordered'] as const;

function asRecord(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** `placeholders`: how many the pattern has (undefined when the pattern is invalid, reported already). */
export function checkCollectionFamily(family: Fields, path: DataPath, report: CollectionReporter, placeholders: number | undefined): void {
  const type = typeof family.type === 'string' ? family.type : 'string';
  const many = family.rows === 'many';
  const codec = typeof family.codec === 'string' ? family.codec : COLLECTIONS.includes(type) ? 'raw' : 'json';
  const has = (key: string): boolean => family[key] !== undefined;

  if (COLLECTIONS.includes(type) && !many) {
    report.add([...path, 'type'], `type: ${type} holds many source rows per key: add rows: many (and member: the column each element stands for)`);
  }
  if (many && type === 'hash') {
    report.add([...path, 'rows'], 'rows: many is not supported with type: hash; cache the rows in a list, set or zset, or as a JSON array in a string');
  }
  if (!many) {
    for (const key of MANY_ONLY) if (has(key)) report.add([...path, key], `"${key}" applies to rows: many families; add rows: many or remove it`, 'key');
  }
  if (many && type === 'string' && codec === 'raw') {
    report.add([...path, 'codec'], 'rows: many in a string needs a codec that holds an array (json, msgpack, gzip-json, brotli-json), not raw');
  }
  if (has('score') && type !== 'zset') report.add([...path, 'score'], `"score" is a sorted set's score column; it applies to type: zset only (this family is type: ${type})`, 'key');
  if (many && type === 'zset') {
    if (!has('member')) report.add(path, `type: zset needs "member": the column each sorted-set member is${has('score') ? '' : ', and "score": the column holding its score'}`);
    else if (!has('score')) report.add(path, 'type: zset needs "score": the source column holding each member\'s score');
  }
  if (many && codec === 'raw' && type !== 'zset' && COLLECTIONS.includes(type) && !has('member')) {
    report.add(path, `raw elements of a ${type} are the value of one column: add member: <that column>, like member: id`);
  }
  if (many && (type === 'set' || type === 'zset') && codec !== 'raw' && !has('member')) {
    report.add(path, `the document elements of a ${type} have no order to match them by: add member: <the column identifying each element>, like member: id`);
  }
  if (many && (type === 'set' || type === 'zset') && has('ordered')) {
    report.add([...path, 'ordered'], `"ordered" does not apply to a ${type}: its members have no order of their own; remove it`, 'key');
  }
  if (many) {
    for (const key of ['version', 'negativeMarker'] as const) {
      if (!has(key)) continue;
      const why = key === 'version' ? 'no one version stands for a collection of rows' : 'a key with no rows holds nothing (Redis keeps no empty list, set or zset) or an empty array []';
      report.add([...path, key], `"${key}" cannot be used with rows: many: ${why}; remove it`, 'key');
    }
    if (has('children')) report.add([...path, 'children'], '"children" nests rows under one parent row; it cannot be used with rows: many', 'key');
  }
  if (many) {
    checkLimit(family, path, report);
    checkQueryLimit(family, path, report);
  }
  checkTolerance(family, path, report);
  checkChildren(family, path, report, placeholders);
}

/** `limit` keeps the first rows in orderBy order: without an order, which ones is undefined. */
function checkLimit(entry: Fields, path: DataPath, report: CollectionReporter, child?: string): void {
  if (entry.limit !== undefined && entry.orderBy === undefined) {
    report.add([...path, 'limit'], `${child === undefined ? '' : `child "${child}": `}"limit" needs "orderBy": which rows the cache keeps is undefined without an order; add orderBy, like orderBy: "created_at DESC"`, 'key');
  }
}

/** A LIMIT (or FETCH FIRST) that ends the statement, after any trailing `;` and `--` comment. */
const TRAILING_LIMIT = /\b(?:limit\s+(?:\d+|\?|\$\d+)(?:\s*(?:,|offset)\s*(?:\d+|\?|\$\d+))?(?:\s+offset\s+(?:\d+|\?|\$\d+))?|fetch\s+(?:first|next)\s+(?:\d+\s+)?rows?\s+only)$/i;

/**
 * The query's own LIMIT cuts the whole batch (rows of many keys), not each key's rows: most keys
 * would look emptied or orphaned. The per-key cut is `limit:`, which the loaders apply per key.
 */
function checkQueryLimit(entry: Fields, path: DataPath, report: CollectionReporter, child?: string): void {
  if (typeof entry.query !== 'string') return;
  const statement = entry.query.replace(/(?:--[^\n]*|\s|;)+$/, '');
  if (!TRAILING_LIMIT.test(statement)) return;
  report.add(
    [...path, 'query'],
    `${child === undefined ? '' : `child "${child}": `}the query ends with its own LIMIT, which would cut the whole batch of keys, not each key's rows; remove it and write limit: <n> (with orderBy) instead`,
    'key',
  );
}

/**
 * A family-wide tolerance (`tolerance: 2`) is for one number: a counter (one compared field) or a
 * sorted set's scores. On a document it would also let every other number lag (an `owner_id` 41
 * cached for 42 would match), so there the fields must be named.
 */
function checkScalarTolerance(family: Fields, path: DataPath, report: CollectionReporter): void {
  if (family.tolerance === undefined || asRecord(family.tolerance) !== undefined) return;
  const fields = Array.isArray(family.fields) ? family.fields : undefined;
  if (family.type === 'zset' || (fields?.length === 1 && family.rows !== 'many' && family.children === undefined)) return;
  report.add(
    [...path, 'tolerance'],
    `"tolerance: ${String(family.tolerance)}" would let every number the family compares lag, ids included; it is for a counter (one field in "fields") or a zset's scores: name the fields that may lag instead, like tolerance: { <field>: ${String(family.tolerance)} }`,
  );
}

function checkTolerance(family: Fields, path: DataPath, report: CollectionReporter): void {
  checkScalarTolerance(family, path, report);
  const tolerance = asRecord(family.tolerance);
  if (tolerance === undefined) return;
  const fields = Array.isArray(family.fields) ? family.fields.filter((f): f is string => typeof f === 'string') : undefined;
  const excluded = Array.isArray(family.exclude) ? family.exclude : [];
  const score = typeof family.score === 'string' ? family.score : undefined;
  for (const name of Object.keys(tolerance)) {
    if (name === '*' || name === score) continue;
    if ((fields !== undefined && !fields.includes(name)) || excluded.includes(name)) {
      const list = fields === undefined ? 'it is excluded' : `fields: ${fields.join(', ')}${score === undefined ? '' : `; score: ${score}`}`;
      report.add([...path, 'tolerance', name], `"tolerance" names "${name}", a field the family does not compare (${list}); fix the name or compare it`, 'key');
    }
  }
}

function checkChildren(family: Fields, path: DataPath, report: CollectionReporter, placeholders: number | undefined): void {
  const children = asRecord(family.children);
  if (children === undefined) return;
  for (const [name, value] of Object.entries(children)) {
    const child = asRecord(value);
    if (child === undefined) continue;
    const where = [...path, 'children', name];
    const key = child.key;
    const columns = typeof key === 'string' ? 1 : Array.isArray(key) ? key.length : undefined;
    if (placeholders !== undefined && columns !== undefined && columns !== placeholders) {
      report.add(
        [...where, 'key'],
        `child "${name}" "key" names ${columns} column${columns === 1 ? '' : 's'} but the pattern has ${placeholders} placeholder${placeholders === 1 ? '' : 's'}; give one child column holding the parent's value per placeholder, in order`,
      );
    }
    checkLimit(child, where, report, name);
    checkQueryLimit(child, where, report, name);
  }
}
