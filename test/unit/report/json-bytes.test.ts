import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReport } from './harness.js';
import { RICH_FINDINGS, richRun } from './document-fixture.js';

// The report contract (ARCHITECTURE.md "Report contract") is the bytes the reporters write. These
// files were written by the json and ndjson reporters before the document moved into core; any
// change to them is a change to the contract, made on purpose or not at all.
const golden = (name: string): string => readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8');

describe('the JSON report text for a run that fills every field', () => {
  it('is byte-identical to the recorded document', async () => {
    // maxFindings 3 of 6 non-match findings: findingsOmitted is written too.
    expect(await renderReport('json', RICH_FINDINGS, { run: richRun(), maxFindings: 3 })).toBe(golden('rich-report.json'));
  });

  it('keeps every finding, in order, when none are over the limit', async () => {
    expect(await renderReport('json', RICH_FINDINGS, { run: richRun() })).toBe(golden('rich-report-all-findings.json'));
  });

  it('writes the same ndjson lines, the summary line last', async () => {
    expect(await renderReport('ndjson', RICH_FINDINGS, { run: richRun() })).toBe(golden('rich-report.ndjson'));
  });
});
