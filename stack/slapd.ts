// A real OpenLDAP slapd for tests: cn=config built offline in a temp dir, LDAP (+StartTLS) and LDAPS on
// loopback, seeded over the wire so the memberof overlay fills memberOf, stopped by pid.
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueServerCert, NO_STDIN } from './certs.ts';
import type { Pki } from './certs.ts';
import { freePort, run, startServer, waitForPort } from './process.ts';
import type { Server } from './process.ts';
import type { Netns } from './netns.ts';
import { seed, SEED_LDIF } from './seed/openldap.ts';
import { watchLog } from './credentials.ts';

export { seed };

export interface SlapdOptions {
  /** Extra LDIF appended after the standard seed (seed/openldap.ldif). */
  extraLdif?: string;
  /** olcAllows: bind_anon_dn — a DN with an empty password binds as anonymous (RFC 4513 unauthenticated bind). */
  allowAnonDnBind?: boolean;
  /** Anonymous clients may read entries (not passwords): a directory searched without a service account. */
  anonymousRead?: boolean;
  /** Use this PKI for LDAPS / StartTLS; by default a fresh CA is created in the state dir. */
  pki?: Pki;
  /** Write slapd.log here, where destroy() leaves it (the demo keeps its logs); default the state dir. */
  logDir?: string;
  /**
   * Run slapd inside this network namespace, listening on its address (fault tests drop its traffic
   * there); by default it runs here on 127.0.0.1.
   */
  netns?: Pick<Netns, 'nsIp' | 'wrap'>;
  /**
   * Attributes added to the root DSE (olcRootDSE), `name: value` lines, with the definitions of any the
   * OpenLDAP schemas lack: a server that describes itself differently (vendorName, AD's capabilities).
   */
  rootDse?: { readonly attributes: readonly string[]; readonly attributeTypes?: readonly string[] };
  /** olcAccess rules of the frontend, which decide who reads what of the root DSE (`to dn.base="" …`). */
  frontendAccess?: readonly string[];
}

export interface Slapd {
  readonly url: string;
  readonly ldapsUrl: string;
  readonly caCert: string;
  readonly baseDn: string;
  readonly serviceDn: string;
  readonly servicePassword: string;
  /** The database's rootdn, for tests that change the directory. */
  readonly adminDn: string;
  readonly adminPassword: string;
  readonly logFile: string;
  readonly dir: string;
  /** Stops the process and keeps the data (outage tests). */
  stop(): Promise<void>;
  /** Starts again on the same ports with the same data (restart tests). No-op while running. */
  start(): Promise<void>;
  /** Stops and removes the state dir. */
  destroy(): Promise<void>;
  /** Simple binds (successful or not) for this DN since startSlapd() returned; DNs compared by dnKey(). */
  countBinds(dn: string): Promise<number>;
  /** SRCH operations since startSlapd() returned (seeding excluded, restarts included), all connections. */
  countSearches(): Promise<number>;
}

const MODULE_PATH = '/usr/lib/ldap';
const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'];
// The OpenLDAP tools must not pick up /etc/ldap/ldap.conf or a ~/.ldaprc from the host.
const TOOL_OPTIONS = { ...NO_STDIN, env: { ...process.env, LDAPNOINIT: '1' } };

function configLdif(
  dir: string,
  tls: { cert: string; key: string; ca: string },
  options: Pick<SlapdOptions, 'allowAnonDnBind' | 'anonymousRead' | 'rootDse' | 'frontendAccess'>,
): string {
  const service = seed.service.dn;
  const rootDseTypes = options.rootDse?.attributeTypes ?? [];
  const records = [
    [
      'dn: cn=config',
      'objectClass: olcGlobal',
      'cn: config',
      `olcPidFile: ${join(dir, 'slapd.pid')}`,
      `olcArgsFile: ${join(dir, 'slapd.args')}`,
      `olcTLSCertificateFile: ${tls.cert}`,
      `olcTLSCertificateKeyFile: ${tls.key}`,
      `olcTLSCACertificateFile: ${tls.ca}`,
      // RFC 4513 5.1.2: a name with an empty password is an "unauthenticated" bind; off by default.
      ...(options.allowAnonDnBind === true ? ['olcAllows: bind_anon_dn'] : []),
    ],
    [
      'dn: cn=module{0},cn=config',
      'objectClass: olcModuleList',
      'cn: module{0}',
      `olcModulePath: ${MODULE_PATH}`,
      'olcModuleLoad: back_mdb',
      'olcModuleLoad: memberof',
      'olcModuleLoad: refint',
    ],
    ['dn: cn=schema,cn=config', 'objectClass: olcSchemaConfig', 'cn: schema'],
    ...SCHEMAS.map((s) => [`include: file:///etc/ldap/schema/${s}.ldif`]),
    ...(rootDseTypes.length === 0
      ? []
      : [
          [
            'dn: cn=rootdse,cn=schema,cn=config',
            'objectClass: olcSchemaConfig',
            'cn: rootdse',
            ...rootDseTypes.map((t) => `olcAttributeTypes: ${t}`),
          ],
        ]),
    [
      'dn: olcDatabase={-1}frontend,cn=config',
      'objectClass: olcDatabaseConfig',
      'objectClass: olcFrontendConfig',
      'olcDatabase: {-1}frontend',
      ...(options.frontendAccess ?? []).map((rule, i) => `olcAccess: {${i}}${rule}`),
    ],
    // Nobody administers cn=config over the wire: the tests get a fresh config per instance instead.
    [
      'dn: olcDatabase={0}config,cn=config',
      'objectClass: olcDatabaseConfig',
      'olcDatabase: {0}config',
      'olcAccess: {0}to * by * none',
    ],
    [
      'dn: olcDatabase={1}mdb,cn=config',
      'objectClass: olcDatabaseConfig',
      'objectClass: olcMdbConfig',
      'olcDatabase: {1}mdb',
      `olcSuffix: ${seed.baseDn}`,
      `olcDbDirectory: ${join(dir, 'data')}`,
      `olcRootDN: ${seed.admin.dn}`,
      `olcRootPW: ${seed.admin.password}`,
      'olcDbIndex: objectClass eq',
      'olcDbIndex: uid,cn,mail eq,sub',
      'olcDbIndex: member,memberOf eq',
      // Passwords: bind only (auth), for everyone, the service account included.
      'olcAccess: {0}to attrs=userPassword by * auth',
      // The service account reads everything else; a user reads its own entry; anonymous sees nothing
      // (or everything but passwords, with anonymousRead).
      `olcAccess: {1}to * by dn.exact="${service}" read by self read by * ${options.anonymousRead === true ? 'read' : 'none'}`,
    ],
    [
      'dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config',
      'objectClass: olcOverlayConfig',
      'objectClass: olcMemberOfConfig',
      'olcOverlay: {0}memberof',
      'olcMemberOfGroupOC: groupOfNames',
      'olcMemberOfMemberAD: member',
      'olcMemberOfMemberOfAD: memberOf',
      'olcMemberOfRefInt: TRUE',
    ],
    [
      'dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config',
      'objectClass: olcOverlayConfig',
      'objectClass: olcRefintConfig',
      'olcOverlay: {1}refint',
      'olcRefintAttribute: member',
    ],
  ];
  return records.map((r) => r.join('\n')).join('\n\n') + '\n';
}

/** Two distinct free loopback ports (freePort alone could hand out the same one twice). */
async function twoPorts(): Promise<[number, number]> {
  const first = await freePort();
  for (let i = 0; i < 20; i++) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
  throw new Error('no second free port');
}

/**
 * A comparable form of a DN: RFC 4514 escapes decoded, insignificant spaces dropped, case folded. slapd
 * logs the "pretty" DN (`cn=O'Brien\2C Pat (QA)`, types lower-cased), callers write `cn=O'Brien\, Pat (QA)`.
 * Good enough for the DNs tests use; case folding is ASCII-and-Unicode lowercase, not full LDAP matching.
 */
export function dnKey(dn: string): string {
  const chars = Array.from(dn);
  const parts: string[] = [];
  let bytes: number[] = [];
  let type: string | undefined;
  let keep = 0; // bytes up to here end in an escaped character: trailing spaces before it are data
  const flush = (separator: string): void => {
    let end = bytes.length;
    while (end > keep && bytes[end - 1] === 0x20) end--;
    const value = Buffer.from(bytes.slice(0, end)).toString('utf8');
    parts.push(`${(type ?? '').trim().toLowerCase()}=${value.toLowerCase()}${separator}`);
    bytes = [];
    type = undefined;
    keep = 0;
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '\\') {
      const hex = (chars[i + 1] ?? '') + (chars[i + 2] ?? '');
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(chars[i + 1] ?? ''));
        i += 1;
      }
      keep = bytes.length;
    } else if (type === undefined && c === '=') {
      type = Buffer.from(bytes).toString('utf8');
      bytes = [];
    } else if (c === ',' || c === '+') {
      flush(c);
    } else if (!(c === ' ' && bytes.length === 0)) {
      bytes.push(...Buffer.from(c));
    }
  }
  flush('');
  return parts.join('');
}

/** DNs of the `BIND dn="…" method=128` lines: slapd 2.5 logs that one once per simple bind (RFC 4511 4.2). */
function simpleBindDns(log: string): string[] {
  return [...log.matchAll(/ BIND dn="(.*)" method=128$/gm)].map((m) => m[1] ?? '');
}

/** Writes cn=config into `<dir>/slapd.d` (offline, slapadd -n0); returns the CA that signed slapd's cert. */
async function buildConfig(dir: string, options: SlapdOptions): Promise<string> {
  await Promise.all([mkdir(join(dir, 'slapd.d')), mkdir(join(dir, 'data'))]);
  const pki = options.pki ?? (await createCa(join(dir, 'pki'), 'slapd test CA'));
  const tls = await issueServerCert(pki, 'slapd', {
    dns: ['localhost'],
    ips: options.netns ? ['127.0.0.1', options.netns.nsIp] : ['127.0.0.1'],
    outDir: join(dir, 'tls'),
  });
  const configFile = join(dir, 'config.ldif');
  await writeFile(configFile, configLdif(dir, { ...tls, ca: pki.caCert }, options));
  await run('slapadd', ['-n0', '-F', join(dir, 'slapd.d'), '-l', configFile], TOOL_OPTIONS);
  if (options.rootDse !== undefined) {
    // Added once cn=config holds the schema: slapd reads the file right away, and its attributes must exist.
    const rootDseFile = join(dir, 'rootdse.ldif');
    await writeFile(rootDseFile, ['dn:', ...options.rootDse.attributes, ''].join('\n'));
    const change = join(dir, 'rootdse-config.ldif');
    await writeFile(
      change,
      `dn: cn=config\nchangetype: modify\nadd: olcRootDSE\nolcRootDSE: ${rootDseFile}\n`,
    );
    await run('slapmodify', ['-n0', '-F', join(dir, 'slapd.d'), '-l', change], TOOL_OPTIONS);
  }
  return pki.caCert;
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'slapd-'));
  const logFile = join(options.logDir ?? dir, 'slapd.log');
  const confDir = join(dir, 'slapd.d');
  const [port, ldapsPort] = await twoPorts();
  const host = options.netns?.nsIp ?? '127.0.0.1';
  const url = `ldap://${host}:${port}`;
  const ldapsUrl = `ldaps://${host}:${ldapsPort}`;
  let server: Server | undefined;
  let countFrom = 0; // log offset after seeding: the counters report only what tests did

  async function start(): Promise<void> {
    if (server) return;
    // slapd writes straight into the file (no pipe through this process), so a BIND or SRCH line is on
    // disk before slapd answers the operation, and counters read right after a reply are exact.
    const fd = openSync(logFile, 'a');
    try {
      // setpriv --pdeathsig (util-linux) execs slapd with the same pid, which gets SIGTERM if this process
      // dies without running its `after` hooks, so a crashed test run leaves no slapd behind.
      const slapd = ['/usr/sbin/slapd', '-F', confDir, '-h', `${url}/ ${ldapsUrl}/`, '-d', 'stats'];
      const args = ['--pdeathsig', 'TERM', '--', ...slapd];
      const [command, fullArgs] = options.netns ? options.netns.wrap('setpriv', args) : ['setpriv', args];
      server = startServer('slapd', command, fullArgs, logFile, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    try {
      await waitForPort(host, port, 10_000, server);
      await waitForPort(host, ldapsPort, 10_000, server);
    } catch (error) {
      await stop();
      throw error;
    }
  }

  async function stop(): Promise<void> {
    const current = server;
    server = undefined;
    await current?.stop();
  }

  async function logSinceSeed(): Promise<string> {
    return (await readFile(logFile)).subarray(countFrom).toString('utf8');
  }

  let caCert = '';
  try {
    caCert = await buildConfig(dir, options);
    await start();
    const seedFile = join(dir, 'seed.ldif');
    await writeFile(seedFile, (await readFile(SEED_LDIF, 'utf8')) + '\n' + (options.extraLdif ?? '') + '\n');
    // ldapadd over the wire (not slapadd) so the memberof overlay writes memberOf on the members.
    const bind = ['-x', '-H', url, '-D', seed.admin.dn, '-w', seed.admin.password];
    await run('ldapadd', [...bind, '-f', seedFile], TOOL_OPTIONS);
    countFrom = (await readFile(logFile)).length;
  } catch (error) {
    await stop();
    // The state dir goes, so the reason has to travel with the error.
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`slapd did not start: ${String(error)}\n--- slapd log (tail) ---\n${log.slice(-3000)}`, {
      cause: error,
    });
  }
  const unwatch = watchLog(logFile); // from here on its owner: destroy() forgets it

  return {
    url,
    ldapsUrl,
    caCert,
    baseDn: seed.baseDn,
    serviceDn: seed.service.dn,
    servicePassword: seed.service.password,
    adminDn: seed.admin.dn,
    adminPassword: seed.admin.password,
    logFile,
    dir,
    stop,
    start,
    async destroy() {
      await stop();
      unwatch();
      await rm(dir, { recursive: true, force: true });
    },
    async countBinds(dn: string) {
      const wanted = dnKey(dn);
      return simpleBindDns(await logSinceSeed()).filter((d) => dnKey(d) === wanted).length;
    },
    async countSearches() {
      return [...(await logSinceSeed()).matchAll(/ SRCH base=/g)].length;
    },
  };
}
