import { describe, expect, it } from 'vitest';
import { PERCENT_ENCODE_HINT, redactSecrets, redactUrl, urlProblem } from '../../../src/util/redact-url.js';

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
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe('postgres://postgres@127.0.0.1:5432/test');
  });
  it('masks a secret query parameter whose value holds a "#" up to the next "&"', () => {
    expect(redactUrl('redis+sentinel://h1:26379/m?sentinelPassword=Xq7#Zr@Wk9')).toBe('redis+sentinel://h1:26379/m?sentinelPassword=***');
  });
});

/** A password made of three pieces around one special character each: none may show. */
const PIECES = ['Xq7', 'Zr', 'Wk9'] as const;
const SPECIALS = ['#', '@', '/', '?', ':', ' ', '%', '\\'] as const;
const passwords = SPECIALS.flatMap((a) => SPECIALS.map((b) => `${PIECES[0]}${a}${PIECES[1]}${b}${PIECES[2]}`));
const urlsOf = (password: string): string[] => [
  `redis://:${password}@127.0.0.1:1/0`,
  `rediss://app:${password}@cache.example:6380/2`,
  `postgres://app:${password}@db:5432/test`,
  `mysql://root:${password}@127.0.0.1:3306/shop?ssl-mode=required`,
  `redis+sentinel://u:${password}@h1:26379,h2:26379/mymaster`,
  `redis+cluster://:${password}@h1:7000,h2:7001/`,
];

function expectNoPiece(text: string): void {
  for (const piece of PIECES) expect(text, text).not.toContain(piece);
}

describe('redactUrl: a password with unencoded special characters is masked up to the last "@"', () => {
  it.each(passwords)('password %j: no piece of it is shown, host and path are', (password) => {
    for (const url of urlsOf(password)) {
      const out = redactUrl(url);
      expectNoPiece(out);
      expect(out).toContain('***@');
    }
  });

  it('keeps the user name, the host and the database of a URL that does not parse', () => {
    expect(redactUrl('redis://:Xq7#Zr@Wk9@127.0.0.1:1/0')).toBe('redis://:***@127.0.0.1:1/0');
    expect(redactUrl('postgres://app:Xq7/Zr@Wk9@db:5432/test')).toBe('postgres://app:***@db:5432/test');
  });

  it('does not trust a parse that reads part of the password as host and fragment', () => {
    // WHATWG URL reads this as host "app", port 1234, fragment "Zr@db:5432/test": it parses.
    const url = 'postgres://app:1234#Zr@db:5432/test';
    expect(new URL(url).password).toBe('');
    expect(redactUrl(url)).toBe('postgres://app:***@db:5432/test');
  });

  it('masks all the credentials when what comes before the password is not plainly a user name', () => {
    expect(redactUrl('mysql://Xq7#Zr@Wk9@h:3306/db')).toBe('mysql://***@h:3306/db');
    expect(redactUrl('mysql://Xq7 Zr@Wk9@h:3306/db')).toBe('mysql://***@h:3306/db');
  });

  it('is idempotent', () => {
    for (const url of urlsOf('Xq7#Zr@Wk9')) expect(redactUrl(redactUrl(url))).toBe(redactUrl(url));
  });
});

describe('redactSecrets', () => {
  it.each(passwords)('password %j: masked in a URL quoted inside a message, and on its own', (password) => {
    for (const url of urlsOf(password)) {
      expectNoPiece(redactSecrets(`cannot use "${url}": auth failed for ${password}`, url));
    }
  });

  it('masks a URL quoted in text without knowing it, up to the last "@" of its token', () => {
    const text = 'source "main": "url" is not a valid URL (got "postgres://app:Xq7#Zr@Wk9@db:5432/test"); expected postgres://user@host:5432/database';
    expect(redactSecrets(text, undefined)).toBe(
      'source "main": "url" is not a valid URL (got "postgres://app:***@db:5432/test"); expected postgres://user@host:5432/database',
    );
  });

  it('masks the percent-decoded form of the password too', () => {
    const url = 'redis://:Xq7%23Zr%40Wk9@h:6379/0';
    expect(redactSecrets('WRONGPASS for Xq7#Zr@Wk9', url)).toBe('WRONGPASS for ***');
  });

  it('leaves text without credentials as it is', () => {
    expect(redactSecrets('connect ECONNREFUSED 127.0.0.1:1 (redis://127.0.0.1:1/0)', undefined)).toBe('connect ECONNREFUSED 127.0.0.1:1 (redis://127.0.0.1:1/0)');
  });
});

describe('urlProblem', () => {
  it('accepts URLs that parse as written, percent-encoded passwords included', () => {
    expect(urlProblem('redis://:Xq7%23Zr%40Wk9@127.0.0.1:6379/0')).toBeUndefined();
    expect(urlProblem('postgres://app:Xq7:Zr@Wk9@db:5432/test')).toBeUndefined();
    expect(urlProblem('postgres://postgres@127.0.0.1:5432/test')).toBeUndefined();
  });
  it.each([
    ['redis://:Xq7#Zr@Wk9@127.0.0.1:1/0', /not a valid URL/],
    ['postgres://app:1234#Zr@db:5432/test', /an "@" after a "#", "\/" or "\?": a password holding those must percent-encode them/],
    ['postgres://app:Xq7/Zr@h:5432/db', /not a valid URL/],
    ['redis://:50%off@h:6379/0', /"%" in its user or password that is not percent-encoding/],
  ])('%s is refused: %s', (url, problem) => {
    expect(urlProblem(url)).toMatch(problem);
  });
  it('the hint says how to percent-encode', () => {
    expect(PERCENT_ENCODE_HINT).toMatch(/percent-encode .* # is %23, @ is %40, \/ is %2F/);
  });
});

describe('redactUrl on text that is not a URL', () => {
  it.each([
    ['not a url :// u:hunter2@gw', 'not a url ://***@gw'],
    ['gw:u:hunter2@host:9091', 'gw:***@host:9091'],
    ['u:hunter2@host:6379', 'u:***@host:6379'],
    ['h1:26379,h2:26379', 'h1:26379,h2:26379'],
  ])('%s: everything before the last "@" that may be a password is masked', (text, shown) => {
    expect(redactUrl(text)).toBe(shown);
  });
});
