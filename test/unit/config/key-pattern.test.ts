import { describe, expect, it } from 'vitest';
import { compilePattern, parsePattern, PatternError } from '../../../src/config/key-pattern.js';

describe('compilePattern', () => {
  it('turns the placeholder into * in the SCAN MATCH glob', () => {
    const pattern = compilePattern('user:{id}');
    expect(pattern).toMatchObject({ source: 'user:{id}', glob: 'user:*', placeholders: ['id'] });
    expect(compilePattern('user:{id}:settings').glob).toBe('user:*:settings');
  });

  it('escapes glob metacharacters in the literal parts', () => {
    expect(compilePattern('cache[v1]*?:{key}\\x').glob).toBe('cache\\[v1\\]\\*\\?:*\\\\x');
  });

  it('renders the key of an id, the inverse of match', () => {
    const p = compilePattern('tenant-a:user:{id}:profile');
    expect(p.render('42')).toBe('tenant-a:user:42:profile');
    expect(p.match(p.render('42'))).toBe('42');
  });

  it('captures the id of a matching key', () => {
    const pattern = compilePattern('user:{id}');
    expect(pattern.match('user:42')).toBe('42');
    expect(pattern.match('user:a-b_c.d')).toBe('a-b_c.d');
  });

  it('captures one or more characters, never an empty id', () => {
    expect(compilePattern('user:{id}').match('user:')).toBeUndefined();
    expect(compilePattern('user:{id}:settings').match('user::settings')).toBeUndefined();
  });

  it('does not let the placeholder swallow a ":" (user:{id} is not user:1:settings)', () => {
    expect(compilePattern('user:{id}').match('user:1:settings')).toBeUndefined();
    expect(compilePattern('user:{id}:settings').match('user:1:settings')).toBe('1');
  });

  it('matches the whole key, not a part of it', () => {
    const pattern = compilePattern('user:{id}');
    expect(pattern.match('xuser:1')).toBeUndefined();
    expect(compilePattern('user:{id}:v2').match('user:1:v2:extra')).toBeUndefined();
  });

  it('treats regex metacharacters in the literal parts literally', () => {
    const pattern = compilePattern('a.b+(c)|$:{id}^');
    expect(pattern.match('a.b+(c)|$:7^')).toBe('7');
    expect(pattern.match('axb+(c)|$:7^')).toBeUndefined();
    expect(compilePattern('cache[v1]*:{id}').match('cache[v1]*:9')).toBe('9');
    expect(compilePattern('cache[v1]*:{id}').match('cachev:9')).toBeUndefined();
  });

  it('supports a placeholder at the start or in the middle of a segment', () => {
    expect(compilePattern('{tenant}:config').match('acme:config')).toBe('acme');
    expect(compilePattern('order-{n}.json').match('order-12.json')).toBe('12');
  });

  it('captures every part of a composite key as a JSON array, and renders it back', () => {
    const pattern = compilePattern('tenant:{tenant}:user:{id}');
    expect(pattern).toMatchObject({ glob: 'tenant:*:user:*', placeholders: ['tenant', 'id'] });
    expect(pattern.match('tenant:acme:user:42')).toBe('["acme","42"]');
    expect(pattern.render('["acme","42"]')).toBe('tenant:acme:user:42');
    expect(pattern.match('tenant:acme:user:')).toBeUndefined();
    expect(pattern.match('tenant:acme:x:user:42')).toBeUndefined();
    // Parts holding a quote or a backslash survive the round trip.
    const odd = 'tenant:a"b\\c:user:1';
    expect(pattern.render(pattern.match(odd) as string)).toBe(odd);
    expect(compilePattern('{region}:{shop}:cart').match('eu:7:cart')).toBe('["eu","7"]');
  });

  it('throws a PatternError saying what is expected for an invalid pattern', () => {
    expect(() => compilePattern('user:admin')).toThrow(PatternError);
    expect(() => compilePattern('user:admin')).toThrow(/has no \{placeholder\}.*like user:\{id\}/);
  });
});

describe('parsePattern problems', () => {
  const problem = (pattern: string): string => {
    const parts = parsePattern(pattern);
    return 'problem' in parts ? parts.problem : 'valid';
  };

  it.each([
    ['user:admin', 'has no {placeholder}'],
    ['{a}{b}{c}', 'placeholders {a} and {b} in pattern "{a}{b}{c}" are separated by nothing; separate them with text holding a ":"'],
    ['order-{id}-{line}', 'placeholders {id} and {line} in pattern "order-{id}-{line}" are separated by "-"'],
    ['t:{id}:u:{id}', 'uses the placeholder {id} twice'],
    ['user:{}', 'has an empty placeholder "{}"'],
    ['user:{id', 'has a "{" without a closing "}" at position 6'],
    ['user:id}', 'has a "}" without a matching "{" at position 8'],
    ['user:{a{b}}', 'has a "{" inside a placeholder at position 8'],
    ['user:{1st}', 'must be named with letters, digits and \'_\''],
    ['user:{user id}', 'must be named with letters, digits and \'_\''],
  ])('%s: %s', (pattern, fragment) => {
    expect(problem(pattern)).toContain(fragment);
  });

  it('splits a valid pattern around its placeholders', () => {
    expect(parsePattern('user:{id}:settings')).toEqual({ literals: ['user:', ':settings'], placeholders: ['id'] });
    expect(parsePattern('{_id9}')).toEqual({ literals: ['', ''], placeholders: ['_id9'] });
    expect(parsePattern('tenant:{tenant}:user:{id}')).toEqual({ literals: ['tenant:', ':user:', ''], placeholders: ['tenant', 'id'] });
  });
});
