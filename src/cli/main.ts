import { Command } from 'commander';
import { reportError, scrubUrls, urlsIn } from './errors.js';
import { VERSION } from '../version.js';

type Register = (program: Command) => void;

/**
 * The commands, in help order, each loaded only when needed: a command's module pulls in the
 * drivers and parsers it uses (ioredis, pg, mysql2, the SQL parsers), so `--version` and one
 * command's run load nothing of the others.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  audit: async () => (await import('./audit.js')).registerAuditCommand,
  explain: async () => (await import('./explain.js')).registerExplainCommand,
  rules: async () => (await import('./rules.js')).registerRulesCommand,
  demo: async () => (await import('./demo.js')).registerDemoCommand,
  merge: async () => (await import('./merge.js')).registerMergeCommand,
  init: async () => (await import('./init.js')).registerInitCommand,
};

/**
 * Which commands to register for these arguments: the named one alone; none for a bare
 * `--version`; all of them otherwise (help, a mistyped command), so help and suggestions list every one.
 */
export function commandsFor(args: readonly string[]): readonly string[] {
  const first = args.find((arg) => !arg.startsWith('-'));
  if (first !== undefined && first in COMMANDS) return [first];
  if (first === undefined && args.length > 0 && args.every((arg) => arg === '--version' || arg === '-V')) return [];
  return Object.keys(COMMANDS);
}

export async function buildProgram(secretUrls: readonly string[] = [], commands: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = new Command('shadowcheck')
    // Commander quotes a rejected argument as typed: a URL's password must not reach the terminal.
    .configureOutput({ writeErr: (text) => process.stderr.write(scrubUrls(text, secretUrls)) })
    .description('Audit a Redis cache against its source-of-truth database by shadow reads.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const registers = await Promise.all(commands.map((name) => (COMMANDS[name] as () => Promise<Register>)()));
  for (const register of registers) register(program);
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
    const program = await buildProgram(secretUrls, commandsFor(argv.slice(2)));
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error, process.stderr, secretUrls);
  }
}
