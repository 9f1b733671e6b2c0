import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/verdict.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor } from './harness.js';

const render = (findings: Finding[], options: { run?: RunSummary; maxFindings?: number } = {}) => renderReport('junit', findings, options);

// ---------------------------------------------------------------------------------------------
// Fixtures: findings by hand, counters from a real Tally.

const FINDINGS: Finding[] = [
  { key: 'user:1', family: 'user-profile', verdict: 'match', step: 4, pttlMs: 120_000, diff: [] },
  { key: 'user:2', family: 'user-profile', verdict: 'match', step: 4, pttlMs: 120_000, diff: [] },
  {
    key: 'user:42',
    family: 'user-profile',
    verdict: 'divergent',
    reason: 'stale-repopulated',
    step: 7,
    pttlMs: 280_000,
    cacheVersion: 3,
    sourceVersion: 4,
    staleAgeMs: 95_000,
    diff: [
      { path: 'plan', cache: 'basic', source: 'pro' },
      { path: 'email', cache: '***', source: '***' },
      { path: 'version', cache: 3, source: 4 },
    ],
  },
  { key: 'user:7', family: 'user-profile', verdict: 'error', reason: 'undecodable', step: 2, diff: [], detail: 'cached value is not valid JSON' },
  { key: 'order:9', family: 'order', verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, pttlMs: 30_000, staleAgeMs: 4_000, diff: [{ path: 'total', cache: '9.50', source: '9.75' }] },
  { key: 'order:10', family: 'order', verdict: 'skipped', reason: 'vanished', step: 1, diff: [] },
  { key: 'session:1', family: 'session', verdict: 'match', step: 4, pttlMs: 5_000, diff: [] },
];



// ---------------------------------------------------------------------------------------------
// The document as a strict XML parser sees it.

interface Problem {
  message: string;
  type: string;
  '#text'?: string;
}

interface TestCase {
  classname: string;
  name: string;
  time: string;
  failure?: Problem[];
  error?: Problem[];
  skipped?: { message: string }[];
  'system-out'?: string;
}

interface TestSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  time: string;
  timestamp: string;
  properties?: { property: { name: string; value: string }[] };
  testcase: TestCase[];
}

interface TestSuites {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  time: string;
  timestamp: string;
  testsuite: TestSuite[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Attributes share names with elements (a suite's `skipped` count, the `<skipped>` element).
  isArray: (name, _jpath, _leaf, isAttribute) => !isAttribute && ['testsuite', 'testcase', 'property', 'failure', 'error', 'skipped'].includes(name),
});

// Code points XML 1.0 forbids (not even as references): C0 other than tab/LF/CR, lone surrogates,
// U+FFFE/U+FFFF. The `u` flag makes a well-formed pair one code point, which is allowed.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function parse(xml: string): TestSuites {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(xml).not.toMatch(NOT_XML_CHAR);
  const doc = parser.parse(xml) as Record<string, unknown>;
  expect(Object.keys(doc)).toEqual(['?xml', 'testsuites']);
  return doc['testsuites'] as TestSuites;
}

function suite(doc: TestSuites, name: string): TestSuite {
  const found = doc.testsuite.filter((s) => s.name === name);
  expect(found).toHaveLength(1);
  return found[0] as TestSuite;
}

function testcase(s: TestSuite, name: string): TestCase {
  const found = s.testcase.filter((c) => c.name === name);
  expect(found).toHaveLength(1);
  return found[0] as TestCase;
}

type Outcome = 'failure' | 'error' | 'skipped' | 'passed';

function outcome(c: TestCase): Outcome {
  const kinds = (['failure', 'error', 'skipped'] as const).filter((k) => (c[k]?.length ?? 0) > 0);
  expect(kinds.length).toBeLessThanOrEqual(1);
  expect(c[kinds[0] ?? 'failure']?.length ?? 0).toBeLessThanOrEqual(1);
  return kinds[0] ?? 'passed';
}

/** The counts a suite declares must be those of the cases it holds. */
function expectCountsMatchCases(s: { tests: string; failures: string; errors: string; skipped: string }, cases: TestCase[]): void {
  const outcomes = cases.map(outcome);
  expect({ tests: s.tests, failures: s.failures, errors: s.errors, skipped: s.skipped }).toEqual({
    tests: String(cases.length),
    failures: String(outcomes.filter((o) => o === 'failure').length),
    errors: String(outcomes.filter((o) => o === 'error').length),
    skipped: String(outcomes.filter((o) => o === 'skipped').length),
  });
}

// ---------------------------------------------------------------------------------------------

describe('junit reporter', () => {
  it('writes one suite per family, then the run suite, with counts that match their cases', async () => {
    const doc = parse(await render(FINDINGS));
    expect(doc.name).toBe('shadowcheck');
    expect(doc.testsuite.map((s) => s.name)).toEqual(['user-profile', 'order', 'session', 'shadowcheck']);
    for (const s of doc.testsuite) expectCountsMatchCases(s, s.testcase);
    expectCountsMatchCases(
      doc,
      doc.testsuite.flatMap((s) => s.testcase),
    );
    expect({ tests: doc.tests, failures: doc.failures, errors: doc.errors, skipped: doc.skipped }).toEqual({ tests: '8', failures: '2', errors: '1', skipped: '1' });
    expect(doc.time).toBe('1.234');
    expect(doc.timestamp).toBe('2024-05-01T12:00:00.000Z');
    for (const s of doc.testsuite) {
      expect(s.time).toMatch(/^\d+(\.\d+)?$/);
      for (const c of s.testcase) expect(c.time).toBe('0');
    }
  });

  it('lists each non-match key as a case named after the key, its family as classname', async () => {
    const doc = parse(await render(FINDINGS));
    expect(suite(doc, 'user-profile').testcase.map((c) => [c.classname, c.name])).toEqual([
      ['user-profile', 'match'],
      ['user-profile', 'user:42'],
      ['user-profile', 'user:7'],
    ]);
    expect(suite(doc, 'order').testcase.map((c) => [c.classname, c.name])).toEqual([
      ['order', 'match'],
      ['order', 'order:9'],
      ['order', 'order:10'],
    ]);
  });

  it('makes a divergent key a failure whose message is verdict/reason and whose text is the diff', async () => {
    const c = testcase(suite(parse(await render(FINDINGS)), 'user-profile'), 'user:42');
    expect(outcome(c)).toBe('failure');
    const failure = c.failure?.[0];
    expect(failure?.message).toBe('divergent/stale-repopulated');
    expect(failure?.type).toBe('stale-repopulated');
    expect(failure?.['#text']?.split('\n')).toEqual([
      'divergent/stale-repopulated',
      'PTTL: 4.7m',
      'stale age: 1.6m',
      'versions: cache 3, source 4',
      'diff (field: cache → source):',
      '  plan: "basic" → "pro"',
      // Redacted values stay masked.
      '  email: *** → ***',
      '  version: 3 → 4',
    ]);
  });

  it('makes an error key an error carrying its detail', async () => {
    const c = testcase(suite(parse(await render(FINDINGS)), 'user-profile'), 'user:7');
    expect(outcome(c)).toBe('error');
    expect(c.error?.[0]).toMatchObject({ message: 'error/undecodable', type: 'undecodable' });
    expect(c.error?.[0]?.['#text']?.split('\n')).toContain('detail: cached value is not valid JSON');
  });

  it('makes a within-ttl key a passing case that says why in system-out', async () => {
    const c = testcase(suite(parse(await render(FINDINGS)), 'order'), 'order:9');
    expect(outcome(c)).toBe('passed');
    expect(c['system-out']?.split('\n')).toEqual(['within-ttl/ttl-bounded', 'PTTL: 30s', 'stale age: 4s', 'diff (field: cache → source):', '  total: "9.50" → "9.75"']);
  });

  it('makes a skipped key a skipped case', async () => {
    const c = testcase(suite(parse(await render(FINDINGS)), 'order'), 'order:10');
    expect(outcome(c)).toBe('skipped');
    expect(c.skipped?.[0]?.message).toBe('skipped/vanished');
  });

  it('sums match keys up in one passing "match" case per family, so an all-match family still has a case', async () => {
    const doc = parse(await render(FINDINGS));
    const session = suite(doc, 'session');
    expect(session.testcase).toHaveLength(1);
    const match = testcase(session, 'match');
    expect(outcome(match)).toBe('passed');
    expect(match['system-out']).toBe('1 key(s) match');
    expect(testcase(suite(doc, 'user-profile'), 'match')['system-out']).toBe('2 key(s) match');
    expect(testcase(suite(doc, 'order'), 'match')['system-out']).toBe('0 key(s) match');
  });

  it("carries the family's real counters as properties", async () => {
    const props = suite(parse(await render(FINDINGS)), 'user-profile').properties?.property ?? [];
    expect(Object.fromEntries(props.map((p) => [p.name, p.value]))).toEqual({
      sampled: '4',
      match: '2',
      'within-ttl': '0',
      divergent: '1',
      error: '1',
      skipped: '0',
      consistency: '66.66%',
      'strict-consistency': '66.66%',
    });
  });

  it('gives the --recent population suites of its own, with its own counters', async () => {
    const recentKeys: Finding[] = [
      // Also in the sample: the two populations are judged apart, so the key is listed in each.
      { key: 'user:42', family: 'user-profile', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [], population: 'recent' },
      { key: 'user:43', family: 'user-profile', verdict: 'match', step: 4, diff: [], population: 'recent' },
    ];
    const recentRun = runFor(recentKeys);
    const run = runFor(FINDINGS, { recent: { withinMs: 300_000, summary: recentRun.summary, families: recentRun.families } });
    const doc = parse(await render([...FINDINGS, ...recentKeys], { run }));
    expect(doc.testsuite.map((s) => s.name)).toEqual(['user-profile', 'order', 'session', 'user-profile (recent)', 'shadowcheck']);
    const recent = suite(doc, 'user-profile (recent)');
    expect(recent.testcase.map((c) => [c.classname, c.name, outcome(c)])).toEqual([
      ['user-profile (recent)', 'match', 'passed'],
      ['user-profile (recent)', 'user:42', 'failure'],
    ]);
    expect(testcase(recent, 'match')['system-out']).toBe('1 key(s) match');
    expect(Object.fromEntries((recent.properties?.property ?? []).map((p) => [p.name, p.value]))).toMatchObject({ sampled: '2', divergent: '1' });
    expect(suite(doc, 'user-profile').testcase.map((c) => c.name)).toEqual(['match', 'user:42', 'user:7']);
    for (const s of doc.testsuite) expectCountsMatchCases(s, s.testcase);
  });

  describe('run suite', () => {
    it('fails the gate case with the gate failures as its message', async () => {
      const run = suite(parse(await render(FINDINGS)), 'shadowcheck');
      expect(run.testcase.map((c) => c.name)).toEqual(['gate']);
      const gate = testcase(run, 'gate');
      expect(outcome(gate)).toBe('failure');
      expect(gate.failure?.[0]).toMatchObject({ message: 'divergent 1 > max 0', type: 'gate' });
    });

    it('fails the gate even when no key failed (a threshold gate)', async () => {
      const passingKeys = FINDINGS.filter((f) => f.verdict === 'match' || f.verdict === 'within-ttl');
      const doc = parse(await render(passingKeys, { run: runFor(passingKeys, { gate: { passed: false, failures: ['consistency 0.5 < min 0.99'] } }) }));
      expect(doc.failures).toBe('1');
      expect(testcase(suite(doc, 'shadowcheck'), 'gate').failure?.[0]?.message).toBe('consistency 0.5 < min 0.99');
    });

    it('passes the gate case when the gate passed', async () => {
      const passingKeys = FINDINGS.filter((f) => f.verdict === 'match');
      const doc = parse(await render(passingKeys));
      expect(outcome(testcase(suite(doc, 'shadowcheck'), 'gate'))).toBe('passed');
      expect(doc.failures).toBe('0');
      expect(doc.errors).toBe('0');
    });

    it('adds an error case for an incomplete run, with the reason', async () => {
      const doc = parse(await render(FINDINGS, { run: runFor(FINDINGS, { incomplete: true, abortReason: 'lost connection to redis' }) }));
      const complete = testcase(suite(doc, 'shadowcheck'), 'complete');
      expect(outcome(complete)).toBe('error');
      expect(complete.error?.[0]).toMatchObject({
        type: 'incomplete',
        message: 'the audit stopped early: lost connection to redis; the figures cover only the keys judged before it stopped',
      });
    });
  });

  describe('bounded findings', () => {
    const many: Finding[] = [
      ...Array.from({ length: 5 }, (_, i): Finding => ({ key: `w:${i}`, family: 'f', verdict: 'within-ttl', reason: 'converged', step: 9, diff: [] })),
      ...Array.from({ length: 3 }, (_, i): Finding => ({ key: `d:${i}`, family: 'f', verdict: 'divergent', reason: 'orphan', step: 3, diff: [] })),
      { key: 'm:1', family: 'f', verdict: 'match', step: 4, diff: [] },
    ];

    it('keeps the most severe keys within maxFindings and fails a "not-listed" case for divergent ones left out', async () => {
      const f = suite(parse(await render(many, { maxFindings: 2 })), 'f');
      expect(f.testcase.map((c) => c.name)).toEqual(['match', 'd:0', 'd:1', 'not-listed']);
      const rest = testcase(f, 'not-listed');
      expect(outcome(rest)).toBe('failure');
      expect(rest.failure?.[0]?.message).toBe('1 divergent, 5 within-ttl key(s) not listed (use --format json for all)');
      expectCountsMatchCases(f, f.testcase);
    });

    it('passes the "not-listed" case when only within-ttl keys were left out', async () => {
      const f = suite(parse(await render(many, { maxFindings: 4 })), 'f');
      expect(f.testcase.map((c) => c.name)).toEqual(['match', 'd:0', 'd:1', 'd:2', 'w:0', 'not-listed']);
      expect(outcome(testcase(f, 'not-listed'))).toBe('passed');
    });

    it('writes no "not-listed" case when every key was kept', async () => {
      const f = suite(parse(await render(many)), 'f');
      expect(f.testcase.map((c) => c.name)).not.toContain('not-listed');
      expect(f.testcase).toHaveLength(9);
    });
  });

  describe('hostile names and values', () => {
    const HOSTILE = `a&b<c>"d'e]]></testcase><script>x</script>\u0000\u001b[2J\uFFFE\uFFFF\uDFFF\uD800\t\r\n|\`x\`😀`;
    // Forbidden code points and line breaks as visible escapes; a well-formed pair (😀) kept.
    const HOSTILE_SHOWN = `a&b<c>"d'e]]></testcase><script>x</script>\\x00\\x1b[2J\\ufffe\\uffff\\udfff\\ud800\\x09\\x0d\\x0a|\`x\`😀`;
    const findings: Finding[] = [
      { key: HOSTILE, family: `fam${HOSTILE}`, verdict: 'divergent', reason: 'payload-drift', step: 5, pttlMs: 10, diff: [{ path: HOSTILE, cache: HOSTILE, source: '***' }] },
      { key: 'bin:\\xff\\x00', family: `fam${HOSTILE}`, verdict: 'error', reason: 'source-error', step: 2, diff: [], detail: HOSTILE },
      { key: `w${HOSTILE}`, family: 'plain', verdict: 'within-ttl', reason: 'converged', step: 9, diff: [{ path: 'x', cache: HOSTILE, source: 1 }] },
      { key: `s${HOSTILE}`, family: 'plain', verdict: 'skipped', reason: 'too-large', step: 1, diff: [] },
    ];

    it('stays valid XML 1.0 and shows names and values exactly, with forbidden code points escaped', async () => {
      const xml = await render(findings, { run: runFor(findings, { incomplete: true, abortReason: HOSTILE, gate: { passed: false, failures: [HOSTILE] } }) });
      const doc = parse(xml);
      expect(doc.testsuite.map((s) => s.name)).toEqual([`fam${HOSTILE_SHOWN}`, 'plain', 'shadowcheck']);
      for (const s of doc.testsuite) expectCountsMatchCases(s, s.testcase);

      const hostile = suite(doc, `fam${HOSTILE_SHOWN}`);
      expect(hostile.testcase.map((c) => [c.classname, c.name])).toEqual([
        [`fam${HOSTILE_SHOWN}`, 'match'],
        [`fam${HOSTILE_SHOWN}`, HOSTILE_SHOWN],
        // Binary keys arrive escaped by the reader; they stay readable, not double-escaped.
        [`fam${HOSTILE_SHOWN}`, 'bin:\\xff\\x00'],
      ]);
      const failure = testcase(hostile, HOSTILE_SHOWN).failure?.[0];
      expect(failure?.['#text']?.split('\n').at(-1)).toBe(`  ${HOSTILE_SHOWN}: "${HOSTILE_SHOWN}" → ***`);
      expect(testcase(hostile, 'bin:\\xff\\x00').error?.[0]?.['#text']?.split('\n')).toContain(`detail: ${HOSTILE_SHOWN}`);

      const plain = suite(doc, 'plain');
      expect(plain.testcase.map((c) => outcome(c))).toEqual(['passed', 'passed', 'skipped']);
      expect(plain.testcase[1]?.['system-out']?.split('\n').at(-1)).toBe(`  x: "${HOSTILE_SHOWN}" → 1`);

      const run = suite(doc, 'shadowcheck');
      expect(testcase(run, 'gate').failure?.[0]?.message).toBe(HOSTILE_SHOWN);
      expect(testcase(run, 'complete').error?.[0]?.message).toContain(`stopped early: ${HOSTILE_SHOWN};`);
    });

    it('escapes markup in attributes rather than leaving it to close an element', async () => {
      const xml = await render(findings);
      // The parser saw exactly the cases written: no injected element, no early close.
      expect(parse(xml).testsuite.flatMap((s) => s.testcase)).toHaveLength(7);
      expect(xml).not.toContain('<script>');
      expect(xml).not.toContain(']]></testcase>');
    });
  });
});
