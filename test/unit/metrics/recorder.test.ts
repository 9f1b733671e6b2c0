import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { REASONS } from '../../../src/core/verdict.js';
import { MetricsRecorder } from '../../../src/metrics/index.js';
import { STALE_AGE_BUCKETS_SECONDS, VERSION_LAG_BUCKETS } from '../../../src/metrics/metric-set.js';
import { parseExposition, series, valueOf, type Exposition } from './exposition.js';
import { FIXTURE_UNMATCHED, KEY_PREFIXES, fixtureFindings, fixtureRun } from './fixture.js';

const OPTIONS = { url: 'http://127.0.0.1:9/', job: 'shadowcheck', instance: 'audit-host' };

async function render(findings = fixtureFindings(), run = fixtureRun(findings)): Promise<{ text: string; exp: Exposition }> {
  const recorder = new MetricsRecorder(OPTIONS);
  for (const f of findings) recorder.observe(f);
  const text = await recorder.render(run);
  return { text, exp: parseExposition(text) };
}

describe('MetricsRecorder: gauges from the run summary', () => {
  it('counts keys per family, verdict and reason, match with an empty reason', async () => {
    const { exp } = await render();
    const user = { family: 'user-profile' };
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'match', reason: '' })).toBe(6);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'within-ttl', reason: 'ttl-bounded' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'divergent', reason: 'stale-repopulated' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'error', reason: 'undecodable' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'skipped', reason: 'vanished' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_keys', { family: 'product', verdict: 'divergent', reason: 'cache-ahead' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_keys', { family: 'session', verdict: 'skipped', reason: 'wrong-type' })).toBe(1);
  });

  it('pushes every verdict/reason pair per family, zeros included, and nothing else', async () => {
    const { exp } = await render();
    for (const family of ['user-profile', 'product', 'session']) {
      const keys = series(exp, 'shadowcheck_keys', { family });
      // 17 reasons plus match: a fixed set, so no series comes and goes between runs.
      expect(keys).toHaveLength(REASONS.length + 1);
      expect(new Set(keys.map((s) => s.labels['reason'] ?? ''))).toEqual(new Set(['', ...REASONS]));
    }
    expect(valueOf(exp, 'shadowcheck_keys', { family: 'user-profile', verdict: 'divergent', reason: 'orphan' })).toBe(0);
    const sum = series(exp, 'shadowcheck_keys').reduce((n, s) => n + s.value, 0);
    expect(sum).toBe(fixtureRun().summary.sampled);
  });

  it('gives consistency per family and for the run, NaN where nothing was judged', async () => {
    const { exp } = await render();
    // user-profile: 6 match + 1 within-ttl of 9 judged (error and skipped are not judged).
    expect(valueOf(exp, 'shadowcheck_consistency_ratio', { family: 'user-profile' })).toBeCloseTo(7 / 9, 12);
    expect(valueOf(exp, 'shadowcheck_strict_consistency_ratio', { family: 'user-profile' })).toBeCloseTo(6 / 9, 12);
    expect(valueOf(exp, 'shadowcheck_consistency_ratio', { family: 'product' })).toBe(0);
    expect(valueOf(exp, 'shadowcheck_consistency_ratio', { family: 'session' })).toBeNaN();
    expect(valueOf(exp, 'shadowcheck_strict_consistency_ratio', { family: 'session' })).toBeNaN();
    // The run: 7 of 10 judged; a run-level metric without a family label, so sum() by family stays honest.
    expect(valueOf(exp, 'shadowcheck_run_consistency_ratio')).toBeCloseTo(7 / 10, 12);
    expect(valueOf(exp, 'shadowcheck_run_strict_consistency_ratio')).toBeCloseTo(6 / 10, 12);
    expect(series(exp, 'shadowcheck_consistency_ratio', { family: '_total' })).toHaveLength(0);
  });

  it('gives stale-age p50, p99 and max in seconds as quantiles 0.5, 0.99 and 1', async () => {
    const run = fixtureRun();
    const { exp } = await render(fixtureFindings(), run);
    const ages = run.families.find((f) => f.name === 'user-profile')?.staleAgeMs;
    expect(ages?.max).not.toBeNull();
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { family: 'user-profile', quantile: '0.5' })).toBe((ages?.p50 ?? 0) / 1000);
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { family: 'user-profile', quantile: '0.99' })).toBe((ages?.p99 ?? 0) / 1000);
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { family: 'user-profile', quantile: '1' })).toBe((ages?.max ?? 0) / 1000);
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { family: 'user-profile', quantile: '1' })).toBeCloseTo(4000, 0);
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { family: 'product', quantile: '0.5' })).toBeNaN();
    expect(valueOf(exp, 'shadowcheck_run_stale_age_seconds', { quantile: '1' })).toBe((run.summary.staleAgeMs.max ?? 0) / 1000);
  });

  it('carries the run-level figures: unmatched, timestamp, duration, incomplete, gate, version', async () => {
    const { exp } = await render();
    expect(valueOf(exp, 'shadowcheck_unmatched_keys')).toBe(FIXTURE_UNMATCHED);
    // The run ended at startedAt + durationMs.
    expect(valueOf(exp, 'shadowcheck_last_run_timestamp_seconds')).toBe(Date.parse('2026-01-02T03:04:05.000Z') / 1000 + 12.345);
    expect(valueOf(exp, 'shadowcheck_run_duration_seconds')).toBe(12.345);
    expect(valueOf(exp, 'shadowcheck_run_incomplete')).toBe(0);
    expect(valueOf(exp, 'shadowcheck_gate_passed')).toBe(0);
    expect(valueOf(exp, 'shadowcheck_build_info', { version: '0.1.0-test' })).toBe(1);

    const passed = fixtureRun(fixtureFindings(), { gate: { passed: true, failures: [] }, incomplete: true, abortReason: 'SIGINT' });
    const second = await render(fixtureFindings(), passed);
    expect(valueOf(second.exp, 'shadowcheck_run_incomplete')).toBe(1);
    expect(valueOf(second.exp, 'shadowcheck_gate_passed')).toBe(1);
  });

  it('declares each metric with its Prometheus type, in base units', async () => {
    const { exp } = await render();
    expect(Object.fromEntries(exp.types)).toEqual({
      shadowcheck_keys: 'gauge',
      shadowcheck_unmatched_keys: 'gauge',
      shadowcheck_consistency_ratio: 'gauge',
      shadowcheck_strict_consistency_ratio: 'gauge',
      shadowcheck_run_consistency_ratio: 'gauge',
      shadowcheck_run_strict_consistency_ratio: 'gauge',
      shadowcheck_stale_age_seconds: 'gauge',
      shadowcheck_run_stale_age_seconds: 'gauge',
      shadowcheck_stale_age_histogram_seconds: 'histogram',
      shadowcheck_version_lag: 'histogram',
      shadowcheck_last_run_timestamp_seconds: 'gauge',
      shadowcheck_run_duration_seconds: 'gauge',
      shadowcheck_run_incomplete: 'gauge',
      shadowcheck_gate_passed: 'gauge',
      shadowcheck_warnings: 'gauge',
      shadowcheck_systematic_difference: 'gauge',
      shadowcheck_build_info: 'gauge',
    });
  });

  it('replaces the previous figures when rendered again: a family no longer reported is gone', async () => {
    const recorder = new MetricsRecorder(OPTIONS);
    await recorder.render(fixtureRun());
    const onlyProduct = fixtureFindings().filter((f) => f.family === 'product');
    const exp = parseExposition(await recorder.render(fixtureRun(onlyProduct)));
    expect(series(exp, 'shadowcheck_keys', { family: 'user-profile' })).toHaveLength(0);
    expect(series(exp, 'shadowcheck_consistency_ratio', { family: 'user-profile' })).toHaveLength(0);
    expect(series(exp, 'shadowcheck_keys', { family: 'product' })).toHaveLength(REASONS.length + 1);
  });
});

describe('MetricsRecorder: histograms fed per finding', () => {
  it('records stale ages in seconds into the per-family histogram', async () => {
    const { exp } = await render();
    const user = { family: 'user-profile' };
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_count', user)).toBe(3);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_sum', user)).toBe(30 + 95 + 4000);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '30' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '120' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '3600' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '7200' })).toBe(3);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '+Inf' })).toBe(3);
    const les = series(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', user).map((s) => s.labels['le']);
    expect(les).toEqual([...STALE_AGE_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(STALE_AGE_BUCKETS_SECONDS[0]).toBe(1);
    expect(STALE_AGE_BUCKETS_SECONDS.at(-1)).toBe(86_400);
  });

  it('records version lag when both versions are numeric, 0 for agreeing versions, never for cache-ahead', async () => {
    const { exp } = await render();
    const user = { family: 'user-profile' };
    // Lags: 0 (5/5), 0 ('12'/12n), 1 (4/5), 7 ('3'/'10'), 250 (two LSNs above 2^53).
    expect(valueOf(exp, 'shadowcheck_version_lag_count', user)).toBe(5);
    expect(valueOf(exp, 'shadowcheck_version_lag_sum', user)).toBe(258);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '0' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '1' })).toBe(3);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '10' })).toBe(4);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '200' })).toBe(4);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '500' })).toBe(5);
    expect(series(exp, 'shadowcheck_version_lag_bucket', user).map((s) => s.labels['le'])).toEqual([
      ...VERSION_LAG_BUCKETS.map(String),
      '+Inf',
    ]);
    // product's only versioned key is cache-ahead (9 > 8): not a lag.
    expect(valueOf(exp, 'shadowcheck_version_lag_count', { family: 'product' })).toBe(0);
  });

  it('shows zeroed histograms for a family with nothing to observe', async () => {
    const { exp } = await render();
    const session = { family: 'session' };
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_count', session)).toBe(0);
    expect(valueOf(exp, 'shadowcheck_version_lag_count', session)).toBe(0);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...session, le: '+Inf' })).toBe(0);
  });
});

describe('MetricsRecorder: what the labels may carry', () => {
  it('never puts a key name in a label or anywhere in the text', async () => {
    const { text, exp } = await render();
    for (const prefix of KEY_PREFIXES) expect(text).not.toContain(prefix);
    for (const f of fixtureFindings()) expect(text).not.toContain(f.key);
    const labelNames = new Set(exp.samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['family', 'kind', 'le', 'quantile', 'reason', 'verdict', 'version']);
    // No grouping labels in the body: the Pushgateway takes those from the URL.
    expect(text).not.toContain('audit-host');
  });

  it("uses a private registry: prom-client's global one stays empty, no process metrics", async () => {
    const { text } = await render();
    expect(text).not.toMatch(/^process_|^nodejs_/m);
    expect(globalRegistry.getMetricsAsArray()).toHaveLength(0);
    // Two recorders in one process do not collide on metric names.
    await expect(render()).resolves.toBeDefined();
  });
});

describe('MetricsRecorder: run warnings', () => {
  it('counts warnings per family and kind, zeros included, and flags each systematic field', async () => {
    const run = fixtureRun(fixtureFindings(), {
      warnings: [
        { kind: 'systematic', family: 'product', field: 'day', message: 'field `day` differs on 40/40 differing keys the same way' },
        { kind: 'rules', family: 'product', field: 'nmae', message: 'no sampled cache value holds `nmae`' },
      ],
    });
    const { exp, text } = await render(fixtureFindings(), run);
    expect(valueOf(exp, 'shadowcheck_warnings', { family: 'product', kind: 'systematic' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_warnings', { family: 'product', kind: 'rules' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_warnings', { family: 'user-profile', kind: 'systematic' })).toBe(0);
    expect(series(exp, 'shadowcheck_warnings')).toHaveLength(6);
    expect(valueOf(exp, 'shadowcheck_systematic_difference', { family: 'product', field: 'day' })).toBe(1);
    expect(series(exp, 'shadowcheck_systematic_difference')).toHaveLength(1);
    // The message stays in the reports: labels carry names only.
    expect(text).not.toContain('40/40');
  });

  it('drops a previous run\'s systematic series when the next run has none', async () => {
    const recorder = new MetricsRecorder(OPTIONS);
    const warned = fixtureRun(fixtureFindings(), { warnings: [{ kind: 'systematic', family: 'product', field: 'day', message: 'm' }] });
    await recorder.render(warned);
    const exp = parseExposition(await recorder.render(fixtureRun()));
    expect(series(exp, 'shadowcheck_systematic_difference')).toHaveLength(0);
    expect(valueOf(exp, 'shadowcheck_warnings', { family: 'product', kind: 'systematic' })).toBe(0);
  });
});
