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

  it.each([
    'redis://:Xq7#Zr@Wk9@127.0.0.1:1/0',
    'rediss://app:Xq7/Zr@Wk9@127.0.0.1:1/0',
    'redis://app:1234#Zr@Wk9@127.0.0.1:1/0',
    'redis://:Xq7%Zr@127.0.0.1:1/0',
    'redis+sentinel://:Xq7#Zr@Wk9@127.0.0.1:1/mymaster',
  ])('refuses %s before connecting: a usage error that shows no piece of the password and says to percent-encode it', async (url) => {
    const error: unknown = await createCacheReader(url, { timeoutMs: 100 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    const { message, hint } = error as UsageError;
    expect(message).toMatch(/^--redis \S+:\*\*\*@127\.0\.0\.1:1\//);
    expect(hint).toMatch(/percent-encode special characters in the password: # is %23, @ is %40, \/ is %2F/);
    for (const piece of ['Xq7', 'Zr', 'Wk9', '1234']) expect(`${message} ${hint ?? ''}`).not.toContain(piece);
  });
});
