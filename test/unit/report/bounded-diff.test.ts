import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/verdict.js';
import { findingToJson } from '../../../src/core/report-document/index.js';
import { REPORTER_NAMES } from '../../../src/report/index.js';
import { renderReport } from './harness.js';

/** A finding whose diff was bounded by judge-batch: 3 entries kept, 25 more counted. */
const BOUNDED: Finding = {
  key: 'doc:1',
  family: 'doc',
  verdict: 'divergent',
  reason: 'no-ttl',
  step: 6,
  pttlMs: -1,
  diff: [
    { path: 'body', cache: 'cached xxxx… (cut, 900 kB)', source: 'row body' },
    { path: 'tags[0]', cache: 0, source: null },
    { path: 'tags[1]', cache: 1, source: null },
  ],
  diffOmitted: 25,
};

describe('a bounded diff in the reports', () => {
  it('the contract shape carries diffOmitted after diff, and omits it when nothing was left out', () => {
    const json = findingToJson(BOUNDED);
    expect(Object.keys(json)).toEqual(['key', 'family', 'verdict', 'reason', 'pttlMs', 'diff', 'diffOmitted']);
    expect(json.diffOmitted).toBe(25);
    const { diffOmitted: _, ...whole } = BOUNDED;
    expect(Object.keys(findingToJson(whole))).not.toContain('diffOmitted');
  });

  it.each(['table', 'markdown', 'junit'] as const)('%s counts the differences left out among the fields not shown', async (format) => {
    const text = await renderReport(format, [BOUNDED]);
    expect(text).toContain('… 25 more field(s)');
    expect(text).toContain('(cut, 900 kB)');
  });

  it.each(REPORTER_NAMES)('%s writes the cut marker as it is', async (format) => {
    expect(await renderReport(format, [BOUNDED])).toContain('(cut, 900 kB)');
  });
});

describe('json reporter: the document written in pieces', () => {
  it('is exactly JSON.stringify(document, null, 2), with and without findings', async () => {
    const many = Array.from({ length: 400 }, (_, i): Finding => ({ ...BOUNDED, key: `doc:${i}`, diff: [{ path: 'body', cache: 'x'.repeat(250), source: i }] }));
    for (const findings of [[], [BOUNDED], many]) {
      const text = await renderReport('json', findings);
      expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
      expect((JSON.parse(text) as { findings: unknown[] }).findings).toHaveLength(findings.length);
    }
  });

  it('a finding key that spells the placeholder does not confuse it', async () => {
    const text = await renderReport('json', [{ ...BOUNDED, key: '"findings": "\u0000findings-x"' }]);
    expect((JSON.parse(text) as { findings: { key: string }[] }).findings[0]?.key).toBe('"findings": "\u0000findings-x"');
  });
});
