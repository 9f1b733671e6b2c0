import { describe, expect, it } from 'vitest';
import {
  MAX_PAIRS_PER_FAMILY,
  SYSTEMATIC_MIN_KEYS,
  SystematicTally,
  recognizeTransformation,
  suspectedRulesProblem,
  transformationHint,
  transformationNotes,
  type TalliedFinding,
} from '../../../src/core/systematic.js';
import { REDACTED, type FieldDiff } from '../../../src/core/verdict.js';

const kindOf = (cache: unknown, source: unknown) => recognizeTransformation(cache, source)?.kind;
const summaryOf = (cache: unknown, source: unknown) => recognizeTransformation(cache, source)?.summary;

describe('recognizeTransformation: the same value in another form', () => {
  it('an ISO timestamp of the same day cached for a date', () => {
    expect(recognizeTransformation('2024-02-29T09:30:00.000Z', '2024-02-29')).toMatchObject({
      kind: 'date-vs-timestamp',
      summary: 'cache ISO timestamp, source date',
    });
    expect(summaryOf('2024-02-29', '2024-02-29T00:00:00Z')).toBe('cache date, source ISO timestamp');
    // Epoch seconds of a moment of that day.
    expect(summaryOf(1709199000, '2024-02-29')).toBe('cache epoch seconds, source date');
  });

  it('epoch seconds vs epoch milliseconds of the same instant', () => {
    expect(recognizeTransformation(1714557600, 1714557600123)).toMatchObject({
      kind: 'seconds-vs-milliseconds',
      summary: 'cache epoch seconds, source epoch milliseconds',
    });
    expect(summaryOf('1714557600123', 1714557600)).toBe('cache epoch milliseconds, source epoch seconds');
  });

  it('an epoch number vs an ISO timestamp of the same instant', () => {
    expect(summaryOf(1714557600, '2024-05-01T10:00:00Z')).toBe('cache epoch seconds, source ISO timestamp');
    expect(summaryOf('2024-05-01T10:00:00.250Z', 1714557600250)).toBe('cache ISO timestamp, source epoch milliseconds');
  });

  it('the same instant spelled another way, and a shift by a time zone', () => {
    expect(summaryOf('2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00Z')).toBe('cache ISO timestamp with offset, source ISO timestamp in UTC (Z)');
    expect(summaryOf('2024-05-01 10:00:00', '2024-05-01T10:00:00Z')).toBe('cache SQL timestamp without zone, source ISO timestamp in UTC (Z)');
    expect(summaryOf('2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00Z')).toBe(
      'cache ISO timestamp in UTC (Z) with fraction, source ISO timestamp in UTC (Z) without fraction',
    );
    expect(recognizeTransformation('2024-05-01T12:00:00', '2024-05-01T10:00:00Z')).toMatchObject({
      kind: 'time-zone',
      summary: 'cache 2 h ahead of source (the same time read in another time zone)',
    });
    // Two different shifts are two different ways.
    expect(recognizeTransformation('2024-05-01T12:00:00', '2024-05-01T10:00:00Z')?.signature).not.toBe(
      recognizeTransformation('2024-05-01T11:00:00', '2024-05-01T10:00:00Z')?.signature,
    );
  });

  it('case and surrounding whitespace', () => {
    expect(recognizeTransformation('alice smith', 'Alice Smith')).toMatchObject({ kind: 'case', summary: 'cache lowercase, source another case' });
    // Lowercased in the cache is one way whatever case the source had.
    expect(recognizeTransformation('bob', 'BOB')?.signature).toBe(recognizeTransformation('alice', 'Alice')?.signature);
    expect(summaryOf('ALICE', 'Alice')).toBe('cache uppercase, source another case');
    expect(recognizeTransformation(' alice ', 'alice')).toMatchObject({ kind: 'whitespace', summary: 'cache with surrounding whitespace, source trimmed' });
    expect(kindOf(' Alice', 'alice')).toBe('case');
  });

  it('numbers equal at a lower precision', () => {
    // What many serializers print for a double, against the double's shortest form.
    expect(recognizeTransformation('-37.556708200000003', -37.5567082)).toMatchObject({ kind: 'precision' });
    expect(kindOf('42.0', 42)).toBe('precision');
    expect(summaryOf(0.10000000149011612, 0.1)).toBe('cache more decimal places, source fewer; equal at the lower precision');
    expect(summaryOf('9.5', '9.499')).toBe('cache fewer decimal places, source more; equal at the lower precision');
  });

  it('the same value as another type', () => {
    expect(summaryOf(42, '42')).toBe('cache number, source string');
    expect(summaryOf(1, true)).toBe('cache number 0/1, source boolean');
    expect(summaryOf('yes', true)).toBe('cache string "yes"/"no", source boolean');
    expect(summaryOf('{"a":1,"b":[2]}', { b: [2], a: 1 })).toBe('cache JSON text, source object');
    expect(summaryOf(['viewer', 'editor'], '{viewer,editor}')).toBe('cache array, source PostgreSQL array text');
  });

  it('empty string vs null, and a value on one side only', () => {
    expect(summaryOf('', null)).toBe('cache empty string, source null');
    expect(summaryOf(null, 'x')).toBe('cache null or missing, source a value');
    expect(summaryOf(undefined, 3)).toBe('cache null or missing, source a value');
    expect(summaryOf('x', null)).toBe('cache a value, source null or missing');
  });

  it('a unit: the same number 1000 or 100 times larger', () => {
    expect(recognizeTransformation(300_000, 300)).toMatchObject({ kind: 'scale', summary: 'cache 1000 × source (another unit)' });
    expect(kindOf(950, 9.5)).toBe('scale');
  });
});

describe('recognizeTransformation: stale data is not a transformation', () => {
  it.each([
    ['basic', 'pro'],
    [10, 12],
    ['9.50', '9.75'],
    [1.5, 2],
    [true, false],
    [1, false],
    ['2024-02-28', '2024-02-29'],
    ['2024-02-28T10:00:00Z', '2024-02-29'],
    ['2024-05-01T10:00:00Z', '2024-05-01T10:07:13Z'],
    [1714557600, 1714557613],
    // Two epoch numbers an hour apart are two times, not a time zone.
    [1714557600, 1714561200],
    ['alice', 'alicia'],
    [{ a: 1 }, '{"a":2}'],
    [null, null],
  ])('%j vs %j', (cache, source) => {
    expect(recognizeTransformation(cache, source)).toBeUndefined();
  });

  it('never recognises a redacted field (REDACTED on both sides)', () => {
    expect(recognizeTransformation(REDACTED, REDACTED)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

const diffOf = (path: string, cache: unknown, source: unknown): FieldDiff[] => [{ path, cache, source }];

function findings(family: string, count: number, make: (i: number) => Partial<TalliedFinding>): TalliedFinding[] {
  return Array.from({ length: count }, (_, i) => ({ family, verdict: 'match', diff: [], ...make(i) }));
}

function tallyOf(...groups: TalliedFinding[][]): SystematicTally {
  const tally = new SystematicTally();
  for (const f of groups.flat()) tally.add(f);
  return tally;
}

const dayDiff = (i: number) => {
  const day = `2024-03-${String((i % 28) + 1).padStart(2, '0')}`;
  return diffOf('day', `${day}T09:30:00.000Z`, day);
};

describe('SystematicTally', () => {
  it('40 of 40 keys differing by date vs timestamp give one warning for the family and the field', () => {
    const tally = tallyOf(findings('events', 40, (i) => ({ verdict: 'divergent', reason: 'stale-repopulated', diff: dayDiff(i) })));
    const warnings = tally.warnings();
    expect(warnings).toEqual([
      {
        kind: 'systematic',
        family: 'events',
        field: 'day',
        message: expect.stringContaining('field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date; likely a rules or normalization problem, not stale data'),
      },
    ]);
    // Forms, never values.
    expect(warnings[0]?.message).not.toMatch(/2024/);
  });

  it('a family with 2% stale keys among matches never triggers, even when each stale key looks like a transformation', () => {
    const stale = (n: number, make: (i: number) => FieldDiff[]) =>
      findings('plans', n, (i) => ({ verdict: 'divergent', reason: 'stale-repopulated', diff: make(i) }));
    // Ordinary stale values.
    expect(tallyOf(findings('plans', 98, () => ({})), stale(2, () => diffOf('plan', 'basic', 'pro'))).warnings()).toEqual([]);
    // 200 of 10,000 keys, every one a nullable column set since it was cached, or lowercased.
    expect(tallyOf(findings('plans', 9800, () => ({})), stale(200, () => diffOf('cancelled_at', null, '2024-05-01T10:00:00Z'))).warnings()).toEqual([]);
    expect(tallyOf(findings('plans', 9800, () => ({})), stale(200, () => diffOf('name', 'alice', 'Alice'))).warnings()).toEqual([]);
  });

  it('needs most of the differing keys to differ the same way', () => {
    const same = findings('events', 30, (i) => ({ verdict: 'divergent', reason: 'no-ttl', diff: dayDiff(i) }));
    const other = findings('events', 10, (i) => ({ verdict: 'divergent', reason: 'no-ttl', diff: diffOf('plan', `p${i}`, `q${i}`) }));
    expect(tallyOf(same, other).warnings()).toEqual([]); // 30/40 = 75%
    expect(tallyOf(same, other.slice(0, 7)).warnings()).toHaveLength(1); // 30/37 ≥ 80%
  });

  it(`needs at least ${SYSTEMATIC_MIN_KEYS} keys`, () => {
    const make = (n: number) => findings('events', n, (i) => ({ verdict: 'within-ttl', reason: 'ttl-bounded-assumed', diff: dayDiff(i) }));
    expect(tallyOf(make(SYSTEMATIC_MIN_KEYS - 1)).warnings()).toEqual([]);
    expect(tallyOf(make(SYSTEMATIC_MIN_KEYS)).warnings()).toHaveLength(1);
  });

  it('counts within-ttl and divergent keys; not converged, error or skipped ones', () => {
    const tally = tallyOf(
      findings('events', 10, (i) => ({ verdict: i % 2 === 0 ? 'within-ttl' : 'divergent', reason: i % 2 === 0 ? 'ttl-bounded' : 'no-ttl', diff: dayDiff(i) })),
      findings('events', 50, (i) => ({ verdict: 'within-ttl', reason: 'converged', diff: diffOf('plan', `p${i}`, `q${i}`) })),
      findings('events', 50, () => ({ verdict: 'error', reason: 'undecodable' })),
    );
    expect(tally.warnings()[0]?.message).toContain('on 10/10 differing keys the same way (60 judged)');
  });

  it('folds array indices, counts a key once per field, and keeps families apart', () => {
    const tally = tallyOf(
      findings('orders', 6, () => ({
        verdict: 'divergent',
        reason: 'no-ttl',
        diff: [
          { path: 'items[0].at', cache: 1714557600, source: 1714557600000 },
          { path: 'items[1].at', cache: 1714557601, source: 1714557601000 },
        ],
      })),
      findings('users', 6, (i) => ({ verdict: 'divergent', reason: 'no-ttl', diff: diffOf('email', `u${i}@x.io`, `U${i}@x.io`) })),
    );
    const warnings = tally.warnings();
    expect(warnings.map((w) => [w.family, w.field])).toEqual([
      ['orders', 'items[].at'],
      ['users', 'email'],
    ]);
    expect(warnings[0]?.message).toContain('on 6/6 differing keys');
  });

  it('gives a warning per field when several fields differ systematically, most keys first', () => {
    const tally = tallyOf(
      findings('users', 20, (i) => ({
        verdict: 'divergent',
        reason: 'no-ttl',
        diff: [...diffOf('email', `u${i}@x.io`, `U${i}@x.io`), ...(i < 18 ? diffOf('score', 1.5, '1.5') : [])],
      })),
    );
    expect(tally.warnings().map((w) => w.field)).toEqual(['email', 'score']);
  });

  it('never concludes on a redacted field', () => {
    const tally = tallyOf(findings('users', 40, () => ({ verdict: 'divergent', reason: 'no-ttl', diff: diffOf('email', REDACTED, REDACTED) })));
    expect(tally.warnings()).toEqual([]);
  });

  it('keeps memory bounded: pairs beyond the cap are not tracked', () => {
    const tally = new SystematicTally();
    for (let i = 0; i < MAX_PAIRS_PER_FAMILY * 4; i++) {
      tally.add({ family: 'maps', verdict: 'divergent', reason: 'no-ttl', diff: diffOf(`prices.k${i}`, 'a', 'A') });
    }
    const pairs = (tally as unknown as { families: Map<string, { pairs: Map<string, unknown> }> }).families.get('maps')?.pairs;
    expect(pairs?.size).toBe(MAX_PAIRS_PER_FAMILY);
    expect(tally.warnings()).toEqual([]);
  });
});

describe('explain and the gate', () => {
  it('a key whose every differing field is a transformation gets the rules hint', () => {
    expect(transformationHint(diffOf('day', '2024-03-01T09:30:00Z', '2024-03-01'))).toMatch(
      /^field `day`: cache ISO timestamp, source date: the same value in another form, likely a rules or normalization problem, not stale data/,
    );
  });

  it('a key with a value difference keeps the reason\'s hint, with a note on the fields that differ only in form', () => {
    const diff = [...diffOf('day', '2024-03-01T09:30:00Z', '2024-03-01'), ...diffOf('plan', 'basic', 'pro')];
    expect(transformationHint(diff)).toBeUndefined();
    expect(transformationNotes(diff)).toEqual(['field `day` differs only in form: cache ISO timestamp, source date']);
  });

  it('one key with a value on one side only is not called a rules problem', () => {
    expect(transformationHint(diffOf('cancelled_at', null, '2024-05-01T10:00:00Z'))).toBeUndefined();
    expect(transformationHint(diffOf('email', REDACTED, REDACTED))).toBeUndefined();
    expect(transformationHint([])).toBeUndefined();
  });

  it('names the suspected rules problem of a family for a gate failure', () => {
    const warnings = tallyOf(findings('events', 40, (i) => ({ verdict: 'divergent', reason: 'stale-repopulated', diff: dayDiff(i) }))).warnings();
    expect(suspectedRulesProblem(warnings, 'events')).toBe(
      'suspected rules problem in family events, not stale data: field `day` differs on 40/40 differing keys the same way (40 judged): cache ISO timestamp, source date',
    );
    expect(suspectedRulesProblem(warnings, 'plans')).toBeUndefined();
    expect(suspectedRulesProblem([{ kind: 'rules', family: 'events', message: 'm' }], 'events')).toBeUndefined();
  });
});
