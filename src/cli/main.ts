import { Command, Help } from 'commander';
import { COMMANDS, type CommandOutline } from './commands.js';
import { reportError, scrubUrls, urlsIn } from './errors.js';
import { VERSION } from '../version.js';

/**
 * Which commands to load for these arguments: the named one alone (`help NAME` names NAME), none
 * otherwise. Without a command (`--version`, `--help`, a bare or mistyped command) the program
 * lists every command from its outline, which is all help and commander's suggestions need.
 */
export function commandsFor(args: readonly string[]): readonly string[] {
  const operands = args.filter((arg) => !arg.startsWith('-'));
  const named = operands[0] === 'help' ? operands[1] : operands[0];
  return named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : [];
}

/** The program with `commands` loaded; with none, every command's outline. */
export async function buildProgram(secretUrls: readonly string[] = [], commands: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = new Command('shadowcheck')
    // Commander quotes a rejected argument as typed: a URL's password must not reach the terminal.
    .configureOutput({ writeErr: (text) => process.stderr.write(scrubUrls(text, secretUrls)) })
    .description('Audit a Redis cache against its source-of-truth database by shadow reads.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const registers = await Promise.all(commands.map((name) => (COMMANDS[name] as CommandOutline).load()));
  for (const register of registers) register(program);
  if (commands.length === 0) addOutlines(program);
  // Subcommands inherit exitOverride only when set before they are added, so set it on each.
  for (const command of program.commands) {
    command.exitOverride().configureOutput(program.configureOutput());
    for (const sub of command.commands) sub.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
}

/**
 * Every command as help lists it, none of them loaded. `commandsFor` loads the command that an
 * argument names, so an outline is registered only when no argument names one and never runs; if
 * it did, it fails rather than doing nothing.
 */
function addOutlines(program: Command): void {
  for (const [name, { description }] of Object.entries(COMMANDS)) {
    program
      .command(name)
      .description(description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new Error(`internal error: command "${name}" ran from its outline, without being loaded`);
      });
  }
  program.configureHelp({
    subcommandTerm: (command) => COMMANDS[command.name()]?.term ?? Help.prototype.subcommandTerm.call(new Help(), command),
  });
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
