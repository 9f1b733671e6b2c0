import { ExitCode, ShadowcheckError } from '../errors.js';
import { OutputError, openOutput, type OutputPlan } from '../util/output-file.js';

/** Where the report goes: stdout, or the --output file through the one output writer (util/output-file.ts). */
export interface ReportOutput {
  out: NodeJS.WritableStream;
  /** A failed write as the error the user sees: exit 3, naming where the report was going. */
  wrapError(error: unknown): ShadowcheckError;
  /** Puts the report in place (atomically for a regular file); nothing to do for stdout. */
  commit(): Promise<void>;
  /** After a failure, drops a half-written temporary file. Never throws. */
  discard(): Promise<void>;
}

/**
 * Opens the report's destination. Audit and merge both write through it, so a write that fails
 * (full disk, closed pipe) ends either with the same message and exit 3, never as a crash.
 */
export async function openReportOutput(plan: OutputPlan | undefined, stdout: NodeJS.WritableStream = process.stdout): Promise<ReportOutput> {
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  if (plan === undefined) {
    return {
      out: stdout,
      wrapError: (error) =>
        error instanceof ShadowcheckError ? error : new ShadowcheckError(`cannot write the report to stdout: ${message(error)}`, ExitCode.connection, { cause: error }),
      commit: async () => {},
      discard: async () => {},
    };
  }
  const sink = await openOutput(plan);
  return {
    out: sink.out,
    wrapError: (error) =>
      error instanceof ShadowcheckError ? error : new OutputError(`cannot write the report to ${plan.flag} "${plan.file}": ${message(error)}`, { cause: error }),
    commit: () => sink.commit(),
    discard: () => sink.discard(),
  };
}
