import { Buffer } from 'node:buffer';
import { compareVersions } from '../core/compare.js';
import type { Counters, FamilyCounters } from '../core/stats.js';
import { REASONS_BY_VERDICT, type Finding } from '../core/verdict.js';
import { FindingBuffer } from './finding-buffer.js';
import { escapeHtml, markdownCode, markdownText, markupText } from './markup-text.js';
import { sourceFailuresBesideGate } from './source-failures.js';
import { formatPercent, humanMs, humanPttl, renderValue } from './text-format.js';
import type { Reporter, ReporterContext, ReporterFactory, RunSummary } from './types.js';
import { writeChunk } from './write.js';
import { keyspaceOf, samplingSentence, uncoveredPrefixes, unmatchedSentence } from './sampling-text.js';

/** Keys listed with their diff; the rest are counted (the json format lists them all). */
export const MARKDOWN_MAX_KEYS = 50;
/**
 * GitHub caps one step's summary at 1 MiB and rejects the whole summary beyond it, so the key
 * blocks stop well short of that (the rest of the report is small and bounded).
 */
export const MARKDOWN_MAX_BYTES = 768 * 1024;
const KEY_WIDTH = 200;
const NAME_WIDTH = 120;
const PATH_WIDTH = 80;
const VALUE_WIDTH = 100;
const DETAIL_WIDTH = 300;
const DIFF_ROWS = 10;
const WARNING_WIDTH = 600;

/** One listed key, rendered when it arrives so that no payload is held until the end of the run. */
interface KeyBlock {
  html: string;
  bytes: number;
}

/**
 * `--format markdown`: a report for a CI job summary (`$GITHUB_STEP_SUMMARY`): the gate and target
 * as a title, verdict counts per family, non-zero reasons, and the worst keys (divergent, then
 * error) each with its field diff in a collapsible block. With `--recent`, the keys of recently
 * changed rows get a counts table of their own, and are marked as such when listed.
 *
 * Everything that came from the cache or the rules file is made inert: one line (controls and line
 * breaks become visible escapes, so no value can end a table row or an HTML block), Markdown
 * punctuation backslash-escaped in Markdown text (a pipe cannot split a cell), and HTML-escaped
 * inside the `<details>` blocks (no value can close a tag or open one).
 */
export const createMarkdownReporter: ReporterFactory = (ctx: ReporterContext): Reporter => {
  // Only divergent and error keys are listed, so only they are kept; FindingBuffer keeps divergent
  // ahead of error when full, which is the order they are shown in.
  const keys = new FindingBuffer<KeyBlock>(Math.min(ctx.maxFindings, MARKDOWN_MAX_KEYS));
  return {
    onFinding(finding: Finding): void {
      if (finding.verdict !== 'divergent' && finding.verdict !== 'error') return;
      const html = keyBlock(finding);
      keys.add(finding.verdict, { html, bytes: Buffer.byteLength(html) });
    },
    async onEnd(run: RunSummary): Promise<void> {
      await writeChunk(ctx.out, renderMarkdown(run, keys));
    },
  };
};

function renderMarkdown(run: RunSummary, keys: FindingBuffer<KeyBlock>): string {
  const blocks: string[] = [titleLine(run), ...warningBlocks(run)];
  if (run.incomplete) {
    const why = run.abortReason === undefined ? '' : ` (${md(run.abortReason, DETAIL_WIDTH)})`;
    blocks.push(
      `> ⚠️ **Incomplete run:** the audit stopped early${why}; the figures cover only the keys judged before it stopped.`,
    );
  }
  if (!run.gate.passed && run.gate.failures.length > 0) {
    blocks.push(`**Gate failures:** ${run.gate.failures.map((f) => md(f, DETAIL_WIDTH)).join('; ')}`);
  }
  // A failed batch the gate counted is among its failures; one it did not (--fail-on none) is here.
  const ungated = sourceFailuresBesideGate(run);
  if (ungated.length > 0) {
    blocks.push(`**Source failures (not counted by this gate):** ${ungated.map((f) => md(f, DETAIL_WIDTH)).join('; ')}`);
  }
  blocks.push(
    [
      `shadowcheck ${code(run.version)}`,
      `started ${code(run.startedAt)}`,
      `duration ${humanMs(run.durationMs)}`,
      `unmatched keys: ${keyspaceOf(run)?.exact === false ? '~' : ''}${run.summary.unmatched}`,
    ].join(' · '),
  );
  blocks.push(countsTable(run.families, run.summary));
  blocks.push(...samplingBlocks(run));
  if (run.recent !== undefined) {
    blocks.push(`Keys of rows changed in the last ${humanMs(run.recent.withinMs)} (\`--recent\`), judged apart from the sample:`);
    blocks.push(countsTable(run.recent.families, run.recent.summary));
  }
  blocks.push('### By reason', reasonList(run.summary));
  blocks.push(...keysSection(keys));
  return `${blocks.join('\n\n')}\n`;
}

/** How each family was sampled, and the keys no family covers with their commonest prefixes. */
function samplingBlocks(run: RunSummary): string[] {
  const items = run.families.flatMap((f) => (f.sampling === undefined ? [] : [`- ${code(f.name, NAME_WIDTH)}: ${md(samplingSentence(f.sampling), WARNING_WIDTH)}`]));
  if (items.length === 0) return [];
  const prefixes = uncoveredPrefixes(run);
  const coverage = md(unmatchedSentence(run), WARNING_WIDTH) + (prefixes.length === 0 ? '' : `; uncovered prefixes: ${prefixes.map((x) => `${code(x.prefix, NAME_WIDTH)} ${x.keys}`).join(', ')}`);
  return [['**Sampling:**', ...items, `- ${coverage}`].join('\n')];
}

/**
 * Rules problems and systematic differences right under the title, before any figure: one quoted
 * list, every piece escaped (a message may name a field taken from the cache).
 */
function warningBlocks(run: RunSummary): string[] {
  const warnings = run.warnings ?? [];
  if (warnings.length === 0) return [];
  const items = warnings.map((w) => `> - **${md(w.kind)}** in ${code(w.family, NAME_WIDTH)}: ${md(w.message, WARNING_WIDTH)}`);
  return [[`> ⚠️ **Warnings (${warnings.length}):** read these before trusting the figures below.`, '>', ...items].join('\n')];
}

/** `## ✅ shadowcheck PASSED: redis `redis://…`` — the gate first, since that is what CI acts on. */
function titleLine(run: RunSummary): string {
  const gate = run.gate.passed ? '✅ shadowcheck PASSED' : '❌ shadowcheck FAILED';
  const target = Object.entries(run.target)
    .map(([name, value]) => `${md(name, NAME_WIDTH)} ${code(value, DETAIL_WIDTH)}`)
    .join(', ');
  return `## ${gate}${target === '' ? '' : `: ${target}`}`;
}

const COUNT_HEAD = ['family', 'sampled', 'match', 'within-ttl', 'divergent', 'error', 'skipped', 'consistency'];

function countsTable(families: readonly FamilyCounters[], total: Counters): string {
  const row = (name: string, c: Counters): string[] => [
    name,
    String(c.sampled),
    String(c.match),
    String(c.withinTtl),
    String(c.divergent),
    String(c.error),
    String(c.skipped),
    formatPercent(c.consistency),
  ];
  // Only the family name comes from outside; headers, counts and percentages are our own text.
  const rows = [
    COUNT_HEAD,
    COUNT_HEAD.map((_, i) => (i === 0 ? ':--' : '--:')),
    ...families.map((f) => row(md(f.name, NAME_WIDTH), f)),
    row('**total**', total),
  ];
  return rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function reasonList(c: Counters): string {
  const items: string[] = [];
  for (const verdict of ['divergent', 'error', 'within-ttl', 'skipped'] as const) {
    for (const reason of REASONS_BY_VERDICT[verdict]) {
      const n = c.byReason[reason] ?? 0;
      if (n > 0) items.push(`- ${verdict}/${reason}: ${n}`);
    }
  }
  return items.length === 0 ? 'No non-match keys.' : items.join('\n');
}

function keysSection(keys: FindingBuffer<KeyBlock>): string[] {
  if (keys.seen === 0) return ['### Worst keys', 'No divergent or error keys.'];
  const shown: string[] = [];
  let bytes = 0;
  for (const block of keys.bySeverity()) {
    if (bytes + block.bytes > MARKDOWN_MAX_BYTES) break;
    shown.push(block.html);
    bytes += block.bytes;
  }
  const more = keys.seen - shown.length;
  const note =
    more > 0
      ? `Showing ${shown.length} of ${keys.seen} divergent or error keys, divergent first; \`--format json\` lists them all.`
      : `${keys.seen} divergent or error key(s), divergent first.`;
  // Each block is one HTML block: the blank line between blocks is what ends it, and no line
  // inside a block is blank (values are one line), so no value can end it early.
  return ['### Worst keys', note, ...shown];
}

/** A `<details>` block for one key; every piece of cache-derived text HTML-escaped. */
function keyBlock(f: Finding): string {
  const verdict = f.reason === undefined ? f.verdict : `${f.verdict}/${f.reason}`;
  const facts = [
    ...(f.population === 'recent' ? ['recently changed row'] : []),
    `PTTL ${humanPttl(f.pttlMs)}`,
    `stale age ${humanMs(f.staleAgeMs)}`,
  ].join(', ');
  const lines = [
    `<details><summary><code>${html(f.key, KEY_WIDTH)}</code> <b>${html(verdict)}</b> in <code>${html(f.family, NAME_WIDTH)}</code>, ${html(facts)}</summary>`,
  ];
  // Equal versions are what make a difference payload-drift; differing ones are already diff rows.
  if (compareVersions(f.cacheVersion, f.sourceVersion) === 0) {
    lines.push(`<p>version on both sides: <code>${value(f.cacheVersion)}</code></p>`);
  }
  if (f.diff.length > 0) {
    lines.push('<table>', '<tr><th>field</th><th>cache</th><th>source</th></tr>');
    for (const d of f.diff.slice(0, DIFF_ROWS)) {
      // A collection's change reads as one text (`+42, -17`) across both value columns.
      const cells = d.change === undefined ? `<td><code>${value(d.cache)}</code></td><td><code>${value(d.source)}</code></td>` : `<td colspan="2"><code>${html(d.change, DETAIL_WIDTH)}</code></td>`;
      lines.push(`<tr><td><code>${html(d.path, PATH_WIDTH)}</code></td>${cells}</tr>`);
    }
    lines.push('</table>');
    // diffOmitted: differences the finding found but did not keep (judge-batch.ts bounds a diff).
    const more = f.diff.length + (f.diffOmitted ?? 0) - Math.min(f.diff.length, DIFF_ROWS);
    if (more > 0) lines.push(`<p>… ${more} more field(s)</p>`);
  }
  if (f.detail !== undefined) lines.push(`<p>${html(f.detail, DETAIL_WIDTH)}</p>`);
  if (f.diff.length === 0 && f.detail === undefined) lines.push('<p>no field diff</p>');
  lines.push('</details>');
  return lines.join('\n');
}

function md(text: string, max = Infinity): string {
  return markdownText(markupText(text, max));
}

function code(text: string, max = Infinity): string {
  return markdownCode(markupText(text, max));
}

function html(text: string, max = Infinity): string {
  return escapeHtml(markupText(text, max));
}

/** A diff value as the table reporter shows it (strings quoted, redaction mask as is). */
function value(v: unknown): string {
  return html(renderValue(v), VALUE_WIDTH);
}
