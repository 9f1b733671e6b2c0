/**
 * Masks the password (and any `password`-like query parameter) in a connection URL so it can be
 * printed, logged or reported. A string that is not a URL is returned with `user:pass@` masked.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token/i.test(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@');
  }
}
