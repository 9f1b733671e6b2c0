import type { Command } from 'commander';
import { loadRulesFile } from '../config/load.js';

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('work with rules files');
  rules
    .command('validate')
    .description('check a rules file against the schema and the semantic checks; exits 0 or 2')
    .argument('<file>', 'the rules file (YAML)')
    .action(async (file: string) => {
      const config = await loadRulesFile(file);
      const families = config.families.map((f) => f.name).join(', ');
      const sources = Object.keys(config.sources).length;
      process.stdout.write(
        `${file}: OK: ${config.families.length} ${config.families.length === 1 ? 'family' : 'families'} (${families}), ` +
          `${sources} ${sources === 1 ? 'source' : 'sources'}\n`,
      );
    });
}
