/**
 * UTC offsets of the time zones a rules file may name for a source (`timezone:`): `UTC`, a fixed
 * offset (`+02:00`, `-0530`) or an IANA name (`Europe/Paris`), resolved with the platform's ICU
 * (Intl), so daylight saving follows the tz database Node ships with.
 */
const FIXED = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      f = null; // RangeError: not a time zone this platform knows
    }
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` can be used as a source's time zone. */
export function isTimeZone(zone: string): boolean {
  return zone === 'UTC' || zone === 'Z' || FIXED.test(zone) || formatterFor(zone) !== null;
}

/** The offset of `zone` from UTC at the instant `utcMs`, ms (east positive); undefined for an unknown zone. */
export function zoneOffsetMs(zone: string, utcMs: number): number | undefined {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const fixed = FIXED.exec(zone);
  if (fixed !== null) {
    const size = (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
    return fixed[1] === '-' ? -size : size;
  }
  const f = formatterFor(zone);
  if (f === null) return undefined;
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(utcMs))) parts[p.type] = p.value;
  let year = Number(parts['year']);
  if (parts['era'] === 'BC' || parts['era'] === 'B') year = 1 - year;
  const wall = Date.UTC(year, Number(parts['month']) - 1, Number(parts['day']), Number(parts['hour']), Number(parts['minute']), Number(parts['second']));
  // Whole seconds on both sides: the formatter drops the milliseconds.
  return wall - Math.floor(utcMs / 1000) * 1000;
}
