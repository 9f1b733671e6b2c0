/**
 * Whole batches whose source query failed (gate.ts SourceFailure) are written into the JSON and
 * NDJSON reports, for `merge`, and stated once beside the gate in the text formats: the gate names
 * those it counted; those it did not (`--fail-on none`, a shard's gate) are told next to it.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { evaluateGate, type SourceFailure } from '../../../src/core/gate.js';
import { Tally } from '../../../src/core/stats.js';
import type { Finding } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor } from './harness.js';

const MESSAGE = 'family "users": unrecognized configuration parameter "app.tenant"';
const FAILURES: SourceFailure[] = [{ family: 'users', batches: 2, keys: 3, message: MESSAGE }];
const SENTENCE = `family users: the source query failed for 2 whole batches (3 keys not judged): ${MESSAGE}`;

const FINDINGS: Finding[] = [
  ...Array.from({ length: 3 }, (_, i): Finding => ({ key: `users:${i}`, family: 'users', verdict: 'error', reason: 'source-error', step: 2, diff: [], detail: MESSAGE })),
  { key: 'users:9', family: 'users', verdict: 'match', step: 4, diff: [] },
];

/** The run as audit reports it: the gate evaluated with these failures and gate options. */
function runWith(sourceFailures: SourceFailure[], failOn: 'divergent' | 'none'): RunSummary {
  const base = runFor(FINDINGS);
  const total = new Tally();
  for (const f of FINDINGS) total.add(f);
  const gate = evaluateGate(
    { summary: total.counters(), families: base.families.map((f) => ({ name: f.name, counters: f })), sourceFailures },
    { failOn, maxDivergent: 0, maxErrorRatio: 1 },
  );
  return { ...base, gate: { passed: gate.passed, failures: gate.failures }, ...(sourceFailures.length === 0 ? {} : { sourceFailures }) };
}

const count = (text: string, part: string): number => text.split(part).length - 1;

describe('source failures in the report', () => {
  it('json: a top-level `sourceFailures` list just before the gate, whatever the gate made of them; absent when none', async () => {
    for (const failOn of ['divergent', 'none'] as const) {
      const doc = JSON.parse(await renderReport('json', FINDINGS, { run: runWith(FAILURES, failOn) })) as Record<string, unknown>;
      expect(doc['sourceFailures']).toEqual(FAILURES);
      const keys = Object.keys(doc);
      expect(keys.indexOf('sourceFailures')).toBe(keys.indexOf('gate') - 1);
      expect(Object.keys((doc['sourceFailures'] as object[])[0] as object)).toEqual(['family', 'batches', 'keys', 'message']);
    }
    expect(JSON.parse(await renderReport('json', FINDINGS, { run: runWith(FAILURES, 'divergent') })).gate.failures).toEqual([SENTENCE]);
    for (const run of [runWith([], 'divergent'), { ...runWith([], 'divergent'), sourceFailures: [] }]) {
      expect(JSON.parse(await renderReport('json', FINDINGS, { run }))).not.toHaveProperty('sourceFailures');
    }
  });

  it('ndjson: `sourceFailures` in the summary line, before its gate; absent when none', async () => {
    const last = async (run: RunSummary): Promise<Record<string, unknown>> =>
      JSON.parse((await renderReport('ndjson', FINDINGS, { run })).trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    const summary = await last(runWith(FAILURES, 'none'));
    expect(summary['type']).toBe('summary');
    expect(summary['sourceFailures']).toEqual(FAILURES);
    const keys = Object.keys(summary);
    expect(keys.indexOf('sourceFailures')).toBe(keys.indexOf('gate') - 1);
    expect(await last(runWith([], 'divergent'))).not.toHaveProperty('sourceFailures');
  });

  it('table: named once, in the gate line when the gate counted them, else on a line of their own above it', async () => {
    const gated = await renderReport('table', FINDINGS, { run: runWith(FAILURES, 'divergent') });
    expect(gated).toContain(`gate: FAILED: ${SENTENCE}`);
    expect(count(gated, 'the source query failed')).toBe(1);

    const ungated = (await renderReport('table', FINDINGS, { run: runWith(FAILURES, 'none') })).trimEnd().split('\n');
    expect(ungated.slice(-2)).toEqual([`source failure (not counted by this gate): ${SENTENCE}`, 'gate: PASSED']);

    expect(await renderReport('table', FINDINGS, { run: runWith([], 'divergent') })).not.toContain('source failure');
  });

  it('markdown: named once, among the gate failures when the gate counted them, else in a line beside them', async () => {
    const gated = await renderReport('markdown', FINDINGS, { run: runWith(FAILURES, 'divergent') });
    expect(gated).toMatch(/^## ❌ shadowcheck FAILED/);
    // Markdown text is escaped (colons, quotes, parentheses): it renders as the gate words it.
    expect(gated).toContain('**Gate failures:** family users\\: the source query failed for 2 whole batches \\(3 keys not judged\\)');
    expect(count(gated, 'the source query failed')).toBe(1);
    expect(gated).not.toContain('not counted by this gate');

    const ungated = await renderReport('markdown', FINDINGS, { run: runWith(FAILURES, 'none') });
    expect(ungated).toMatch(/^## ✅ shadowcheck PASSED/);
    const block = ungated.split('\n\n').find((b) => b.startsWith('**Source failures (not counted by this gate):**'));
    expect(block).toContain('family users\\: the source query failed for 2 whole batches \\(3 keys not judged\\)');
    expect(block).toContain('app\\.tenant');
    expect(ungated.indexOf('Source failures')).toBeLessThan(ungated.indexOf('| family |'));
    expect(await renderReport('markdown', FINDINGS, { run: runWith([], 'divergent') })).not.toContain('Source failures');
  });

  it('junit: in the gate testcase, as its failure when counted, else in its output', async () => {
    type Case = { name: string; failure?: { message: string; '#text': string }; 'system-out'?: string };
    const gateCase = async (run: RunSummary): Promise<{ xml: string; gate: Case | undefined }> => {
      const xml = await renderReport('junit', FINDINGS, { run });
      expect(XMLValidator.validate(xml)).toBe(true);
      const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(xml) as {
        testsuites: { testsuite: { name: string; testcase: Case[] }[] };
      };
      const suite = doc.testsuites.testsuite.find((s) => s.name === 'shadowcheck');
      return { xml, gate: suite?.testcase.find((c) => c.name === 'gate') };
    };
    const gated = await gateCase(runWith(FAILURES, 'divergent'));
    expect(gated.gate?.failure?.message).toBe(SENTENCE);
    expect(gated.gate?.failure?.['#text']).toBe(SENTENCE);

    const ungated = await gateCase(runWith(FAILURES, 'none'));
    expect(ungated.gate?.failure).toBeUndefined();
    expect(ungated.gate?.['system-out']).toBe(`gate passed\nsource failure (not counted by this gate): ${SENTENCE}`);

    expect((await gateCase(runWith([], 'divergent'))).xml).not.toContain('source failure');
  });

  it('escapes what a source message may carry in the text formats', async () => {
    const hostile: SourceFailure[] = [{ family: 'users', batches: 1, keys: 3, message: 'bad \u001b[2J<script>| value' }];
    const run = runWith(hostile, 'none');
    expect(await renderReport('table', FINDINGS, { run })).not.toContain('\u001b');
    const md = await renderReport('markdown', FINDINGS, { run });
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('\u001b');
    const xml = await renderReport('junit', FINDINGS, { run });
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(JSON.parse(await renderReport('json', FINDINGS, { run })).sourceFailures).toEqual(hostile);
  });
});
