import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { noPatterns } from '../../../src/init/run-init.js';

describe('init with no key pattern to propose', () => {
  it('says the database is empty rather than blaming the sources', () => {
    const error = noPatterns(0, []);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe('the Redis database is empty: init proposes families from the keys it finds');
  });

  it('lists the groups of keys it found and why none makes a family', () => {
    const error = noPatterns(3, [{ shape: 'user:*', count: 3, example: 'user:1', reason: 'too few keys to propose a family (fewer than 5)' }]);
    expect(error.message).toBe('none of the 3 scanned keys share a pattern with an id in it:\n  user:*  3 keys: too few keys to propose a family (fewer than 5)');
  });
});
