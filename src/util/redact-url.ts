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
    // Not a WHATWG URL (a host list like h1:26379,h2:26379): mask user:pass@ and secret parameters.
    return url
      .replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@')
      .replace(/([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&#]*/gi, '$1***');
  }
}
