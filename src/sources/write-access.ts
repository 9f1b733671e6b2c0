/**
 * Whether the role a loader connects as could write, asked once at start. shadowcheck's own
 * guarantees (read-only transactions, the query policy of read-only-query.ts) cover what it sends;
 * a role without write privileges makes "read-only" a guarantee the database itself keeps, even
 * against a user-defined function the policy cannot look into. A role that can write is a warning,
 * never a failure: many teams audit with an application role.
 */

/** The warning's sentence, the same for every kind of source. */
export function writeAccessMessage(source: string, what: string): string {
  return (
    `source "${source}": ${what}. shadowcheck only reads (read-only transactions, and one plain SELECT per family query), ` +
    'but a read-only database role makes that a guarantee the database keeps: see "Read-only guarantees" in the README'
  );
}
