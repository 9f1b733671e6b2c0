import type { AuditProgress } from '../audit/log.js';

/** The documented exit codes of an interrupted run (128 + the signal's number, as shells report it). */
export const INTERRUPTED_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

export interface InterruptPhase {
  /** Marks the work as started (something to report); until then a signal ends the process at once. */
  begin(): void;
}

/**
 * Runs `work` with an AbortSignal raised by the first SIGINT/SIGTERM, so the audit stops after the
 * batches in flight and still prints its partial report. A second signal exits at once, and so
 * does the first one while the work has not begun: connecting to a frozen Redis or a silent
 * listener may take until its deadline, there is no report to wait for, and an operator (or a
 * Kubernetes Job being stopped) must not be ignored meanwhile.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal, phase: InterruptPhase) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let begun = false;
  const onSignal = (name: NodeJS.Signals) => {
    const code = name === 'SIGINT' ? INTERRUPTED_EXIT.SIGINT : INTERRUPTED_EXIT.SIGTERM;
    if (controller.signal.aborted) process.exit(code);
    if (!begun) {
      process.stderr.write(`\nshadowcheck: ${name}: stopped while connecting, before any key was read; no report\n`);
      process.exit(code);
    }
    process.stderr.write(`\nshadowcheck: ${name}: finishing the batches in flight, then printing the partial report\n`);
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal, { begin: () => (begun = true) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The audit's progress, reporting its start (the audit calls it once connected and checked) to `phase`. */
export function beginOnStart(progress: AuditProgress, phase: InterruptPhase): AuditProgress {
  return {
    start(estimatedKeys) {
      phase.begin();
      progress.start(estimatedKeys);
    },
    tick: (finding) => progress.tick(finding),
    stop: () => progress.stop(),
  };
}
