import type { Command } from 'commander';
import { loadRulesFile } from '../config/load.js';
import type { RulesConfig } from '../config/types.js';
import type { RunWarning } from '../core/warning.js';
import { formatRulesProblem } from '../errors.js';
import { addConnectionFlags, connectionFrom, type ConnectionFlags } from './connection-flags.js';
import { describeCommand } from './commands.js';

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description(describeCommand('rules'));
  const validate = rules
    .command('validate')
    .description('check a rules file against the schema and the semantic checks; with --connect, also against the live sources and cache; exits 0 or 2')
    .argument('<file>', 'the rules file (YAML)')
    .option('--connect', "also run the audit's checks against the live sources and a few cached values (with the audit's connection flags), without auditing");
  addConnectionFlags(validate).action(async (file: string, flags: ConnectionFlags & { connect?: boolean }) => {
    const config = await loadRulesFile(file);
    const families = config.families.map((f) => f.name).join(', ');
    const sources = Object.keys(config.sources).length;
    const summary =
      `${file}: OK: ${config.families.length} ${config.families.length === 1 ? 'family' : 'families'} (${families}), ` +
      `${sources} ${sources === 1 ? 'source' : 'sources'}`;
    if (flags.connect !== true) {
      process.stdout.write(`${summary}\n`);
      return;
    }
    const c = connectionFrom(flags);
    // The live check loads the drivers: only --connect pays for them.
    const { checkRulesLive } = await import('../audit/rules-check.js');
    const live = await checkRulesLive({ config, redisUrl: c.redisUrl, readFrom: c.readFrom, tls: c.tls, timeoutMs: c.timeoutMs, maxValueBytes: 1024 * 1024 });
    const sampled = config.families.map((f) => `${f.name} ${live.sampled.get(f.name) ?? '(lists no field to look for)'}`).join(', ');
    process.stdout.write(`${summary}; checked against the live sources; cached values sampled: ${sampled}\n`);
    for (const warning of live.warnings) process.stdout.write(`${formatWarning(config, warning)}\n`);
    for (const role of live.roles) process.stdout.write(`warning: ${role}\n`);
  });
}

/** A warning at the rules-file line of the field it is about (the family's entry otherwise). */
function formatWarning(config: RulesConfig, warning: RunWarning): string {
  const rule = config.families.find((f) => f.name === warning.family);
  const field = warning.field;
  const index = field === undefined ? -1 : (rule?.fields?.indexOf(field) ?? -1);
  const normalized = field !== undefined && rule !== undefined && Object.hasOwn(rule.normalize, field);
  const path = index >= 0 ? ['fields', index] : normalized && field !== undefined ? ['normalize', field] : [];
  const where = config.locate?.(warning.family, path, normalized && index < 0 ? 'key' : 'value') ?? { file: config.file, family: warning.family };
  return formatRulesProblem({ ...where, message: `warning: ${warning.message}` });
}
