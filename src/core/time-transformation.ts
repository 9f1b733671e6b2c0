/**
 * Recognising a time value written in another form on one side (systematic.ts): a date for a
 * timestamp, epoch seconds for an ISO timestamp, seconds for milliseconds, another timestamp
 * spelling, or the same wall-clock time read in another time zone.
 */
import { parseTimestamp } from './timestamp.js';
import { numberOf, REMEDY, transformation, type Transformation } from './transformation.js';

/** Epoch numbers in seconds between 1973 and 2286; in milliseconds from 1973 to 5138. */
const EPOCH_S_MIN = 1e8;
const EPOCH_S_MAX = 1e10;
const EPOCH_MS_MIN = 1e11;
const EPOCH_MS_MAX = 1e14;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_ZONE_SHIFT_MS = 14 * 3_600_000;

type TimeForm =
  | { kind: 'date'; day: string }
  | { kind: 'timestamp'; ms: number; day: string; style: string }
  | { kind: 'epoch'; ms: number; unit: 's' | 'ms'; day: string };

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function timeForm(value: unknown): TimeForm | undefined {
  if (typeof value === 'string') {
    if (DATE_ONLY.test(value)) return parseTimestamp(value) === undefined ? undefined : { kind: 'date', day: value };
    if (value.length > 10) {
      const ms = parseTimestamp(value);
      if (ms !== undefined) return { kind: 'timestamp', ms, day: value.slice(0, 10), style: timestampStyle(value) };
    }
  }
  const n = numberOf(value);
  if (n === undefined) return undefined;
  const abs = Math.abs(n.value);
  if (abs >= EPOCH_S_MIN && abs < EPOCH_S_MAX) {
    const ms = Math.round(n.value * 1000);
    return { kind: 'epoch', ms, unit: 's', day: utcDay(ms) };
  }
  if (abs >= EPOCH_MS_MIN && abs < EPOCH_MS_MAX && Number.isInteger(n.value)) return { kind: 'epoch', ms: n.value, unit: 'ms', day: utcDay(n.value) };
  return undefined;
}

/**
 * "ISO timestamp in UTC (Z)", "SQL timestamp without zone", ... Fraction digits are left out:
 * writers such as Python's isoformat() drop the fraction when it is zero, so counting its digits
 * would split one way of writing into several.
 */
function timestampStyle(text: string): string {
  const separator = text.charAt(10) === ' ' ? 'SQL' : 'ISO';
  const rest = text.slice(11);
  const zone = /[Zz]$/.test(rest) ? 'in UTC (Z)' : /[+-]\d{2}(?::?\d{2}){0,2}$/.test(rest) ? 'with offset' : 'without zone';
  return `${separator} timestamp ${zone}`;
}

function hasFraction(text: unknown): boolean {
  return typeof text === 'string' && /\d[.,]\d/.test(text.slice(11));
}

function formName(form: TimeForm): string {
  switch (form.kind) {
    case 'date':
      return 'date';
    case 'timestamp':
      return 'ISO timestamp';
    case 'epoch':
      return form.unit === 's' ? 'epoch seconds' : 'epoch milliseconds';
  }
}

export function timeTransformation(cache: unknown, source: unknown): Transformation | undefined {
  const c = timeForm(cache);
  const s = timeForm(source);
  if (c === undefined || s === undefined) return undefined;
  if (c.kind === 'date' || s.kind === 'date') {
    // A date on both sides: two different days (or a date column the same on both).
    if (c.kind === s.kind) return undefined;
    return c.day === s.day ? transformation('date-vs-timestamp', formName(c), formName(s), REMEDY.date) : undefined;
  }
  const gap = c.ms - s.ms;
  const sameSecond = Math.floor(c.ms / 1000) === Math.floor(s.ms / 1000);
  if (c.kind === 'epoch' && s.kind === 'epoch') {
    if (c.unit !== s.unit && sameSecond) return transformation('seconds-vs-milliseconds', formName(c), formName(s), REMEDY.timestamp);
  } else if (c.kind === 'epoch' || s.kind === 'epoch') {
    if (sameSecond) return transformation('epoch-vs-timestamp', formName(c), formName(s), REMEDY.timestamp);
  } else if (gap === 0 || sameSecond) {
    // Same instant in another spelling (offset, separator), or cut to whole seconds on one side.
    const cs = (c as { style: string }).style;
    const ss = (s as { style: string }).style;
    if (cs !== ss) return transformation('timestamp-format', cs, ss, REMEDY.timestamp);
    const cf = hasFraction(cache);
    if (cf === hasFraction(source)) return undefined;
    return transformation('timestamp-format', `${cs} ${cf ? 'with' : 'without'} fraction`, `${ss} ${cf ? 'without' : 'with'} fraction`, REMEDY.timestamp);
  }
  // The same wall-clock time read in another time zone: a whole number of quarter hours apart.
  // Only with a timestamp string on one side (zone-less text is what gets read in the wrong
  // zone); two epoch numbers that far apart are more likely just two different times.
  const textual = c.kind === 'timestamp' || s.kind === 'timestamp';
  if (textual && gap !== 0 && gap % QUARTER_HOUR_MS === 0 && Math.abs(gap) <= MAX_ZONE_SHIFT_MS) {
    const shift = `${Math.abs(gap) / 3_600_000} h`;
    const cacheForm = formName(c);
    const sourceForm = formName(s);
    return {
      kind: 'time-zone',
      signature: `time-zone|${cacheForm}|${sourceForm}|${gap}`,
      summary: `cache ${shift} ${gap > 0 ? 'ahead of' : 'behind'} source (the same time read in another time zone)`,
      remedy: REMEDY.zone,
    };
  }
  return undefined;
}
