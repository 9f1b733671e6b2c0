import type { Writable } from 'node:stream';

/**
 * Writes a chunk and, when the stream's buffer is full, waits for 'drain' so a fast audit cannot
 * pile an unbounded backlog into memory behind a slow consumer (a pipe, a file on a slow disk).
 * Rejects if the stream errors or closes before it drains, instead of waiting forever.
 */
export async function writeChunk(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  // A stream that already failed (a file that could not be opened or written) never drains and
  // has already emitted 'error' and 'close': waiting for them hung the audit forever.
  const state = out as Partial<Pick<Writable, 'destroyed' | 'errored'>>;
  if (state.destroyed === true) throw state.errored ?? new Error('the report output closed before all of it was written');
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the report output closed before all of it was written'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
