import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Divergent candidates waiting for their confirmation re-read. Each waits at least `delayMs` (the
 * confirmation's point: let a write in flight land) and at most about 1.5 × `delayMs`, so that the
 * suspects of many batches are re-read together: with stale keys in every batch, one re-read per
 * batch would double the source's transactions.
 */
export class ConfirmationQueue<T> {
  private pending: { item: T; readyAt: number }[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly delayMs: number,
    /** Re-reads a group of due items; its errors go to `onError`. */
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Items waiting (memory the audit holds for them). */
  get size(): number {
    return this.pending.length;
  }

  add(items: readonly T[]): void {
    const readyAt = Date.now() + this.delayMs;
    for (const item of items) this.pending.push({ item, readyAt });
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves when nothing is waiting or being re-read. */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const first = this.pending[0] as { readyAt: number };
      // Wait past the oldest one's due time by half a delay, collecting later arrivals.
      await sleep(Math.max(0, first.readyAt + this.delayMs / 2 - Date.now()));
      const now = Date.now();
      const due = this.pending.filter((p) => p.readyAt <= now);
      this.pending = this.pending.filter((p) => p.readyAt > now);
      try {
        await this.flush(due.map((p) => p.item));
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
