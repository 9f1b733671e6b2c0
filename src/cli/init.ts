import type { Command } from 'commander';
import { checkOutput, schemaPathFor, writeOutput } from '../init/output-file.js';
import { runInit } from '../init/run-init.js';
import { parseSourceArgs } from '../init/source-args.js';
import { addConnectionFlags, connectionFrom, type ConnectionFlags } from './connection-flags.js';
import { describeCommand } from './commands.js';

interface InitFlags extends ConnectionFlags {
  source: string[];
  output?: string;
  force?: boolean;
}

export function registerInitCommand(program: Command): void {
  addConnectionFlags(
    program
      .command('init')
      .description(describeCommand('init'))
      .option('--source <name=url>', 'a source database as NAME=URL: postgres://, postgresql://, mysql:// or mariadb:// (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
      .option('--output <file>', 'write the proposal to FILE instead of stdout (never over an existing file without --force)')
      .option('--force', 'let --output replace an existing file'),
  ).action(async (flags: InitFlags) => {
    const sources = parseSourceArgs(flags.source);
    if (flags.force === true && flags.output === undefined) process.stderr.write('shadowcheck: --force has no effect without --output\n');
    const output = flags.output === undefined ? undefined : await checkOutput(flags.output, flags.force === true);
    const connection = connectionFrom(flags);
    const result = await runInit({
      redisUrl: connection.redisUrl,
      sources,
      timeoutMs: connection.timeoutMs,
      readFrom: connection.readFrom,
      tls: connection.tls,
      schemaPath: schemaPathFor(flags.output),
      file: flags.output ?? '<stdout>',
      log: (line) => process.stderr.write(`init: ${line}\n`),
    });
    const summary = `${result.families.length} ${result.families.length === 1 ? 'family' : 'families'} (${result.families.map((f) => f.name).join(', ')}), validated`;
    if (output === undefined) {
      process.stdout.write(result.text);
      process.stderr.write(`init: proposed ${summary}; review every "guess" and "review" comment before use\n`);
    } else {
      await writeOutput(output, result.text, flags.force === true);
      process.stderr.write(`init: wrote ${output.file}: ${summary}; review every "guess" and "review" comment before use\n`);
    }
  });
}
