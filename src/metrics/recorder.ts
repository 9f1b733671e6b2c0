import { hostname } from 'node:os';
import type { Finding } from '../core/verdict.js';
import { UsageError } from '../errors.js';
import type { RunSummary } from '../report/types.js';
import { validateGroupingLabels, validateGroupingValue } from './labels.js';
import { MetricSet } from './metric-set.js';
import { checkPushgatewayUrl, pushRegistry, type PushTarget } from './push.js';

export interface MetricsRecorderOptions {
  /** Pushgateway base URL (`--pushgateway`). A password in it is redacted in every message. */
  url: string;
  /** The `job` grouping label (`--job`). */
  job: string;
  /** The `instance` grouping label; defaults to os.hostname(). */
  instance?: string;
  /** Extra grouping labels (`--label k=v`, parsed by parseGroupingLabels). */
  labels?: Readonly<Record<string, string>>;
  /** Bound on the whole push, connect to answer. Default 10 s. */
  timeoutMs?: number;
}

export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;

/**
 * The Pushgateway sink. Build it when the flags are parsed (bad options are a UsageError, exit 2,
 * before any key is read); feed it every finding as the audit decides it; call `push` once at the
 * end. A push failure is a MetricsPushError: the caller decides whether it changes the exit code.
 */
export class MetricsRecorder {
  private readonly metrics = new MetricSet();
  private readonly target: PushTarget;

  constructor(options: MetricsRecorderOptions) {
    checkPushgatewayUrl(options.url);
    validateGroupingValue('--job', options.job);
    const instance = options.instance ?? hostname();
    validateGroupingValue('the instance label', instance);
    const labels = options.labels ?? {};
    validateGroupingLabels(labels);
    const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new UsageError(`the Pushgateway timeout must be a positive number of milliseconds, not ${timeoutMs}`);
    }
    this.target = { url: options.url, job: options.job, grouping: { instance, ...labels }, timeoutMs };
  }

  /** The grouping key the run is pushed under (job, instance, then extra labels). */
  get grouping(): Readonly<Record<string, string>> {
    return { job: this.target.job, ...this.target.grouping };
  }

  /** One judged or skipped key (match included): its stale age and version lag go into the histograms. */
  observe(finding: Finding): void {
    this.metrics.observe(finding);
  }

  /** The text exposition of the run, exactly what `push` sends (for tests, or a textfile collector). */
  async render(run: RunSummary): Promise<string> {
    this.metrics.setRun(run);
    return this.metrics.registry.metrics();
  }

  /** Sets the gauges from the run's summary and PUTs everything to the Pushgateway, once. */
  async push(run: RunSummary): Promise<void> {
    this.metrics.setRun(run);
    await pushRegistry(this.metrics.registry, this.target);
  }
}
