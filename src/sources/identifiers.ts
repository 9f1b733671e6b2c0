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
