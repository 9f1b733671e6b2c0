/**
 * Key names split into their ':'-separated parts, and which parts look like ids.
 *
 * Key schemes separate their parts with ':' (`user:42:profile`), and a pattern's placeholder never
 * spans a ':', so the parts are the unit of inference. A part "looks like an id" when it is a
 * number, a UUID, or a short run of letters, digits, '-', '_' and '.' holding at least one digit
 * (`SKU-0042`, `a1b2c3d4`, `2024-05-01`). Words without digits (`user`, `account-limits`) are
 * taken for names of things, not ids.
 */

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALNUM_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_ID_LENGTH = 64;

/** What an id part looks like; it decides which key columns can hold it. */
export type IdShape = 'digits' | 'uuid' | 'alnum' | 'name';

export function splitKey(key: string): string[] {
  return key.split(':');
}

export function isIdLike(part: string): boolean {
  if (part === '' || part.length > MAX_ID_LENGTH) return false;
  if (DIGITS.test(part) || UUID.test(part)) return true;
  return ALNUM_ID.test(part) && /\d/.test(part);
}

/** The shape of a set of ids: the narrowest one every id fits. */
export function idShape(ids: readonly string[]): IdShape {
  if (ids.length > 0 && ids.every((id) => DIGITS.test(id))) return 'digits';
  if (ids.length > 0 && ids.every((id) => UUID.test(id))) return 'uuid';
  if (ids.length > 0 && ids.every((id) => isIdLike(id))) return 'alnum';
  return 'name';
}
