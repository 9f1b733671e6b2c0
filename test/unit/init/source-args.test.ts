import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { fileUrl, parseSourceArg, parseSourceArgs, urlVariable } from '../../../src/init/source-args.js';

describe('--source NAME=URL', () => {
  it.each([
    ['main=postgres://u@h:5432/db', 'postgres'],
    ['main=postgresql://u@h/db', 'postgres'],
    ['shop=mysql://root@h:3306/shop', 'mysql'],
    ['shop=mariadb://root@h/shop', 'mysql'],
  ])('%s is a %s source', (text, kind) => {
    expect(parseSourceArg(text).kind).toBe(kind);
  });

  it.each([
    ['postgres://u@h/db', /expected NAME=URL/],
    ['=postgres://u@h/db', /the name must start/],
    ['main=redis://h:6379', /unsupported scheme "redis:"/],
    ['main=not a url', /is not a valid URL/],
  ])('rejects %s with a usage error', (text, message) => {
    expect(() => parseSourceArg(text)).toThrow(UsageError);
    expect(() => parseSourceArg(text)).toThrow(message);
  });

  it('never puts a password in an error message', () => {
    expect(() => parseSourceArg('main=redis://u:hunter2@h')).toThrow(/u:\*\*\*@h/);
  });

  it.each(['Xq7#Zr@Wk9', 'Xq7/Zr@Wk9', '1234#Zr@Wk9', 'Xq7%Zr'])('refuses a password %j a driver would misread, shows none of it, says to percent-encode', (password) => {
    let error: unknown;
    try {
      parseSourceArg(`main=postgres://app:${password}@db:5432/app`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const { message, hint } = error as UsageError;
    expect(message).toContain('--source main=postgres://app:***@db:5432/app: the URL ');
    expect(hint).toMatch(/percent-encode special characters in the password: # is %23, @ is %40, \/ is %2F/);
    for (const piece of ['Xq7', 'Zr', 'Wk9', '1234']) expect(message).not.toContain(piece);
  });

  it.each(['shop=mysql://root@h:3306', 'shop=mariadb://root:pw@h:3306/', 'shop=mysql://root@h:3306/?database=shop'])(
    '%s names no database: a usage error that says to name one (init reads only that one)',
    (text) => {
      expect(() => parseSourceArg(text)).toThrow(UsageError);
      expect(() => parseSourceArg(text)).toThrow(/names no database: init reads only the tables of the database the URL names/);
      expect(() => parseSourceArg(text)).not.toThrow(/pw/);
    },
  );

  it('needs one source at least, each named once', () => {
    expect(() => parseSourceArgs([])).toThrow(/at least one --source/);
    expect(() => parseSourceArgs(['a=postgres://h/x', 'a=mysql://h/y'])).toThrow(/given twice/);
  });

  it('writes a URL without a password as given, and one with a password as ${VAR:-url without it}', () => {
    expect(fileUrl(parseSourceArg('main=postgres://postgres@127.0.0.1:5432/test'))).toEqual({ text: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(fileUrl(parseSourceArg('main=postgres://app:s3cret@db:5432/app?sslmode=require'))).toEqual({
      text: '${MAIN_DATABASE_URL:-postgres://app@db:5432/app?sslmode=require}',
      variable: 'MAIN_DATABASE_URL',
    });
    expect(fileUrl(parseSourceArg('shop=mysql://root@h/shop?password=x')).text).toBe('${SHOP_DATABASE_URL:-mysql://root@h/shop}');
    expect(fileUrl(parseSourceArg('main=postgres://h/db?application_name=${x}')).text).toBe('postgres://h/db?application_name=$${x}');
  });

  it('derives the variable name from the source name', () => {
    expect(urlVariable('main')).toBe('MAIN_DATABASE_URL');
    expect(urlVariable('read-replica.eu')).toBe('READ_REPLICA_EU_DATABASE_URL');
    expect(urlVariable('1st')).toBe('S_1ST_DATABASE_URL');
  });
});
