import { describe, expect, it } from 'vitest';
import { toDecimal } from '../../../src/core/decimal.js';
import { displayValue } from '../../../src/core/display.js';
import { formatInstant, instantFromEpoch, instantOf, instantsEqual, parseInstant, preciseDateOf } from '../../../src/core/instant.js';
import { isTimeZone, zoneOffsetMs } from '../../../src/core/time-zone.js';

const epoch = (text: string) => instantFromEpoch(toDecimal(text) ?? { neg: false, digits: '', exp: 0 });

describe('epoch numbers: the magnitude gives the unit', () => {
  it('seconds, milliseconds, microseconds and nanoseconds of one instant agree', () => {
    const forms = ['1714557600.123456', '1714557600123.456', '1714557600123456', '1714557600123456000'];
    const instants = forms.map(epoch);
    for (const i of instants) expect(i).toMatchObject({ ms: 1714557600123, nanos: 456000 });
    expect(instants.map((i) => i?.digits)).toEqual([6, 6, 6, 9]);
  });
  it('integer seconds carry no fraction digits; milliseconds carry three', () => {
    expect(epoch('1714557600')).toEqual({ ms: 1714557600000, nanos: 0, digits: 0 });
    expect(epoch('1714557600123')).toEqual({ ms: 1714557600123, nanos: 0, digits: 3 });
  });
  it('before 1970 floors, as an ISO fraction does', () => {
    expect(epoch('-1.5')).toEqual({ ms: -1500, nanos: 0, digits: 1 });
  });
});

describe('timestamp texts', () => {
  it('keeps up to nine fraction digits and reads offsets', () => {
    expect(parseInstant('2024-05-01T10:00:00.123456789Z')).toEqual({ ms: 1714557600123, nanos: 456789, digits: 9 });
    expect(parseInstant('2024-05-01 12:00:00.5+02')).toEqual({ ms: 1714557600500, nanos: 0, digits: 1 });
  });
  it('reads a zone-less text in the zone given, across daylight saving', () => {
    expect(parseInstant('2024-01-15 10:00:00', 'Europe/Paris')?.ms).toBe(Date.UTC(2024, 0, 15, 9));
    expect(parseInstant('2024-07-15 10:00:00', 'Europe/Paris')?.ms).toBe(Date.UTC(2024, 6, 15, 8));
    expect(parseInstant('2024-07-15 10:00:00', '-05:30')?.ms).toBe(Date.UTC(2024, 6, 15, 15, 30));
  });
  it('compares at the coarser precision, and displays the digits it has', () => {
    const a = parseInstant('2024-05-01T10:00:00.123456Z');
    const b = parseInstant('2024-05-01T10:00:00.123Z');
    expect(a !== undefined && b !== undefined && instantsEqual(a, b)).toBe(true);
    const c = parseInstant('2024-05-01T10:00:00.123457Z');
    expect(a !== undefined && c !== undefined && instantsEqual(a, c)).toBe(false);
    expect(formatInstant(a ?? { ms: 0, nanos: 0, digits: 0 })).toBe('2024-05-01T10:00:00.123456Z');
    expect(displayValue(preciseDateOf('2024-05-01 10:00:00.000001+00'))).toBe('2024-05-01T10:00:00.000001Z');
  });
  it("PHP's serialized DateTime is read in its own zone", () => {
    expect(instantOf({ date: '2024-05-01 12:00:00.000000', timezone_type: 3, timezone: 'Europe/Paris' })?.ms).toBe(Date.UTC(2024, 4, 1, 10));
  });
});

describe('time zones', () => {
  it('accepts IANA names, fixed offsets and UTC; refuses the rest', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('+02:00')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(zoneOffsetMs('America/New_York', Date.UTC(2024, 0, 1))).toBe(-5 * 3600_000);
  });
});
