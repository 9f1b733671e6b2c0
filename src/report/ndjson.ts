import { findingToJson, outcomeFields, populationFields, warningsFields } from '../core/report-document/index.js';
import type { Finding } from '../core/verdict.js';
import type { Reporter, ReporterContext, ReporterFactory } from './types.js';
import { writeChunk } from './write.js';

/**
 * `--format ndjson`: one `{"type":"key", ...finding}` line per judged or skipped key (match
 * included) as soon as it is decided, then one `{"type":"summary", ...}` line. Nothing is kept in
 * memory; a slow consumer slows the audit down (onFinding awaits 'drain') instead of filling memory.
 */
export const createNdjsonReporter: ReporterFactory = (ctx: ReporterContext): Reporter => ({
  async onFinding(finding: Finding): Promise<void> {
    await writeChunk(ctx.out, `${JSON.stringify({ type: 'key', ...findingToJson(finding) })}\n`);
  },
  async onEnd(run): Promise<void> {
    // The JSON document's fields, in its order, without its header, shard and findings.
    const line = { type: 'summary', ...warningsFields(run), ...populationFields(run), ...outcomeFields(run) };
    await writeChunk(ctx.out, `${JSON.stringify(line)}\n`);
  },
});
