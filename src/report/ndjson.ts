import type { Finding } from '../core/verdict.js';
import { findingToJson } from './finding-json.js';
import { countersToJson, familyToJson, gateToJson, incompleteFields, recentFields, sourceFailuresFields, warningsFields } from './run-json.js';
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
    const line = {
      type: 'summary',
      ...warningsFields(run),
      summary: countersToJson(run.summary),
      families: run.families.map(familyToJson),
      ...recentFields(run),
      ...sourceFailuresFields(run),
      gate: gateToJson(run.gate),
      ...(run.coverage === undefined ? {} : { coverage: run.coverage }),
      ...(run.replicaLagMs === undefined ? {} : { replicaLagMs: run.replicaLagMs }),
      ...incompleteFields(run),
    };
    await writeChunk(ctx.out, `${JSON.stringify(line)}\n`);
  },
});
