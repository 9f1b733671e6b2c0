/**
 * Where the proposal goes: a new file, never an existing one without --force. The text is
 * written to a temporary file beside it first; it then takes the target's name with link()
 * (which fails if the name exists, so a file that appeared meanwhile is not overwritten either)
 * or, with --force, rename(). A reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { link, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES_SCHEMA_URL } from '../config/schema-validation.js';
import { UsageError } from '../errors.js';

function exists(message: string): UsageError {
  return new UsageError(message, { hint: 'pass --force to replace it, or choose another --output file' });
}

/** Before anything is read: the folder must exist, and the file must not unless --force. */
export async function checkOutput(file: string, force: boolean): Promise<void> {
  const folder = dirname(resolve(file));
  const dir = await stat(folder).catch(() => undefined);
  if (dir === undefined || !dir.isDirectory()) throw new UsageError(`--output ${file}: the folder ${folder} does not exist`);
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory() === true) throw new UsageError(`--output ${file} is a folder; name a file`);
  if (info !== undefined && !force) throw exists(`--output ${file} already exists; init does not overwrite it`);
}

export async function writeOutput(file: string, text: string, force: boolean): Promise<void> {
  const temp = join(dirname(resolve(file)), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await place(temp, file, force);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write --output ${file}: ${(error as Error).message}`, { cause: error });
  }
}

async function place(temp: string, file: string, force: boolean): Promise<void> {
  try {
    if (force) {
      await rename(temp, file);
      return;
    }
    try {
      await link(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists(`--output ${file} appeared while init ran; init does not overwrite it`);
      throw error;
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** The `$schema=` path for the header: the installed rules.schema.json, relative to the file's folder. */
export function schemaPathFor(file: string | undefined): string {
  const schema = fileURLToPath(RULES_SCHEMA_URL);
  const from = file === undefined ? process.cwd() : dirname(resolve(file));
  const rel = relative(from, schema).split(sep).join('/');
  return rel.startsWith('../') || rel.startsWith('/') ? rel : `./${rel}`;
}
