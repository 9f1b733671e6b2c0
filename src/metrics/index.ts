// The Pushgateway metrics sink (ARCHITECTURE.md, "Metrics (Pushgateway)").
export { MetricsRecorder, DEFAULT_PUSH_TIMEOUT_MS, type MetricsRecorderOptions } from './recorder.js';
export { MetricsPushError } from './errors.js';
export { parseGroupingLabels, validateGroupingLabels } from './labels.js';
