/**
 * The id a key's placeholders capture, and how a source row answers it.
 *
 * A pattern with one placeholder (`user:{id}`) captures one part, and the id is that text as is:
 * `user:42` has id `42`, the form every report and `explain` shows. A pattern with several
 * (`tenant:{tenant}:user:{id}`) captures one part per placeholder, and the id is their JSON array,
 * `["acme","42"]`: unambiguous whatever the parts hold, and readable in a report.
 *
 * A row answers the id whose parts are its key columns rendered with String(), in the pattern's
 * placeholder order: the same text the key held, since a key is text.
 */

/** The id of a key from its captured parts (at least one). */
export function idFromParts(parts: readonly string[]): string {
  return parts.length === 1 ? (parts[0] as string) : JSON.stringify(parts);
}

/**
 * The parts of an id made by idFromParts for a key with `arity` placeholders (the family's key
 * column count). Throws on text that is not such an id: ids never come from users.
 */
export function idParts(id: string, arity: number): string[] {
  if (arity === 1) return [id];
  const parts: unknown = JSON.parse(id);
  if (!Array.isArray(parts) || parts.length !== arity || parts.some((p) => typeof p !== 'string')) {
    throw new Error(`id ${id} is not a list of ${arity} parts`);
  }
  return parts as string[];
}

/** The id a source row answers, or undefined when one of its key columns is null or missing. */
export function rowId(row: Readonly<Record<string, unknown>>, columns: readonly string[]): string | undefined {
  if (columns.length === 1) {
    // The common case, once per loaded row: no array.
    const value = row[columns[0] as string];
    return value === null || value === undefined ? undefined : String(value);
  }
  const parts: string[] = [];
  for (const column of columns) {
    const value = row[column];
    if (value === null || value === undefined) return undefined;
    parts.push(String(value));
  }
  return idFromParts(parts);
}
