/** PostgreSQL's identifier quoting, for the SQL a loader writes from a rules file's names. */
import { splitQualifiedName } from '../identifiers.js';

/** `"name"` with embedded double quotes doubled: always safe as a PostgreSQL identifier. */
export function quotePgIdentifier(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * A rules-file table name as PostgreSQL would read it unquoted in SQL: bare parts fold to lower
 * case (`App.Users` is `app.users`), quoted parts keep their case (`"Users"`). Every part is then
 * quoted, so no text from the rules file reaches the SQL unescaped.
 */
export function pgTableName(table: string): string {
  return splitQualifiedName(table, '"')
    // PostgreSQL folds only ASCII letters of an unquoted name (in UTF-8 databases).
    .map((p) => quotePgIdentifier(p.quoted ? p.text : p.text.replace(/[A-Z]+/g, (m) => m.toLowerCase())))
    .join('.');
}
