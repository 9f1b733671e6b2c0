/**
 * The one place passwords in connection URLs are masked. Passwords must never reach a message, a
 * log line or a report, least of all when the URL is malformed (that is exactly when it gets
 * printed), so the credentials are found by raw text, never by trusting a parse: everything
 * between `scheme://` and the LAST `@` of the URL is userinfo. A WHATWG parser ends the authority
 * at the first `/`, `?` or `#`, so it reads `redis://:pa#ss@host` as host "" with a fragment
 * holding the rest of the password; the raw text does not.
 */

/** What to tell a user whose URL does not parse as written. */
export const PERCENT_ENCODE_HINT =
  'percent-encode special characters in the password: # is %23, @ is %40, / is %2F, ? is %3F, : is %3A, % is %25, a space is %20';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** A URL with userinfo inside any text: greedy up to the last `@` of its whitespace-free token. */
const URL_WITH_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)(\S*)@/g;
/** What a user name is made of (RFC 3986 userinfo without ':'); anything else may be a password. */
const PLAIN_USER = /^[\w.~!$&'()*+,;=%-]*$/;
/** Characters that end a WHATWG authority early: in the userinfo they make the parse misread it. */
const AUTHORITY_END = /[/?#\\]/;
/** A `password`-like query parameter; its value runs to the next `&`, a `#` in it included. */
const SECRET_PARAM = /([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&]*/gi;

interface UrlText {
  /** `scheme://` as written; for text that does not start with one, up to its first `//`, if any. */
  scheme: string;
  /** True when the text starts with `scheme://`: only then may a parser be asked. */
  isUrl: boolean;
  /** Up to the last `@`, if there is one. */
  userinfo: string | undefined;
  /** The host and everything after it. */
  rest: string;
}

/** Splits by raw text; a string that is not a URL (`u:pw@host`, `x :// u:pw@host`) is split the same way. */
function splitUrlText(url: string): UrlText {
  const scheme = SCHEME.exec(url)?.[0];
  const slashes = url.indexOf('//');
  const head = scheme ?? (slashes < 0 ? '' : url.slice(0, slashes + 2));
  const tail = url.slice(head.length);
  const at = tail.lastIndexOf('@');
  return { scheme: head, isUrl: scheme !== undefined, userinfo: at < 0 ? undefined : tail.slice(0, at), rest: at < 0 ? tail : tail.slice(at + 1) };
}

/** `user:***`, or `***` alone when what precedes the password does not look like a user name. */
function maskUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  if (!PLAIN_USER.test(user)) return '***';
  return colon < 0 ? user : `${user}:***`;
}

/**
 * Masks the password (and any `password`-like query parameter) in a connection URL so it can be
 * printed, logged or reported. A URL that does not parse, or that a parser would misread (an
 * unencoded `#`, `/`, `?` or `@` in the password), is masked by raw text: everything between
 * `scheme://` and the last `@`, the user name aside when it is plainly one.
 */
export function redactUrl(url: string): string {
  const masked = url.replace(SECRET_PARAM, '$1***');
  const text = splitUrlText(masked);
  // The parse is trusted only when it reads the credentials as written: no character before the
  // last '@' that ends the authority early, and a user name plainly one (in `mysql://a b@c@host`
  // all of `a b@c` may be a password). Text without `scheme://` is never parsed: `gw:u:pw@host`
  // parses as an opaque URL that keeps the password in its path.
  const trusted = text.userinfo === undefined || (!AUTHORITY_END.test(text.userinfo) && maskUserinfo(text.userinfo) !== '***');
  if (text.isUrl && trusted) {
    try {
      const parsed = new URL(masked);
      if (parsed.password !== '') parsed.password = '***';
      return parsed.toString();
    } catch {
      // Not a WHATWG URL (a host list like h1:26379,h2:26379, a bad port): mask by raw text.
    }
  }
  const credentials = text.userinfo === undefined ? '' : `${maskUserinfo(text.userinfo)}@`;
  return `${text.scheme}${credentials}${text.rest}`;
}

/**
 * Why `url` cannot be used as written, as a predicate (`"url" is not a valid URL`), or undefined
 * when it can: it does not parse, a character in its credentials ends them early (so the parse
 * would read part of the password as the host, path or fragment), or a `%` in them is not
 * percent-encoding. Callers report it with the URL redacted and PERCENT_ENCODE_HINT.
 */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  const { userinfo } = splitUrlText(url);
  if (userinfo !== undefined && AUTHORITY_END.test(userinfo)) {
    return 'has an "@" after a "#", "/" or "?": a password holding those must percent-encode them, or part of it is read as the host, path or fragment';
  }
  for (const part of [parsed.username, parsed.password]) {
    if (safeDecode(part) === undefined) return 'has a "%" in its user or password that is not percent-encoding';
  }
  return undefined;
}

/**
 * Text that may quote a connection URL or its password (a driver's or a user module's error
 * message, a rules-file problem), with the credentials of any `scheme://...@` masked up to the
 * last `@` of its token, and the URL's own password masked wherever it appears, raw or
 * percent-decoded (a very short password masks ordinary letters too: a garbled message is better
 * than a leaked secret).
 */
export function redactSecrets(text: string, url: string | undefined): string {
  // The known password first: a space in it would end the token the pattern below masks.
  let out = text;
  for (const secret of url === undefined ? [] : secretsOf(url)) out = out.split(secret).join('***');
  return out.replace(URL_WITH_USERINFO, (_match, scheme: string, userinfo: string) => `${scheme}${maskUserinfo(userinfo)}@`);
}

/** The password of `url` as written (by raw text, as redactUrl sees it) and as a parser reads it, raw and decoded. */
function secretsOf(url: string): string[] {
  const found: string[] = [];
  const { userinfo } = splitUrlText(url);
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo.slice(colon + 1));
    else if (!PLAIN_USER.test(userinfo)) found.push(userinfo);
  }
  try {
    found.push(new URL(url).password);
  } catch {
    // not a URL: the raw text above is all there is
  }
  const forms = found.flatMap((secret) => [secret, safeDecode(secret) ?? secret]);
  // Longest first, so a password's decoded form is not cut into by a shorter one.
  return [...new Set(forms)].filter((s) => s !== '' && s !== '***').sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
