import { UsageError } from '../errors.js';
import { createJsonReporter } from './json.js';
import { createJunitReporter } from './junit.js';
import { createMarkdownReporter } from './markdown.js';
import { createNdjsonReporter } from './ndjson.js';
import { createTableReporter } from './table.js';
import type { Reporter, ReporterContext, ReporterFactory } from './types.js';

/** The reporter registry: adding a format is one file and one line here. */
export const REPORTERS = {
  table: createTableReporter,
  json: createJsonReporter,
  ndjson: createNdjsonReporter,
  markdown: createMarkdownReporter,
  junit: createJunitReporter,
} satisfies Record<string, ReporterFactory>;

export type ReporterName = keyof typeof REPORTERS;

export const REPORTER_NAMES = Object.keys(REPORTERS) as ReporterName[];

export function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(REPORTERS, name);
}

export function createReporter(name: ReporterName, ctx: ReporterContext): Reporter {
  // The type already rules this out; the check is for names that arrive unchecked (a flag value cast).
  if (!isReporterName(name)) {
    throw new UsageError(`unknown report format "${String(name)}"`, { hint: `use one of: ${REPORTER_NAMES.join(', ')}` });
  }
  return REPORTERS[name](ctx);
}

export type { Reporter, ReporterContext, ReporterFactory, RunSummary, GateResult } from './types.js';
