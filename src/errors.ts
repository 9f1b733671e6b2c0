/**
 * Known errors carry a user-facing message and the documented exit code.
 * Anything else that reaches the top level is a bug (exit 70).
 */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  usage: 2,
  connection: 3,
  tooManyErrors: 4,
  bug: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class ShadowcheckError extends Error {
  readonly exitCode: ExitCode;
  /** One line telling the user what to do about it, printed after the message. */
  readonly hint: string | undefined;

  constructor(message: string, exitCode: ExitCode, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Bad flags or flag combinations. */
export class UsageError extends ShadowcheckError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.usage, options);
  }
}

/** Where in a rules file a problem sits. Line and column are 1-based. */
export interface RulesLocation {
  file: string;
  line?: number;
  column?: number;
  family?: string;
}

export interface RulesProblem extends RulesLocation {
  /** What is wrong and what was expected, as a sentence a user can act on. */
  message: string;
}

export function formatRulesProblem(p: RulesProblem): string {
  const where = [p.file, p.line, p.column].filter((part) => part !== undefined).join(':');
  const family = p.family === undefined ? '' : ` (family "${p.family}")`;
  return `${where}${family}: ${p.message}`;
}

/** A rules file that cannot be used. Carries every problem found, not just the first. */
export class RulesError extends ShadowcheckError {
  readonly problems: readonly RulesProblem[];

  constructor(problems: readonly RulesProblem[], options: { cause?: unknown } = {}) {
    const first = problems[0];
    const message =
      problems.length === 1 && first !== undefined
        ? formatRulesProblem(first)
        : `${problems.length} problems in the rules file:\n${problems.map((p) => `  ${formatRulesProblem(p)}`).join('\n')}`;
    super(message, ExitCode.usage, options);
    this.problems = problems;
  }
}

/** Redis or a database could not be reached, or the audit lost a connection. */
export class ConnectionError extends ShadowcheckError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.connection, options);
  }
}

export function isKnownError(error: unknown): error is ShadowcheckError {
  return error instanceof ShadowcheckError;
}
