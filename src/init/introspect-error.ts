import type { SourceSpec } from '../config/types.js';
import { ConnectionError } from '../errors.js';
import { describeFailure } from '../sources/errors.js';
import { redactUrl } from '../util/redact-url.js';

/**
 * Reading a source's catalog failed after connecting (a timeout, a lost connection, no privilege).
 * `hint` is the kind's (its descriptor's `introspection.failureHint`): which catalogs it reads.
 */
export function introspectionFailed(spec: SourceSpec, error: unknown, hint: string): ConnectionError {
  const where = spec.url === undefined ? `source "${spec.name}"` : `source "${spec.name}" (${redactUrl(spec.url)})`;
  return new ConnectionError(`cannot read the schema of ${where}: ${describeFailure(error)}`, {
    hint,
    cause: error,
  });
}
