import type { Finding } from '../core/verdict.js';
import { FindingBuffer } from './finding-buffer.js';
import { findingToJson, type FindingJson } from './finding-json.js';
import { countersToJson, familyToJson, gateToJson, incompleteFields, recentFields, shardFields, warningsFields } from './run-json.js';
import type { Reporter, ReporterContext, ReporterFactory } from './types.js';
import { writeChunk } from './write.js';

/**
 * `--format json`: one pretty-printed document at the end of the run (ARCHITECTURE.md "Report
 * contract"). Non-match findings are kept up to `maxFindings` (most severe kept first, see
 * FindingBuffer); when some were dropped, `findingsOmitted` says how many.
 */
export const createJsonReporter: ReporterFactory = (ctx: ReporterContext): Reporter => {
  const findings = new FindingBuffer<FindingJson>(ctx.maxFindings);
  return {
    onFinding(finding: Finding): void {
      if (finding.verdict === 'match') return;
      // Converted now: the document then holds plain data, not references into the pipeline.
      findings.add(finding.verdict, findingToJson(finding));
    },
    async onEnd(run): Promise<void> {
      const document = {
        tool: 'shadowcheck',
        version: run.version,
        startedAt: run.startedAt,
        durationMs: run.durationMs,
        target: { ...run.target },
        ...warningsFields(run),
        ...shardFields(run),
        summary: countersToJson(run.summary),
        families: run.families.map(familyToJson),
        ...recentFields(run),
        findings: findings.inArrivalOrder(),
        ...(findings.omitted > 0 ? { findingsOmitted: findings.omitted } : {}),
        gate: gateToJson(run.gate),
        ...(run.coverage === undefined ? {} : { coverage: run.coverage }),
        ...(run.replicaLagMs === undefined ? {} : { replicaLagMs: run.replicaLagMs }),
        ...(run.coverage === undefined ? {} : { coverage: run.coverage }),
        ...(run.replicaLagMs === undefined ? {} : { replicaLagMs: run.replicaLagMs }),
      ...incompleteFields(run),
      };
      await writeChunk(ctx.out, `${JSON.stringify(document, null, 2)}\n`);
    },
  };
};
