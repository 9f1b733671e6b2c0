import { ConnectionError } from '../errors.js';

/**
 * The Pushgateway could not take the run's metrics (unreachable, timed out, or a non-2xx answer).
 * The message names the URL with its password redacted. A ConnectionError (exit 3) for a caller
 * that requires the push; one that does not prints it and keeps the audit's own exit code.
 */
export class MetricsPushError extends ConnectionError {
  /** The Pushgateway URL, password redacted. */
  readonly url: string;
  /** The HTTP status, when the Pushgateway answered. */
  readonly status: number | undefined;

  constructor(message: string, details: { url: string; status?: number; hint?: string }) {
    super(message, details.hint === undefined ? {} : { hint: details.hint });
    this.url = details.url;
    this.status = details.status;
  }
}
