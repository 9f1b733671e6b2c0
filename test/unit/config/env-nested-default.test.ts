import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/config/env-interpolation.js';

describe('nested defaults in ${VAR:-default}', () => {
  it('is a clear error naming the whole reference, never a value with a stray "}"', () => {
    const result = interpolateEnv('${A:-${B}}', { B: '300s' });
    expect(result.value).toBeUndefined();
    expect(result.problems[0]?.reference).toBe('${A:-${B}}');
    expect(result.problems[0]?.message).toMatch(/nested variable reference "\$\{A:-\$\{B\}\}" is not supported/);
  });

  it('skips past the whole nested reference, so the text after it is still read', () => {
    const result = interpolateEnv('x${A:-${B:-1}}y ${C}', {});
    expect(result.problems.map((p) => p.reference)).toEqual(['${A:-${B:-1}}', '${C}']);
  });

  it('still takes a plain default', () => {
    expect(interpolateEnv('${A:-300s}', {}).value).toBe('300s');
  });
});
