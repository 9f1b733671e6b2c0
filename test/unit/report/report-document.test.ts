/**
 * The JSON report document written and read back by the one module that owns it
 * (core/report-document): what `merge` and `--baseline` read from a report is what the run put in.
 */
import { describe, expect, it } from 'vitest';
import { mergeReports } from '../../../src/core/merge.js';
import { baselineFindingsOf, findingToJson, readShardReport, reportDocument, type ReportDocument } from '../../../src/core/report-document/index.js';
import { UsageError } from '../../../src/errors.js';
import { renderReport } from './harness.js';
import { RICH_FINDINGS, richRun } from './document-fixture.js';

const NON_MATCH = RICH_FINDINGS.filter((f) => f.verdict !== 'match');

/** The rich run's document as the json reporter writes it (its streaming write path), parsed. */
async function writtenDocument(maxFindings = 10_000): Promise<Record<string, unknown>> {
  return JSON.parse(await renderReport('json', RICH_FINDINGS, { run: richRun(), maxFindings })) as Record<string, unknown>;
}

describe('the JSON report document, written then read back', () => {
  it('is, as written, the document the builder makes', async () => {
    const built = reportDocument(richRun(), NON_MATCH.map(findingToJson), 0);
    expect(await writtenDocument()).toEqual(JSON.parse(JSON.stringify(built)));
    // The builder's key order is the text's.
    expect(Object.keys(await writtenDocument())).toEqual(Object.keys(built));
  });

  it('gives merge every field the run put in', async () => {
    const run = richRun();
    const report = readShardReport(await writtenDocument(), 'rich.json');
    expect(report).toMatchObject({
      file: 'rich.json',
      version: run.version,
      startedAt: run.startedAt,
      durationMs: run.durationMs,
      target: run.target,
      summary: run.summary,
      families: run.families,
      recent: run.recent,
      shard: run.shard,
      findingsOmitted: 0,
      incomplete: true,
      abortReason: run.abortReason,
      runWarnings: run.warnings,
      sourceFailures: run.sourceFailures,
    });
    // Findings as the contract writes them: a bigint version as a string, an absent diff side as null.
    expect(report.findings).toEqual(JSON.parse(JSON.stringify(NON_MATCH.map(findingToJson))));
    expect(report.findings[0]).toMatchObject({ key: 'user:42', cacheVersion: '3', diffOmitted: 12 });
    expect(report.findings[0]?.diff[2]).toEqual({ path: 'tags', cache: ['a', 'b'], source: null });
    expect(report.findings.at(-1)).toMatchObject({ key: 'order:12', population: 'recent' });
  });

  it('keeps the counters exact through merge (histograms decoded and re-encoded)', async () => {
    const run = richRun();
    const merged = mergeReports([readShardReport(await writtenDocument(), 'rich.json')], run.version);
    expect(merged.summary).toEqual(run.summary);
    expect(merged.families).toEqual(run.families);
    expect(merged.recent).toEqual(run.recent);
    expect(merged.minConsistency).toEqual(run.shard?.minConsistency);
  });

  it('says how many findings the writer left out, and lists those it kept', async () => {
    const report = readShardReport(await writtenDocument(3), 'rich.json');
    expect(report.findingsOmitted).toBe(NON_MATCH.length - 3);
    expect(report.findings.map((f) => f.key)).toEqual(['user:42', 'order:11', 'order:12']);
  });

  it('gives --baseline each finding\'s key, verdict and reason', async () => {
    const findings = baselineFindingsOf(await writtenDocument());
    expect(findings?.map((f) => [f.key, f.verdict, f.reason])).toEqual(NON_MATCH.map((f) => [f.key, f.verdict, f.reason]));
  });
});

describe('reading a document that lacks a required field', () => {
  const REQUIRED: (keyof ReportDocument)[] = ['version', 'startedAt', 'durationMs', 'target', 'summary', 'families', 'findings'];

  it.each(REQUIRED)('refuses it without "%s", naming the file and the field', async (field) => {
    const document = await writtenDocument();
    delete document[field];
    const read = (): unknown => readShardReport(document, 'shards/shard-1.json');
    expect(read).toThrow(UsageError);
    expect(read).toThrow(`shards/shard-1.json: "${field}" is missing`);
  });

  it('names a field of the recent population by its path', async () => {
    const document = await writtenDocument();
    delete (document['recent'] as Record<string, unknown>)['summary'];
    expect(() => readShardReport(document, 'shard-1.json')).toThrow(/^shard-1\.json: "recent\.summary" is missing$/);
  });

  it('tells a field of the wrong type from a missing one', async () => {
    const document = await writtenDocument();
    document['durationMs'] = 'soon';
    expect(() => readShardReport(document, 'shard-1.json')).toThrow(/^shard-1\.json: "durationMs" is not a number >= 0$/);
  });
});
