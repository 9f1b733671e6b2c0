import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/errors.js';
import { MetricsRecorder, parseGroupingLabels, validateGroupingLabels } from '../../../src/metrics/index.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseGroupingLabels', () => {
  it('parses NAME=VALUE specs; the value is everything after the first =', () => {
    expect(parseGroupingLabels(['env=prod', 'region=eu-west-1', 'query=a=b'])).toEqual({
      env: 'prod',
      region: 'eu-west-1',
      query: 'a=b',
    });
    expect(parseGroupingLabels([])).toEqual({});
  });

  it('refuses a spec without a name or an =', () => {
    expect(usageError(() => parseGroupingLabels(['env'])).message).toMatch(/"env" is not of the form NAME=VALUE/);
    expect(usageError(() => parseGroupingLabels(['=prod'])).message).toMatch(/NAME=VALUE/);
  });

  it('refuses the same name twice', () => {
    expect(usageError(() => parseGroupingLabels(['env=a', 'env=b'])).message).toMatch(/"env" is given more than once/);
  });
});

describe('validateGroupingLabels', () => {
  it('accepts names matching the Prometheus label-name grammar', () => {
    expect(() => validateGroupingLabels({ env: 'prod', _team: 'cache', Region2: 'x' })).not.toThrow();
  });

  it.each(['2env', 'env-name', 'env.name', 'ü', ''])('refuses the label name %j', (name) => {
    expect(usageError(() => validateGroupingLabels({ [name]: 'x' })).message).toMatch(/not a valid Prometheus label name/);
  });

  it('refuses reserved __ names', () => {
    expect(usageError(() => validateGroupingLabels({ __name__: 'x' })).message).toMatch(/reserved/);
  });

  it('refuses job and instance: they are set by their own options', () => {
    const job = usageError(() => validateGroupingLabels({ job: 'other' }));
    expect(job.message).toMatch(/cannot set "job"/);
    expect(job.hint).toMatch(/--job/);
    expect(usageError(() => validateGroupingLabels({ instance: 'h' })).message).toMatch(/cannot set "instance"/);
  });

  it.each(['family', 'verdict', 'reason', 'quantile', 'le', 'version', 'kind', 'field'])(
    'refuses %s, which the pushed series carry (the grouping value would silently overwrite it)',
    (name) => {
      expect(usageError(() => validateGroupingLabels({ [name]: 'x' })).message).toMatch(/shadowcheck's own series/);
    },
  );

  it('refuses an empty value and a value with a slash', () => {
    expect(usageError(() => validateGroupingLabels({ env: '' })).message).toMatch(/must not be empty/);
    expect(usageError(() => validateGroupingLabels({ env: 'a/b' })).message).toMatch(/must not contain "\/"/);
  });
});

describe('MetricsRecorder options', () => {
  const base = { url: 'http://127.0.0.1:9091', job: 'shadowcheck' };

  it('defaults the instance to the host name and puts job, instance, labels in the grouping key', async () => {
    const { hostname } = await import('node:os');
    expect(new MetricsRecorder({ ...base, labels: { env: 'prod' } }).grouping).toEqual({
      job: 'shadowcheck',
      instance: hostname(),
      env: 'prod',
    });
    expect(new MetricsRecorder({ ...base, instance: 'worker-3' }).grouping).toEqual({ job: 'shadowcheck', instance: 'worker-3' });
  });

  it('refuses bad labels when built, before any audit work', () => {
    expect(usageError(() => new MetricsRecorder({ ...base, labels: { job: 'x' } })).message).toMatch(/"job"/);
  });

  it('refuses a job or instance that cannot be a URL path segment', () => {
    expect(usageError(() => new MetricsRecorder({ ...base, job: '' })).message).toMatch(/--job must not be empty/);
    expect(usageError(() => new MetricsRecorder({ ...base, job: 'a/b' })).message).toMatch(/--job "a\/b"/);
    expect(usageError(() => new MetricsRecorder({ ...base, instance: '' })).message).toMatch(/instance/);
  });

  it('refuses a URL that is not http(s), with the password redacted', () => {
    const notUrl = usageError(() => new MetricsRecorder({ ...base, url: 'not a url :// u:hunter2@gw' }));
    expect(notUrl.message).toMatch(/is not a valid URL/);
    expect(notUrl.hint).toMatch(/percent-encode special characters in the password/);
    expect(notUrl.message).not.toContain('hunter2');
    const ftp = usageError(() => new MetricsRecorder({ ...base, url: 'ftp://u:hunter2@gw:21/' }));
    expect(ftp.message).toMatch(/must be an http:\/\/ or https:\/\/ URL, not a "ftp:" one/);
    expect(ftp.message).not.toContain('hunter2');
    // The usual slip: no scheme, so "gw" reads as one, and user:password sits in an opaque path.
    const noScheme = usageError(() => new MetricsRecorder({ ...base, url: 'gw:u:hunter2@host:9091' }));
    expect(noScheme.message).not.toContain('hunter2');
    expect(noScheme.hint).toMatch(/http:\/\/pushgateway:9091/);
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(usageError(() => new MetricsRecorder({ ...base, timeoutMs: 0 })).message).toMatch(/timeout/);
    expect(usageError(() => new MetricsRecorder({ ...base, timeoutMs: Number.NaN })).message).toMatch(/timeout/);
  });
});
