import cliProgress from 'cli-progress';
import type { AuditProgress } from '../audit/log.js';

const NO_PROGRESS: AuditProgress = { start() {}, tick() {}, stop() {} };

/**
 * A progress bar with rate and ETA on stderr, only when stderr is a terminal and not in CI:
 * piped or scheduled runs get nothing, so logs and reports stay clean.
 */
export function createProgress(stderr: NodeJS.WriteStream = process.stderr): AuditProgress {
  if (stderr.isTTY !== true || (process.env['CI'] ?? '') !== '') return NO_PROGRESS;
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: '{bar} {value}/~{total} keys | {rate} keys/s | ETA {eta_formatted} | {divergent} divergent',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let divergent = 0;
  const startedAt = Date.now();
  let value = 0;
  return {
    start(estimatedKeys) {
      bar.start(Math.max(1, estimatedKeys), 0, { rate: 0, divergent: 0 });
    },
    tick(finding) {
      value++;
      if (finding.verdict === 'divergent') divergent++;
      // The estimate can be low (keys written during the run): grow the total rather than overflow.
      if (value > bar.getTotal()) bar.setTotal(value);
      bar.update(value, { rate: Math.round((value * 1000) / Math.max(1, Date.now() - startedAt)), divergent });
    },
    stop() {
      bar.stop();
    },
  };
}
