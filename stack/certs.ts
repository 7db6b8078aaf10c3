// A throwaway PKI for the test stack (slapd, Samba AD, nginx, the registry), made with the openssl CLI.
// Each openssl call gets its own minimal config file so the result does not depend on the host's
// /etc/ssl/openssl.cnf (whose defaults add or clash with the extensions we set).
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpawnOptions } from 'node:child_process';
import { run } from './process.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
}

export interface ServerCert {
  cert: string;
  key: string;
}

export interface ServerCertOptions {
  dns?: string[];
  ips?: string[];
  /** Where to write the certificate and key; defaults to `pki.dir`. */
  outDir?: string;
}

// No stdin pipe: run() would write to it, and a child that has already exited turns that into an
// uncaught EPIPE in the test process.
export const NO_STDIN: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'] };

/** Validity (30 days), a fresh serial and the digest: the same for the CA and every certificate it signs. */
function signing(): string[] {
  return ['-days', '30', '-set_serial', serial(), '-sha256'];
}

// EC P-256: accepted by Node, OpenSSL, GnuTLS (Debian's slapd and Samba), nginx and Go (registry, skopeo).
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A 128-bit positive serial (RFC 5280 4.1.2.2: unique per CA, at most 20 octets). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Only characters that are harmless in a file name and an openssl `-subj` value. */
function checkName(kind: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(value))
    throw new Error(`invalid ${kind}: ${JSON.stringify(value)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false; // ENOENT (or unreadable): treat as absent, the following write reports real problems
  }
}

/** Creates a self-signed CA (CA:TRUE, keyCertSign) as `ca.pem` / `ca.key` in `dir`. One CA per directory. */
export async function createCa(dir: string, commonName: string): Promise<Pki> {
  checkName('CA common name', commonName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  if (await exists(caCert)) throw new Error(`${dir} already holds a CA; give each CA its own directory`);
  const config = join(dir, 'ca.cnf');
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ext',
      'prompt = no',
      '[dn]',
      `CN = ${commonName}`,
      '[ext]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  const keyOut = ['-keyout', caKey, '-out', caCert];
  await run('openssl', ['req', '-x509', '-config', config, ...KEY_ARGS, ...signing(), ...keyOut], NO_STDIN);
  await chmod(caKey, 0o600);
  return { dir, caCert, caKey };
}

/**
 * Issues `<name>.pem` / `<name>.key` signed by `pki`, with a subjectAltName for every DNS name and IP
 * (clients verify the SAN, never the CN: RFC 6125 6.4.4) and the serverAuth EKU.
 */
export async function issueServerCert(pki: Pki, name: string, opts: ServerCertOptions): Promise<ServerCert> {
  checkName('certificate name', name);
  const san = [...(opts.dns ?? []).map((d) => `DNS:${d}`), ...(opts.ips ?? []).map((ip) => `IP:${ip}`)];
  if (san.length === 0) throw new Error(`certificate ${name}: give at least one DNS name or IP`);
  for (const entry of san) {
    if (!/^(DNS|IP):[A-Za-z0-9.:*-]+$/.test(entry)) throw new Error(`invalid subjectAltName ${entry}`);
  }
  const dir = opts.outDir ?? pki.dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const config = join(dir, `${name}.cnf`);
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${name}`,
      '[ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyAgreement',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${san.join(', ')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  await run(
    'openssl',
    ['req', '-new', '-config', config, ...KEY_ARGS, '-keyout', key, '-out', csr],
    NO_STDIN,
  );
  await chmod(key, 0o600);
  const ca = ['-CA', pki.caCert, '-CAkey', pki.caKey];
  const ext = ['-extfile', config, '-extensions', 'ext'];
  await run('openssl', ['x509', '-req', '-in', csr, ...ca, ...signing(), ...ext, '-out', cert], NO_STDIN);
  return { cert, key };
}
