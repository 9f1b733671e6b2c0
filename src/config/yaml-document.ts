import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';

/** A path into the rules data, as ajv and the semantic checks see it: `['families', 0, 'ttl']`. */
export type DataPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface SyntaxProblem extends Position {
  message: string;
}

export interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** YAML syntax errors (duplicate keys included). When non-empty, the data cannot be trusted. */
  problems: readonly SyntaxProblem[];
}

/** Parses one YAML document keeping every node's position (via the LineCounter). */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys (the default) turns a repeated key into an error instead of last-one-wins:
  // a second `ttl:` in a family is almost always a copy-paste mistake.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems = doc.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { line, column: col, message: describeYamlError(error, text) };
  });
  return { doc, lineCounter, problems };
}

function describeYamlError(error: YAMLError, text: string): string {
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      // The error spans only the key's first char; the key runs to the ':' that ends it.
      const key = (/^[^:\n]*/.exec(text.slice(error.pos[0]))?.[0] ?? '').trim().replace(/^(["'])(.*)\1$/, '$2');
      return `duplicate key${key === '' ? '' : ` "${key}"`}; each key may appear only once in a mapping`;
    }
    case 'MULTIPLE_DOCS':
      return 'the rules file must hold a single YAML document; remove the extra "---" document';
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: tabs are not allowed as indentation; indent with spaces';
    default:
      return `YAML syntax error: ${error.message.replace(/\.$/, '')}`;
  }
}

type NodeLike = Node | null | undefined;

function rangeOf(node: NodeLike): number | undefined {
  return node?.range?.[0];
}

/** Maps data paths back to YAML source positions. */
export interface Locator {
  /** Position of an offset in the text. */
  at(offset: number): Position;
  /**
   * Position of the value at `path`; with `on: 'key'`, of the key naming it. When the path does
   * not exist (a missing key), the position of the deepest node that does.
   */
  locate(path: DataPath, on?: 'key' | 'value'): Position | undefined;
}

export function createLocator(parsed: ParsedYaml): Locator {
  const { doc, lineCounter } = parsed;
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const resolve = (node: unknown): NodeLike => (isAlias(node) ? (node.resolve(doc) as NodeLike) : (node as NodeLike));

  return {
    at,
    locate(path, on = 'value') {
      let node: NodeLike = resolve(doc.contents);
      let keyNode: NodeLike;
      let best = rangeOf(node);
      for (const [index, segment] of path.entries()) {
        let next: NodeLike;
        keyNode = undefined;
        if (isMap(node)) {
          const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
          if (pair !== undefined) {
            keyNode = pair.key as NodeLike;
            next = resolve(pair.value);
          }
        } else if (isSeq(node) && typeof segment === 'number') {
          next = resolve(node.items[segment]);
          keyNode = next;
        }
        if (next === undefined && keyNode === undefined) return best === undefined ? undefined : at(best);
        node = next;
        // An empty value (`ttl:`) sits after the colon; the key is the useful place to point at.
        const emptyValue = next === null || next === undefined || (isScalar(next) && next.value === null && next.source === '');
        const chosen = (on === 'key' && index === path.length - 1) || emptyValue ? rangeOf(keyNode) : rangeOf(next);
        best = chosen ?? rangeOf(keyNode) ?? best;
      }
      return best === undefined ? undefined : at(best);
    },
  };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  return undefined;
}
