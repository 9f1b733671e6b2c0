import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/util/redact-url.js';

describe('redactUrl', () => {
  it('masks the password of a URL, keeps the user', () => {
    expect(redactUrl('redis://app:hunter2@cache:6379/0')).toBe('redis://app:***@cache:6379/0');
  });
  it('masks password-like query parameters', () => {
    expect(redactUrl('postgres://db/app?sslmode=require&password=hunter2')).toBe('postgres://db/app?sslmode=require&password=***');
  });
  it('masks both in a host list that is not a WHATWG URL', () => {
    const out = redactUrl('redis+sentinel://u:hunter2@h1:26379,h2:26379/mymaster?sentinelPassword=hunter3&db=1');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('hunter3');
    expect(out).toBe('redis+sentinel://u:***@h1:26379,h2:26379/mymaster?sentinelPassword=***&db=1');
  });
  it('leaves a URL without secrets as it is', () => {
    expect(redactUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  });
});
