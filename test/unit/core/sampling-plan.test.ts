import { describe, expect, it } from 'vitest';
import { expectedRandomCalls, needsPilot, planSampling, type FamilyFacts, type PlanInputs } from '../../../src/core/sampling-plan.js';
import { ExitCode, UsageError } from '../../../src/errors.js';

const COMMON: FamilyFacts = { name: 'item', share: 0.1, sourceSampling: true };
const RARE: FamilyFacts = { name: 'rare', share: 0.001, sourceSampling: true };
const RARE_NO_TABLE: FamilyFacts = { name: 'note', share: 0.001, sourceSampling: false };

function plan(overrides: Partial<PlanInputs>) {
  return planSampling({ mode: 'auto', sample: 1000, dbsize: 5_000_000, randomKeys: true, families: [COMMON, RARE, RARE_NO_TABLE], ...overrides });
}

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('planSampling', () => {
  it('auto: random for a 10% family, source for a rare one with a table, scan for a rare one without', () => {
    const [common, rare, note] = plan({});
    expect(common?.method).toBe('random');
    expect(common?.why).toMatch(/~10% of 5,000,000 keys/);
    expect(common?.maxCalls).toBeGreaterThanOrEqual(10_000);
    expect(common?.maxCalls).toBeLessThanOrEqual(5_000_000);
    expect(rare?.method).toBe('source');
    expect(note?.method).toBe('scan');
    expect(note?.why).toMatch(/without a table/);
  });

  it('auto: rows of the table, not RANDOMKEY, once RANDOMKEY would take over 20 calls a key, even where a tenth of a SCAN allows it', () => {
    // 20M keys: RANDOMKEY for a 0.1% family costs ~1M calls, under a tenth of the keyspace, but
    // 1,000 calls per sampled key; a 2% family ~50 per key. Without a table RANDOMKEY stays.
    const families: FamilyFacts[] = [RARE, { name: 'two', share: 0.02, sourceSampling: true }, { name: 'two-no-table', share: 0.02, sourceSampling: false }, COMMON];
    const plans = plan({ dbsize: 20_000_000, families });
    expect(plans.map((p) => p.method)).toEqual(['source', 'source', 'random', 'random']);
    expect(plans[0]?.why).toContain('too rare for RANDOMKEY (about 1,025,866 calls)');
  });

  it('auto: scan on a small keyspace, whatever the shares', () => {
    expect(plan({ dbsize: 100_000 }).map((p) => p.method)).toEqual(['scan', 'scan', 'scan']);
    // 20 samples' worth is small too.
    expect(plan({ dbsize: 400_000, sample: 20_000 }).map((p) => p.method)).toEqual(['scan', 'scan', 'scan']);
    expect(plan({ dbsize: 100_000 })[0]?.why).toMatch(/small \(100,000 keys\)/);
  });

  it('auto: random only when its expected calls are at most a tenth of the keyspace', () => {
    // 1000 / 0.02 = 50,000 calls: over a tenth of 400,000 keys.
    const families = [{ name: 'x', share: 0.02, sourceSampling: false }];
    expect(plan({ dbsize: 400_000, families })[0]?.method).toBe('scan');
    expect(plan({ dbsize: 600_000, families })[0]?.method).toBe('random');
  });

  it('auto: scan when no pilot measured the shares or RANDOMKEY is unavailable', () => {
    expect(plan({ families: [{ name: 'x', sourceSampling: true }] })[0]?.method).toBe('scan');
    expect(plan({ randomKeys: false })[0]?.method).toBe('scan');
  });

  it('--all is one full pass for every family', () => {
    expect(plan({ sample: 'all' }).map((p) => p.method)).toEqual(['all', 'all', 'all']);
    expect(plan({ sample: 'all', mode: 'scan' }).map((p) => p.method)).toEqual(['all', 'all', 'all']);
    expect(usage(() => plan({ sample: 'all', mode: 'random' })).message).toMatch(/--all/);
  });

  it('explicit methods apply to every family, and one that cannot work names the family', () => {
    expect(plan({ mode: 'scan' }).map((p) => p.method)).toEqual(['scan', 'scan', 'scan']);
    expect(plan({ mode: 'random' }).map((p) => p.method)).toEqual(['random', 'random', 'random']);
    expect(usage(() => plan({ mode: 'random', randomKeys: false })).message).toMatch(/family "item"/);
    expect(usage(() => plan({ mode: 'source' })).message).toMatch(/family "note"/);
    expect(plan({ mode: 'source', families: [COMMON, RARE] }).map((p) => p.method)).toEqual(['source', 'source']);
  });
});

describe('needsPilot and expectedRandomCalls', () => {
  it('a pilot runs only for auto, a sample, a large keyspace and RANDOMKEY', () => {
    expect(needsPilot('auto', 1000, 5_000_000, true)).toBe(true);
    expect(needsPilot('auto', 1000, 50_000, true)).toBe(false);
    expect(needsPilot('auto', 'all', 5_000_000, true)).toBe(false);
    expect(needsPilot('scan', 1000, 5_000_000, true)).toBe(false);
    expect(needsPilot('auto', 1000, 5_000_000, false)).toBe(false);
  });

  it('costs about sample / share calls, more as the sample nears the family size, Infinity beyond it', () => {
    expect(expectedRandomCalls(1000, 0.1, 5_000_000)).toBeGreaterThan(10_000);
    expect(expectedRandomCalls(1000, 0.1, 5_000_000)).toBeLessThan(10_020);
    expect(expectedRandomCalls(1000, 0.1, 20_000)).toBeGreaterThan(13_000);
    expect(expectedRandomCalls(1000, 0.01, 50_000)).toBe(Infinity);
    expect(expectedRandomCalls(1000, 0, 50_000)).toBe(Infinity);
  });
});
