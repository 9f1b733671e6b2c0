/**
 * Quoting of the names a rules file gives (`table: app.users`, `key: id`) so that a loader can
 * write its batched SELECT without ever pasting raw text into SQL.
 */

export interface NamePart {
  text: string;
  /** Written in the rules file inside the quote character (`"My Table"`, `` `order` ``). */
  quoted: boolean;
}

/**
 * Splits a possibly qualified name on the dots outside quotes: `app.users`, `"My Schema".users`.
 * Inside quotes a doubled quote character stands for itself, as in SQL. Throws on an empty part or
 * an unterminated quote, with a message naming the problem.
 */
export function splitQualifiedName(name: string, quote: '"' | '`'): NamePart[] {
  const parts: NamePart[] = [];
  let i = 0;
  for (;;) {
    if (name[i] === quote) {
      let text = '';
      i++;
      for (;;) {
        if (i >= name.length) throw new Error(`name ${name} has an unterminated ${quote}`);
        if (name[i] === quote) {
          if (name[i + 1] === quote) {
            text += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += name[i];
        i++;
      }
      if (text === '') throw new Error(`name ${name} has an empty quoted part`);
      parts.push({ text, quoted: true });
    } else {
      const end = name.indexOf('.', i);
      const text = (end === -1 ? name.slice(i) : name.slice(i, end)).trim();
      if (text === '') throw new Error(`name "${name}" has an empty part; write it as schema.table or table`);
      if (text.includes(quote)) throw new Error(`name ${name} has a stray ${quote}`);
      parts.push({ text, quoted: false });
      i = end === -1 ? name.length : end;
    }
    if (i >= name.length) return parts;
    if (name[i] !== '.') throw new Error(`name ${name} has text after a closing ${quote}; expected "."`);
    i++;
  }
}

/** `"name"` with embedded double quotes doubled: always safe as a PostgreSQL identifier. */
export function quotePgIdentifier(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** `` `name` `` with embedded backticks doubled: always safe as a MySQL identifier. */
export function quoteMysqlIdentifier(text: string): string {
  return `\`${text.replaceAll('`', '``')}\``;
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

/** A rules-file table name for MySQL: `shop.products` or `` `order` ``; case is left to the server. */
export function mysqlTableName(table: string): string {
  return splitQualifiedName(table, '`')
    .map((p) => quoteMysqlIdentifier(p.text))
    .join('.');
}
