/**
 * Run warnings (rules problems, systematic differences) come first in every report format, and
 * survive `merge` of sharded JSON reports.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../../src/core/gate.js';
import { mergedGateInput, mergeReports } from '../../../src/core/merge.js';
import { readShardReport } from '../../../src/core/report-document/index.js';
import type { Finding } from '../../../src/core/verdict.js';
import type { RunWarning } from '../../../src/core/warning.js';
import { JUNIT_WARNINGS_SUITE } from '../../../src/report/junit.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor } from './harness.js';

const DAY_MESSAGE =
  'field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date; likely a rules or normalization problem, not stale data; check a `date` normalizer';

const WARNINGS: RunWarning[] = [
  { kind: 'systematic', family: 'events', field: 'day', message: DAY_MESSAGE },
  { kind: 'rules', family: 'plans', message: 'no sampled cache value holds field `nmae`' },
];

const FINDINGS: Finding[] = [
  ...Array.from({ length: 3 }, (_, i): Finding => ({
    key: `events:${i}`,
    family: 'events',
    verdict: 'divergent',
    reason: 'stale-repopulated',
    step: 7,
    diff: [{ path: 'day', cache: `2024-03-0${i + 1}T09:30:00.000Z`, source: `2024-03-0${i + 1}` }],
  })),
  { key: 'plans:1', family: 'plans', verdict: 'match', step: 4, diff: [] },
];

const withWarnings = (warnings: RunWarning[] = WARNINGS): RunSummary => runFor(FINDINGS, { warnings });
const render = (name: Parameters<typeof renderReport>[0], run: RunSummary = withWarnings()) => renderReport(name, FINDINGS, { run });

describe('run warnings in every report format', () => {
  it('json: a top-level `warnings` array before the figures, absent when there are none', async () => {
    const doc = JSON.parse(await render('json')) as Record<string, unknown>;
    expect(doc['warnings']).toEqual(WARNINGS);
    const keys = Object.keys(doc);
    expect(keys.indexOf('warnings')).toBeLessThan(keys.indexOf('summary'));
    expect(keys.indexOf('warnings')).toBeLessThan(keys.indexOf('findings'));
    for (const none of [runFor(FINDINGS), withWarnings([])]) {
      expect(JSON.parse(await render('json', none))).not.toHaveProperty('warnings');
    }
  });

  it('ndjson: `warnings` in the summary line, first after its type', async () => {
    const lines = (await render('ndjson')).trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
    expect(Object.keys(summary).slice(0, 2)).toEqual(['type', 'warnings']);
    expect(summary['warnings']).toEqual(WARNINGS);
    expect(JSON.parse((await render('ndjson', runFor(FINDINGS))).trim().split('\n').at(-1) ?? '')).not.toHaveProperty('warnings');
  });

  it('table: the warnings right under the header, before the counts', async () => {
    const text = await render('table');
    const lines = text.split('\n');
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe('warnings: 2');
    expect(lines[3]).toBe(`  ⚠ systematic events: ${DAY_MESSAGE}`);
    expect(lines[4]).toBe('  ⚠ rules plans: no sampled cache value holds field `nmae`');
    expect(text.indexOf('warnings: 2')).toBeLessThan(text.indexOf('TOTAL'));
    expect(await render('table', runFor(FINDINGS))).not.toContain('warnings:');
  });

  it('markdown: a quoted list under the title, before the counts and the gate failures', async () => {
    const text = await render('markdown');
    const blocks = text.split('\n\n');
    expect(blocks[0]).toMatch(/^## ❌ shadowcheck FAILED/);
    expect(blocks[1]).toMatch(/^> ⚠️ \*\*Warnings \(2\):\*\*/);
    // Markdown text has every punctuation character backslash-escaped; it renders as written.
    expect(blocks[1]).toContain('> - **systematic** in `events`: field \\`day\\` differs on 40\\/40 differing keys');
    expect(blocks[1]).toContain('> - **rules** in `plans`:');
    expect(text.indexOf('Warnings (2)')).toBeLessThan(text.indexOf('Gate failures'));
    expect(await render('markdown', runFor(FINDINGS))).not.toContain('Warnings');
  });

  it('junit: a first suite with one skipped case per warning, its message the warning', async () => {
    const xml = await render('junit');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(xml) as {
      testsuites: { skipped: string; testsuite: { name: string; skipped: string; testcase: { classname: string; name: string; skipped: { message: string } }[] }[] };
    };
    const [first] = doc.testsuites.testsuite;
    expect(first?.name).toBe(JUNIT_WARNINGS_SUITE);
    expect(first?.skipped).toBe('2');
    expect(first?.testcase.map((c) => [c.classname, c.name])).toEqual([
      ['events', 'systematic: day'],
      ['plans', 'rules: plans'],
    ]);
    expect(first?.testcase[0]?.skipped.message).toBe(`events: ${DAY_MESSAGE}`);
    const plain = await render('junit', runFor(FINDINGS));
    expect(plain).not.toContain(JUNIT_WARNINGS_SUITE);
  });

  it('escapes what a warning may carry from the cache (a field name) in every format', async () => {
    const hostile: RunWarning[] = [{ kind: 'systematic', family: 'ev|ents', field: 'a\u001b[2J<script>', message: 'field `a\u001b[2J<script>|` differs' }];
    const run = withWarnings(hostile);
    expect(await render('table', run)).not.toContain('\u001b');
    const md = await render('markdown', run);
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('\u001b');
    const xml = await render('junit', run);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('<script>');
    expect(JSON.parse(await render('json', run)).warnings).toEqual(hostile);
  });
});

describe('run warnings through merge', () => {
  async function shardReport(index: number, warnings: RunWarning[]): Promise<unknown> {
    const run = runFor(FINDINGS, {
      ...(warnings.length === 0 ? {} : { warnings }),
      shard: { index, count: 2, rulesDigest: 'sha256:x', minConsistency: {} },
    });
    return JSON.parse(await renderReport('json', FINDINGS, { run }));
  }

  it('merges the union of the shards\' warnings, each once, and names the rules problem at the gate', async () => {
    const other: RunWarning = { kind: 'systematic', family: 'events', field: 'day', message: DAY_MESSAGE.replace('40/40', '38/40') };
    const a = readShardReport(await shardReport(0, WARNINGS), 'a.json');
    const b = readShardReport(await shardReport(1, [WARNINGS[0] as RunWarning, other]), 'b.json');
    expect(a.runWarnings).toEqual(WARNINGS);
    const merged = mergeReports([a, b], '0.1.0');
    expect(merged.runWarnings).toEqual([...WARNINGS, other]);
    const gate = evaluateGate(mergedGateInput(merged), { failOn: 'divergent', maxDivergent: 0, maxErrorRatio: 0.05 });
    expect(gate.failures[0]).toMatch(/^divergent 6 > max 0 \(suspected rules problem in family events, not stale data: field `day` differs on 40\/40/);
  });

  it('reads a report without warnings, and refuses a malformed list', async () => {
    expect(readShardReport(await shardReport(0, []), 'a.json').runWarnings).toEqual([]);
    const bad = (await shardReport(0, [])) as Record<string, unknown>;
    bad['warnings'] = [{ kind: 'other', family: 'x', message: 'm' }];
    expect(() => readShardReport(bad, 'bad.json')).toThrow(/bad\.json: warnings\[0\] is not a warning/);
  });
});
