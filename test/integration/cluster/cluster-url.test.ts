import { describe, expect, it } from 'vitest';
import { parseClusterUrl } from '../../../src/cache/cluster/url.js';
import { ExitCode, UsageError } from '../../../src/errors.js';

describe('redis+cluster:// URLs', () => {
  it('lists every seed node in order, with the port defaulting to 6379', () => {
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,cache-3/').seeds).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: 'cache-3', port: 6379 },
    ]);
    expect(parseClusterUrl('redis+cluster://[::1]:7000').seeds).toEqual([{ host: '::1', port: 7000 }]);
  });

  it('takes a user and a password for every node, and masks the password in its printable form', () => {
    const url = parseClusterUrl('redis+cluster://auditor:p%40ss%2Fw0rd@h1:7000,h2:7001/');
    expect(url.username).toBe('auditor');
    expect(url.password).toBe('p@ss/w0rd');
    expect(url.redacted).toBe('redis+cluster://auditor:***@h1:7000,h2:7001/');
    const raw = parseClusterUrl('redis+cluster://:s3cr@t/x@h1:7000/');
    expect(raw.password).toBe('s3cr@t/x');
    expect(raw.username).toBeUndefined();
    expect(raw.redacted).toBe('redis+cluster://:***@h1:7000/');
    expect(parseClusterUrl('redis+cluster://h1:7000').redacted).toBe('redis+cluster://h1:7000/');
  });

  it.each([
    ['redis+cluster:///', /at least one host:port|is not a host:port/],
    ['redis+cluster://h1:7000,/', /"" is not a host:port/],
    ['redis+cluster://h1:99999/', /port must be 1-65535/],
    ['redis+cluster://h1:7000/3', /only database 0/],
    ['redis://h1:7000/', /expected a URL starting with redis\+cluster:\/\//],
  ])('refuses %s as a usage error (exit 2)', (text, message) => {
    let error: unknown;
    try {
      parseClusterUrl(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect((error as UsageError).message).toMatch(message);
  });

  it('never shows the password of a URL it refuses', () => {
    for (const text of ['redis+cluster://u:hunter2@h1:0/', 'redis+cluster://u:hunter2@h1:7000/5', 'redis+cluster://u:%E0%A4%A@h1:7000/']) {
      expect(() => parseClusterUrl(text)).toThrow(UsageError);
      try {
        parseClusterUrl(text);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
        expect((error as Error).message).not.toContain('%E0');
        expect((error as Error).message).toMatch(/redis\+cluster:\/\/(u:)?\*\*\*@h1/);
      }
    }
  });
});
