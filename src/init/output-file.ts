/**
 * Where the proposal goes: a new file, never an existing one without --force. It is written by
 * the one output writer (util/output-file.ts): atomically for a regular file, taking the name
 * with link() without --force (which fails if the name exists, so a file that appeared
 * meanwhile is not overwritten either) or rename() with it; through a symlink or into a device
 * directly. A reader never sees half a file.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES_SCHEMA_URL } from '../config/schema-validation.js';
import { UsageError } from '../errors.js';
import { openOutput, OutputExistsError, planOutput, type OutputPlan } from '../util/output-file.js';

const FORCE_HINT = 'pass --force to replace it, or choose another --output file';

/** Before anything is read: the folder must exist and be writable, and the file must not exist unless --force. */
export async function checkOutput(file: string, force: boolean): Promise<OutputPlan> {
  const plan = await planOutput(file);
  if (plan.exists && !force) throw new UsageError(`--output ${file} already exists; init does not overwrite it`, { hint: FORCE_HINT });
  return plan;
}

export async function writeOutput(plan: OutputPlan, text: string, force: boolean): Promise<void> {
  const sink = await openOutput(plan, { replace: force });
  try {
    sink.out.write(text);
    await sink.commit();
  } catch (error) {
    if (error instanceof OutputExistsError) throw new UsageError(`--output ${plan.file} appeared while init ran; init does not overwrite it`, { hint: FORCE_HINT, cause: error });
    throw error;
  } finally {
    await sink.discard();
  }
}

/** The `$schema=` path for the header: the installed rules.schema.json, relative to the file's folder. */
export function schemaPathFor(file: string | undefined): string {
  const schema = fileURLToPath(RULES_SCHEMA_URL);
  const from = file === undefined ? process.cwd() : dirname(resolve(file));
  const rel = relative(from, schema).split(sep).join('/');
  return rel.startsWith('../') || rel.startsWith('/') ? rel : `./${rel}`;
}
