import { Command } from 'commander';
import { reportError, scrubUrls, urlsIn } from './errors.js';
import { registerAuditCommand } from './audit.js';
import { registerDemoCommand } from './demo.js';
import { registerExplainCommand } from './explain.js';
import { registerInitCommand } from './init.js';
import { registerMergeCommand } from './merge.js';
import { registerRulesCommand } from './rules.js';
import { VERSION } from '../version.js';

export function buildProgram(secretUrls: readonly string[] = []): Command {
  const program = new Command('shadowcheck')
    // Commander quotes a rejected argument as typed: a URL's password must not reach the terminal.
    .configureOutput({ writeErr: (text) => process.stderr.write(scrubUrls(text, secretUrls)) })
    .description('Audit a Redis cache against its source-of-truth database by shadow reads.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerAuditCommand(program);
  registerExplainCommand(program);
  registerRulesCommand(program);
  registerDemoCommand(program);
  registerMergeCommand(program);
  registerInitCommand(program);
  // Subcommands inherit exitOverride only when set before they are added, so set it on each.
  for (const command of program.commands) {
    command.exitOverride().configureOutput(program.configureOutput());
    for (const sub of command.commands) sub.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
}

/** Runs the CLI. Sets process.exitCode rather than exiting, so piped stdout is never cut off. */
export async function main(argv: readonly string[]): Promise<void> {
  // `shadowcheck ... | head`: once the reader is gone there is nobody to report to. End quietly,
  // with the shell's SIGPIPE status, since the report (and the gate) never finished.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(141);
  });
  const secretUrls = urlsIn(argv);
  try {
    await buildProgram(secretUrls).parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error, process.stderr, secretUrls);
  }
}
