import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';

/**
 * The range of every number flag, in one place (the README's flag table quotes it). Past these
 * bounds a flag does harm rather than nothing: Node timers take at most 2^31-1 ms and fire at
 * once beyond it, a delay of days spins the confirmation loop, a batch of 200,000 keys overflows
 * the stack when spread into one call, and Redis values are at most 512 MiB.
 */
export const NUMBER_RANGES = {
  '--sample': { min: 1, max: 10_000_000 },
  '--seed': { min: 0, max: 4_294_967_295 },
  '--rate': { min: 1, max: 1_000_000 },
  '--concurrency': { min: 1, max: 64 },
  '--batch': { min: 1, max: 10_000 },
  '--target-query-ms': { min: 1, max: 600_000 },
  '--confirm-delay': { min: 0, max: 3_600_000 },
  '--timeout': { min: 1, max: 3_600_000 },
  '--max-value-bytes': { min: 1, max: 512 * 1024 * 1024 },
  '--max-divergent': { min: 0, max: Number.MAX_SAFE_INTEGER },
} as const satisfies Record<string, { min: number; max: number }>;

/** Ranges of the duration flags, in ms (shown in the unit the flag is written in). */
export const DURATION_RANGES = {
  '--recent': { min: 1, max: 366 * 24 * 3_600_000, shown: '1ms to 366 days' },
  '--max-replica-lag': { min: 1, max: 3_600_000, shown: '1ms to 1h' },
} as const satisfies Record<string, { min: number; max: number; shown: string }>;

export type NumberFlag = keyof typeof NUMBER_RANGES;

/** A commander argument parser for a whole number in the flag's range, with a message naming the flag, the value and the range. */
export function integer(flag: NumberFlag): (value: string) => number {
  const { min, max } = NUMBER_RANGES[flag];
  return (value) => {
    const n = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number >= ${min}, got "${printable(value)}" (range: ${min} to ${max})`);
    }
    return n;
  };
}

/** The value as typed, cut short and with control characters escaped: it is echoed to a terminal. */
function printable(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A ratio in 0..1 (a trailing % is accepted: 99.9% = 0.999). */
export function ratio(flag: string): (value: string) => number {
  return (value) => {
    const percent = value.trim().endsWith('%');
    const n = Number(percent ? value.trim().slice(0, -1) : value);
    const r = percent ? n / 100 : n;
    if (value.trim() === '' || !Number.isFinite(r) || r < 0 || r > 1) {
      throw new InvalidArgumentError(`${flag} takes a ratio between 0 and 1 (or a percentage like 99.9%), got "${printable(value)}".`);
    }
    return r;
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (process.env['NO_COLOR'] ?? '') === '';
}

/** A duration like 90s, 5m or 1h, in ms, within the flag's range. */
export function duration(flag: keyof typeof DURATION_RANGES): (value: string) => number {
  const { min, max, shown } = DURATION_RANGES[flag];
  return (value) => {
    const ms = parseDuration(value.trim());
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${flag} takes a duration like 90s, 5m or 1h, got "${printable(value)}".`);
    if (ms < min || ms > max) throw new InvalidArgumentError(`${flag} takes a duration from ${shown}, got "${printable(value)}"`);
    return ms;
  };
}
