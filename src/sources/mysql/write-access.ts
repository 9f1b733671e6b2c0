/** Whether the MySQL / MariaDB user a loader connects as could write (see ../write-access.ts for why it is asked). */

/** Privileges of a MySQL / MariaDB grant that change data, schema or server files. */
const MYSQL_WRITE_PRIVILEGES = [
  'ALL PRIVILEGES', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX', 'FILE', 'SUPER', 'TRIGGER', 'EVENT',
  'CREATE ROUTINE', 'ALTER ROUTINE', 'DELETE HISTORY', 'LOCK TABLES', 'SHUTDOWN',
];

/**
 * The write privileges among `SHOW GRANTS` lines (`GRANT SELECT, INSERT ON db.* TO ...`), or
 * undefined when there are none. Role grants (`GRANT role TO user`, no ON) name no privilege.
 */
export function mysqlWriteAccess(grants: readonly string[], user: string): string | undefined {
  const found = new Set<string>();
  for (const line of grants) {
    const privileges = /^GRANT\s+(.+?)\s+ON\s/i.exec(line)?.[1];
    if (privileges === undefined) continue;
    for (const raw of privileges.split(',')) {
      // `UPDATE (col)`: a column privilege is still a write.
      const privilege = raw.replace(/\(.*\)/, '').trim().toUpperCase();
      if (MYSQL_WRITE_PRIVILEGES.includes(privilege)) found.add(privilege === 'ALL PRIVILEGES' ? 'ALL' : privilege);
    }
  }
  return found.size === 0 ? undefined : `user ${user} has ${[...found].join(', ')}`;
}
