import { UsageError } from '../errors.js';

/** Prometheus' label-name grammar. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Label names the pushed series already carry. A grouping label is stamped onto every series of the
 * group, and the Pushgateway lets the grouping value silently overwrite a pushed one (tested against
 * 1.5: `{family="a"}` pushed under `/family/b` comes out as `family="b"`), so a clash would corrupt
 * the figures rather than fail.
 */
export const SERIES_LABEL_NAMES: readonly string[] = ['family', 'verdict', 'reason', 'quantile', 'le', 'version', 'kind', 'field'];

/** Set by their own options (`--job`, the instance), never through `--label`. */
const GROUPING_KEY_NAMES: readonly string[] = ['job', 'instance'];

/**
 * Parses `--label k=v` specs into grouping labels, validating each (see validateGroupingLabels).
 * The value is everything after the first `=`, so `k=a=b` is `{ k: 'a=b' }`.
 */
export function parseGroupingLabels(specs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`--label "${spec}" is not of the form NAME=VALUE`, { hint: 'for example: --label env=prod' });
    }
    const name = spec.slice(0, eq);
    if (Object.hasOwn(labels, name)) throw new UsageError(`--label "${name}" is given more than once`);
    labels[name] = spec.slice(eq + 1);
  }
  validateGroupingLabels(labels);
  return labels;
}

/** Throws a UsageError (exit 2) naming the first grouping label that cannot be pushed. */
export function validateGroupingLabels(labels: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name)) {
      throw new UsageError(`--label name "${name}" is not a valid Prometheus label name`, {
        hint: 'a label name is a letter or _ followed by letters, digits or _ (regex [a-zA-Z_][a-zA-Z0-9_]*)',
      });
    }
    if (name.startsWith('__')) {
      throw new UsageError(`--label name "${name}" is reserved: names starting with __ are Prometheus-internal`);
    }
    if (GROUPING_KEY_NAMES.includes(name)) {
      throw new UsageError(`--label cannot set "${name}": it is part of the grouping key shadowcheck sets itself`, {
        hint: name === 'job' ? 'use --job NAME' : 'the instance is this host\'s name unless the caller sets another',
      });
    }
    if (SERIES_LABEL_NAMES.includes(name)) {
      throw new UsageError(`--label cannot use the name "${name}": shadowcheck's own series carry a label of that name`, {
        hint: `choose another name; these are taken: ${SERIES_LABEL_NAMES.join(', ')}`,
      });
    }
    validateGroupingValue(`--label ${name}`, value);
  }
}

/**
 * A grouping value travels as a URL path segment. The Pushgateway splits the decoded path on `/`
 * (so `a%2Fb` is refused with 400), and an empty value is the same as no label in Prometheus.
 */
export function validateGroupingValue(what: string, value: string): void {
  if (value === '') throw new UsageError(`${what} must not be empty`);
  if (value.includes('/')) throw new UsageError(`${what} "${value}" must not contain "/" (the Pushgateway takes it from the URL path)`);
}
