import type { CacheReader } from '../../cache/types.js';
import { displayKey, keyMatchText } from '../../cache/key-name.js';
import type { FamilyRule } from '../../core/rule.js';
import type { KeyRef } from '../key-ref.js';
import { Reservoir } from '../reservoir.js';
import type { Throttle } from '../throttle.js';
import type { FamilyDraw, SamplingReport } from './types.js';

export interface ScanPassContext {
  cache: CacheReader;
  /** Every family of the rules file, in rules-file order: a key one of them claims is not unmatched. */
  families: readonly FamilyRule[];
  throttle: Throttle;
  /** `--shard`: whether this process owns the key; the others' keys are dropped before anything else. */
  owns?: (raw: Buffer) => boolean;
  /** Called once per key no family's pattern claims (in this shard), with its display text. */
  onUnmatched(key: string): void;
  isStopped(): boolean;
}

export interface ScanPassOptions {
  /** A uniform sample of this many keys per family (one seeded reservoir each), or every key. */
  sample: number | 'all';
  seed: number;
  batch: number;
  scanCount: number;
  /** `--all`: batches a family may have waiting before the scan pauses for it (backpressure). */
  queuedBatches?: number;
  /**
   * List only the scanning families' common prefix (commonPrefixGlob) instead of the whole
   * keyspace: for `--family` runs, whose coverage then says its scope.
   */
  commonPrefixOnly?: boolean;
}

/** One family's side of the pass: its batches waiting to be judged, and who is waiting on them. */
interface FamilyQueue {
  rule: FamilyRule;
  reservoir?: Reservoir<KeyRef>;
  filling: KeyRef[];
  ready: KeyRef[][];
  /** The judge stopped reading (it broke out, or the run stopped): its keys are dropped. */
  closed: boolean;
  wake?: () => void;
}

const DEFAULT_QUEUED_BATCHES = 4;

/**
 * One SCAN of the whole keyspace serving every scanning family (`scan`, `all`): each key goes to
 * every family whose pattern claims it, and a key no family of the rules file claims is counted
 * unmatched once, exactly. With a sample, each family fills its own reservoir (seeded with --seed,
 * so the same keyspace gives the same sample); with --all, each family's batches leave as the scan
 * fills them, and the scan waits while a family has `queuedBatches` waiting, so families are judged
 * concurrently in bounded memory. The scan starts when the first family asks for a batch.
 * With --all, every family's batches must be read concurrently (run-audit judges them together):
 * a family nobody reads holds the scan once its queue is full, until it is read or returned.
 */
export class ScanPass {
  private readonly queues = new Map<string, FamilyQueue>();
  private started: Promise<void> | undefined;
  private done = false;
  private failure: { error: unknown } | undefined;
  /** Woken when a queue drains or closes. */
  private producerWake: (() => void) | undefined;
  /** SCAN calls sent, and keys their replies held (before --shard filtering). */
  calls = 0;
  examined = 0;
  /** Whether the pass listed every key of its MATCH (it was not stopped). */
  complete = false;
  /** The SCAN's MATCH: `*`, or the scanning families' common literal prefix followed by `*`. */
  readonly match: string;

  constructor(
    scanning: readonly FamilyRule[],
    private readonly ctx: ScanPassContext,
    private readonly options: ScanPassOptions,
  ) {
    this.match = options.commonPrefixOnly === true ? commonPrefixGlob(scanning.map((f) => f.pattern.glob)) : '*';
    for (const rule of scanning) {
      this.queues.set(rule.name, {
        rule,
        ...(options.sample === 'all' ? {} : { reservoir: new Reservoir<KeyRef>(options.sample, options.seed) }),
        filling: [],
        ready: [],
        closed: false,
      });
    }
  }

  /** The draw of one scanning family: its batches come from the shared pass. */
  draw(rule: FamilyRule): FamilyDraw {
    const queue = this.queues.get(rule.name);
    if (queue === undefined) throw new Error(`family "${rule.name}" is not part of the scan pass`);
    return { rule, batches: this.batches(queue), report: () => this.report() };
  }

  /** Runs the pass to its end even when no family asks for batches (coverage alone). */
  async run(): Promise<void> {
    this.started ??= this.scan();
    await this.started;
    if (this.failure !== undefined) throw this.failure.error;
  }

  private report(): SamplingReport {
    const shared = this.queues.size > 1 ? `one SCAN pass shared by ${this.queues.size} families` : 'one SCAN pass';
    return {
      method: this.options.sample === 'all' ? 'all' : 'scan',
      examined: this.examined,
      redisCalls: this.calls,
      why: shared,
    };
  }

  private async *batches(queue: FamilyQueue): AsyncGenerator<KeyRef[]> {
    this.started ??= this.scan();
    try {
      for (;;) {
        const next = queue.ready.shift();
        if (next !== undefined) {
          this.producerWake?.();
          yield next;
          continue;
        }
        if (this.done) {
          if (this.failure !== undefined) throw this.failure.error;
          return;
        }
        await new Promise<void>((resolve) => (queue.wake = resolve));
      }
    } finally {
      queue.closed = true;
      queue.ready = [];
      this.producerWake?.();
    }
  }

  private async scan(): Promise<void> {
    const { ctx, options } = this;
    const families = ctx.families;
    const maxQueued = options.queuedBatches ?? DEFAULT_QUEUED_BATCHES;
    // Each SCAN call takes one unit of --rate before it is sent, and each key it returns one more after.
    const beforeScan = async () => {
      this.calls++;
      await ctx.throttle.take(1);
    };
    try {
      for await (const keys of ctx.cache.scan(this.match, options.scanCount, beforeScan)) {
        await ctx.throttle.take(keys.length);
        this.examined += keys.length;
        for (const raw of keys) {
          if (ctx.owns !== undefined && !ctx.owns(raw)) continue;
          const text = keyMatchText(raw);
          let claimed = false;
          for (const family of families) {
            const id = family.pattern.match(text);
            if (id === undefined) continue;
            claimed = true;
            const queue = this.queues.get(family.name);
            if (queue !== undefined && !queue.closed) this.offer(queue, { raw, key: displayKey(raw), id });
          }
          if (!claimed) ctx.onUnmatched(displayKey(raw));
        }
        if (ctx.isStopped()) return;
        // Backpressure (--all): wait while a family that is still reading has a full queue.
        while ([...this.queues.values()].some((q) => !q.closed && q.ready.length >= maxQueued) && !ctx.isStopped()) {
          await new Promise<void>((resolve) => (this.producerWake = resolve));
          this.producerWake = undefined;
        }
        if (ctx.isStopped()) return;
      }
      this.complete = true;
      for (const queue of this.queues.values()) {
        const items = queue.reservoir?.items() ?? queue.filling;
        for (let i = 0; i < items.length; i += options.batch) queue.ready.push(items.slice(i, i + options.batch));
        queue.filling = [];
      }
    } catch (error) {
      this.failure = { error };
    } finally {
      this.done = true;
      for (const queue of this.queues.values()) queue.wake?.();
    }
  }

  private offer(queue: FamilyQueue, ref: KeyRef): void {
    if (queue.reservoir !== undefined) {
      queue.reservoir.offer(ref);
      return;
    }
    queue.filling.push(ref);
    if (queue.filling.length >= this.options.batch) {
      queue.ready.push(queue.filling);
      queue.filling = [];
      queue.wake?.();
    }
  }
}

const GLOB_SPECIAL = new Set(['*', '?', '[', ']', '\\']);

/**
 * The MATCH of one pass serving these globs: their longest common literal prefix (the text before
 * a glob's first special character, escapes read) followed by `*`; `*` when they share none. When
 * every family's keys start with `app:`, the pass lists only `app:*` (and unmatched counts the
 * keys under it). Used for `--family` runs: a run of every family lists the whole keyspace, so
 * that `unmatched` counts every key no family covers.
 */
export function commonPrefixGlob(globs: readonly string[]): string {
  const literals = globs.map(literalPrefix);
  let common = literals[0] ?? '';
  for (const literal of literals.slice(1)) {
    let i = 0;
    while (i < common.length && i < literal.length && common[i] === literal[i]) i++;
    common = common.slice(0, i);
  }
  if (common === '') return '*';
  return `${[...common].map((c) => (GLOB_SPECIAL.has(c) ? `\\${c}` : c)).join('')}*`;
}

function literalPrefix(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) out += glob[++i] as string;
    else if (GLOB_SPECIAL.has(c)) return out;
    else out += c;
  }
  return out;
}
