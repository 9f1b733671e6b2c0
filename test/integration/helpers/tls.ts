/**
 * Test certificates made with `openssl` in a temporary directory: a CA, a server certificate for
 * 127.0.0.1 and localhost signed by it (also usable as a client certificate: a TLS sentinel
 * presents its own certificate to the master it monitors), a client certificate signed by it, and a second,
 * unrelated CA (a server certificate it did not sign must be refused). EC P-256 keys: quick to
 * make on a busy machine.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  caCert: string;
  /** Another CA, which signed nothing the servers use. */
  otherCaCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): Promise<void>;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 20_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr || String(error)}`);
  }
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    ['req', '-x509', '-new', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=shadowcheck test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

async function makeLeaf(dir: string, name: string, ca: string, extensions: string): Promise<void> {
  await openssl(['req', '-new', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=shadowcheck test ${name}`], dir);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`],
    dir,
  );
}

/** Makes the certificates; `remove()` deletes the directory. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sc-pki-'));
  try {
    await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
    await Promise.all([
      makeLeaf(dir, 'server', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'),
      makeLeaf(dir, 'client', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    otherCaCert: at('other-ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * redis-server arguments for a TLS-only server (no plain port) with the test certificates. It also
 * listens on 127.0.0.2, an address its certificate does not name.
 */
export function tlsServerArgs(pki: TestPki, port: number, dir: string, authClients: 'optional' | 'yes' | 'no' = 'optional'): string[] {
  return [
    '--port', '0',
    '--tls-port', String(port),
    '--bind', '127.0.0.1', '127.0.0.2',
    '--tls-cert-file', pki.serverCert,
    '--tls-key-file', pki.serverKey,
    '--tls-ca-cert-file', pki.caCert,
    '--tls-auth-clients', authClients,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--dir', dir,
  ];
}
