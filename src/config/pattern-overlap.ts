import type { KeyPattern } from '../core/rule.js';
import { parsePattern } from './key-pattern.js';

/**
 * Exact overlap test for two key patterns: is there a key both match? Two families claiming the
 * same key would judge it twice against different rules, so the rules file rejects that.
 *
 * Each pattern is a tiny automaton (literal chars, and for each placeholder one or more non-':'
 * chars). We walk the product of the two automata breadth-first over a symbolic alphabet: every
 * literal char of either pattern, ':', and OTHER, which stands for any char that appears in
 * neither pattern (all such chars behave identically in both automata). An accepting pair is
 * reachable exactly when some key matches both; the path to it spells a sample key.
 */

const OTHER = Symbol('other');
type Sym = string | typeof OTHER;

/** One step of a pattern: a literal char, or HOLE, a placeholder (one or more non-':' chars). */
const HOLE = Symbol('hole');
type Step = string | typeof HOLE;

/**
 * State i: the first i steps are read. A HOLE step consumes one non-':' char to move on, and the
 * state after a HOLE loops on non-':' chars (the rest of the placeholder). The last state accepts.
 */
class PatternAutomaton {
  readonly start = 0;

  constructor(private readonly steps: readonly Step[]) {}

  accepts(state: number): boolean {
    return state === this.steps.length;
  }

  next(state: number, sym: Sym): number[] {
    const out: number[] = [];
    if (state > 0 && this.steps[state - 1] === HOLE && sym !== ':') out.push(state);
    const step = this.steps[state];
    if (step === HOLE ? sym !== ':' : step !== undefined && sym === step) out.push(state + 1);
    return out;
  }
}

/**
 * Patterns come from compilePattern, so they are valid; a source without braces is a literal
 * key, which lets callers ask whether a concrete key collides with a pattern.
 */
function stepsOf(pattern: KeyPattern): Step[] {
  if (!/[{}]/.test(pattern.source)) return [...pattern.source];
  const parts = parsePattern(pattern.source);
  if ('problem' in parts) throw new Error(`invalid key pattern: ${parts.problem}`);
  return parts.literals.flatMap((literal, i): Step[] => (i === 0 ? [...literal] : [HOLE, ...literal]));
}

/** The literal text a pattern's keys start with (before its first placeholder). */
function leading(steps: readonly Step[]): string {
  const end = steps.indexOf(HOLE);
  return (end === -1 ? steps : steps.slice(0, end)).join('');
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
  const sa = stepsOf(a);
  const sb = stepsOf(b);
  // Fast exit for the common case (user:... vs product:...): a key starts with both literal
  // prefixes and ends with both literal suffixes, so they must agree where they overlap.
  const reversed = (steps: readonly Step[]): Step[] => [...steps].reverse();
  if (!compatible(leading(sa), leading(sb)) || !compatible(leading(reversed(sa)), leading(reversed(sb)))) return undefined;
  const literals = new Set<string>([...sa, ...sb, ':'].filter((step): step is string => step !== HOLE));
  // OTHER first: among equally short sample keys, prefer one whose id is not a literal char.
  const alphabet: Sym[] = [OTHER, ...literals];
  const ma = new PatternAutomaton(sa);
  const mb = new PatternAutomaton(sb);

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

function compatible(x: string, y: string): boolean {
  const n = Math.min(x.length, y.length);
  return x.slice(0, n) === y.slice(0, n);
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
