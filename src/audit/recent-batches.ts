import { displayKey } from '../cache/key-name.js';
import type { FamilyRule } from '../core/rule.js';
import type { SourceLoader } from '../sources/types.js';
import type { KeyRef } from './key-ref.js';
import type { AuditOptions } from './run-audit.js';

/** The keys of rows changed within `withinMs`, most recent first, at most one sample's worth. */
export async function* recentBatches(
  rule: FamilyRule,
  loader: SourceLoader,
  options: AuditOptions,
  withinMs: number,
  owns: ((raw: Buffer) => boolean) | undefined,
): AsyncGenerator<KeyRef[]> {
  if (loader.recentIds === undefined) return;
  const limit = options.sample === 'all' ? 1_000_000 : options.sample;
  const ids = await loader.recentIds(rule, withinMs, limit);
  // An id that contains the separator renders to a key its own pattern would not claim: skip it.
  // With --shard, a key another shard owns is that shard's to judge.
  const refs = ids.flatMap((id) => {
    const text = rule.pattern.render(id);
    const raw = Buffer.from(text);
    return rule.pattern.match(text) === id && (owns === undefined || owns(raw)) ? [{ raw, key: displayKey(raw), id }] : [];
  });
  for (let i = 0; i < refs.length; i += options.batch) yield refs.slice(i, i + options.batch);
}
