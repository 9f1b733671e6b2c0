/**
 * The checks pg-driver-errors.test.ts and mysql-driver-errors.test.ts run on every recorded
 * driver error (test/fixtures/driver-errors/): its category, whether it is a connection-limit
 * refusal or a server without TLS, and what the user gets: the ConnectionError of a failed
 * connect, or the error of a family's check and of a batch, with their exit codes, a message that
 * names the cause, and never the password of the source's URL.
 */
import { describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../../src/config/types.js';
import { ConnectionError, ExitCode } from '../../../src/errors.js';
import { batchFailed, cannotConnect, checkFailed, SourceCheckError } from '../../../src/sources/errors.js';
import { serverLacksTls } from '../../../src/sources/tls.js';
import { SourceQueryError } from '../../../src/sources/types.js';
import { installedVersion, rebuiltCases, RECORDING_PASSWORD } from '../../fixtures/driver-errors/fixture.js';

type Failure = 'connection' | 'timeout' | 'query';

export interface ExpectedSourceError {
  failure: Failure;
  /** Raised while connecting (cannotConnect), not by a statement (checkFailed, batchFailed). */
  atConnect?: boolean;
  /** What the user-facing message must say about the cause. */
  says: RegExp;
  hint?: RegExp;
  connectionLimit?: boolean;
  noTls?: boolean;
}

export interface RecordedSourceErrors {
  driver: 'pg' | 'mysql2';
  /** A source whose URL holds `secret` as its password. */
  spec: SourceSpec;
  secret: string;
  /** The URL as a message must show it, password masked. */
  shownUrl: string;
  classify(error: unknown): Failure;
  isConnectionLimit(error: unknown): boolean;
  /** The problem a family's check reports for a query error, as the kind's loader words it. */
  describeQueryError(error: unknown): string;
  /** One entry per recorded case, by name. */
  expected: Readonly<Record<string, ExpectedSourceError>>;
}

export function describeRecordedSourceErrors(suite: RecordedSourceErrors): void {
  const { file, cases } = rebuiltCases(suite.driver);
  const { spec, secret } = suite;
  const rule = { name: 'items', table: 'items' };
  const expectNoSecret = (error: { message: string; hint?: string | undefined }) => {
    expect(error.message).not.toContain(secret);
    expect(error.hint ?? '').not.toContain(secret);
  };

  describe(`recorded ${suite.driver} errors`, () => {
    it(`were recorded with the installed major version of ${suite.driver}, and every case has an expectation`, () => {
      expect(file.driverVersion.split('.')[0], `${suite.driver} was upgraded: re-record the fixtures`).toBe(installedVersion(suite.driver).split('.')[0]);
      expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(suite.expected).sort());
      expect(JSON.stringify(file)).not.toMatch(RECORDING_PASSWORD);
    });

    describe.each(cases)('$name ($provoked)', ({ name, error }) => {
      const expected = suite.expected[name]!;

      it(`is a ${expected.failure} failure`, () => {
        expect(suite.classify(error)).toBe(expected.failure);
        expect(suite.isConnectionLimit(error)).toBe(expected.connectionLimit === true);
        expect(serverLacksTls(error)).toBe(expected.noTls === true);
      });

      if (expected.atConnect === true) {
        it('fails the connection with exit 3, naming the cause and not the password', () => {
          const failure = cannotConnect(spec, error);
          expect(failure).toBeInstanceOf(ConnectionError);
          expect(failure.exitCode).toBe(ExitCode.connection);
          expect(failure.message.startsWith(`cannot connect to source "${spec.name}" (${suite.shownUrl}): `)).toBe(true);
          expect(failure.message).toMatch(expected.says);
          if (expected.hint !== undefined) expect(failure.hint).toMatch(expected.hint);
          expectNoSecret(failure);
        });
        return;
      }

      const exitCode = expected.failure === 'query' ? ExitCode.usage : ExitCode.connection;
      it(`fails the family's check with exit ${exitCode}, naming the cause and not the password`, () => {
        const failure = checkFailed(spec, rule, suite.classify(error), error, 5000, { message: suite.describeQueryError(error) });
        expect(failure).toBeInstanceOf(expected.failure === 'query' ? SourceCheckError : ConnectionError);
        expect(failure.exitCode).toBe(exitCode);
        expect(failure.message).toMatch(expected.says);
        expectNoSecret(failure);
      });

      it(expected.failure === 'connection' ? 'ends the run when a batch meets it' : 'fails only the batch that meets it', () => {
        const failure = batchFailed(spec, rule.name, suite.classify(error), error, 5000, suite.describeQueryError(error));
        if (expected.failure === 'connection') {
          expect(failure).toBeInstanceOf(ConnectionError);
          expect((failure as ConnectionError).exitCode).toBe(ExitCode.connection);
        } else {
          expect(failure).toBeInstanceOf(SourceQueryError);
          expect((failure as SourceQueryError).timeout).toBe(expected.failure === 'timeout');
        }
        expect(failure.message).toMatch(expected.says);
        expect(failure.message).not.toContain(secret);
      });
    });
  });
}
