/**
 * Passwords in connection URLs must never reach a message, a log line or a report, even when the
 * URL is malformed (that is exactly when it gets printed). So this works on raw text, not on a
 * parsed URL: `scheme://user:secret@host` becomes `scheme://user:***@host` wherever it appears.
 */
// Greedy up to the last "@" of the token: an unescaped "@" in a password must not leak its tail.
const USERINFO_PASSWORD = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/@:"']*):[^\s"']*@/g;

export function redactUrlPasswords(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1:***@');
}
