import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

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
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--baseline ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch (error) {
      // Not the parser's message: it quotes the file's content, which may hold anything.
      throw new UsageError(`--baseline ${file}: not valid JSON`, {
        hint: 'a baseline is a report written by `shadowcheck audit --format json --output FILE`',
        cause: error,
      });
    }
    const findings = (report as { tool?: unknown; findings?: unknown }).findings;
    if ((report as { tool?: unknown }).tool !== 'shadowcheck' || !Array.isArray(findings)) {
      throw new UsageError(`--baseline ${file}: expected a shadowcheck JSON report with a "findings" array`, {
        hint: 'write one with `shadowcheck audit --format json --output FILE`',
      });
    }
    const known = new Set<string>();
    for (const f of findings as { key?: unknown; verdict?: unknown; reason?: unknown }[]) {
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
