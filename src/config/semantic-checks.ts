import { isTimeZone } from '../core/time-zone.js';
import { checkCollectionFamily } from './collection-checks.js';
import { parseDuration } from './duration.js';
import { compilePattern, parsePattern } from './key-pattern.js';
import { MAX_DECIMAL_PLACES, parseNormalizePath } from './normalizer-spec.js';
import { overlapExample } from './pattern-overlap.js';
import { closestMatch } from './suggest.js';
import { PERCENT_ENCODE_HINT, redactUrl, urlProblem } from '../util/redact-url.js';
import type { KeyPattern } from '../core/rule.js';
import type { SourceUrlParts } from '../sources/descriptor.js';
import { sourceKind } from '../sources/registry.js';
import type { DataPath, Locator } from './yaml-document.js';

/**
 * Checks the schema cannot express: references between entries, combinations of keys, and the
 * meaning of strings (patterns, queries, URLs). They run even when the schema found problems,
 * so one run reports everything; each check reads values defensively and stays silent about a
 * value of the wrong type, which the schema already reported.
 */

export interface SemanticReporter {
  add(path: DataPath, message: string, on?: 'key' | 'value'): void;
}

type Fields = Record<string, unknown>;

function asRecord(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const DURATION_SHAPE = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

export function checkRules(data: unknown, report: SemanticReporter, locator: Locator): void {
  const root = asRecord(data);
  if (root === undefined) return;
  const sources = asRecord(root.sources);
  if (sources !== undefined) checkSources(sources, report);
  if (Array.isArray(root.families)) checkFamilies(root.families, sources, report, locator);
}

function checkSources(sources: Fields, report: SemanticReporter): void {
  for (const [name, value] of Object.entries(sources)) {
    const source = asRecord(value);
    const kind = asString(source?.kind);
    if (source === undefined || kind === undefined) continue;
    const path = ['sources', name];
    const timezone = asString(source.timezone);
    if (timezone !== undefined && !isTimeZone(timezone)) {
      report.add([...path, 'timezone'], `"timezone" must be an IANA time zone like Europe/Paris, a fixed offset like +02:00, or UTC (got "${timezone}")`);
    }
    const url = asString(source.url);
    // The kind's URL schemes (its descriptor); a kind without them takes no URL of its own.
    const urlParts = sourceKind(kind)?.url ?? null;
    if (urlParts !== null) {
      if (source.module !== undefined) {
        report.add([...path, 'module'], `"module" is only used by kind: module sources; remove it (a ${kind} source connects with "url")`, 'key');
      }
      if (url !== undefined) checkUrl(url, kind, urlParts, [...path, 'url'], report);
    }
  }
}

function checkUrl(url: string, kind: string, { schemes, example }: SourceUrlParts, path: DataPath, report: SemanticReporter): void {
  // The URL is quoted redacted here: the collector's sweep cannot tell where a password with a
  // space in it ends.
  const problem = urlProblem(url);
  if (problem !== undefined) {
    report.add(path, `"url" ${problem} (got "${redactUrl(url)}"); expected ${example}; ${PERCENT_ENCODE_HINT}`);
    return;
  }
  const parsed = new URL(url);
  if (!schemes.includes(parsed.protocol)) {
    const list = schemes.map((s) => `${s}//`).join(' or ');
    report.add(path, `a ${kind} source "url" must start with ${list} (got "${redactUrl(url)}"); expected ${example}`);
  }
}

function checkFamilies(families: readonly unknown[], sources: Fields | undefined, report: SemanticReporter, locator: Locator): void {
  const names = new Map<string, number>();
  const patterns: { index: number; name: string; pattern: KeyPattern }[] = [];

  families.forEach((value, index) => {
    const family = asRecord(value);
    if (family === undefined) return;
    const path = ['families', index];
    const name = asString(family.name);

    if (name !== undefined) {
      const first = names.get(name);
      if (first === undefined) {
        names.set(name, index);
      } else {
        const line = locator.locate(['families', first, 'name'])?.line;
        report.add([...path, 'name'], `family name "${name}" is already used by the family${line === undefined ? '' : ` at line ${line}`}; family names must be unique`);
      }
    }

    // Key columns the pattern asks for; 1 when it is missing or invalid (reported already).
    let arity = 1;
    let placeholders: number | undefined;
    const patternText = asString(family.pattern);
    if (patternText !== undefined && patternText !== '') {
      const parts = parsePattern(patternText);
      if ('problem' in parts) {
        report.add([...path, 'pattern'], parts.problem);
      } else {
        patterns.push({ index, name: name ?? `#${index + 1}`, pattern: compilePattern(patternText) });
        checkKeyArity(family, parts.placeholders, path, report);
        arity = parts.placeholders.length;
        placeholders = arity;
      }
    }

    checkLoading(family, path, sources, report, arity);
    checkComparison(family, path, report);
    checkCollectionFamily(family, path, report, placeholders);
    checkDurations(family, path, report);
  });

  // Every pair: rules files hold tens of families, and each test is a tiny automaton walk.
  for (const [i, later] of patterns.entries()) {
    for (const earlier of patterns.slice(0, i)) {
      const sample = overlapExample(earlier.pattern, later.pattern);
      if (sample === undefined) continue;
      const line = locator.locate(['families', earlier.index, 'pattern'])?.line;
      report.add(
        ['families', later.index, 'pattern'],
        `pattern "${later.pattern.source}" overlaps family "${earlier.name}" (pattern "${earlier.pattern.source}"${line === undefined ? '' : ` at line ${line}`}): ` +
          `the key "${sample}" would match both; make the patterns disjoint so each key belongs to one family`,
      );
    }
  }
}

/** A composite key needs one source column per placeholder, in the pattern's order. */
function checkKeyArity(family: Fields, placeholders: readonly string[], path: DataPath, report: SemanticReporter): void {
  const key = family.key;
  const columns = typeof key === 'string' ? [key] : Array.isArray(key) ? key : undefined;
  if (columns === undefined || columns.length === placeholders.length) return;
  const names = placeholders.map((p) => `{${p}}`).join(', ');
  const example = placeholders.map((p) => `${p}_column`).join(', ');
  report.add(
    [...path, 'key'],
    `the pattern has ${placeholders.length} placeholder${placeholders.length === 1 ? '' : 's'} (${names}) but "key" names ${columns.length} column${columns.length === 1 ? '' : 's'}; ` +
      (placeholders.length === 1 ? 'give the one source column matched against it, like key: id' : `give one source column per placeholder, in order, like key: [${example}]`),
  );
}

function checkLoading(family: Fields, path: DataPath, sources: Fields | undefined, report: SemanticReporter, arity: number): void {
  const sourceName = asString(family.source);
  const query = asString(family.query);
  const table = family.table;
  if (query !== undefined && table !== undefined) {
    report.add([...path, 'table'], 'give either "query" or "table", not both: "table" makes the loader write the SELECT, "query" is your own SQL', 'key');
  }
  if (sourceName === undefined || sources === undefined) return;
  const source = asRecord(sources[sourceName]);
  if (source === undefined) {
    const defined = Object.keys(sources);
    report.add(
      [...path, 'source'],
      `unknown source "${sourceName}"; ${defined.length === 0 ? 'no sources are defined under "sources"' : `defined sources: ${defined.join(', ')}`}`,
    );
    return;
  }
  const kind = asString(source.kind);
  const rules = sourceKind(kind)?.rules;
  if (rules?.needsQueryOrTable !== true) return;
  if (query === undefined && table === undefined) {
    report.add(
      path,
      `the family reads from ${kind} source "${sourceName}" and needs "query" (SQL that loads a batch of ids) or "table" (table or schema.table)`,
    );
  }
  if (query === undefined) return;
  for (const problem of rules.queryProblems(query, arity)) report.add([...path, 'query'], problem);
}

function checkComparison(family: Fields, path: DataPath, report: SemanticReporter): void {
  const fields = family.fields;
  if (fields !== undefined && family.exclude !== undefined) {
    const both = Array.isArray(fields) && Array.isArray(family.exclude) ? family.exclude.filter((f) => fields.includes(f)) : [];
    const overlap = both.length === 0 ? '' : `; "exclude" lists ${both.map((f) => JSON.stringify(f)).join(', ')}, which "fields" also lists`;
    report.add([...path, 'exclude'], `give either "fields" (the fields to compare) or "exclude" (the fields to leave out), not both${overlap}`, 'key');
  }
  const type = family.type ?? 'string';
  if (type !== 'hash' && family.fieldCodecs !== undefined) {
    report.add([...path, 'fieldCodecs'], '"fieldCodecs" decodes the fields of a hash; use it with type: hash, or "codec" for a string value', 'key');
  }
  const codecFields = asRecord(family.fieldCodecs);
  const compared = Array.isArray(fields) ? fields : undefined;
  const excluded = Array.isArray(family.exclude) ? family.exclude : [];
  for (const field of Object.keys(codecFields ?? {})) {
    // A codec for a field that is never compared is a typo or a leftover: it would be silently ignored.
    if ((compared !== undefined && !compared.includes(field)) || excluded.includes(field)) {
      const list = compared === undefined ? '' : ` (fields: ${compared.join(', ')})`;
      report.add([...path, 'fieldCodecs', field], `"fieldCodecs" names "${field}", a field the family does not compare${list}; fix the name or compare it`, 'key');
    }
  }
  if (type === 'string' && family.codec === 'raw' && family.rows !== 'many' && !(Array.isArray(fields) && fields.length === 1)) {
    const where = Array.isArray(fields) ? [...path, 'fields'] : [...path, 'codec'];
    report.add(where, 'codec "raw" compares the whole cached value with one source column; list exactly that column in "fields", like fields: [payload]');
  }
  checkNormalize(family, path, report);
}

/**
 * Every `normalize:` entry must be one the comparison applies: a normalizer on a field that is
 * never compared, or a path that cannot be read, would be silently ignored.
 */
function checkNormalize(family: Fields, path: DataPath, report: SemanticReporter): void {
  const normalize = asRecord(family.normalize);
  if (normalize === undefined) return;
  const compared = Array.isArray(family.fields) ? family.fields : undefined;
  const excluded = Array.isArray(family.exclude) ? family.exclude : [];
  const codecFields = asRecord(family.fieldCodecs) ?? {};
  const texts = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  for (const [key, value] of Object.entries(normalize)) {
    const where = [...path, 'normalize', key];
    texts(value).forEach((spec, i) => {
      const decimal = typeof spec === 'string' ? /^decimal:(\d+)$/.exec(spec) : null;
      if (decimal?.[1] !== undefined && Number(decimal[1]) > MAX_DECIMAL_PLACES) {
        const which = Array.isArray(value) ? `normalizer ${i + 1} for "${key}"` : `normalizer for "${key}"`;
        report.add(Array.isArray(value) ? [...where, i] : where, `${which}: decimal places must be from 0 to ${MAX_DECIMAL_PLACES}, got ${spec}`);
      }
    });
    const parsed = parseNormalizePath(key, compared);
    if ('problem' in parsed) {
      report.add(
        where,
        `"normalize" key "${key}" is not a field or a path into one (${parsed.problem}); write a field (email), a key inside it (meta.at) or a key inside every element of a list (items[].at)`,
        'key',
      );
      continue;
    }
    const { field } = parsed;
    const named = field === key ? `"${field}"` : `"${field}" (in "${key}")`;
    if (compared !== undefined && !compared.includes(field)) {
      const names = compared.filter((f): f is string => typeof f === 'string');
      const suggestion = closestMatch(field, names);
      report.add(
        where,
        `"normalize" names ${named}, a field the family does not compare (fields: ${names.join(', ')})${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}; fix the name or add it to "fields"`,
        'key',
      );
      continue;
    }
    if (excluded.includes(field)) {
      report.add(where, `"normalize" names ${named}, a field "exclude" leaves out of the comparison; remove the normalizer or the exclusion`, 'key');
      continue;
    }
    if (parsed.steps.length === 0) continue;
    // A path reaches into an object or array; a value that is text there never has the path.
    const parsedFirst = Object.hasOwn(normalize, field) && texts(normalize[field]).includes('json');
    if ((family.type ?? 'string') === 'hash' && codecFields[field] === undefined && !parsedFirst) {
      report.add(
        where,
        `"${key}" reaches inside hash field "${field}", which holds text; decode it first with fieldCodecs: { ${field}: json } (or normalize ${field}: json)`,
        'key',
      );
    } else if ((family.type ?? 'string') === 'string' && family.codec === 'raw' && !parsedFirst) {
      report.add(where, `"${key}" reaches inside the raw value of "${field}", which is text; parse it first with normalize ${field}: json`, 'key');
    }
  }
}

function checkDurations(family: Fields, path: DataPath, report: SemanticReporter): void {
  for (const key of ['ttl', 'maxStaleness', 'clockSkew'] as const) {
    const text = asString(family[key]);
    // Text that is not even shaped like a duration was reported by the schema.
    if (text === undefined || !DURATION_SHAPE.test(text)) continue;
    const ms = parseDuration(text);
    if (ms === undefined) {
      report.add([...path, key], `"${key}" must be a whole number of milliseconds, got "${text}"; use a smaller unit, like 1500ms`);
    } else if (key === 'ttl' && ms === 0) {
      report.add([...path, key], '"ttl" must be greater than 0: it is the expiry the application writes these keys with');
    }
  }
}
