const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A key as users see it: its UTF-8 text when it is valid UTF-8, otherwise the bytes with every
 * byte outside printable ASCII written as \xNN (so a binary key is reported, never mangled).
 */
export function displayKey(key: Buffer): string {
  try {
    return utf8.decode(key);
  } catch {
    let out = '';
    for (const byte of key) {
      out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
    }
    return out;
  }
}
