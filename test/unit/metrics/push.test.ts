import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, ExitCode } from '../../../src/errors.js';
import { MetricsPushError, MetricsRecorder } from '../../../src/metrics/index.js';
import { fixtureFindings, fixtureRun } from './fixture.js';

/** A stand-in Pushgateway on a loopback port: records each request and answers with `handler`. */
interface FakeGateway {
  url: string;
  port: number;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
}

const PASSWORD = 'pu$h-s3cret';
let server: Server | undefined;

async function fakeGateway(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeGateway> {
  const requests: FakeGateway['requests'] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://shadow:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`, port, requests };
}

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s === undefined) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

async function pushError(recorder: MetricsRecorder): Promise<MetricsPushError> {
  const error: unknown = await recorder.push(fixtureRun()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MetricsPushError);
  return error as MetricsPushError;
}

describe('MetricsRecorder.push', () => {
  it('PUTs the exposition once to /metrics/job/<job>/instance/<instance>/<labels>, under the URL path, with basic auth', async () => {
    const gw = await fakeGateway((_req, res) => res.writeHead(200).end());
    const recorder = new MetricsRecorder({
      url: `${gw.url}/gw-prefix`,
      job: 'shadowcheck',
      instance: 'audit-host',
      labels: { env: 'prod', region: 'eu west' },
      timeoutMs: 5_000,
    });
    for (const f of fixtureFindings()) recorder.observe(f);
    await recorder.push(fixtureRun());
    expect(gw.requests).toHaveLength(1);
    const [request] = gw.requests;
    // PUT replaces the whole group: nothing from an earlier run lingers next to this one.
    expect(request?.method).toBe('PUT');
    expect(request?.path).toBe('/gw-prefix/metrics/job/shadowcheck/instance/audit-host/env/prod/region/eu%20west');
    expect(request?.authorization).toBe(`Basic ${Buffer.from(`shadow:${PASSWORD}`).toString('base64')}`);
    expect(request?.body).toContain('shadowcheck_keys{family="user-profile",verdict="match",reason=""} 6');
    expect(request?.body).not.toContain('user:');
  });

  it('fails on a non-2xx answer with the status, the body and the URL redacted', async () => {
    const gw = await fakeGateway((_req, res) => res.writeHead(500).end(`internal error; you sent password ${PASSWORD}`));
    const error = await pushError(new MetricsRecorder({ url: gw.url, job: 'shadowcheck', timeoutMs: 5_000 }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.exitCode).toBe(ExitCode.connection);
    expect(error.status).toBe(500);
    expect(error.message).toBe(
      `the Pushgateway at http://shadow:***@127.0.0.1:${gw.port}/ refused the metrics: HTTP 500: internal error; you sent password ***`,
    );
    expect(error.url).toBe(`http://shadow:***@127.0.0.1:${gw.port}/`);
    expect(JSON.stringify({ ...error, message: error.message, hint: error.hint })).not.toContain(PASSWORD);
  });

  it('fails on a redirect too: only a 2xx stored the metrics', async () => {
    const gw = await fakeGateway((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const error = await pushError(new MetricsRecorder({ url: gw.url, job: 'shadowcheck', timeoutMs: 5_000 }));
    expect(error.status).toBe(302);
    expect(error.message).toMatch(/refused the metrics: HTTP 302$/);
  });

  it('gives up after the timeout when the Pushgateway never answers', async () => {
    const gw = await fakeGateway(() => {
      // Never answers.
    });
    const started = Date.now();
    const error = await pushError(new MetricsRecorder({ url: gw.url, job: 'shadowcheck', timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toBe(`could not push metrics to the Pushgateway at http://shadow:***@127.0.0.1:${gw.port}/: no answer within 200 ms`);
  });

  it('fails with the redacted URL when nothing listens', async () => {
    const gw = await fakeGateway(() => {});
    const closed = gw.url;
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const error = await pushError(new MetricsRecorder({ url: closed, job: 'shadowcheck', timeoutMs: 5_000 }));
    expect(error.message).toBe(
      `could not push metrics to the Pushgateway at http://shadow:***@127.0.0.1:${gw.port}/: connect ECONNREFUSED 127.0.0.1:${gw.port}`,
    );
    expect(error.message).not.toContain(PASSWORD);
    expect(error.status).toBeUndefined();
  });
});
