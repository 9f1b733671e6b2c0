import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RulesError } from '../errors.js';
import { sourceKind } from '../sources/registry.js';
import type { RulesLocation, RulesProblem } from '../errors.js';
import { compileRules } from './compile-rules.js';
import type { RawRules } from './compile-rules.js';
import { interpolateDocument } from './interpolate-document.js';
import { createProblemCollector } from './problem-collector.js';
import type { ProblemCollector } from './problem-collector.js';
import { checkQueryPolicy } from './query-policy-check.js';
import type { QueryPolicyReporter } from './query-policy-check.js';
import { validateRulesSchema } from './schema-validation.js';
import { checkRules } from './semantic-checks.js';
import type { RulesConfig } from './types.js';
import { createLocator, parseYaml } from './yaml-document.js';
import type { DataPath, Locator } from './yaml-document.js';

/** A rules file is a few kB; anything this big is the wrong file (or a device that never ends). */
export const MAX_RULES_BYTES = 10 * 1024 * 1024;
const TOO_BIG = `is larger than 10 MiB (${MAX_RULES_BYTES} bytes), the most a rules file may be; pass the path of a rules file (YAML), like rules/example.yaml`;

const EMPTY_FILE = 'the rules file is empty; expected a YAML mapping starting with "version: 1", then "sources" and "families" (see rules/example.yaml)';

/** Reads, validates and compiles a rules file. Every problem ends up in one RulesError. */
export async function loadRulesFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<RulesConfig> {
  const fail = (message: string, cause?: unknown): never => {
    throw new RulesError([{ file, message }], cause === undefined ? {} : { cause });
  };
  let bytes: Buffer;
  try {
    const info = await stat(file);
    if (info.isDirectory()) fail('is a directory; pass the path of a rules file (YAML), like rules/example.yaml');
    if (info.isFile() && info.size > MAX_RULES_BYTES) fail(TOO_BIG);
    bytes = await readBounded(file);
  } catch (error) {
    if (error instanceof RulesError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`rules file not found (looked for ${resolve(file)}); check the path`, error);
    if (code === 'EACCES' || code === 'EPERM') return fail('cannot read the rules file: permission denied; check its permissions', error);
    return fail(`cannot read the rules file: ${(error as Error).message}`, error);
  }
  // A NUL is never YAML (and is what /dev/zero or a binary file starts with); text before it must still be UTF-8.
  const nul = bytes.indexOf(0);
  const text = decodeUtf8(nul < 0 ? bytes : bytes.subarray(0, nul), file);
  if (nul >= 0) throw new RulesError([{ file, ...position(bytes, nul), message: 'the rules file holds a NUL byte: it is not text; save it as UTF-8 text' }]);
  const checked = checkText(text, file, env);
  // Reported with the file's other problems, so `rules validate` without --connect refuses them.
  await checkQueryPolicy(checked.data, checked.report);
  const config = compileChecked(checked);
  await requireSourceSettings(config);
  return config;
}

/**
 * What each source's kind finds wrong with its compiled settings beyond the text (its descriptor's
 * `rules.settingsProblems`: a module source's loader file must exist), so that `rules validate`
 * in CI catches it rather than the first audit.
 */
async function requireSourceSettings(config: RulesConfig): Promise<void> {
  const problems: RulesProblem[] = [];
  for (const source of Object.values(config.sources)) {
    const check = sourceKind(source.kind)?.rules.settingsProblems ?? null;
    if (check === null) continue;
    for (const message of await check(source)) problems.push({ file: config.file, message: `source "${source.name}": ${message}` });
  }
  if (problems.length > 0) throw new RulesError(problems);
}

/**
 * The file's bytes, read as a stream so memory stays bounded whatever the path names (/dev/zero,
 * /dev/urandom, a FIFO, a huge or sparse file): reading stops at the first chunk that holds a NUL
 * byte or cannot be UTF-8, and past MAX_RULES_BYTES, instead of reading everything first.
 */
async function readBounded(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_RULES_BYTES) throw new RulesError([{ file, message: TOO_BIG }]);
    let valid = !chunk.includes(0);
    try {
      if (valid) decoder.decode(chunk, { stream: true });
    } catch {
      valid = false;
    }
    // What was read so far is enough for decodeUtf8 to point at the line of the bad byte.
    if (!valid) break;
  }
  return Buffer.concat(chunks);
}

/** 1-based line and column of a byte offset. */
function position(bytes: Buffer, offset: number): { line: number; column: number } {
  const before = bytes.subarray(0, offset);
  const lineStart = before.lastIndexOf(0x0a) + 1;
  return { line: before.filter((b) => b === 0x0a).length + 1, column: new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1 };
}

/** Strict UTF-8 (a BOM is dropped). Invalid bytes point at their line instead of turning into U+FFFD. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const offset = firstInvalidUtf8(bytes);
    const problem: RulesProblem = { file, message: 'the rules file is not valid UTF-8; save it as UTF-8 text' };
    if (offset !== undefined) {
      Object.assign(problem, position(bytes, offset));
      problem.message = `the rules file is not valid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}); save it as UTF-8 text`;
    }
    throw new RulesError([problem], { cause: error });
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] ?? 0;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return undefined;
}

/**
 * Everything after reading: YAML, `${ENV}` interpolation, schema, semantic checks, compilation.
 * Pure apart from loading the schema file once, so tests and `explain` can feed it text.
 * Synchronous, so without the read-only query policy, which `loadRulesFile` adds (the loaders
 * apply it anyway before any query is sent).
 */
export function parseRules(text: string, file: string, env: NodeJS.ProcessEnv = process.env): RulesConfig {
  return compileChecked(checkText(text, file, env));
}

/** A rules file parsed and checked, its problems not yet thrown: asynchronous checks may add theirs. */
interface CheckedRules {
  file: string;
  data: unknown;
  locator: Locator;
  problems: ProblemCollector;
  /** Adds problems, except at a path whose `${ENV}` interpolation failed (already reported). */
  report: QueryPolicyReporter;
}

function checkText(text: string, file: string, env: NodeJS.ProcessEnv): CheckedRules {
  if (text.trim() === '') throw new RulesError([{ file, message: EMPTY_FILE }]);
  const parsed = parseYaml(text);
  // With syntax errors the data is a guess; checking it would only add confusing problems.
  if (parsed.problems.length > 0) {
    throw new RulesError(parsed.problems.map((p) => ({ file, line: p.line, column: p.column, message: p.message })));
  }
  if (parsed.doc.contents === null) throw new RulesError([{ file, message: EMPTY_FILE }]);

  const locator = createLocator(parsed);
  const familyName = (index: number): string | undefined => {
    const name: unknown = parsed.doc.getIn(['families', index, 'name']);
    return typeof name === 'string' && name !== '' ? name : undefined;
  };
  const problems = createProblemCollector(file, locator, familyName);
  const failed = interpolateDocument(parsed, text, env, locator, problems);
  const unresolved = (path: DataPath): boolean => failed.some((f) => f.length === path.length && f.every((s, i) => s === path[i]));

  let data: unknown;
  try {
    data = parsed.doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new RulesError([{ file, message: `the rules file cannot be read as data: ${(error as Error).message}` }], { cause: error });
  }

  for (const problem of validateRulesSchema(data)) {
    if (!unresolved(problem.path)) problems.add(problem.path, problem.message, problem.on);
  }
  const semantic = {
    add(path: DataPath, message: string, on?: 'key' | 'value'): void {
      if (!unresolved(path)) problems.add(path, message, on);
    },
    reportedUnder: (path: DataPath): boolean => problems.reportedUnder(path),
  };
  checkRules(data, semantic, locator);
  return { file, data, locator, problems, report: semantic };
}

/** Throws every problem found, or compiles the rules. */
function compileChecked({ file, data, locator, problems }: CheckedRules): RulesConfig {
  const found = problems.sorted();
  if (found.length > 0) throw new RulesError(found);
  const config = compileRules(data as RawRules, file);
  // Family names are unique (a semantic check), so a name finds its entry in the document.
  const locate = (family: string, path: DataPath, on: 'key' | 'value' = 'value'): RulesLocation => {
    const index = config.families.findIndex((f) => f.name === family);
    const position = index < 0 ? undefined : locator.locate(['families', index, ...path], on);
    return { file, family, ...(position === undefined ? {} : { line: position.line, column: position.column }) };
  };
  return { ...config, locate };
}
