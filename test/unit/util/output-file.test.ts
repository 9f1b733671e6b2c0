/**
 * The one output writer on real files: a regular file is replaced atomically, a symlink is
 * written through and stays a symlink, a FIFO and /dev/null are written directly, and a path that
 * cannot be written fails before anything is written (exit 3), never by hanging.
 */
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/errors.js';
import { openOutput, OutputError, planOutput } from '../../../src/util/output-file.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowcheck-output-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function writeAll(file: string, text: string): Promise<void> {
  const sink = await openOutput(await planOutput(file));
  try {
    sink.out.write(text);
    await sink.commit();
  } finally {
    await sink.discard();
  }
}

describe('output writer', () => {
  it('replaces a regular file atomically and leaves no temporary file', async () => {
    const file = join(dir, 'report.json');
    await writeFile(file, 'old');
    await writeAll(file, 'new report');
    expect(await readFile(file, 'utf8')).toBe('new report');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes through a symlink: the link stays a link and its target gets the report', async () => {
    const target = join(dir, 'target.json');
    const link = join(dir, 'link.json');
    await writeFile(target, 'old');
    await symlink(target, link);
    await writeAll(link, 'through the link');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await readFile(target, 'utf8')).toBe('through the link');
  });

  it('writes into a FIFO directly (a reader gets the report; the FIFO stays a FIFO)', async () => {
    const fifo = join(dir, 'report.fifo');
    await new Promise<void>((resolve, reject) => spawn('mkfifo', [fifo]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo ${code}`)))));
    const plan = await planOutput(fifo);
    expect(plan.kind).toBe('special');
    const reader = spawn('cat', [fifo]);
    let read = '';
    reader.stdout.on('data', (chunk: Buffer) => (read += chunk.toString()));
    const done = new Promise((resolve) => reader.on('close', resolve));
    const sink = await openOutput(plan);
    sink.out.write('into the fifo');
    await sink.commit();
    await done;
    expect(read).toBe('into the fifo');
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('writes /dev/null directly and leaves it a character device', async () => {
    await writeAll('/dev/null', 'nothing');
    expect((await lstat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('fails before writing, with exit 3, for a path under a regular file', async () => {
    const file = join(dir, 'file.txt');
    await writeFile(file, 'x');
    const error = await planOutput(join(file, 'r.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).exitCode).toBe(ExitCode.connection);
    expect((error as OutputError).message).toMatch(/file\.txt is not a folder/);
  });

  it('fails with exit 3 for an empty path, exit 2 for a missing folder or a directory', async () => {
    await expect(planOutput('')).rejects.toBeInstanceOf(OutputError);
    await expect(planOutput(join(dir, 'no-such-folder', 'r.json'))).rejects.toBeInstanceOf(UsageError);
    await expect(planOutput(dir)).rejects.toBeInstanceOf(UsageError);
  });

  it('reports a failed write (/dev/full) as OutputError at commit', async () => {
    const sink = await openOutput(await planOutput('/dev/full'));
    sink.out.write('x'.repeat(100_000));
    await expect(sink.commit()).rejects.toBeInstanceOf(OutputError);
    await sink.discard();
  });

  it('keeps the existing file when a new one may not replace it (init without --force)', async () => {
    const file = join(dir, 'proposal.yaml');
    const plan = await planOutput(file);
    await writeFile(file, 'appeared meanwhile');
    const sink = await openOutput(plan, { replace: false });
    sink.out.write('proposal');
    await expect(sink.commit()).rejects.toBeInstanceOf(UsageError);
    await sink.discard();
    expect(await readFile(file, 'utf8')).toBe('appeared meanwhile');
  });
});
