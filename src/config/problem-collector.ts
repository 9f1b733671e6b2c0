import type { RulesProblem } from '../errors.js';
import { redactSecrets } from '../util/redact-url.js';
import type { DataPath, Locator, Position } from './yaml-document.js';

/**
 * Gathers every problem of one rules file with its position and family, so the user fixes them
 * all in one pass instead of one per run.
 */
export interface ProblemCollector {
  /** A problem about the value at `path` (or, with `on: 'key'`, about its key). */
  add(path: DataPath, message: string, on?: 'key' | 'value'): void;
  /** A problem at a known position (env references point inside a string). */
  addAt(position: Position | undefined, path: DataPath, message: string): void;
  /** True when a problem was already reported at or under `path`. */
  reportedUnder(path: DataPath): boolean;
  /** Problems in file order, duplicates removed. */
  sorted(): RulesProblem[];
}

export function createProblemCollector(file: string, locator: Locator, familyName: (index: number) => string | undefined): ProblemCollector {
  const problems: (RulesProblem & { pathKey: string })[] = [];
  const keyOf = (path: DataPath): string => path.map(String).join('\u0000');

  const addAt = (position: Position | undefined, path: DataPath, message: string): void => {
    const index = path[0] === 'families' && typeof path[1] === 'number' ? path[1] : undefined;
    const family = index === undefined ? undefined : familyName(index);
    problems.push({
      file,
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
      ...(family === undefined ? {} : { family }),
      // Messages quote values from the file; a URL among them must not print its password.
      message: redactSecrets(message, undefined),
      pathKey: keyOf(path),
    });
  };

  return {
    add(path, message, on = 'value') {
      addAt(locator.locate(path, on), path, message);
    },
    addAt,
    reportedUnder(path) {
      const prefix = keyOf(path);
      return problems.some((p) => p.pathKey === prefix || p.pathKey.startsWith(`${prefix}\u0000`));
    },
    sorted() {
      const seen = new Set<string>();
      return problems
        .map((p, order) => ({ p, order }))
        .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.order - b.order)
        .map(({ p }) => {
          const { pathKey: _pathKey, ...problem } = p;
          return problem;
        })
        .filter((p) => {
          const id = `${p.line}:${p.column}:${p.message}`;
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
    },
  };
}
