/**
 * Code points a terminal may act on instead of printing: C0 controls (ESC starts every ANSI
 * sequence; CR and BS overwrite what is on screen), DEL, C1 controls (0x9B is a one-byte CSI on
 * some terminals), and the bidi/line-separator marks that reorder or break what is displayed.
 */
export function isTerminalUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0xfeff
  );
}
