/**
 * Name matching across naming styles: key parts (`account-limits`), table names
 * (`account_limits`, `users`) and cached field names (`monthlyApiLimit`) against columns
 * (`monthly_api_limit`).
 */

/** Lower-case words of a name in any style: camelCase, PascalCase, snake_case, kebab-case, dots. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/** English singular of one word, good enough for table names: users → user, categories → category. */
export function singular(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes|zzes)$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function singularWords(name: string): string[] {
  const w = words(name);
  return w.length === 0 ? w : [...w.slice(0, -1), singular(w[w.length - 1] as string)];
}

/**
 * How well a key part names a table: 3 the same words (`account-limits` / `account_limits`),
 * 2 the same up to a plural (`user` / `users`), 1 the table's name ends with the part's words
 * (`user` / `app_users`), 0 unrelated.
 */
export function nameMatchLevel(part: string, table: string): 0 | 1 | 2 | 3 {
  const a = words(part);
  const b = words(table);
  if (a.length === 0 || b.length === 0) return 0;
  if (a.join('_') === b.join('_')) return 3;
  const sa = singularWords(part);
  const sb = singularWords(table);
  if (sa.join('_') === sb.join('_')) return 2;
  if (sb.length > sa.length && sb.slice(-sa.length).join('_') === sa.join('_')) return 1;
  return 0;
}

/**
 * Which column each cached field is: the same name first, then the same name ignoring case,
 * then the same words (`monthlyApiLimit` / `monthly_api_limit`). Each column serves one field.
 */
export function mapFieldsToColumns(fields: readonly string[], columns: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  const tiers: ((f: string, c: string) => boolean)[] = [
    (f, c) => f === c,
    (f, c) => f.toLowerCase() === c.toLowerCase(),
    (f, c) => words(f).join('_') === words(c).join('_') && words(f).length > 0,
  ];
  for (const same of tiers) {
    for (const field of fields) {
      if (out.has(field)) continue;
      const column = columns.find((c) => !used.has(c) && same(field, c));
      if (column === undefined) continue;
      out.set(field, column);
      used.add(column);
    }
  }
  return out;
}

/** A name usable as a pattern placeholder (letters, digits, '_', not starting with a digit). */
export function placeholderName(column: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? column : 'id';
}
