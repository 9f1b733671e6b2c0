import { create } from 'xmlbuilder2';
import { compareVersions } from '../core/compare.js';
import type { Counters } from '../core/stats.js';
import type { Finding, Reason } from '../core/verdict.js';
import { FindingBuffer, type NonMatchVerdict } from './finding-buffer.js';
import { markupText, visibleEscape } from './markup-text.js';
import { sourceFailuresBesideGate } from './source-failures.js';
import { formatPercent, humanMs, humanPttl, renderValue, truncate } from './text-format.js';
import type { Reporter, ReporterContext, ReporterFactory, RunSummary } from './types.js';
import { writeChunk } from './write.js';

/** Name of the run-level suite (gate, completeness) and of the per-family summary testcases. */
export const JUNIT_RUN_SUITE = 'shadowcheck';
export const JUNIT_MATCH_CASE = 'match';
export const JUNIT_NOT_LISTED_CASE = 'not-listed';
/** The first suite, present only when the run has warnings (rules problems, systematic differences). */
export const JUNIT_WARNINGS_SUITE = 'shadowcheck warnings';

const KEY_WIDTH = 500;
const NAME_WIDTH = 200;
const PATH_WIDTH = 120;
const VALUE_WIDTH = 120;
const DETAIL_WIDTH = 500;
const DIFF_LINES = 10;

/** xmlbuilder2's node type, without a deep import into its lib/ folder. */
type XMLBuilder = ReturnType<typeof create>;

/** One listed key, reduced on arrival to bounded text so no payload is held until the run ends. */
interface CaseRecord {
  /** The suite: the family, or `family (recent)` for keys of recently changed rows (--recent). */
  suite: string;
  key: string;
  verdict: NonMatchVerdict;
  reason: Reason | undefined;
  /** Verdict, PTTL, stale age, versions, detail and diff lines, already escaped. */
  text: string;
}

type Outcome = 'passed' | 'failure' | 'error' | 'skipped';

interface SuiteTally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/**
 * `--format junit`: JUnit XML for CI test views. One `<testsuite>` per family; in it one
 * `<testcase>` per listed non-match key (classname = family, name = key): divergent is a
 * `<failure>`, error an `<error>`, skipped `<skipped/>`, within-ttl a passing case whose
 * `<system-out>` says why. Match keys are too many to list: one passing `match` case per family
 * carries their count, so every family has at least one case. Keys beyond `maxFindings` are
 * summed up in one `not-listed` case that fails when any of them was divergent. A last suite,
 * `shadowcheck`, holds the gate (and, for a run that stopped early, an error saying so), so a gate
 * failing on a threshold alone still shows as a failed test. With `--recent`, the keys of recently
 * changed rows get suites of their own, `family (recent)`, carrying that population's counters.
 * The run's warnings (rules problems, systematic differences) come first, in a suite of their own.
 *
 * The counts on each suite are those of the cases written, as JUnit readers expect; the family's
 * real counters are in its `<properties>`. Text is made valid XML 1.0: the library escapes the
 * specials, and code points XML cannot carry (NUL, ESC, lone surrogates, U+FFFE) become visible
 * `\xNN` / `\uNNNN` escapes instead of breaking the document; names are kept to one line.
 */
export const createJunitReporter: ReporterFactory = (ctx: ReporterContext): Reporter => {
  const cases = new FindingBuffer<CaseRecord>(ctx.maxFindings);
  return {
    onFinding(finding: Finding): void {
      if (finding.verdict === 'match') return;
      cases.add(finding.verdict, toCase(finding, finding.verdict));
    },
    async onEnd(run: RunSummary): Promise<void> {
      await writeChunk(ctx.out, renderJunit(run, cases.bySeverity()));
    },
  };
};

function toCase(f: Finding, verdict: NonMatchVerdict): CaseRecord {
  const lines = [label(verdict, f.reason), `PTTL: ${humanPttl(f.pttlMs)}`, `stale age: ${humanMs(f.staleAgeMs)}`];
  if (f.cacheVersion !== undefined || f.sourceVersion !== undefined) {
    const same = compareVersions(f.cacheVersion, f.sourceVersion) === 0 ? ' (equal)' : '';
    lines.push(`versions: cache ${value(f.cacheVersion)}, source ${value(f.sourceVersion)}${same}`);
  }
  if (f.detail !== undefined) lines.push(`detail: ${markupText(f.detail, DETAIL_WIDTH)}`);
  if (f.diff.length > 0) {
    lines.push('diff (field: cache → source):');
    for (const d of f.diff.slice(0, DIFF_LINES)) {
      lines.push(`  ${markupText(d.path, PATH_WIDTH)}: ${d.change === undefined ? `${value(d.cache)} → ${value(d.source)}` : markupText(d.change, DETAIL_WIDTH)}`);
    }
    // diffOmitted: differences the finding found but did not keep (judge-batch.ts bounds a diff).
    const more = f.diff.length + (f.diffOmitted ?? 0) - Math.min(f.diff.length, DIFF_LINES);
    if (more > 0) lines.push(`  … ${more} more field(s)`);
  }
  // Key and family are cut here (memory stays bounded) but escaped when written.
  const family = truncate(f.family, NAME_WIDTH);
  return { suite: f.population === 'recent' ? recentSuite(family) : family, key: truncate(f.key, KEY_WIDTH), verdict, reason: f.reason, text: lines.join('\n') };
}

function renderJunit(run: RunSummary, cases: CaseRecord[]): string {
  // The recent population (--recent) is counted apart from the sample, so it gets suites of its own:
  // its keys may also be in the sample, and its counters are not the family's.
  const counters = new Map<string, Counters>([
    ...run.families.map((f): [string, Counters] => [f.name, f]),
    ...(run.recent?.families ?? []).map((f): [string, Counters] => [recentSuite(f.name), f]),
  ]);
  const bySuite = new Map<string, CaseRecord[]>([...counters.keys()].map((name) => [name, []]));
  for (const c of cases) {
    const list = bySuite.get(c.suite);
    if (list === undefined) bySuite.set(c.suite, [c]);
    else list.push(c);
  }
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: visibleEscape });
  const root = doc.ele('testsuites', { name: JUNIT_RUN_SUITE });
  const total: SuiteTally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  if (run.warnings !== undefined && run.warnings.length > 0) addTally(total, warningsSuite(root, run));
  for (const [name, listed] of bySuite) {
    addTally(total, familySuite(root, run, name, counters.get(name), listed));
  }
  addTally(total, runSuite(root, run));
  root.att({
    tests: String(total.tests),
    failures: String(total.failures),
    errors: String(total.errors),
    skipped: String(total.skipped),
    time: seconds(run.durationMs),
    timestamp: attr(run.startedAt),
  });
  return `${doc.end({ prettyPrint: true, wellFormed: true })}\n`;
}

function familySuite(root: XMLBuilder, run: RunSummary, family: string, c: Counters | undefined, listed: CaseRecord[]): SuiteTally {
  const tally: SuiteTally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  // Per-family durations are not measured (families are audited concurrently): time is 0.
  const suite = root.ele('testsuite', { name: attr(family, NAME_WIDTH), timestamp: attr(run.startedAt) });
  if (c !== undefined) {
    const props = suite.ele('properties');
    const figures: [string, string][] = [
      ['sampled', String(c.sampled)],
      ['match', String(c.match)],
      ['within-ttl', String(c.withinTtl)],
      ['divergent', String(c.divergent)],
      ['error', String(c.error)],
      ['skipped', String(c.skipped)],
      ['consistency', formatPercent(c.consistency)],
      ['strict-consistency', formatPercent(c.strictConsistency)],
    ];
    for (const [name, val] of figures) props.ele('property', { name, value: val });
  }
  const matched = c?.match ?? 0;
  addCase(tally, suite, family, JUNIT_MATCH_CASE, 'passed', undefined, `${matched} key(s) match`);
  for (const k of listed) {
    const outcome: Outcome = k.verdict === 'divergent' ? 'failure' : k.verdict === 'error' ? 'error' : k.verdict === 'skipped' ? 'skipped' : 'passed';
    addCase(tally, suite, family, k.key, outcome, { message: label(k.verdict, k.reason), type: k.reason ?? k.verdict }, k.text);
  }
  if (c !== undefined) notListedCase(tally, suite, family, c, listed);
  suite.att({
    tests: String(tally.tests),
    failures: String(tally.failures),
    errors: String(tally.errors),
    skipped: String(tally.skipped),
    time: '0',
  });
  return tally;
}

/**
 * Keys the buffer could not keep, per verdict: the family's counters minus the cases listed. One
 * case sums them up, failing if any was divergent, so a capped report never passes a failing run.
 */
function notListedCase(tally: SuiteTally, suite: XMLBuilder, family: string, c: Counters, listed: CaseRecord[]): void {
  const shown = (v: NonMatchVerdict): number => listed.filter((k) => k.verdict === v).length;
  const missing = {
    divergent: Math.max(0, c.divergent - shown('divergent')),
    error: Math.max(0, c.error - shown('error')),
    'within-ttl': Math.max(0, c.withinTtl - shown('within-ttl')),
    skipped: Math.max(0, c.skipped - shown('skipped')),
  };
  const parts = Object.entries(missing)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`);
  if (parts.length === 0) return;
  const outcome: Outcome = missing.divergent > 0 ? 'failure' : missing.error > 0 ? 'error' : 'passed';
  const message = `${parts.join(', ')} key(s) not listed (use --format json for all)`;
  addCase(tally, suite, family, JUNIT_NOT_LISTED_CASE, outcome, { message, type: 'not-listed' }, message);
}

/**
 * The run's warnings, as the first suite: one testcase per warning (classname = family), marked
 * `<skipped>` with the warning as its message. CI views list skipped cases with their message
 * (GitLab, Jenkins, GitHub test reporters), so the warning is seen, without turning the build red
 * by itself: the gate decides that, and its failure message names a suspected rules problem.
 */
function warningsSuite(root: XMLBuilder, run: RunSummary): SuiteTally {
  const tally: SuiteTally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suite = root.ele('testsuite', { name: JUNIT_WARNINGS_SUITE, timestamp: attr(run.startedAt) });
  for (const w of run.warnings ?? []) {
    const message = `${markupText(w.family, NAME_WIDTH)}: ${markupText(w.message, DETAIL_WIDTH)}`;
    const name = `${w.kind}: ${w.field ?? w.family}`;
    addCase(tally, suite, w.family, name, 'skipped', { message, type: w.kind }, message);
  }
  suite.att({ tests: String(tally.tests), failures: '0', errors: '0', skipped: String(tally.skipped), time: '0' });
  return tally;
}

function runSuite(root: XMLBuilder, run: RunSummary): SuiteTally {
  const tally: SuiteTally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suite = root.ele('testsuite', { name: JUNIT_RUN_SUITE, timestamp: attr(run.startedAt) });
  const failures = run.gate.failures.map((f) => markupText(f, DETAIL_WIDTH));
  // A failed batch the gate counted is among its failures; one it did not (--fail-on none) is told beside them.
  const ungated = sourceFailuresBesideGate(run).map((f) => `source failure (not counted by this gate): ${markupText(f, DETAIL_WIDTH)}`);
  addCase(
    tally,
    suite,
    JUNIT_RUN_SUITE,
    'gate',
    run.gate.passed ? 'passed' : 'failure',
    { message: failures.length === 0 ? 'gate failed' : failures.join('; '), type: 'gate' },
    [...(run.gate.passed ? ['gate passed'] : failures), ...ungated].join('\n'),
  );
  if (run.incomplete) {
    const why = run.abortReason === undefined ? '' : `: ${markupText(run.abortReason, DETAIL_WIDTH)}`;
    const message = `the audit stopped early${why}; the figures cover only the keys judged before it stopped`;
    addCase(tally, suite, JUNIT_RUN_SUITE, 'complete', 'error', { message, type: 'incomplete' }, message);
  }
  suite.att({
    tests: String(tally.tests),
    failures: String(tally.failures),
    errors: String(tally.errors),
    skipped: String(tally.skipped),
    time: seconds(run.durationMs),
  });
  return tally;
}

function addCase(
  tally: SuiteTally,
  suite: XMLBuilder,
  classname: string,
  name: string,
  outcome: Outcome,
  problem: { message: string; type: string } | undefined,
  text: string,
): void {
  const tc = suite.ele('testcase', { classname: attr(classname, NAME_WIDTH), name: attr(name, KEY_WIDTH), time: '0' });
  tally.tests++;
  switch (outcome) {
    case 'failure':
    case 'error':
      tally[outcome === 'failure' ? 'failures' : 'errors']++;
      tc.ele(outcome, { message: attr(problem?.message ?? outcome, DETAIL_WIDTH), type: attr(problem?.type ?? outcome) }).txt(text);
      break;
    case 'skipped':
      tally.skipped++;
      tc.ele('skipped', { message: attr(problem?.message ?? 'skipped') });
      tc.ele('system-out').txt(text);
      break;
    case 'passed':
      tc.ele('system-out').txt(text);
      break;
  }
}

function addTally(into: SuiteTally, from: SuiteTally): void {
  into.tests += from.tests;
  into.failures += from.failures;
  into.errors += from.errors;
  into.skipped += from.skipped;
}

/**
 * An attribute value: one line (a parser would fold tabs and line breaks into spaces anyway), with
 * controls and non-XML code points as visible escapes; the library escapes & < > and quotes.
 */
function attr(text: string, max = Infinity): string {
  return markupText(text, max);
}

function recentSuite(family: string): string {
  return `${family} (recent)`;
}

function label(verdict: NonMatchVerdict, reason: Reason | undefined): string {
  return reason === undefined ? verdict : `${verdict}/${reason}`;
}

function value(v: unknown): string {
  return markupText(renderValue(v), VALUE_WIDTH);
}

function seconds(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0';
}
