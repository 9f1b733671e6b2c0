import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyPattern } from '../../../src/core/rule.js';
import { compilePattern } from '../../../src/config/key-pattern.js';
import { overlapExample, patternsOverlap } from '../../../src/config/pattern-overlap.js';

/** A pattern without braces stands for one literal key (rules files never hold one). */
const keyPattern = (source: string): KeyPattern =>
  /[{}]/.test(source) ? compilePattern(source) : { source, glob: source, placeholders: [], match: (key) => (key === source ? key : undefined), render: () => source };
const overlap = (a: string, b: string): boolean => patternsOverlap(keyPattern(a), keyPattern(b));

describe('patternsOverlap', () => {
  it.each([
    ['user:{id}', 'user:admin'],
    ['user:{id}', 'user:{uid}'],
    ['user:{id}', 'user:admin-{id}'],
    ['a{x}b', 'ab{y}'],
    ['{x}:b', 'a:{y}'],
    ['x{id}', 'x{id}y'],
    ['{a}', 'b{c}'],
    ['user:{id}:settings', 'user:{id}:settings'],
    ['{a}:x', '{c}:x'],
    ['user:{id}:settings', 'user:42:settings'],
    ['tenant:{t}:user:{id}', 'tenant:{x}:user:1'],
    ['{a}:{b}', 'x:{c}'],
    ['tenant:{t}:user:{id}', 'tenant:acme:user:7'],
  ])('%s and %s overlap', (a, b) => {
    expect(overlap(a, b)).toBe(true);
    expect(overlap(b, a)).toBe(true);
  });

  it.each([
    ['user:{id}', 'user:{id}:settings'],
    ['session:{id}', 'session:{id}:lock'],
    ['product:{sku}', 'user:{id}'],
    ['a{x}b', 'a{y}c'],
    ['a:{x}', 'a{y}'],
    ['{a}', 'b:{c}'],
    ['user:{id}', 'user:{id}:'],
    ['user:{id}', 'user:1:settings'],
    ['user:{id}', 'user:'],
    ['cache:{id}', 'cache:v1:{id}'],
    ['tenant:{t}:user:{id}', 'tenant:{x}'],
    ['tenant:{t}:user:{id}', 'tenant:{x}:{y}'],
    ['{a}:{b}', '{c}'],
  ])('%s and %s are disjoint', (a, b) => {
    expect(overlap(a, b)).toBe(false);
    expect(overlap(b, a)).toBe(false);
  });

  it('gives a sample key that matches both patterns', () => {
    const a = compilePattern('user:{id}');
    const b = keyPattern('user:admin');
    expect(overlapExample(a, b)).toBe('user:admin');
    const c = compilePattern('a{x}b');
    const d = compilePattern('ab{y}');
    const sample = overlapExample(c, d);
    expect(sample).toBeDefined();
    expect(c.match(sample ?? '')).toBeDefined();
    expect(d.match(sample ?? '')).toBeDefined();
  });

  it('agrees with brute force on small patterns: exact, never an over- or under-approximation', () => {
    const literal = fc.array(fc.constantFrom('a', 'b', ':'), { maxLength: 3 }).map((chars) => chars.join(''));
    // One placeholder, or two around a separator that holds a ':' (as compilePattern requires).
    const separator = fc.tuple(literal, literal).map(([a, b]) => `${a}:${b}`);
    const pattern = fc
      .tuple(literal, fc.option(separator, { nil: undefined }), literal)
      .map(([prefix, middle, suffix]) => compilePattern(middle === undefined ? `${prefix}{id}${suffix}` : `${prefix}{id}${middle}{n}${suffix}`));
    // Every key of up to 6 chars over the literal chars plus one other char.
    const keys: string[] = [''];
    for (let length = 1, frontier = ['']; length <= 6; length++) {
      frontier = frontier.flatMap((key) => ['a', 'b', ':', 'x'].map((ch) => key + ch));
      keys.push(...frontier);
    }
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const sample = overlapExample(a, b);
        if (sample !== undefined) {
          expect(a.match(sample)).toBeDefined();
          expect(b.match(sample)).toBeDefined();
        }
        const witness = keys.find((key) => a.match(key) !== undefined && b.match(key) !== undefined);
        if (witness !== undefined) expect(sample).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});
