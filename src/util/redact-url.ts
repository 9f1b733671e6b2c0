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

/**
 * Text that may quote a connection URL or its password (a driver's or a user module's error
 * message), with any `//user:password@` masked and the URL's own password masked wherever it
 * appears, raw or percent-decoded (a very short password masks ordinary letters too: a garbled
 * message is better than a leaked secret).
 */
export function redactSecrets(text: string, url: string | undefined): string {
  let out = text.replace(/(\/\/[^\s:/@]*):([^\s@/]+)@/g, '$1:***@');
  let password = '';
  try {
    password = url === undefined ? '' : new URL(url).password;
  } catch {
    // not a URL: the pattern above is all there is to mask
  }
  if (password === '') return out;
  for (const form of new Set([password, safeDecode(password)])) out = out.split(form).join('***');
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
