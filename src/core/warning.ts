/**
 * A run-level warning shown first in every report format: something about a family that is not a
 * verdict but that a reader must see before trusting the verdicts.
 * - `rules`: the live source or the sampled cache values disagree with the rules file in a way that
 *   is not fatal (a compared field that no sampled cache value holds).
 * - `systematic`: most of a family's differing keys differ on the same field in the same way,
 *   which points at a rules or normalization problem rather than stale data.
 */
export interface RunWarning {
  kind: 'rules' | 'systematic';
  family: string;
  /** The field (or path) concerned, when there is one. */
  field?: string;
  /**
   * One sentence, ready to print. Never holds a cached or source value of a redacted field.
   * Text reports print it after the family's name (`family: message`), so it need not repeat it.
   */
  message: string;
}
