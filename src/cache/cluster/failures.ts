/**
 * How the cluster reader's modules bound and word a node's failure: a deadline on any promise,
 * the error for a node that could not be connected to, the driver error behind a wrapped one,
 * and the URL's password masked in whatever a driver says.
 */
import { ConnectionError } from '../../errors.js';
import type { ClusterUrl } from './url.js';

/** The node could not be connected to. */
export class NodeUnreachable extends Error {
  override readonly name = 'NodeUnreachable';
}

/** A ConnectionError from the standalone reader wraps the driver's error: that one says why. */
export function causeOf(error: unknown): unknown {
  return error instanceof ConnectionError && error.cause !== undefined ? error.cause : error;
}

/** Rejects when `work` has not settled within `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Masks the URL's password in a driver message, should one ever echo it. */
export function redact(text: string, url: ClusterUrl): string {
  return url.password === undefined || url.password === '' ? text : text.split(url.password).join('***');
}
