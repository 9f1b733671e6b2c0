import { describe, expect, it } from 'vitest';
import { createCacheReader } from '../../../src/cache/index.js';
import { UsageError } from '../../../src/errors.js';

describe('createCacheReader', () => {
  it('refuses an unknown scheme with a usage error that lists the supported ones and hides the password', async () => {
    const attempt = createCacheReader('memcached://u:hunter2@cache:11211', { timeoutMs: 100 });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/expected a URL starting with redis:\/\/, rediss:\/\//);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });
});
