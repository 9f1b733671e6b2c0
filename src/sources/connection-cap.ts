/**
 * A source that accepts fewer connections than the loader's pool may open (PostgreSQL's
 * max_connections or a role's or database's CONNECTION LIMIT; MySQL/MariaDB's max_connections,
 * max_user_connections or an account's MAX_USER_CONNECTIONS) refuses the extra ones. Such a
 * refusal says nothing about the batch that asked: the loader caps its own concurrency to the
 * connections it did open, waits for one of them, and runs the batch there. It never becomes an
 * error verdict or ends the audit.
 *
 * Every use of a pooled connection goes through `run`, which holds a p-limit slot from taking the
 * connection to giving it back: at most `concurrency` at a time. Until the first refusal that is
 * the pool's own size and changes nothing. On a refusal (`isLimitRefusal`, decided by each driver):
 *   - the concurrency drops to the connections the pool has open (`openConnections`: those in use,
 *     idle, and still being opened; at least 1), and the batch queues again. It runs on an idle
 *     pooled connection, or once one of ours is given back. Every refused attempt has left the
 *     pool's count before the next one is made, so over a burst of refusals the count settles on
 *     the connections the server accepted. A batch refused twice in a row pauses before it asks
 *     again, so that a count that is off never hammers the server;
 *   - a connection that opens while more of ours are in use than the concurrency allows (they were
 *     being opened when the refusal came) raises it to that number: the server accepted them all;
 *   - with none of ours in use or opening (another client holds every slot), the batch asks again
 *     after a pause, for `patienceMs` at most; then the refusal is thrown, as it was before.
 * One warning names the number, once the burst that met the limit has settled.
 *
 * The first connection, which the loader factory opens to verify the source, does not come
 * through here: when not even one connection opens, that stays the factory's clear error.
 */
import pLimit, { type LimitFunction } from 'p-limit';

/** Where the loader's warning goes (pino's Logger and the audit's log fit it). */
export interface CapLog {
  warn(fields: object, message: string): void;
}

export interface ConnectionCapOptions<C> {
  /** The source's name, for the warning. */
  source: string;
  /** The connections the pool may open: the concurrency until the server refuses one. */
  maxConnections: number;
  /** Takes a connection from the pool (an idle one, or a new one). */
  acquire(): Promise<C>;
  /** Whether `acquire` failed because the server is at a connection limit. */
  isLimitRefusal(error: unknown): boolean;
  /**
   * Connections the pool has open or is opening, refused ones already left out (pg's totalCount).
   * Without it (or when it says undefined), the connections in use count.
   */
  openConnections?(): number | undefined;
  /** How long to keep asking when none of our connections is open to wait for, ms. */
  patienceMs: number;
  log?: CapLog | undefined;
}

/** Pauses between asks while none of ours is open: short at first, at most a second. */
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 1000;

type Attempt<T> = { done: true; value: T } | { done: false; refusal: unknown };

export class ConnectionCap<C> {
  private readonly limit: LimitFunction;
  /** Connections of ours in use right now (taken, not yet given back). */
  private held = 0;
  /** Connections being taken right now. */
  private acquiring = 0;
  /** Set by the first refusal: from then on the concurrency follows what the server accepts. */
  private capped = false;
  private warned = false;

  constructor(private readonly options: ConnectionCapOptions<C>) {
    this.limit = pLimit(Math.max(1, Math.floor(options.maxConnections)));
  }

  /** How many connections the loader uses at once. */
  get concurrency(): number {
    return this.limit.concurrency;
  }

  /**
   * Runs `use` on a connection of its own, once a slot is free. `use` gives the connection back
   * (release or destroy) before it settles. Errors other than a limit refusal are `use`'s or
   * `acquire`'s own, unchanged.
   */
  async run<T>(use: (connection: C) => Promise<T>): Promise<T> {
    let refusals = 0;
    let aloneSince: number | undefined;
    let pause = FIRST_PAUSE_MS;
    for (;;) {
      const attempt = await this.limit(() => this.attempt(use));
      if (attempt.done) return attempt.value;
      refusals++;
      this.lower();
      this.warnOnceSettled();
      if (this.held + this.acquiring > 0) {
        // One of ours in use or opening will be given back (or tell): queue again behind it.
        aloneSince = undefined;
        if (refusals === 1) continue;
      } else {
        // Another client holds every connection the server allows: ask again shortly, a while.
        aloneSince ??= Date.now();
        if (Date.now() - aloneSince >= this.options.patienceMs) throw attempt.refusal;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }

  private async attempt<T>(use: (connection: C) => Promise<T>): Promise<Attempt<T>> {
    let connection: C;
    this.acquiring++;
    try {
      connection = await this.options.acquire();
    } catch (error) {
      if (this.options.isLimitRefusal(error)) return { done: false, refusal: error };
      throw error;
    } finally {
      this.acquiring--;
    }
    this.held++;
    try {
      // Opened while the cap was being lowered: the server accepted this many of ours at once.
      if (this.capped && this.held > this.limit.concurrency) this.limit.concurrency = this.held;
      this.warnOnceSettled();
      return { done: true, value: await use(connection) };
    } finally {
      this.held--;
    }
  }

  /** After a refusal: no more at once than the connections of ours open now, at least one. */
  private lower(): void {
    const open = Math.min(this.options.maxConnections, Math.max(1, this.options.openConnections?.() ?? this.held));
    if (!this.capped || open < this.limit.concurrency) this.limit.concurrency = open;
    this.capped = true;
  }

  /**
   * Once capped, at the first moment no connection of ours is being opened: the refusals of a
   * burst have all come back, so the number is the one the loader keeps to.
   */
  private warnOnceSettled(): void {
    if (!this.capped || this.warned || this.acquiring > 0) return;
    this.warned = true;
    const n = this.limit.concurrency;
    this.options.log?.warn(
      { source: this.options.source, connections: n, requested: this.options.maxConnections },
      `source "${this.options.source}" accepts only ${n} connection${n === 1 ? '' : 's'}: running ${n} quer${n === 1 ? 'y' : 'ies'} at a time`,
    );
  }
}
