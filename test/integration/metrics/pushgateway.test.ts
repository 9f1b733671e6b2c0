/**
 * The metrics sink against a real Pushgateway (the Debian `prometheus-pushgateway` binary), started
 * on a free loopback port with persistence off, so nothing outlives the test and a system service on
 * :9091 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsPushError, MetricsRecorder } from '../../../src/metrics/index.js';
import { parseExposition, series, valueOf, type Exposition } from '../../unit/metrics/exposition.js';
import { FIXTURE_UNMATCHED, KEY_PREFIXES, fixtureFindings, fixtureRun } from '../../unit/metrics/fixture.js';

const BINARY = 'prometheus-pushgateway';
const INSTALL_HINT =
  `${BINARY} not found on PATH or in /usr/bin: these tests need the real Pushgateway. ` +
  'Install it with `apt-get update && apt-get install -y prometheus-pushgateway` (Debian/Ubuntu; .ci/run does this), ' +
  'or point PUSHGATEWAY_BIN at a pushgateway binary.';

const PASSWORD = 'gw-s3cret-pw';
const JOB = 'shadowcheck-it';
const INSTANCE = 'it-host';

interface RunningGateway {
  process: ChildProcess;
  port: number;
  baseUrl: string;
  stderr: () => string;
}

let gateway: RunningGateway | undefined;

async function findBinary(): Promise<string> {
  const fromEnv = process.env['PUSHGATEWAY_BIN'];
  const candidates =
    fromEnv !== undefined && fromEnv !== ''
      ? [fromEnv]
      : [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, BINARY)), join('/usr/bin', BINARY)];
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next.
    }
  }
  throw new Error(fromEnv !== undefined && fromEnv !== '' ? `PUSHGATEWAY_BIN=${fromEnv} is not an executable file. ${INSTALL_HINT}` : INSTALL_HINT);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

async function startGateway(binary: string): Promise<RunningGateway> {
  const port = await freePort();
  // --persistence.file= (empty): metrics live in memory only.
  const child = spawn(binary, [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${binary} exited before answering on ${baseUrl}:\n${stderr}`);
    try {
      const res = await fetch(`${baseUrl}/-/ready`);
      if (res.ok) return { process: child, port, baseUrl, stderr: () => stderr };
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${binary} did not answer on ${baseUrl} within 20 s:\n${stderr}`);
}

async function stopGateway(g: RunningGateway): Promise<void> {
  if (g.process.exitCode !== null || g.process.signalCode !== null) return;
  const exited = new Promise((resolve) => g.process.once('exit', resolve));
  g.process.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    g.process.kill('SIGKILL');
    await exited;
  }
}

function running(): RunningGateway {
  if (gateway === undefined) throw new Error('the Pushgateway did not start (see beforeAll)');
  return gateway;
}

/** The push URL, with credentials the Pushgateway ignores (no web config) but that must never leak. */
function pushUrl(port = running().port): string {
  return `http://shadowcheck:${PASSWORD}@127.0.0.1:${port}`;
}

async function scrape(): Promise<{ text: string; exp: Exposition }> {
  const res = await fetch(`${running().baseUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, exp: parseExposition(text) };
}

async function pushFixture(labels: Record<string, string>, families?: readonly string[]): Promise<void> {
  const recorder = new MetricsRecorder({ url: pushUrl(), job: JOB, instance: INSTANCE, labels, timeoutMs: 5_000 });
  const findings = fixtureFindings().filter((f) => families === undefined || families.includes(f.family));
  for (const f of findings) recorder.observe(f);
  await recorder.push(fixtureRun(findings));
}

beforeAll(async () => {
  // A missing binary fails every test here with the install hint; it never skips silently.
  gateway = await startGateway(await findBinary());
});

afterAll(async () => {
  if (gateway !== undefined) await stopGateway(gateway);
});

describe('pushing a run to a real Pushgateway', () => {
  it('exposes the run under job, instance and the extra labels, with the expected values', async () => {
    await pushFixture({ env: 'ci' });
    const { exp } = await scrape();
    const group = { job: JOB, instance: INSTANCE, env: 'ci' };

    const ours = exp.samples.filter((s) => s.name.startsWith('shadowcheck_') && s.labels['env'] === 'ci');
    expect(ours.length).toBeGreaterThan(0);
    for (const s of ours) expect(s.labels).toMatchObject(group);

    const user = { ...group, family: 'user-profile' };
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'match', reason: '' })).toBe(6);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'divergent', reason: 'stale-repopulated' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_keys', { ...user, verdict: 'divergent', reason: 'orphan' })).toBe(0);
    expect(valueOf(exp, 'shadowcheck_consistency_ratio', user)).toBeCloseTo(7 / 9, 12);
    expect(valueOf(exp, 'shadowcheck_strict_consistency_ratio', user)).toBeCloseTo(6 / 9, 12);
    // prom-client writes NaN as "Nan"; the Pushgateway must still take it as NaN.
    expect(valueOf(exp, 'shadowcheck_consistency_ratio', { ...group, family: 'session' })).toBeNaN();
    expect(valueOf(exp, 'shadowcheck_run_consistency_ratio', group)).toBeCloseTo(0.7, 12);
    expect(valueOf(exp, 'shadowcheck_stale_age_seconds', { ...user, quantile: '1' })).toBeCloseTo(4000, 0);
    expect(valueOf(exp, 'shadowcheck_unmatched_keys', group)).toBe(FIXTURE_UNMATCHED);
    expect(valueOf(exp, 'shadowcheck_run_duration_seconds', group)).toBe(12.345);
    expect(valueOf(exp, 'shadowcheck_last_run_timestamp_seconds', group)).toBe(Date.parse('2026-01-02T03:04:05.000Z') / 1000 + 12.345);
    expect(valueOf(exp, 'shadowcheck_run_incomplete', group)).toBe(0);
    expect(valueOf(exp, 'shadowcheck_gate_passed', group)).toBe(0);
    expect(valueOf(exp, 'shadowcheck_build_info', { ...group, version: '0.1.0-test' })).toBe(1);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_count', user)).toBe(3);
    expect(valueOf(exp, 'shadowcheck_stale_age_histogram_seconds_bucket', { ...user, le: '120' })).toBe(2);
    expect(valueOf(exp, 'shadowcheck_version_lag_count', user)).toBe(5);
    expect(valueOf(exp, 'shadowcheck_version_lag_bucket', { ...user, le: '0' })).toBe(2);
    expect(exp.types.get('shadowcheck_keys')).toBe('gauge');
    expect(exp.types.get('shadowcheck_stale_age_histogram_seconds')).toBe('histogram');
    // The Pushgateway's own record of the push, for "last pushed" alerts.
    expect(valueOf(exp, 'push_time_seconds', group)).toBeGreaterThan(0);
    expect(valueOf(exp, 'push_failure_time_seconds', group)).toBe(0);
  });

  it('never exposes a key name or the URL password', async () => {
    await pushFixture({ env: 'ci' });
    const { text } = await scrape();
    for (const prefix of KEY_PREFIXES) expect(text).not.toContain(prefix);
    for (const f of fixtureFindings()) expect(text).not.toContain(f.key);
    expect(text).not.toContain(PASSWORD);
  });

  it('replaces the group on each push (PUT): a family the new run lacks is gone; other groups stay', async () => {
    await pushFixture({ env: 'staging' });
    await pushFixture({ env: 'ci' });
    await pushFixture({ env: 'ci' }, ['product']);
    const { exp } = await scrape();
    const ci = { job: JOB, instance: INSTANCE, env: 'ci' };
    expect(series(exp, 'shadowcheck_keys', { ...ci, family: 'user-profile' })).toHaveLength(0);
    expect(series(exp, 'shadowcheck_version_lag_count', { ...ci, family: 'user-profile' })).toHaveLength(0);
    expect(valueOf(exp, 'shadowcheck_keys', { ...ci, family: 'product', verdict: 'divergent', reason: 'cache-ahead' })).toBe(1);
    const staging = { job: JOB, instance: INSTANCE, env: 'staging' };
    expect(valueOf(exp, 'shadowcheck_keys', { ...staging, family: 'user-profile', verdict: 'match', reason: '' })).toBe(6);
  });

  it('fails with a typed error naming the redacted URL when nothing listens on the port', async () => {
    const closedPort = await freePort();
    const recorder = new MetricsRecorder({ url: pushUrl(closedPort), job: JOB, instance: INSTANCE, timeoutMs: 5_000 });
    const error: unknown = await recorder.push(fixtureRun()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MetricsPushError);
    const message = (error as MetricsPushError).message;
    expect(message).toContain(`http://shadowcheck:***@127.0.0.1:${closedPort}/`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain(PASSWORD);
  });
});
