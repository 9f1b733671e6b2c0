import { CommanderError } from 'commander';
import { ExitCode, isKnownError } from '../errors.js';

const REPORT_BUGS = 'This is a bug in shadowcheck. Please report it with the command you ran and the output above.';

/**
 * Prints an error the way a user at 3 a.m. needs it: a known error as one clear message and its
 * documented exit code; an unknown one as a bug, with its stack, exit 70. Returns the exit code.
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (isKnownError(error)) {
    stderr.write(`shadowcheck: ${error.message}\n`);
    if (error.hint !== undefined) stderr.write(`  hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  stderr.write(`shadowcheck: internal error: ${detail}\n${REPORT_BUGS}\n`);
  return ExitCode.bug;
}
