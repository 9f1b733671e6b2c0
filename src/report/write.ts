/**
 * Writes a chunk and, when the stream's buffer is full, waits for 'drain' so a fast audit cannot
 * pile an unbounded backlog into memory behind a slow consumer (a pipe, a file on a slow disk).
 * Rejects if the stream errors or closes before it drains, instead of waiting forever.
 */
export async function writeChunk(out: NodeJS.WritableStream, chunk: string): Promise<void> {
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
