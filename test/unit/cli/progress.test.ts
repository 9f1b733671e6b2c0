import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../../src/cli/progress.js';
import type { Finding } from '../../../src/core/verdict.js';

function terminal(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; cursorTo: () => boolean; clearLine: () => boolean; moveCursor: () => boolean };
  stream.isTTY = isTTY;
  stream.columns = 120;
  stream.cursorTo = () => true;
  stream.clearLine = () => true;
  stream.moveCursor = () => true;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

const finding: Finding = { key: 'k', family: 'f', verdict: 'divergent', reason: 'no-ttl', step: 6, diff: [] };

afterEach(() => vi.unstubAllEnvs());

describe('createProgress', () => {
  it('draws a bar with the divergent count on a terminal', () => {
    vi.stubEnv('CI', '');
    const t = terminal(true);
    const progress = createProgress(t.stream);
    progress.start(10);
    for (let i = 0; i < 3; i++) progress.tick(finding);
    progress.stop();
    expect(t.text()).toMatch(/3\/~10 keys/);
    expect(t.text()).toContain('3 divergent');
  });

  it('writes nothing when stderr is not a terminal', () => {
    vi.stubEnv('CI', '');
    const t = terminal(false);
    const progress = createProgress(t.stream);
    progress.start(10);
    progress.tick(finding);
    progress.stop();
    expect(t.text()).toBe('');
  });

  it('writes nothing under CI, even on a terminal', () => {
    vi.stubEnv('CI', 'true');
    const t = terminal(true);
    const progress = createProgress(t.stream);
    progress.start(10);
    progress.tick(finding);
    progress.stop();
    expect(t.text()).toBe('');
  });
});
