/**
 * The user's module as the module loader sees it: imported and checked against the factory
 * contract (README "Custom loaders"), with what it throws turned into our typed errors. Every
 * message names the module's path and the source.
 */
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { SourceSpec } from '../../config/types.js';
import { ConnectionError, ExitCode, ShadowcheckError, UsageError } from '../../errors.js';
import { redactSecrets, redactUrl } from '../../util/redact-url.js';
import { describeFailure, errorCode, NETWORK_ERROR_CODES } from '../errors.js';
import { SourceQueryError, type LoaderOptions, type SourceLoader } from '../types.js';

export const FACTORY_EXAMPLE = 'export default async function createLoader(spec, options) { ...; return { load, close } }';

/** Imports the module and returns its default export, or a UsageError saying what is wrong. */
export async function importFactory(spec: SourceSpec, path: string): Promise<(spec: SourceSpec, options: LoaderOptions) => unknown> {
  const where = `source "${spec.name}": loader module ${path}`;
  // Checked first, so that "not found" means the module itself and not one of its imports.
  const isFile = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) {
    throw new UsageError(`${where} does not exist`, {
      hint: `the module path is resolved against the rules file's folder; check "module" of source "${spec.name}"`,
    });
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw importFailed(where, error);
  }
  const factory = namespace['default'];
  if (typeof factory !== 'function') {
    const names = Object.keys(namespace).filter((n) => n !== 'default');
    const what =
      factory !== undefined
        ? `its default export is ${describeValue(factory)}, not a function`
        : `it has no default export${names.length === 0 ? ' and exports nothing' : `; it exports ${names.join(', ')}`}`;
    throw new UsageError(`${where} does not export a loader factory: ${what}`, {
      hint: `make the factory (a SourceLoaderFactory) the module's default export: ${FACTORY_EXAMPLE}`,
    });
  }
  return factory as (spec: SourceSpec, options: LoaderOptions) => unknown;
}

export function importFailed(where: string, error: unknown): UsageError {
  const message = describeFailure(error);
  if (error instanceof SyntaxError) {
    return new UsageError(`${where} has a syntax error: ${message}`, {
      hint: 'the module must be an ES module (export default ...) Node can load: a .js file in a "type": "module" package, or .mjs',
      cause: error,
    });
  }
  if (errorCode(error) === 'ERR_MODULE_NOT_FOUND') {
    return new UsageError(`${where} cannot be loaded: ${message}`, {
      hint: "one of the module's imports cannot be found; install it next to the module (a loader importing 'shadowcheck' needs it as a dependency of its project)",
      cause: error,
    });
  }
  return new UsageError(`${where} failed while being imported: ${message}`, {
    hint: "the module's top-level code threw; connect to services in the factory, not at import time",
    cause: error,
  });
}

/** The factory threw: the source cannot be used. Typed errors keep their meaning and exit code. */
export function factoryFailed(spec: SourceSpec, path: string, error: unknown): Error {
  const typed = asTypedError(error, spec);
  // A batch error has no meaning before the first batch (it would reach the top level untyped).
  if (typed !== undefined && !(typed instanceof SourceQueryError)) return typed;
  const url = spec.url === undefined ? '' : `, ${redactUrl(spec.url)}`;
  const reason = typed?.message ?? redactSecrets(reasonOf(error), spec.url);
  return new ConnectionError(`cannot connect to source "${spec.name}" (module ${path}${url}): ${reason}`, {
    hint: `the factory of the loader module failed; check the url of source "${spec.name}" and that the service it reads is up`,
    cause: error,
  });
}

export type UserLoader = SourceLoader & Record<string, unknown>;

export function isLoaderShaped(value: unknown): value is UserLoader {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate['load'] === 'function' && typeof candidate['close'] === 'function';
}

export async function closeQuietly(value: unknown): Promise<void> {
  if (typeof value !== 'object' || value === null) return;
  const close = (value as Record<string, unknown>)['close'];
  if (typeof close === 'function') await Promise.resolve(close.call(value)).catch(() => {});
}

/** `undefined`, `null`, `an array`, `a string`, `an object with keys a, b`... for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 8).join(', ')}`;
  }
  return `a ${typeof value}`;
}

/**
 * The error as one of ours when it is one of the typed errors a loader may throw (ours, or a
 * lookalike from another copy of shadowcheck), with any password in it masked; else undefined.
 */
export function asTypedError(error: unknown, spec: SourceSpec): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { timeout?: unknown; exitCode?: unknown; hint?: unknown };
  const message = redactSecrets(error.message, spec.url);
  const hint = typeof fields.hint === 'string' ? redactSecrets(fields.hint, spec.url) : undefined;
  if (error instanceof SourceQueryError || error instanceof ShadowcheckError) {
    error.message = message;
    return error;
  }
  if (error.name === 'SourceQueryError' && typeof fields.timeout === 'boolean') {
    return new SourceQueryError(message, { timeout: fields.timeout, cause: error.cause ?? error });
  }
  if (error.name === 'ConnectionError' && fields.exitCode === ExitCode.connection) {
    return new ConnectionError(message, { ...(hint === undefined ? {} : { hint }), cause: error.cause ?? error });
  }
  if ((fields.exitCode === ExitCode.usage || fields.exitCode === ExitCode.connection) && /Error$/.test(error.name)) {
    return new ShadowcheckError(message, fields.exitCode, { ...(hint === undefined ? {} : { hint }), cause: error.cause ?? error });
  }
  return undefined;
}

/**
 * Words for a failure, looking through `cause` for a socket error: Node's fetch rejects with a
 * bare "fetch failed" whose cause says "connection refused".
 */
export function reasonOf(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = errorCode(e);
    if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return `${describeFailure(error)} (${describeFailure(e)})`;
  }
  return describeFailure(error);
}
