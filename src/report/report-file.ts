import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/**
 * Reads a file that should hold a JSON report (merge's shard reports, a --baseline) and parses it;
 * core/report-document/read.ts then checks what it holds. `name` starts every message (the file, or
 * `--baseline FILE`). The parser's own message is not quoted: it quotes the file's content, which
 * may hold anything (the baseline's rule, now merge's too).
 */
export async function readReportFile(file: string, name: string, hint: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${name}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${name}: not valid JSON`, { hint, cause: error });
  }
}
