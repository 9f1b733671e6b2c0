/**
 * The source probes (activity, replication lag) of a session that is terminated or frozen mid-audit
 * fail with a typed ConnectionError (exit 3, partial report), never a raw driver error (exit 70
 * with a stack trace). The tool's own backend is found by a unique application_name, frozen with
 * SIGSTOP (the database runs on this machine) and terminated with pg_terminate_backend.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/errors.js';
import { createSourceLoader } from '../../../src/sources/index.js';
import type { SourceLoader } from '../../../src/sources/types.js';
import { PG_URL } from '../helpers/db.js';

const name = `sc_probe_${randomBytes(4).toString('hex')}`;

function urlWithName(): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', name);
  return url.toString();
}

describe('postgres probes of a terminated or frozen session', () => {
  let admin: pg.Client;
  const stopped = new Set<number>();

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterAll(async () => {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]).catch(() => undefined);
    await admin.end();
  });

  /** The one backend of a loader with one connection, once it has run a statement. */
  async function backendOf(loader: SourceLoader): Promise<number> {
    await loader.activity?.();
    const rows = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name])).rows;
    expect(rows).toHaveLength(1);
    return (rows[0] as { pid: number }).pid;
  }

  function freeze(pid: number): void {
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
  }
  function thaw(pid: number): void {
    process.kill(pid, 'SIGCONT');
    stopped.delete(pid);
  }

  it('a backend terminated under the activity or lag probe is a lost connection, every time (10 runs)', async () => {
    for (let run = 0; run < 10; run++) {
      const loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: urlWithName() }, { timeoutMs: 5000, maxConnections: 1 });
      try {
        const pid = await backendOf(loader);
        // Frozen first, so the probe's query is surely in flight when the termination lands.
        freeze(pid);
        const probe = (run % 2 === 0 ? loader.activity?.() : loader.replicaLagMs?.()) as Promise<unknown>;
        const outcome = probe.then(
          () => undefined,
          (error: unknown) => error,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        thaw(pid);
        const error = await outcome;
        expect(error, `run ${run}`).toBeInstanceOf(ConnectionError);
        expect((error as Error).message).toMatch(/^lost the connection to source "main" \(postgres:\/\/.*\) while reading its (activity|replication lag): /);
        // The next probe opens a new session and works.
        expect(typeof (await loader.activity?.())).toBe('number');
      } finally {
        await loader.close();
      }
    }
  }, 60_000);

  it('a frozen backend makes the probe a typed "did not answer" error after the timeout, not a hang or a raw error', async () => {
    const loader = await createSourceLoader({ name: 'main', kind: 'postgres', url: urlWithName() }, { timeoutMs: 500, maxConnections: 1 });
    let pid: number | undefined;
    try {
      pid = await backendOf(loader);
      freeze(pid);
      const startedAt = Date.now();
      const error = await (loader.activity?.() as Promise<number>).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(/did not answer the activity probe within 500 ms/);
      // The client-side backstop: the statement timeout plus its grace, and not much more.
      expect(Date.now() - startedAt).toBeLessThan(20_000);
    } finally {
      if (pid !== undefined) thaw(pid);
      await loader.close();
    }
  }, 30_000);
});
