import { isLosslessNumber } from 'lossless-json';
import { REDACTED } from '../core/verdict.js';
import { toJsonValue } from '../core/report-document/index.js';
import { isTerminalUnsafe } from '../util/terminal-unsafe.js';


/**
 * Makes text from the cache safe to print on a terminal: unsafe code points become `\xNN`
 * (or `\uNNNN` above 0xFF). Backslashes are left alone: non-UTF-8 key bytes arrive already escaped
 * as `\xNN`, and escaping them again would garble them.
 */
export function escapeControl(text: string): string {
  let out = '';
  let clean = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isTerminalUnsafe(code)) continue;
    out += text.slice(clean, i);
    out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    clean = i + 1;
  }
  return clean === 0 ? text : out + text.slice(clean);
}

/** Cuts text to at most `max` code points, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Cache-derived text for one table cell: escaped first, then cut, so escapes count toward the width. */
export function safeText(text: string, max = Infinity): string {
  return truncate(escapeControl(text), max);
}

const UNITS = [
  { size: 1, suffix: 'ms', next: 1000 },
  { size: 1000, suffix: 's', next: 60 },
  { size: 60_000, suffix: 'm', next: 60 },
  { size: 3_600_000, suffix: 'h', next: Infinity },
] as const;

/** 850ms, 12.3s, 4.5m, 2h; '-' when unknown. */
export function humanMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const unit = UNITS[i];
    if (unit === undefined || (abs < unit.size && i > 0)) continue;
    const decimals = unit.size === 1 ? 0 : 1;
    const value = Number((abs / unit.size).toFixed(decimals));
    // 59.96s rounds to 60.0: say 1m rather than 60s.
    const upper = UNITS[i + 1];
    if (value >= unit.next && upper !== undefined) return `${sign}${trimZero((abs / upper.size).toFixed(1))}${upper.suffix}`;
    return `${sign}${trimZero(value.toFixed(decimals))}${unit.suffix}`;
  }
  return '-';
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** PTTL as Redis reports it: -1 is no expiry, -2 is no key. */
export function humanPttl(pttlMs: number | undefined): string {
  if (pttlMs === -1) return 'none';
  if (pttlMs === -2) return 'gone';
  return humanMs(pttlMs);
}

/**
 * A ratio as a percentage with 2 decimals, rounded down so that anything short of perfect never
 * reads 100.00%. The small epsilon absorbs float error (0.29 * 10000 is 2899.9999999999995).
 */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '-';
  return `${(Math.floor(ratio * 10_000 + 1e-9) / 100).toFixed(2)}%`;
}

/**
 * A payload value for a diff line: strings quoted (so "1" and 1, "null" and null differ on
 * screen), exact numbers as digits, the redaction mask and absence as themselves. Not yet escaped.
 */
export function renderValue(value: unknown): string {
  if (value === REDACTED) return REDACTED;
  if (value === undefined) return '(absent)';
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (isLosslessNumber(value)) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return JSON.stringify(toJsonValue(value)) ?? String(value);
}
