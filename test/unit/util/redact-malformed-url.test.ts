/** Issue 14 item 6: the one masker hides the password of URL-shaped text that does not parse. */
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/util/redact-url.js';
import { scrubUrls, urlsIn } from '../../../src/cli/errors.js';

const SHAPES = [
  'redis:/:Pw9secret@host',
  'postgresql:/user:Pw9secret@host/db',
  'user:Pw9secret@host:5432/db',
  'redis://:pa/Pw9secret@h',
  'redis://:pa#Pw9secret@h',
  'redis://:Pw9secret@h:99999',
  'redis+cluster://:Pw9#secret@127.0.0.1:1/db?password=Pw9secret',
  'redis+sentinel://u@x:Pw9secret@h:1,h:2/master',
  'mysql://a b:Pw9secret@h/db',
];

describe('redactUrl on malformed URLs', () => {
  it.each(SHAPES)('%s shows no part of the password', (url) => {
    const shown = redactUrl(url);
    expect(shown).not.toContain('Pw9');
    expect(shown).not.toContain('secret');
  });
});

describe('the CLI scrubs messages of the URLs on its command line', () => {
  it('masks a password quoted out of its URL, as a parser complaining about the host part would', () => {
    const argv = ['node', 'shadowcheck', 'audit', '--redis', 'redis+sentinel://u@x:Pw9<secret@h:1'];
    const message = '"x:Pw9<secret@h:1" is not a host:port sentinel address';
    expect(scrubUrls(message, urlsIn(argv, {}))).not.toContain('Pw9');
  });

  it('finds --flag=value, --source NAME=URL and SHADOWCHECK_REDIS_URL', () => {
    expect(urlsIn(['--redis=redis://a', '--source', 'main=postgres://u:p@h/db'], { SHADOWCHECK_REDIS_URL: 'redis://e' })).toEqual([
      'redis://a',
      'postgres://u:p@h/db',
      'redis://e',
    ]);
  });
});
