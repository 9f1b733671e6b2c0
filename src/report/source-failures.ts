import { sourceFailureMessage } from '../core/gate.js';
import type { RunSummary } from './types.js';

/**
 * The source failures the gate's failures do not already state, each as the gate words it: the
 * gate names every one it counted, so only those it was not asked to count (`--fail-on none`)
 * remain. Text formats print these beside the gate, so a failed batch is seen once, never twice.
 */
export function sourceFailuresBesideGate(run: RunSummary): string[] {
  const stated = new Set(run.gate.failures);
  return (run.sourceFailures ?? []).map(sourceFailureMessage).filter((message) => !stated.has(message));
}
