import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { interpolateEnv } from './env-interpolation.js';
import type { ProblemCollector } from './problem-collector.js';
import type { DataPath, Locator, ParsedYaml } from './yaml-document.js';

/**
 * Interpolates `${ENV}` in every string value of the document, in place, before schema
 * validation: a URL or a duration is checked as it will be used, not as written. Keys are left
 * alone (they are names, not configuration values). Returns the paths whose interpolation
 * failed, so later checks do not pile a second, confusing problem onto the same value.
 */
export function interpolateDocument(parsed: ParsedYaml, text: string, env: NodeJS.ProcessEnv, locator: Locator, problems: ProblemCollector): DataPath[] {
  const failed: DataPath[] = [];
  const visit = (node: unknown, path: DataPath): void => {
    // Aliases share their anchor's node, which is visited where it is defined.
    if (isAlias(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const result = interpolateEnv(node.value, env);
      if (result.value !== undefined) {
        node.value = result.value;
        return;
      }
      failed.push(path);
      // Point at the reference itself when it appears verbatim in the source (it does unless
      // the scalar uses escapes); otherwise at the start of the value.
      const start = node.range?.[0];
      const raw = start === undefined ? '' : text.slice(start, node.range?.[1]);
      let from = 0;
      for (const problem of result.problems) {
        const found = raw.indexOf(problem.reference, from);
        if (found !== -1) from = found + problem.reference.length;
        const offset = start === undefined ? undefined : start + (found === -1 ? 0 : found);
        problems.addAt(offset === undefined ? locator.locate(path) : locator.at(offset), path, problem.message);
      }
    }
  };
  visit(parsed.doc.contents, []);
  return failed;
}
