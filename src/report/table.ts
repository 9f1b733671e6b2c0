import { compareVersions } from '../core/compare.js';
import Table from 'cli-table3';
import type { Counters, FamilyCounters } from '../core/stats.js';
import { REASONS_BY_VERDICT, type Finding, type Verdict } from '../core/verdict.js';
import { FindingBuffer } from './finding-buffer.js';
import { sourceFailuresBesideGate } from './source-failures.js';
import { escapeControl, formatPercent, humanMs, humanPttl, renderValue, safeText } from './text-format.js';
import type { Reporter, ReporterContext, ReporterFactory, RunSummary } from './types.js';
import { writeChunk } from './write.js';
import { samplingSentence, uncoveredPrefixes, unmatchedSentence } from './sampling-text.js';

/** Rows of the findings table; the rest are counted (the json format lists them). */
export const TABLE_MAX_ROWS = 50;
const VALUE_WIDTH = 60;
const KEY_WIDTH = 120;
const DETAIL_WIDTH = 120;
const DIFF_LINES = 10;
const WARNING_WIDTH = 600;

type Paint = (text: string) => string;

interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  magenta: Paint;
  banner: Paint;
  verdict: (verdict: Verdict, text: string) => string;
}

const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

function palette(color: boolean): Palette {
  const plain: Paint = (text) => text;
  const p = color
    ? {
        bold: ansi(1, 22),
        dim: ansi(2, 22),
        red: ansi(31, 39),
        green: ansi(32, 39),
        yellow: ansi(33, 39),
        magenta: ansi(35, 39),
        banner: (text: string) => ansi(1, 22)(ansi(41, 49)(ansi(97, 39)(text))),
      }
    : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, magenta: plain, banner: plain };
  const byVerdict: Record<Verdict, Paint> = {
    match: p.green,
    'within-ttl': p.yellow,
    divergent: p.red,
    error: p.magenta,
    skipped: p.dim,
  };
  return { ...p, verdict: (verdict, text) => byVerdict[verdict](text) };
}

/**
 * cli-table3 colours headers and borders through its own colour library, which decides for itself
 * whether colour is on; empty styles keep it from ever writing an escape. Colour, when allowed, is
 * applied to cell text here instead.
 */
function newTable(head: string[], colAligns?: ('left' | 'right')[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, ...(colAligns ? { colAligns } : {}) });
}

/**
 * `--format table` (the default): a human summary printed at the end of the run. Everything that
 * came from the cache (keys, paths, values, error text) is escaped before it reaches the terminal,
 * so a cached value cannot move the cursor, clear the screen or rewrite earlier lines.
 */
export const createTableReporter: ReporterFactory = (ctx: ReporterContext): Reporter => {
  // Only the rows shown are kept: FindingBuffer keeps the most severe, earliest first, which is
  // exactly the set the table shows, so holding more than TABLE_MAX_ROWS would buy nothing.
  const findings = new FindingBuffer<Finding>(Math.min(ctx.maxFindings, TABLE_MAX_ROWS));
  return {
    onFinding(finding: Finding): void {
      if (finding.verdict !== 'match') findings.add(finding.verdict, finding);
    },
    async onEnd(run: RunSummary): Promise<void> {
      await writeChunk(ctx.out, renderTable(run, findings, palette(ctx.color)));
    },
  };
};

function renderTable(run: RunSummary, findings: FindingBuffer<Finding>, p: Palette): string {
  const lines: string[] = [];
  lines.push(headerLine(run, p));
  lines.push(...warningLines(run, p));
  if (run.incomplete) {
    const why = run.abortReason === undefined ? '' : ` (${safeText(run.abortReason, DETAIL_WIDTH)})`;
    lines.push(p.banner(` INCOMPLETE `) + p.red(` the audit stopped early${why}; the figures cover only the keys judged before it stopped`));
  }
  lines.push('');
  lines.push(summaryTable(run, p));
  lines.push(...coverageLines(run, p));
  const reasons = reasonLine(run.summary, p);
  if (reasons !== undefined) lines.push(reasons);
  lines.push('95% ≥: the consistency this sample supports with 95% confidence (Wilson lower bound)');
  if (run.recent !== undefined) {
    lines.push('');
    lines.push(p.bold(`keys of rows changed in the last ${humanMs(run.recent.withinMs)} (--recent), judged apart from the sample:`));
    lines.push(countersTable(run.recent.families, run.recent.summary, p));
  }
  lines.push(...ttlAdviceLines(run));
  lines.push('');
  lines.push(...findingsSection(findings, p));
  lines.push('');
  // A failed batch the gate counted is among its failures; one it did not (--fail-on none) is here.
  for (const f of sourceFailuresBesideGate(run)) lines.push(p.magenta(`source failure (not counted by this gate): ${escapeControl(f)}`));
  lines.push(gateLine(run, p));
  return `${lines.join('\n')}\n`;
}

/** How each family was sampled, then the keys no family covers and their commonest prefixes. */
function coverageLines(run: RunSummary, p: Palette): string[] {
  const lines: string[] = [];
  for (const f of run.families) {
    if (f.sampling !== undefined) lines.push(`sampling ${safeText(f.name, VALUE_WIDTH)}: ${safeText(samplingSentence(f.sampling), WARNING_WIDTH)}`);
  }
  lines.push(unmatchedSentence(run));
  const prefixes = uncoveredPrefixes(run);
  if (prefixes.length > 0) lines.push(p.dim(`  uncovered prefixes: ${prefixes.map((x) => `${safeText(x.prefix, VALUE_WIDTH)} ${x.keys}`).join(' · ')}`));
  return lines;
}

/**
 * Rules problems and systematic differences, before any figure: they say whether the figures can
 * be trusted. Messages may name fields from the cache, so they are escaped like any cached text.
 */
function warningLines(run: RunSummary, p: Palette): string[] {
  const warnings = run.warnings ?? [];
  if (warnings.length === 0) return [];
  return [
    '',
    p.yellow(p.bold(`warnings: ${warnings.length}`)),
    ...warnings.map((w) => `  ${p.yellow(`⚠ ${w.kind}`)} ${safeText(w.family, VALUE_WIDTH)}: ${safeText(w.message, WARNING_WIDTH)}`),
  ];
}

function headerLine(run: RunSummary, p: Palette): string {
  const target = Object.entries(run.target)
    .map(([name, value]) => `${safeText(name)} ${safeText(value)}`)
    .join(', ');
  return [
    p.bold(`shadowcheck ${safeText(run.version)}`),
    `target: ${target === '' ? '-' : target}`,
    `duration: ${humanMs(run.durationMs)}`,
    `started: ${safeText(run.startedAt)}`,
  ].join('  ');
}

function summaryTable(run: RunSummary, p: Palette): string {
  return countersTable(run.families, run.summary, p);
}

function countersTable(families: readonly FamilyCounters[], total: Counters, p: Palette): string {
  const head = ['family', 'sampled', 'match', 'within-ttl', 'divergent', 'error', 'skipped', 'consistency', '95% ≥', 'stale p50', 'stale p99', 'stale max'];
  const table = newTable(
    head.map((h) => p.bold(h)),
    head.map((_, i) => (i === 0 ? 'left' : 'right')),
  );
  const row = (name: string, c: Counters): string[] => [
    name,
    String(c.sampled),
    String(c.match),
    c.withinTtl > 0 ? p.yellow(String(c.withinTtl)) : String(c.withinTtl),
    c.divergent > 0 ? p.red(String(c.divergent)) : String(c.divergent),
    c.error > 0 ? p.magenta(String(c.error)) : String(c.error),
    String(c.skipped),
    formatPercent(c.consistency),
    formatPercent(c.consistencyLowerBound),
    humanMs(c.staleAgeMs.p50),
    humanMs(c.staleAgeMs.p99),
    humanMs(c.staleAgeMs.max),
  ];
  for (const family of families) table.push(row(safeText(family.name, VALUE_WIDTH), family));
  table.push(row(p.bold('TOTAL'), total).map((cell, i) => (i === 0 ? cell : p.bold(cell))));
  return table.toString();
}

/** Non-match keys by reason, e.g. "divergent: no-ttl 3, orphan 1"; undefined when there are none. */
function reasonLine(c: Counters, p: Palette): string | undefined {
  const parts: string[] = [];
  for (const verdict of ['divergent', 'within-ttl', 'error', 'skipped'] as const) {
    const counts = REASONS_BY_VERDICT[verdict]
      .map((reason) => [reason, c.byReason[reason] ?? 0] as const)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`);
    if (counts.length > 0) parts.push(`${p.verdict(verdict, verdict)}: ${counts.join(', ')}`);
  }
  return parts.length === 0 ? undefined : `by reason: ${parts.join('; ')}`;
}

function findingsSection(findings: FindingBuffer<Finding>, p: Palette): string[] {
  if (findings.seen === 0) return [p.green('no non-match keys')];
  const shown = findings.bySeverity().slice(0, TABLE_MAX_ROWS);
  const lines = [p.bold(`non-match keys: ${findings.seen}`)];
  if (shown.length > 0) {
    const table = newTable(['key', 'family', 'verdict/reason', 'PTTL', 'stale age', 'diff'].map((h) => p.bold(h)));
    for (const f of shown) {
      const verdict = f.reason === undefined ? f.verdict : `${f.verdict}/${f.reason}`;
      table.push([
        safeText(f.key, KEY_WIDTH),
        safeText(f.family, VALUE_WIDTH),
        p.verdict(f.verdict, escapeControl(verdict)),
        humanPttl(f.pttlMs),
        humanMs(f.staleAgeMs),
        diffCell(f),
      ]);
    }
    lines.push(table.toString());
  }
  const more = findings.seen - shown.length;
  if (more > 0) lines.push(`... and ${more} more (use --format json for all)`);
  return lines;
}

/** `path: cache → source` (or `path: change`) lines, plus versions and error detail; every piece escaped and cut. */
function diffCell(f: Finding): string {
  const lines: string[] = [];
  // Differing versions are already a diff line (the classifier adds them); equal versions are
  // worth a line of their own, since they are what makes a difference payload-drift.
  if (compareVersions(f.cacheVersion, f.sourceVersion) === 0) {
    lines.push(`version: ${value(f.cacheVersion)} on both sides`);
  }
  for (const d of f.diff.slice(0, DIFF_LINES)) {
    lines.push(`${safeText(d.path, VALUE_WIDTH)}: ${d.change === undefined ? `${value(d.cache)} → ${value(d.source)}` : safeText(d.change, DETAIL_WIDTH)}`);
  }
  // diffOmitted: differences the finding found but did not keep (judge-batch.ts bounds a diff).
  const more = f.diff.length + (f.diffOmitted ?? 0) - Math.min(f.diff.length, DIFF_LINES);
  if (more > 0) lines.push(`… ${more} more field(s)`);
  if (f.detail !== undefined) lines.push(safeText(f.detail, DETAIL_WIDTH));
  return lines.length === 0 ? '-' : lines.join('\n');
}

function value(v: unknown): string {
  return safeText(renderValue(v), VALUE_WIDTH);
}

function gateLine(run: RunSummary, p: Palette): string {
  const { baseline } = run.gate;
  const known =
    baseline === undefined ? '' : ` (baseline ${safeText(baseline.file)}: ${baseline.knownDivergent} known, ${baseline.newDivergent} new divergent)`;
  if (run.gate.passed) return `gate: ${p.green(p.bold('PASSED'))}${known}`;
  const failures = run.gate.failures.map((f) => escapeControl(f)).join('; ');
  return `gate: ${p.red(p.bold('FAILED'))}${failures === '' ? '' : `: ${failures}`}${known}`;
}

/** One line per family whose stale keys showed how long a TTL the budget allows. */
function ttlAdviceLines(run: RunSummary): string[] {
  return run.families.flatMap((f) =>
    f.ttlAdvice === null
      ? []
      : [
          f.ttlAdvice.maxTtlMs <= 0
            ? // A stale window already over the budget at the write itself (a repopulation race, a
              // missed invalidation) is not a TTL's to shorten: no advice would be a number.
              `TTL advice ${safeText(f.name, VALUE_WIDTH)}: no TTL would have kept every observed stale window within the budget ` +
              `(from ${f.ttlAdvice.basedOnKeys} stale key(s)): some were stale past it regardless of their TTL (a missed invalidation or a repopulation race)`
            : `TTL advice ${safeText(f.name, VALUE_WIDTH)}: a TTL of at most ${humanMs(f.ttlAdvice.maxTtlMs)} would have kept every ` +
              `observed stale window within the budget (from ${f.ttlAdvice.basedOnKeys} stale key(s))`,
        ],
  );
}

