import type { Command } from 'commander';
import { explainKeys, type Explanation } from '../audit/explain.js';
import { loadRulesFile } from '../config/load.js';
import { escapeControl } from '../report/text-format.js';
import { addConnectionFlags, connectionFrom, type ConnectionFlags } from './connection-flags.js';
import { integer } from './parse.js';
import { describeCommand } from './commands.js';

export function registerExplainCommand(program: Command): void {
  const command = program
    .command('explain')
    .description(describeCommand('explain'))
    .argument('<key...>', 'Redis keys to explain, as reports display them (\\xNN is one byte, \\x5c a backslash)')
    .requiredOption('--rules <file>', 'rules file (YAML) (required)');
  addConnectionFlags(command)
    .option('--max-value-bytes <n>', 'do not fetch values larger than this', integer('--max-value-bytes'), 1024 * 1024)
    .action(async (keys: string[], flags: ConnectionFlags & { rules: string; maxValueBytes: number }) => {
      const config = await loadRulesFile(flags.rules);
      const c = connectionFrom(flags);
      const explanations = await explainKeys({
        config,
        redisUrl: c.redisUrl,
        readFrom: c.readFrom,
        tls: c.tls,
        keys,
        timeoutMs: c.timeoutMs,
        maxValueBytes: flags.maxValueBytes,
      });
      process.stdout.write(explanations.map(render).join('\n'));
    });
}

/** Plain text, one block per key; everything that came from Redis or the database is escaped. */
function render(e: Explanation): string {
  const lines = [`key ${safe(e.key)}`];
  if (e.otherKey !== undefined) {
    const o = e.otherKey;
    lines.push(
      `  note: two keys exist: the one displayed ${safe(e.key)}, read here (each \\xNN in an argument is one byte), ` +
        `and the text key whose name is literally ${safe(o.literal)}; to explain that one, write ${safe(o.display)} (\\x5c for each backslash)`,
    );
  }
  if (e.family === undefined) {
    lines.push('  family: none: no family pattern matches this key (placeholders never span ":")');
    for (const p of e.patterns) lines.push(`    tried ${safe(p)}`);
    return `${lines.join('\n')}\n`;
  }
  const f = e.family;
  lines.push(`  family: ${f.name} (pattern ${f.pattern.source}, ${f.pattern.placeholders.join(', ')} = ${safe(e.id)}); ttl ${f.ttlMs} ms, maxStaleness ${f.maxStalenessMs} ms, clockSkew ${f.clockSkewMs} ms`);
  for (const w of e.warnings) lines.push(`  warning: ${safe(w.message)}`);
  const r = e.read;
  if (r.kind === 'present') {
    const size = Buffer.isBuffer(r.value) ? `${r.value.length} bytes` : Array.isArray(r.value) ? `${r.value.length} elements` : `${Object.keys(r.value).length} fields`;
    const pttl = r.pttlMs === -1 ? 'none (no expiry)' : `${r.pttlMs} ms`;
    lines.push(`  cache: type ${r.redisType}, ${size}, PTTL ${pttl}`);
    if (e.estimatedWriteMs !== undefined) lines.push(`  estimated write time: ${new Date(e.estimatedWriteMs).toISOString()} (now - (ttl - pttl))`);
  } else if (r.kind === 'too-large') {
    lines.push(`  cache: type ${r.redisType}, ${r.size} ${r.unit}, over --max-value-bytes: not fetched`);
  } else if (r.kind === 'gone') {
    lines.push('  cache: key not found');
  } else {
    lines.push(`  cache: read failed: ${safe(r.message)}`);
  }
  if (e.decodeError !== undefined) lines.push(`  decoded: fails: ${safe(e.decodeError)}`);
  if (e.cachePayload !== undefined) lines.push(`  cache payload (normalized): ${safe(JSON.stringify(e.cachePayload))}`);
  if (e.source.kind === 'row') lines.push(`  source row (normalized):   ${safe(JSON.stringify(e.sourcePayload))}`);
  else if (e.source.kind === 'absent') lines.push('  source row: none');
  else lines.push(`  source: failed: ${safe(e.source.message)}`);
  lines.push(`  database now: ${new Date(e.nowMs).toISOString()}`);
  if (e.judgement.diff.length > 0) {
    lines.push('  diff:');
    for (const d of e.judgement.diff) lines.push(`    ${safe(d.path)}: ${d.change === undefined ? `${safe(JSON.stringify(d.cache))} → ${safe(JSON.stringify(d.source))}` : safe(d.change)}`);
  }
  lines.push('  decision:');
  for (const step of e.steps) lines.push(`    ${safe(step)}`);
  const verdict = e.judgement.reason === undefined ? e.judgement.verdict : `${e.judgement.verdict}/${e.judgement.reason}`;
  lines.push(`  verdict: ${verdict} (decided at step ${e.judgement.step})`);
  if (e.hint !== undefined) lines.push(`  likely cause: ${safe(e.hint)}`);
  for (const note of e.notes ?? []) lines.push(`  note: ${safe(note)}`);
  return `${lines.join('\n')}\n`;
}

function safe(text: string): string {
  return escapeControl(text);
}
