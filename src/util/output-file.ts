/**
 * The one writer of user-named output files (audit and merge reports, init's proposal). How a
 * path is written depends on what it is, decided once before anything is read:
 * - a regular file (or a new one) is written atomically: a temporary file in the same folder,
 *   renamed over it at the end, so a reader never sees half a report;
 * - a symbolic link is written through (opened, following the link), never renamed over: renaming
 *   over `/dev/stdout` replaced the link itself with a regular file;
 * - anything else (a character device such as /dev/null or /dev/full, a FIFO, a socket) is
 *   written directly: there is nothing to rename over.
 * A path that cannot be written fails before the audit starts (exit 3), never by hanging: a write
 * into a path under a regular file or into /sys used to wait for a 'drain' that never came.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { ExitCode, ShadowcheckError, UsageError } from '../errors.js';

/** The report (or proposal) could not be written: exit 3, as a report whose writing failed. */
export class OutputError extends ShadowcheckError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, ExitCode.connection, options);
  }
}

/** `link()` found the name taken: a file appeared at the path while the proposal was made. */
export class OutputExistsError extends UsageError {}

export type OutputKind = 'regular' | 'symlink' | 'special';

export interface OutputPlan {
  /** The path as the user gave it (messages quote it). */
  file: string;
  /** The flag that named it, for messages (`--output`). */
  flag: string;
  kind: OutputKind;
  /** Whether something is at the path already (a new file is 'regular' and does not exist). */
  exists: boolean;
  /** Permission bits of the file replaced, so an atomic write keeps them. */
  mode?: number;
}

export interface OutputSink {
  out: NodeJS.WritableStream;
  /** Ends the stream and puts the file in place; throws OutputError if any write failed. */
  commit(): Promise<void>;
  /** Drops what was written to a temporary file (nothing else is touched). Never throws. */
  discard(): Promise<void>;
}

const errorText = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException;
  return e.code === undefined ? String(e.message ?? error) : `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}`;
};

/**
 * Decides how `file` will be written and proves it can be, without writing to it: a missing
 * folder is a usage error (exit 2); a path under a file, an empty path, or a place that refuses
 * a new file (permissions, read-only or virtual file systems) is an OutputError (exit 3).
 */
export async function planOutput(file: string, flag = '--output'): Promise<OutputPlan> {
  const fail = (why: string, cause?: unknown): never => {
    throw new OutputError(`cannot write the report to ${flag} "${file}": ${why}`, cause === undefined ? {} : { cause });
  };
  if (file === '') return fail('an empty path names no file');
  let info;
  try {
    info = await lstat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return fail(`${await firstNonFolder(file)} is not a folder`, error);
    if (code !== 'ENOENT') return fail(errorText(error), error);
  }
  if (info === undefined) {
    const folder = dirname(resolve(file));
    const dir = await stat(folder).catch((error: NodeJS.ErrnoException) => error);
    if (dir instanceof Error) {
      if (dir.code === 'ENOENT') throw new UsageError(`${flag} ${file}: its folder ${folder} does not exist`);
      return fail(dir.code === 'ENOTDIR' ? `${await firstNonFolder(file)} is not a folder` : errorText(dir), dir);
    }
    if (!dir.isDirectory()) return fail(`${folder} is not a folder`);
    await probeFolder(folder, fail);
    return { file, flag, kind: 'regular', exists: false };
  }
  if (info.isDirectory()) throw new UsageError(`${flag} ${file}: is a directory; name a file`);
  if (info.isFile()) {
    await probeFolder(dirname(resolve(file)), fail);
    return { file, flag, kind: 'regular', exists: true, mode: info.mode & 0o7777 };
  }
  const target = info.isSymbolicLink() ? await stat(file).catch(() => undefined) : info;
  if (target?.isDirectory() === true) throw new UsageError(`${flag} ${file}: links to a directory; name a file`);
  // Not a FIFO: opening and closing its write end would give a waiting reader its end of file.
  if (target?.isFIFO() !== true && target?.isSocket() !== true) await probeDirect(file, target === undefined, fail);
  return { file, flag, kind: info.isSymbolicLink() ? 'symlink' : 'special', exists: true };
}

/** The longest existing prefix of `file` that is not a folder (`./a.txt` for `./a.txt/r.json`). */
async function firstNonFolder(file: string): Promise<string> {
  let path = dirname(file);
  for (let parent = dirname(path); ; parent = dirname(path)) {
    const isDir = await stat(parent).then((s) => s.isDirectory(), () => false);
    if (isDir || parent === path) return path;
    path = parent;
  }
}

/** Creates and removes a temporary file: access() says yes to root even on /sys or a read-only mount. */
async function probeFolder(folder: string, fail: (why: string, cause?: unknown) => never): Promise<void> {
  const probe = join(folder, `.shadowcheck-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (error) {
    fail(`cannot create a file in ${folder} (${errorText(error)})`, error);
  }
  await unlink(probe).catch(() => {});
}

/** Opens a device or link target for writing and closes it, without truncating it or blocking. */
async function probeDirect(file: string, create: boolean, fail: (why: string, cause?: unknown) => never): Promise<void> {
  try {
    await (await open(file, constants.O_WRONLY | constants.O_NONBLOCK | (create ? constants.O_CREAT : 0))).close();
  } catch (error) {
    fail(errorText(error), error);
  }
}

/**
 * Opens the sink `plan` describes. With `replace: false` an atomic write takes the name with
 * link(), which fails if something appeared there meanwhile (OutputExistsError), instead of rename().
 */
export async function openOutput(plan: OutputPlan, options: { replace?: boolean } = {}): Promise<OutputSink> {
  const fail = (error: unknown): ShadowcheckError =>
    error instanceof ShadowcheckError ? error : new OutputError(`cannot write the report to ${plan.flag} "${plan.file}": ${errorText(error)}`, { cause: error });
  const temp = plan.kind === 'regular' ? join(dirname(resolve(plan.file)), `.${basename(plan.file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`) : undefined;
  let handle: FileHandle;
  try {
    // O_TRUNC through a link or on a device: what `>` in a shell does.
    handle = temp === undefined ? await open(plan.file, 'w') : await open(temp, 'wx', plan.mode ?? 0o666);
  } catch (error) {
    throw fail(error);
  }
  const out = handle.createWriteStream();
  let failure: unknown;
  // Recorded, not thrown: the write in progress rejects through writeChunk, and commit() reports it.
  out.on('error', (error) => (failure ??= error));
  const drop = async (): Promise<void> => {
    if (!out.destroyed) out.destroy();
    await finished(out).catch(() => {});
    if (temp !== undefined) await unlink(temp).catch(() => {});
  };
  return {
    out,
    async commit() {
      try {
        if (failure !== undefined) throw failure;
        out.end();
        await finished(out);
        if (failure !== undefined) throw failure;
        if (temp !== undefined) await place(temp, plan, options.replace ?? true);
      } catch (error) {
        await drop();
        throw fail(error);
      }
    },
    discard: drop,
  };
}

async function place(temp: string, plan: OutputPlan, replace: boolean): Promise<void> {
  if (replace) {
    await rename(temp, plan.file);
    return;
  }
  try {
    await link(temp, plan.file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new OutputExistsError(`${plan.flag} ${plan.file} appeared while the file was being written; it was not overwritten`, { cause: error });
    }
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}
