import { randomUUID } from 'node:crypto';
import { findingToJson, reportDocument, type FindingJson } from '../core/report-document/index.js';
import type { Finding } from '../core/verdict.js';
import { FindingBuffer } from './finding-buffer.js';
import type { Reporter, ReporterContext, ReporterFactory } from './types.js';
import { writeChunk } from './write.js';

/**
 * `--format json`: one pretty-printed document at the end of the run (ARCHITECTURE.md "Report
 * contract"). core/report-document builds the document; this module streams it out. Non-match
 * findings are kept up to `maxFindings` (most severe kept first, see FindingBuffer); when some
 * were dropped, `findingsOmitted` says how many.
 */
export const createJsonReporter: ReporterFactory = (ctx: ReporterContext): Reporter => {
  const findings = new FindingBuffer<FindingJson>(ctx.maxFindings);
  // Stands for the findings list in the document's text; random, so no cached text can forge it.
  const placeholder = `\u0000findings-${randomUUID()}`;
  return {
    onFinding(finding: Finding): void {
      if (finding.verdict === 'match') return;
      // Converted now: the document then holds plain data, not references into the pipeline.
      findings.add(finding.verdict, findingToJson(finding));
    },
    async onEnd(run): Promise<void> {
      const document = reportDocument(run, placeholder, findings.omitted);
      await writeDocument(ctx.out, `${JSON.stringify(document, null, 2)}\n`, placeholder, findings.inArrivalOrder());
    },
  };
};

/** About how much text goes into one write. */
const CHUNK_CHARS = 1 << 16;

/**
 * Writes the document as JSON.stringify(document, null, 2) would, but the findings list one
 * finding at a time: up to 100,000 findings never become one string, which could exceed V8's
 * longest string (`Invalid string length`) and lose the whole report.
 */
async function writeDocument(out: NodeJS.WritableStream, text: string, placeholder: string, findings: readonly FindingJson[]): Promise<void> {
  const marker = `"findings": ${JSON.stringify(placeholder)}`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error('the findings placeholder is missing from the JSON report');
  let chunk = `${text.slice(0, at)}"findings": [`;
  for (let i = 0; i < findings.length; i++) {
    chunk += `${i === 0 ? '' : ','}\n    ${JSON.stringify(findings[i], null, 2).replace(/\n/g, '\n    ')}`;
    // Written in pieces, each awaited, so a slow reader is never outrun.
    if (chunk.length >= CHUNK_CHARS) {
      await writeChunk(out, chunk);
      chunk = '';
    }
  }
  await writeChunk(out, `${chunk}${findings.length === 0 ? '' : '\n  '}]${text.slice(at + marker.length)}`);
}
