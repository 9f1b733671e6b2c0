import { CommanderError } from 'commander';
import { ExitCode, isKnownError } from '../errors.js';
import { redactSecrets } from '../util/redact-url.js';

const REPORT_BUGS = 'This is a bug in shadowcheck. Please report it with the command you ran and the output above.';

/**
 * Prints an error the way a user at 3 a.m. needs it: a known error as one clear message and its
 * documented exit code; an unknown one as a bug, with its stack, exit 70. Returns the exit code.
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr, secretUrls: readonly string[] = []): number {
  // A second line of defence: whatever a message quotes of a URL given on the command line (a
  // parser's complaint about its host part, say), that URL's password is masked here too.
  const scrub = (text: string): string => scrubUrls(text, secretUrls);
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (isKnownError(error)) {
    stderr.write(`shadowcheck: ${scrub(error.message)}\n`);
    if (error.hint !== undefined) stderr.write(`  hint: ${scrub(error.hint)}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  stderr.write(`shadowcheck: internal error: ${scrub(detail)}\n${REPORT_BUGS}\n`);
  return ExitCode.bug;
}

/** `text` with the password of each URL masked (see redactSecrets), and any other `scheme://user:pw@`. */
export function scrubUrls(text: string, urls: readonly string[]): string {
  let out = text;
  for (const url of urls) out = redactSecrets(out, url);
  return urls.length === 0 ? redactSecrets(out, undefined) : out;
}

/** The flags whose values are connection URLs, and the environment variable --redis defaults to. */
const URL_FLAGS = ['--redis', '--source', '--pushgateway'];

/** Every URL the command line (or SHADOWCHECK_REDIS_URL) gives, as `--flag value` or `--flag=value`. */
export function urlsIn(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const urls: string[] = [];
  argv.forEach((arg, i) => {
    for (const flag of URL_FLAGS) {
      if (arg === flag && argv[i + 1] !== undefined) urls.push(argv[i + 1] ?? '');
      else if (arg.startsWith(`${flag}=`)) urls.push(arg.slice(flag.length + 1));
    }
  });
  const fromEnv = env['SHADOWCHECK_REDIS_URL'];
  if (fromEnv !== undefined && fromEnv !== '') urls.push(fromEnv);
  // `--source NAME=URL`: the URL part is what holds the password.
  return urls.map((u) => (/^[^:/=]+=/.test(u) ? u.slice(u.indexOf('=') + 1) : u));
}
