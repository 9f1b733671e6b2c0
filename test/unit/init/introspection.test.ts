import { describe, expect, it } from 'vitest';
import { ExitCode, ShadowcheckError } from '../../../src/errors.js';
import { introspectionFailed } from '../../../src/init/introspect-error.js';
import { introspectionOf } from '../../../src/init/introspection.js';
import { SOURCE_KINDS } from '../../../src/sources/registry.js';

function thrown(run: () => unknown): ShadowcheckError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ShadowcheckError);
    return error as ShadowcheckError;
  }
  throw new Error('expected an error');
}

describe('introspectionOf: which introspector init uses', () => {
  it("uses each kind's own introspector", () => {
    expect(introspectionOf({ name: 'main', kind: 'postgres' })).toBe(SOURCE_KINDS.postgres.introspection);
    expect(introspectionOf({ name: 'shop', kind: 'mysql' })).toBe(SOURCE_KINDS.mysql.introspection);
  });

  it('a kind without introspection is a usage error naming the source and the kind, never read as another kind', () => {
    const error = thrown(() => introspectionOf({ name: 'api', kind: 'module' }));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe('source "api": init cannot read the schema of a module source (the module kind has no introspection)');
    expect(error.hint).toBe('init proposes families from postgres or mysql sources; write the families of source "api" by hand');
  });

  it('a new kind registered without introspection gets the same error, not the MySQL introspector', () => {
    const kinds = { ...SOURCE_KINDS, sqlite: { ...SOURCE_KINDS.mysql, introspection: null } };
    const error = thrown(() => introspectionOf({ name: 'local', kind: 'sqlite' }, kinds));
    expect(error.message).toBe('source "local": init cannot read the schema of a sqlite source (the sqlite kind has no introspection)');
    expect(error.hint).toMatch(/^init proposes families from postgres or mysql sources/);
  });
});

describe('introspectionFailed: the hint is the kind\'s', () => {
  it("names the catalogs the failing kind reads, not another kind's, and never the password", () => {
    const cause = Object.assign(new Error('permission denied for table pg_class'), { code: '42501' });
    const pg = introspectionFailed({ name: 'main', kind: 'postgres', url: 'postgres://u:secret@db/app' }, cause, SOURCE_KINDS.postgres.introspection.failureHint);
    expect(pg.message).toBe('cannot read the schema of source "main" (postgres://u:***@db/app): permission denied for table pg_class');
    expect(pg.message).not.toContain('secret');
    expect(pg.hint).toBe('init reads information_schema and pg_catalog; check that the user may read them and that the server answers');
    expect(pg.cause).toBe(cause);
    const my = introspectionFailed({ name: 'shop', kind: 'mysql', url: 'mysql://u@db/shop' }, cause, SOURCE_KINDS.mysql.introspection.failureHint);
    expect(my.hint).toBe('init reads information_schema; check that the user may read it and that the server answers');
  });
});
