import { Pushgateway, type Registry } from 'prom-client';
import { UsageError } from '../errors.js';
import { PERCENT_ENCODE_HINT, redactSecrets, redactUrl, urlProblem } from '../util/redact-url.js';
import { MetricsPushError } from './errors.js';

export interface PushTarget {
  /** Pushgateway base URL (http or https; a path prefix and user:password@ for basic auth are kept). */
  url: string;
  job: string;
  /** Grouping labels after `job`: `instance` first, then the user's `--label`s. */
  grouping: Record<string, string>;
  timeoutMs: number;
}

/** Longest piece of a Pushgateway error body quoted in a message. */
const MAX_BODY_CHARS = 500;

/** Refuses a URL the push could never use, before the audit spends minutes running. */
export function checkPushgatewayUrl(url: string): void {
  const problem = urlProblem(url);
  if (problem !== undefined) {
    throw new UsageError(`--pushgateway "${redactUrl(url)}" ${problem}`, { hint: `for example: --pushgateway http://pushgateway:9091; ${PERCENT_ENCODE_HINT}` });
  }
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    // Only the scheme is shown: an opaque URL ("host:port" read as scheme "host:") has no password
    // field for redactUrl to mask.
    throw new UsageError(`--pushgateway must be an http:// or https:// URL, not a "${parsed.protocol}" one`, {
      hint: 'for example: --pushgateway http://pushgateway:9091',
    });
  }
}

/**
 * PUTs the registry to `<url>/metrics/job/<job>/<grouping...>`, bounded by `timeoutMs` from the
 * request's start to the Pushgateway's answer. PUT (prom-client's `push`, not `pushAdd`) replaces
 * every series of the group: a family, reason or quantile that a run no longer reports does not
 * linger from an earlier run, so the group always shows exactly one run.
 */
export async function pushRegistry(registry: Registry, target: PushTarget): Promise<void> {
  const shown = redactUrl(target.url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), target.timeoutMs);
  // agent: false: a one-off connection, so no keep-alive socket outlives the push.
  const gateway = new Pushgateway(target.url, { agent: false, signal: controller.signal, timeout: target.timeoutMs }, registry);
  let status: number | undefined;
  try {
    const { resp } = await gateway.push({ jobName: target.job, groupings: target.grouping });
    status = statusOf(resp);
  } catch (error) {
    if (controller.signal.aborted) {
      throw new MetricsPushError(`could not push metrics to the Pushgateway at ${shown}: no answer within ${target.timeoutMs} ms`, {
        url: shown,
        hint: 'check that the Pushgateway is up and reachable from here',
      });
    }
    const refused = /^push failed with status (\d+), ?([\s\S]*)$/.exec(error instanceof Error ? error.message : '');
    if (refused !== null) {
      throw refusal(shown, Number(refused[1]), redactSecrets(refused[2] ?? '', target.url));
    }
    throw new MetricsPushError(`could not push metrics to the Pushgateway at ${shown}: ${redactSecrets(describe(error), target.url)}`, {
      url: shown,
      hint: 'check the --pushgateway URL and that the Pushgateway is up',
    });
  } finally {
    clearTimeout(timer);
  }
  // prom-client rejects only 4xx/5xx; a redirect or any other non-2xx did not store the metrics either.
  if (status === undefined || status < 200 || status > 299) throw refusal(shown, status, '');
}

function refusal(shown: string, status: number | undefined, body: string): MetricsPushError {
  const text = body.trim().slice(0, MAX_BODY_CHARS);
  const code = status === undefined ? 'no HTTP status' : `HTTP ${status}`;
  return new MetricsPushError(`the Pushgateway at ${shown} refused the metrics: ${code}${text === '' ? '' : `: ${text}`}`, {
    url: shown,
    ...(status === undefined ? {} : { status }),
  });
}

function statusOf(resp: unknown): number | undefined {
  if (typeof resp !== 'object' || resp === null || !('statusCode' in resp)) return undefined;
  return typeof resp.statusCode === 'number' ? resp.statusCode : undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // AggregateError (happy eyeballs over several addresses) has an empty message; its code says it.
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (error.message !== '') return error.message;
  return code ?? error.name;
}

