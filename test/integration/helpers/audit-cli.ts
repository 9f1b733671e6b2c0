/**
 * Running `shadowcheck audit` from tests and reading its machine-readable reports.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Counters, FamilyCounters } from '../../../src/core/stats.js';
import type { FindingJson } from '../../../src/core/report-document/index.js';

export type KeyLine = FindingJson & { type: 'key' };

export interface SummaryLine {
  type: 'summary';
  summary: Counters;
  families: FamilyCounters[];
  gate: { passed: boolean; failures: string[] };
  incomplete?: true;
  abortReason?: string;
}

export interface NdjsonReport {
  keys: KeyLine[];
  /** Key lines by key; a key reported twice throws. */
  byKey: Map<string, KeyLine>;
  summary: SummaryLine;
}

/** parseNdjson of a CLI run's stdout; a failure carries the run's exit code and stderr. */
export function parseRunNdjson(result: { code: number | null; stdout: string; stderr: string }): NdjsonReport {
  try {
    return parseNdjson(result.stdout);
  } catch (error) {
    throw new Error(`${String(error)}\nexit ${String(result.code)}, stderr:\n${result.stderr}`);
  }
}

/**
 * Parses `--format ndjson` output strictly: every line is JSON, key lines come first, exactly one
 * summary line comes last, and no key is reported twice.
 */
export function parseNdjson(stdout: string): NdjsonReport {
  if (!stdout.endsWith('\n')) throw new Error(`ndjson output does not end with a newline: ${JSON.stringify(stdout.slice(-200))}`);
  const lines = stdout.slice(0, -1).split('\n');
  const parsed = lines.map((line, i) => {
    try {
      return JSON.parse(line) as KeyLine | SummaryLine;
    } catch {
      throw new Error(`ndjson line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
    }
  });
  const last = parsed.pop();
  if (last?.type !== 'summary') throw new Error('the last ndjson line is not the summary line');
  const keys: KeyLine[] = [];
  const byKey = new Map<string, KeyLine>();
  for (const line of parsed) {
    if (line.type !== 'key') throw new Error(`unexpected ndjson line type ${String((line as { type?: unknown }).type)} before the summary`);
    if (byKey.has(line.key)) throw new Error(`key ${line.key} reported twice`);
    keys.push(line);
    byKey.set(line.key, line);
  }
  return { keys, byKey, summary: last };
}

/** `verdict` or `verdict/reason`, for readable assertions. */
export function label(line: { verdict: string; reason?: string | undefined }): string {
  return line.reason === undefined ? line.verdict : `${line.verdict}/${line.reason}`;
}

/** A temporary directory, removed by `remove()`. */
export interface TempDir {
  path: string;
  file(name: string): string;
  write(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, text) => {
      const file = join(path, name);
      await writeFile(file, text);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
