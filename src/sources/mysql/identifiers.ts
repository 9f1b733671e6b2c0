/** MySQL's identifier quoting, for the SQL a loader writes from a rules file's names. */
import { splitQualifiedName } from '../identifiers.js';

/** `` `name` `` with embedded backticks doubled: always safe as a MySQL identifier. */
export function quoteMysqlIdentifier(text: string): string {
  return `\`${text.replaceAll('`', '``')}\``;
}

/** A rules-file table name for MySQL: `shop.products` or `` `order` ``; case is left to the server. */
export function mysqlTableName(table: string): string {
  return splitQualifiedName(table, '`')
    .map((p) => quoteMysqlIdentifier(p.text))
    .join('.');
}
