import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Lexer, type Token, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/verdict.js';
import { MARKDOWN_MAX_BYTES, MARKDOWN_MAX_KEYS } from '../../../src/report/markdown.js';
import type { RunSummary } from '../../../src/report/types.js';
import { renderReport, runFor } from './harness.js';

const render = (findings: Finding[], options: { run?: RunSummary; maxFindings?: number } = {}) => renderReport('markdown', findings, options);

// ---------------------------------------------------------------------------------------------
// Fixtures: findings by hand, counters from a real Tally.

const FINDINGS: Finding[] = [
  { key: 'user:1', family: 'user-profile', verdict: 'match', step: 4, pttlMs: 120_000, diff: [] },
  { key: 'user:7', family: 'user-profile', verdict: 'error', reason: 'undecodable', step: 2, diff: [], detail: 'cached value is not valid JSON' },
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
  { key: 'order:9', family: 'order', verdict: 'within-ttl', reason: 'ttl-bounded', step: 7, pttlMs: 30_000, staleAgeMs: 4_000, diff: [{ path: 'total', cache: '9.50', source: '9.75' }] },
  { key: 'order:10', family: 'order', verdict: 'skipped', reason: 'vanished', step: 1, diff: [] },
  { key: 'order:11', family: 'order', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [{ path: 'status', cache: 'open', source: 'closed' }] },
];



// ---------------------------------------------------------------------------------------------
// Structural views of the Markdown (marked's lexer) and of each <details> block (an XML parser:
// the blocks are written as well-formed XHTML, so a strict parser sees exactly their structure).

/** The text an inline token list renders to (escapes resolved, code spans literal). */
function inlineText(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map((t) => {
      if (t.type === 'strong' || t.type === 'em' || t.type === 'del' || t.type === 'link') return inlineText((t as Tokens.Strong).tokens);
      return 'text' in t && typeof t.text === 'string' ? t.text : '';
    })
    .join('');
}

function blocks(markdown: string): Token[] {
  return Lexer.lex(markdown).filter((t) => t.type !== 'space');
}

function onlyTable(markdown: string): Tokens.Table {
  const tables = blocks(markdown).filter((t): t is Tokens.Table => t.type === 'table');
  expect(tables).toHaveLength(1);
  return tables[0] as Tokens.Table;
}

function tableRows(table: Tokens.Table): string[][] {
  return table.rows.map((row) => row.map((cell) => inlineText(cell.tokens)));
}

function detailsBlocks(markdown: string): string[] {
  return blocks(markdown)
    .filter((t): t is Tokens.HTML => t.type === 'html')
    .map((t) => t.text.trim());
}

interface DetailsView {
  summaryCodes: string[];
  verdict: string;
  summaryText: string;
  rows: string[][];
  paragraphs: string[];
}

const ALLOWED_ELEMENTS = new Set(['details', 'summary', 'code', 'b', 'table', 'tr', 'th', 'td', 'p']);

function elementNames(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) elementNames(n, into);
  else if (node !== null && typeof node === 'object') {
    for (const [name, child] of Object.entries(node)) {
      if (name !== '#text') into.add(name);
      elementNames(child, into);
    }
  }
  return into;
}

const xhtml = new XMLParser({
  ignoreAttributes: false,
  htmlEntities: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ['code', 'tr', 'th', 'td', 'p'].includes(name),
});

function parseDetails(block: string): DetailsView {
  expect(XMLValidator.validate(block)).toBe(true);
  const parsed = xhtml.parse(block) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(['details']);
  expect([...elementNames(parsed, new Set())].filter((n) => !ALLOWED_ELEMENTS.has(n))).toEqual([]);
  const details = parsed['details'] as {
    summary: { code: string[]; b: string; '#text': string };
    table?: { tr: { th?: string[]; td?: { code: string[] }[] }[] };
    p?: (string | { code: string[]; '#text': string })[];
  };
  const rows = (details.table?.tr ?? []).slice(1).map((tr) => (tr.td ?? []).map((td) => td.code.join('')));
  const header = details.table?.tr[0]?.th;
  if (details.table !== undefined) expect(header).toEqual(['field', 'cache', 'source']);
  return {
    summaryCodes: details.summary.code,
    verdict: details.summary.b,
    summaryText: details.summary['#text'],
    rows,
    paragraphs: (details.p ?? []).map((p) => (typeof p === 'string' ? p : `${p['#text']} ${p.code.join('')}`)),
  };
}

const COUNT_HEAD = ['family', 'sampled', 'match', 'within-ttl', 'divergent', 'error', 'skipped', 'consistency'];

// Code points that must never reach the document raw: C0 controls (bar tab/LF/CR, which are
// structure), DEL, C1, lone surrogates, U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex
const RAW_HAZARD = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\uFFFE\uFFFF]|\p{Surrogate}/u;

// ---------------------------------------------------------------------------------------------

describe('markdown reporter', () => {
  it('titles the report with the failed gate and the target', async () => {
    const [title] = blocks(await render(FINDINGS));
    expect(title?.type).toBe('heading');
    const heading = title as Tokens.Heading;
    expect(heading.depth).toBe(2);
    expect(inlineText(heading.tokens)).toBe('❌ shadowcheck FAILED: redis redis://:***@cache.internal:6379/0');
    const code = heading.tokens.filter((t) => t.type === 'codespan');
    expect(code.map((t) => (t as Tokens.Codespan).text)).toEqual(['redis://:***@cache.internal:6379/0']);
  });

  it('titles a passing run PASSED and lists no gate failures', async () => {
    const passing = FINDINGS.filter((f) => f.verdict !== 'divergent');
    const markdown = await render(passing);
    const [title] = blocks(markdown);
    expect(inlineText((title as Tokens.Heading).tokens)).toMatch(/^✅ shadowcheck PASSED: /);
    const paragraphs = blocks(markdown).filter((t): t is Tokens.Paragraph => t.type === 'paragraph');
    expect(paragraphs.some((p) => inlineText(p.tokens).startsWith('Gate failures'))).toBe(false);
  });

  it('lists the gate failures of a failed run', async () => {
    const paragraphs = blocks(await render(FINDINGS)).filter((t): t is Tokens.Paragraph => t.type === 'paragraph');
    const gate = paragraphs.find((p) => p.tokens[0]?.type === 'strong');
    expect(gate === undefined ? undefined : inlineText(gate.tokens)).toBe('Gate failures: divergent 2 > max 0');
  });

  it('tables the verdict counts per family and in total', async () => {
    const table = onlyTable(await render(FINDINGS));
    expect(table.header.map((h) => inlineText(h.tokens))).toEqual(COUNT_HEAD);
    expect(table.align).toEqual(['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
    expect(tableRows(table)).toEqual([
      ['user-profile', '3', '1', '0', '1', '1', '0', '50.00%'],
      ['order', '3', '0', '1', '1', '0', '1', '50.00%'],
      ['total', '6', '1', '1', '2', '1', '1', '50.00%'],
    ]);
  });

  it('lists only the reasons that occurred, with their counts', async () => {
    const lists = blocks(await render(FINDINGS)).filter((t): t is Tokens.List => t.type === 'list');
    expect(lists).toHaveLength(1);
    expect(lists[0]?.items.map((i) => i.text)).toEqual([
      'divergent/no-ttl: 1',
      'divergent/stale-repopulated: 1',
      'error/undecodable: 1',
      'within-ttl/ttl-bounded: 1',
      'skipped/vanished: 1',
    ]);
  });

  it('says there are no non-match keys when every key matched, and writes no details block', async () => {
    const matches = FINDINGS.filter((f) => f.verdict === 'match');
    const markdown = await render(matches);
    expect(blocks(markdown).filter((t) => t.type === 'list')).toEqual([]);
    expect(detailsBlocks(markdown)).toEqual([]);
    const texts = blocks(markdown)
      .filter((t): t is Tokens.Paragraph => t.type === 'paragraph')
      .map((p) => inlineText(p.tokens));
    expect(texts).toContain('No non-match keys.');
    expect(texts).toContain('No divergent or error keys.');
  });

  it('lists divergent keys first, then error keys, each in its own collapsible block with its diff', async () => {
    const views = detailsBlocks(await render(FINDINGS)).map(parseDetails);
    expect(views.map((v) => v.summaryCodes[0])).toEqual(['user:42', 'order:11', 'user:7']);
    const [repopulated, noTtl, undecodable] = views;
    expect(repopulated).toEqual({
      summaryCodes: ['user:42', 'user-profile'],
      verdict: 'divergent/stale-repopulated',
      summaryText: 'in, PTTL 4.7m, stale age 1.6m',
      // Redacted values stay masked.
      rows: [
        ['plan', '"basic"', '"pro"'],
        ['email', '***', '***'],
        ['version', '3', '4'],
      ],
      paragraphs: [],
    });
    expect(noTtl).toMatchObject({ verdict: 'divergent/no-ttl', summaryText: 'in, PTTL none, stale age -', rows: [['status', '"open"', '"closed"']] });
    expect(undecodable).toMatchObject({ verdict: 'error/undecodable', rows: [], paragraphs: ['cached value is not valid JSON'] });
  });

  it('does not list within-ttl or skipped keys', async () => {
    const keys = detailsBlocks(await render(FINDINGS)).map((b) => parseDetails(b).summaryCodes[0]);
    expect(keys).not.toContain('order:9');
    expect(keys).not.toContain('order:10');
  });

  it('says so when versions are equal on both sides (what makes a difference payload-drift)', async () => {
    const drift: Finding = { key: 'p:1', family: 'p', verdict: 'divergent', reason: 'payload-drift', step: 5, pttlMs: 1000, cacheVersion: 5, sourceVersion: '5', diff: [{ path: 'a', cache: 1, source: 2 }] };
    const [view] = detailsBlocks(await render([drift])).map(parseDetails);
    expect(view?.paragraphs).toEqual(['version on both sides: 5']);
  });

  it(`lists at most ${MARKDOWN_MAX_KEYS} keys, divergent ahead of error found earlier, and counts the rest`, async () => {
    const errors: Finding[] = Array.from({ length: 30 }, (_, i) => ({ key: `e:${i}`, family: 'f', verdict: 'error', reason: 'timeout', step: 2, diff: [] }));
    const divergent: Finding[] = Array.from({ length: 40 }, (_, i) => ({ key: `d:${i}`, family: 'f', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [] }));
    const markdown = await render([...errors, ...divergent]);
    const keys = detailsBlocks(markdown).map((b) => parseDetails(b).summaryCodes[0]);
    expect(keys).toEqual([...divergent.map((f) => f.key), ...errors.slice(0, MARKDOWN_MAX_KEYS - 40).map((f) => f.key)]);
    const paragraphs = blocks(markdown)
      .filter((t): t is Tokens.Paragraph => t.type === 'paragraph')
      .map((p) => inlineText(p.tokens));
    expect(paragraphs).toContain(`Showing ${MARKDOWN_MAX_KEYS} of 70 divergent or error keys, divergent first; --format json lists them all.`);
  });

  it('keeps no more keys than maxFindings allows', async () => {
    const keys = detailsBlocks(await render(FINDINGS, { maxFindings: 1 })).map((b) => parseDetails(b).summaryCodes[0]);
    expect(keys).toEqual(['user:42']);
  });

  it('warns about an incomplete run, with the reason', async () => {
    const markdown = await render(FINDINGS, { run: runFor(FINDINGS, { incomplete: true, abortReason: 'lost connection to redis' }) });
    const quotes = blocks(markdown).filter((t): t is Tokens.Blockquote => t.type === 'blockquote');
    expect(quotes).toHaveLength(1);
    const paragraph = quotes[0]?.tokens[0] as Tokens.Paragraph;
    expect(inlineText(paragraph.tokens)).toBe(
      '⚠️ Incomplete run: the audit stopped early (lost connection to redis); the figures cover only the keys judged before it stopped.',
    );
    // A complete run has no warning.
    expect(blocks(await render(FINDINGS)).filter((t) => t.type === 'blockquote')).toEqual([]);
  });

  it('tables the --recent population apart and marks its keys', async () => {
    const recentKeys: Finding[] = [
      { key: 'user:42', family: 'user-profile', verdict: 'divergent', reason: 'no-ttl', step: 6, pttlMs: -1, diff: [], population: 'recent' },
      { key: 'user:43', family: 'user-profile', verdict: 'match', step: 4, diff: [], population: 'recent' },
    ];
    const sampled = FINDINGS.filter((f) => f.verdict !== 'divergent');
    const recentRun = runFor(recentKeys);
    const run = runFor(sampled, { recent: { withinMs: 300_000, summary: recentRun.summary, families: recentRun.families } });
    const markdown = await render([...sampled, ...recentKeys], { run });
    const tokens = blocks(markdown);
    const tables = tokens.filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables).toHaveLength(2);
    expect(tableRows(tables[1] as Tokens.Table)).toEqual([
      ['user-profile', '2', '1', '0', '1', '0', '0', '50.00%'],
      ['total', '2', '1', '0', '1', '0', '0', '50.00%'],
    ]);
    const before = tokens[tokens.indexOf(tables[1] as Tokens.Table) - 1] as Tokens.Paragraph;
    expect(inlineText(before.tokens)).toBe('Keys of rows changed in the last 5m (--recent), judged apart from the sample:');
    const views = detailsBlocks(markdown).map(parseDetails);
    expect(views.map((v) => [v.summaryCodes[0], v.summaryText])).toEqual([
      ['user:42', 'in, recently changed row, PTTL none, stale age -'],
      ['user:7', 'in, PTTL -, stale age -'],
    ]);
  });

  describe('hostile names and values', () => {
    const HOSTILE = 'a|b`c``d</details><script>alert(1)</script>]]>&amp;\u0000\u001b[2J\uFFFE\uD800\r\n\n# x\u202e';
    const HOSTILE_SHOWN = 'a|b`c``d</details><script>alert(1)</script>]]>&amp;\\x00\\x1b[2J\\ufffe\\ud800\\x0d\\x0a\\x0a# x\\u202e';
    const FAMILY = 'fam|ily`*x*`<b>\u001b[31m';
    const FAMILY_SHOWN = 'fam|ily`*x*`<b>\\x1b[31m';
    const findings: Finding[] = [
      {
        key: HOSTILE,
        family: FAMILY,
        verdict: 'divergent',
        reason: 'payload-drift',
        step: 5,
        pttlMs: 1000,
        diff: [
          { path: '</td></tr><tr><td>x|`y`\u0000', cache: HOSTILE, source: 'ok' },
          { path: 'secret', cache: '***', source: '***' },
        ],
      },
      { key: 'bin:\\xff\\x00|', family: FAMILY, verdict: 'error', reason: 'source-error', step: 2, diff: [], detail: `loader said: ${HOSTILE}` },
      { key: 'plain', family: 'other', verdict: 'match', step: 4, diff: [] },
    ];

    it('keeps the table at one row per family plus total, eight cells each, the name shown literally', async () => {
      const markdown = await render(findings, { run: runFor(findings, { target: { 're|dis': `redis://h/${HOSTILE}` } }) });
      const table = onlyTable(markdown);
      expect(table.header).toHaveLength(COUNT_HEAD.length);
      expect(table.rows).toHaveLength(3);
      for (const row of table.rows) expect(row).toHaveLength(COUNT_HEAD.length);
      expect(tableRows(table).map((r) => r[0])).toEqual([FAMILY_SHOWN, 'other', 'total']);
    });

    it('shows hostile keys and values as text inside valid, closed details blocks', async () => {
      const markdown = await render(findings);
      const views = detailsBlocks(markdown).map(parseDetails);
      // One block per listed key: nothing closed a block early or opened another.
      expect(views).toHaveLength(2);
      expect(views[0]?.summaryCodes).toEqual([HOSTILE_SHOWN, FAMILY_SHOWN]);
      expect(views[0]?.rows).toEqual([
        ['</td></tr><tr><td>x|`y`\\x00', `"${HOSTILE_SHOWN}"`, '"ok"'],
        ['secret', '***', '***'],
      ]);
      // Binary keys arrive escaped by the reader; they stay readable, not double-escaped.
      expect(views[1]?.summaryCodes[0]).toBe('bin:\\xff\\x00|');
      expect(views[1]?.paragraphs).toEqual([`loader said: ${HOSTILE_SHOWN}`]);
    });

    it('lets nothing outside the expected blocks appear, and no raw control or invalid code point', async () => {
      const markdown = await render(findings, { run: runFor(findings, { incomplete: true, abortReason: HOSTILE, target: { redis: HOSTILE } }) });
      expect(markdown).not.toMatch(RAW_HAZARD);
      const types = blocks(markdown).map((t) => t.type);
      expect(types).toEqual(['heading', 'blockquote', 'paragraph', 'paragraph', 'table', 'heading', 'list', 'heading', 'paragraph', 'html', 'html']);
      const [title] = blocks(markdown);
      const codes = (title as Tokens.Heading).tokens.filter((t): t is Tokens.Codespan => t.type === 'codespan');
      expect(codes.map((c) => c.text)).toEqual([HOSTILE_SHOWN]);
      const quote = blocks(markdown).find((t): t is Tokens.Blockquote => t.type === 'blockquote');
      expect(inlineText((quote?.tokens[0] as Tokens.Paragraph).tokens)).toContain(`(${HOSTILE_SHOWN})`);
    });
  });

  it(`stays under ${MARKDOWN_MAX_BYTES} bytes of key blocks however large the escaped values, and says how many it showed`, async () => {
    const wide = '"'.repeat(500);
    const findings: Finding[] = Array.from({ length: MARKDOWN_MAX_KEYS }, (_, i) => ({
      key: `${'<'.repeat(300)}${i}`,
      family: 'f',
      verdict: 'divergent',
      reason: 'payload-drift',
      step: 5,
      diff: Array.from({ length: 12 }, (_, j) => ({ path: `${'&'.repeat(200)}${j}`, cache: wide, source: wide })),
    }));
    const markdown = await render(findings);
    const shown = detailsBlocks(markdown);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(MARKDOWN_MAX_KEYS);
    expect(Buffer.byteLength(shown.join('\n\n'))).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
    expect(Buffer.byteLength(markdown)).toBeLessThan(1024 * 1024);
    const paragraphs = blocks(markdown)
      .filter((t): t is Tokens.Paragraph => t.type === 'paragraph')
      .map((p) => inlineText(p.tokens));
    expect(paragraphs).toContain(`Showing ${shown.length} of ${MARKDOWN_MAX_KEYS} divergent or error keys, divergent first; --format json lists them all.`);
    // Long values are cut, and the rows beyond the cap are counted.
    const [first] = shown.map(parseDetails);
    expect(first?.rows).toHaveLength(10);
    expect(first?.paragraphs).toEqual(['… 2 more field(s)']);
  });
});
