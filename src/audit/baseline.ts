import { baselineFindingsOf } from '../core/report-document/index.js';
import { UsageError } from '../errors.js';
import { readReportFile } from '../report/report-file.js';

/**
 * The divergences a previous JSON report already listed, so the gate fails only on new ones: a
 * team can adopt the gate on a cache with known debt. A divergence is known when the baseline
 * lists the same key as divergent with the same reason.
 */
export class Baseline {
  private constructor(
    readonly file: string,
    private readonly known: ReadonlySet<string>,
  ) {}

  static async load(file: string): Promise<Baseline> {
    const json = await readReportFile(file, `--baseline ${file}`, 'a baseline is a report written by `shadowcheck audit --format json --output FILE`');
    const findings = baselineFindingsOf(json);
    if (findings === undefined) {
      throw new UsageError(`--baseline ${file}: expected a shadowcheck JSON report with a "findings" array`, {
        hint: 'write one with `shadowcheck audit --format json --output FILE`',
      });
    }
    const known = new Set<string>();
    for (const f of findings) {
      if (f.verdict === 'divergent' && typeof f.key === 'string' && typeof f.reason === 'string') known.add(identity(f.key, f.reason));
    }
    return new Baseline(file, known);
  }

  has(key: string, reason: string | undefined): boolean {
    return reason !== undefined && this.known.has(identity(key, reason));
  }

  get size(): number {
    return this.known.size;
  }
}

function identity(key: string, reason: string): string {
  return `${reason}\u0000${key}`;
}
