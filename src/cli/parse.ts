import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';

/** A commander argument parser for whole numbers >= min, with a message naming the flag. */
export function integer(flag: string, min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${flag} takes a whole number >= ${min}, got "${value}".`);
    }
    return Number(value);
  };
}

/** A ratio in 0..1 (a trailing % is accepted: 99.9% = 0.999). */
export function ratio(flag: string): (value: string) => number {
  return (value) => {
    const percent = value.trim().endsWith('%');
    const n = Number(percent ? value.trim().slice(0, -1) : value);
    const r = percent ? n / 100 : n;
    if (value.trim() === '' || !Number.isFinite(r) || r < 0 || r > 1) {
      throw new InvalidArgumentError(`${flag} takes a ratio between 0 and 1 (or a percentage like 99.9%), got "${value}".`);
    }
    return r;
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (process.env['NO_COLOR'] ?? '') === '';
}

/** A duration like 90s, 5m or 1h, in ms. */
export function duration(flag: string): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value.trim());
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${flag} takes a duration like 90s, 5m or 1h, got "${value}".`);
    return ms;
  };
}
