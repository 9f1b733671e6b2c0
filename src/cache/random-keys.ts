import type { PipelineRunner } from './pipelined-reads.js';

/**
 * The reads behind --sampling random and source, for a reader with one connection (standalone,
 * Sentinel, a Cluster node): RANDOMKEY and EXISTS, pipelined. Both are O(1) on the server, and a
 * pipeline of at most PIPELINE_CALLS keeps each round trip's replies small while other clients'
 * commands are still served between them.
 */

/** Calls per pipeline, at most. */
export const PIPELINE_CALLS = 1000;

/** Turns a per-command error reply (NOPERM, LOADING...) into the reader's failure (exit 3). */
export type ReplyFailure = (error: Error) => Error;

/**
 * `count` RANDOMKEY calls in pipelines of at most PIPELINE_CALLS, awaiting `beforeCommand(calls)`
 * before each pipeline is sent (--rate counts every call). Returns the keys as Buffers (binary-safe
 * names), repeats included; a null reply (the database is empty) is dropped.
 */
export async function randomKeys(
  run: PipelineRunner,
  count: number,
  beforeCommand: ((calls: number) => Promise<void>) | undefined,
  fail: ReplyFailure,
): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  for (let sent = 0; sent < count; ) {
    const calls = Math.min(PIPELINE_CALLS, count - sent);
    await beforeCommand?.(calls);
    const pipe = run.pipeline();
    for (let i = 0; i < calls; i++) pipe.randomkeyBuffer();
    const replies = await run.exec(pipe);
    for (const [error, key] of replies) {
      if (error !== null) throw fail(error);
      if (Buffer.isBuffer(key)) keys.push(key);
    }
    sent += calls;
    // An empty database answers null to every call: asking again cannot find anything.
    if (replies.every(([, key]) => key === null)) break;
  }
  return keys;
}

/** Whether each key exists (EXISTS per key, pipelined in groups of PIPELINE_CALLS). One boolean per key, in order. */
export async function keysExist(run: PipelineRunner, keys: readonly Buffer[], fail: ReplyFailure): Promise<boolean[]> {
  const found: boolean[] = [];
  for (let from = 0; from < keys.length; from += PIPELINE_CALLS) {
    const pipe = run.pipeline();
    for (const key of keys.slice(from, from + PIPELINE_CALLS)) pipe.exists(key);
    const replies = await run.exec(pipe);
    for (const [error, reply] of replies) {
      if (error !== null) throw fail(error);
      found.push(Number(reply) > 0);
    }
  }
  return found;
}
