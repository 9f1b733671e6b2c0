import type { KeyPattern } from '../core/rule.js';
import { parsePattern } from './key-pattern.js';

/**
 * Exact overlap test for two key patterns: is there a key both match? Two families claiming the
 * same key would judge it twice against different rules, so the rules file rejects that.
 *
 * Each pattern is a tiny automaton (prefix chars, then one or more non-':' chars, then suffix
 * chars). We walk the product of the two automata breadth-first over a symbolic alphabet: every
 * literal char of either pattern, ':', and OTHER, which stands for any char that appears in
 * neither pattern (all such chars behave identically in both automata). An accepting pair is
 * reachable exactly when some key matches both; the path to it spells a sample key.
 */

const OTHER = Symbol('other');
type Sym = string | typeof OTHER;

/** A pattern as an automaton input: a literal key (no placeholder) is accepted too. */
interface Shape {
  prefix: string;
  suffix: string;
  hole: boolean;
}

/**
 * States: 0..P while reading the prefix; with a placeholder, P+1 inside it and P+1+j after j
 * suffix chars. Without one, P accepts.
 */
class PatternAutomaton {
  private readonly p: number;
  private readonly s: number;
  readonly start = 0;

  constructor(private readonly shape: Shape) {
    this.p = shape.prefix.length;
    this.s = shape.suffix.length;
  }

  accepts(state: number): boolean {
    return this.shape.hole ? state === this.p + 1 + this.s : state === this.p;
  }

  next(state: number, sym: Sym): number[] {
    const { p } = this;
    if (state < p) return sym === this.shape.prefix[state] ? [state + 1] : [];
    if (!this.shape.hole) return [];
    if (state === p) return sym === ':' ? [] : [p + 1];
    if (state === p + 1) {
      const out: number[] = [];
      if (sym !== ':') out.push(p + 1);
      if (this.s > 0 && sym === this.shape.suffix[0]) out.push(p + 2);
      return out;
    }
    const j = state - p - 1;
    return j < this.s && sym === this.shape.suffix[j] ? [state + 1] : [];
  }
}

/**
 * Patterns come from compilePattern, so they are valid; a source without braces is a literal
 * key, which lets callers ask whether a concrete key collides with a pattern.
 */
function shapeOf(pattern: KeyPattern): Shape {
  if (!/[{}]/.test(pattern.source)) return { prefix: pattern.source, suffix: '', hole: false };
  const parts = parsePattern(pattern.source);
  if ('problem' in parts) throw new Error(`invalid key pattern: ${parts.problem}`);
  return { prefix: parts.prefix, suffix: parts.suffix, hole: true };
}

/** A char that appears in neither pattern, to print for OTHER in a sample key. */
function otherChar(used: ReadonlySet<string>): string {
  for (const ch of 'xyzqwkabcdefghijlmnoprstuv0123456789') if (!used.has(ch)) return ch;
  for (let code = 0x100; ; code++) {
    const ch = String.fromCharCode(code);
    if (!used.has(ch)) return ch;
  }
}

/** A key matched by both patterns (the shortest one), or undefined when they are disjoint. */
export function overlapExample(a: KeyPattern, b: KeyPattern): string | undefined {
  const pa = shapeOf(a);
  const pb = shapeOf(b);
  // Fast exit for the common case (user:... vs product:...): a key starts with both literal
  // prefixes and ends with both literal suffixes, so they must agree where they overlap.
  if (!compatible(pa.prefix, pb.prefix, (x) => x) || !compatible(pa.suffix, pb.suffix, (x) => [...x].reverse().join(''))) return undefined;
  const literals = new Set<string>([...pa.prefix, ...pa.suffix, ...pb.prefix, ...pb.suffix, ':']);
  // OTHER first: among equally short sample keys, prefer one whose id is not a literal char.
  const alphabet: Sym[] = [OTHER, ...literals];
  const ma = new PatternAutomaton(pa);
  const mb = new PatternAutomaton(pb);

  const id = (x: number, y: number): string => `${x},${y}`;
  const parent = new Map<string, { from: string; sym: Sym } | null>([[id(ma.start, mb.start), null]]);
  const queue: [number, number][] = [[ma.start, mb.start]];
  for (let head = 0; head < queue.length; head++) {
    const [x, y] = queue[head] as [number, number];
    if (ma.accepts(x) && mb.accepts(y)) return spell(parent, id(x, y), otherChar(literals));
    for (const sym of alphabet) {
      for (const nx of ma.next(x, sym)) {
        for (const ny of mb.next(y, sym)) {
          const key = id(nx, ny);
          if (parent.has(key)) continue;
          parent.set(key, { from: id(x, y), sym });
          queue.push([nx, ny]);
        }
      }
    }
  }
  return undefined;
}

function compatible(x: string, y: string, orient: (text: string) => string): boolean {
  const [ox, oy] = [orient(x), orient(y)];
  const n = Math.min(ox.length, oy.length);
  return ox.slice(0, n) === oy.slice(0, n);
}

function spell(parent: ReadonlyMap<string, { from: string; sym: Sym } | null>, end: string, other: string): string {
  const chars: string[] = [];
  for (let step = parent.get(end); step; step = parent.get(step.from)) {
    chars.push(step.sym === OTHER ? other : step.sym);
  }
  return chars.reverse().join('');
}

/** True when some key matches both patterns. */
export function patternsOverlap(a: KeyPattern, b: KeyPattern): boolean {
  return overlapExample(a, b) !== undefined;
}
