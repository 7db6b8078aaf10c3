// A real Active Directory for tests: a Samba 4 AD DC provisioned from scratch in a temporary directory and
// run inside its own network namespace (netns.ts: it must bind on, and reach, nothing but the test),
// serving LDAPS and StartTLS with a certificate from our own CA, seeded with users, nested groups and
// accounts in each of the states AD reports through `AcceptSecurityContext error, data XXX`.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, InvalidCredentialsError } from 'ldapts';
import { createCa, issueServerCert } from './certs.ts';
import { createNetns } from './netns.ts';
import type { Netns } from './netns.ts';
import { startServer } from './process.ts';
import type { Server } from './process.ts';
import { watchLog } from './credentials.ts';

export interface AdUser {
  dn: string;
  password: string;
  upn: string;
}

export interface SambaAd {
  readonly ldapsUrl: string;
  /** StartTLS works here; a plain simple bind is refused with resultCode 8 (strongAuthRequired). */
  readonly ldapUrl: string;
  /** The CA that issued the DC's certificate (SAN IP:<nsIp>). */
  readonly caCert: string;
  readonly realm: string;
  readonly domain: string;
  readonly baseDn: string;
  readonly usersDn: string;
  readonly serviceDn: string;
  readonly servicePassword: string;
  /** Domain administrator, for tests that need to read or change what ordinary accounts cannot. */
  readonly adminUpn: string;
  readonly adminPassword: string;
  /** alice, bob, carol, dave and the special accounts of SPECIAL_ACCOUNTS. */
  readonly users: Record<string, AdUser>;
  /** DN of each registry group. */
  readonly groups: Record<string, string>;
  /** Failed binds that lock an account (domain-wide), and for how long. */
  readonly lockoutThreshold: number;
  readonly lockoutDurationMinutes: number;
  readonly netns: Netns;
  /** Temporary directory holding the domain, smb.conf, the PKI and `samba.log`. */
  readonly dir: string;
  readonly logFile: string;
  readonly timings: { provisionMs: number; startMs: number; seedMs: number };
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** Runs `samba-tool <args> -s <smb.conf>` inside the namespace against this DC; resolves to stdout. */
  samba(args: string[]): Promise<string>;
}

const REALM = 'EXAMPLE.TEST';
const DOMAIN = 'EXAMPLE';
const BASE_DN = 'DC=example,DC=test';
const USERS_DN = `CN=Users,${BASE_DN}`;
const ADMIN_PASSWORD = 'Admin-Pass1!';
const LOCKOUT_THRESHOLD = 3;
const LOCKOUT_MINUTES = 30;
const PROVISION = `domain provision --realm=${REALM} --domain=${DOMAIN} --server-role=dc --host-name=DC1 --use-rfc2307 --dns-backend=SAMBA_INTERNAL`;
/** samba-tool is Python: Debian's /usr/bin/python3 carries the samba bindings, pyenv's does not. */
const SYSTEM_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8' };

/** The `data` code in AD's bind error for each special account, when bound with its right password. */
export const SPECIAL_ACCOUNTS = {
  'disabled-user': '533', // ERROR_ACCOUNT_DISABLED
  'expired-user': '701', // ERROR_ACCOUNT_EXPIRED
  'mustchange-user': '773', // ERROR_PASSWORD_MUST_CHANGE (pwdLastSet = 0)
  'pwexpired-user': '532', // ERROR_PASSWORD_EXPIRED
  'locked-user': '775', // ERROR_ACCOUNT_LOCKED_OUT
} as const;

export const REGISTRY_GROUPS = ['registry-pushers', 'registry-users', 'registry-ci'] as const;

interface Seed {
  login: string;
  password: string;
  given?: string;
  surname?: string;
  groups?: string[];
  state?: 'disabled' | 'expired' | 'mustchange' | 'pwexpired';
}

const SERVICE: Seed = { login: 'svc-registry', password: 'Service-Pass1!' };
const SEED: Seed[] = [
  {
    login: 'alice',
    password: 'Alice-Pass1!',
    given: 'Alice',
    surname: 'Anders',
    groups: ['registry-pushers'],
  },
  { login: 'bob', password: 'Bob-Pass1!', groups: ['registry-users'] },
  { login: 'carol', password: 'Carol-Pass1!' },
  { login: 'dave', password: 'Dave-Pass1!', groups: ['registry-ci'] },
  { login: 'disabled-user', password: 'Disabled-Pass1!', state: 'disabled' },
  { login: 'expired-user', password: 'Expired-Pass1!', state: 'expired' },
  { login: 'mustchange-user', password: 'Mustchange-Pass1!', state: 'mustchange' },
  { login: 'pwexpired-user', password: 'Pwexpired-Pass1!', state: 'pwexpired' },
  { login: 'locked-user', password: 'Locked-Pass1!' },
];
const NESTED: Record<string, string[]> = { 'registry-pushers': ['registry-ci'] };

// Seeding through samba-tool costs ~0.4 s of Python start-up per command (~20 commands, 4-18 s on two
// busy cores); this one process makes the same SamDB calls samba-tool's subcommands make (noted beside
// each) in ~0.5 s. The spec, passwords included, arrives on stdin.
const SEED_PY = `
import json, sys, time, ldb
from samba.samdb import SamDB
from samba.param import LoadParm
from samba.auth import system_session
spec = json.load(sys.stdin)
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
def replace(dn, attrs, controls=None):
    m = ldb.Message(dn)
    for k, v in attrs.items(): m[k] = ldb.MessageElement(v, ldb.FLAG_MOD_REPLACE, k)
    db.modify(m, controls=controls or [])
window = str(-spec["lockoutMinutes"] * 60 * 10**7)  # negative 100 ns intervals
# = domain passwordsettings set --account-lockout-threshold/-duration --reset-account-lockout-after
replace(db.get_default_basedn(), {"lockoutThreshold": str(spec["lockoutThreshold"]),
        "lockoutDuration": window, "lockOutObservationWindow": window})
for g in spec["groups"]: db.newgroup(g)  # = group add (global security group)
for u in spec["users"]:
    state = u.get("state")
    # = user create [--given-name --surname] [--must-change-at-next-login]; useusernameascn=None as
    # samba-tool passes it, so the CN becomes "Given Surname" when those are set
    db.newuser(u["login"], u["password"], givenname=u.get("given"), surname=u.get("surname"),
               useusernameascn=None, force_password_change_at_next_login_req=(state == "mustchange"))
    who = "(sAMAccountName=%s)" % ldb.binary_encode(u["login"])
    if state == "disabled": db.disable_account(who)  # = user disable
    if state == "expired": db.setexpiry(who, 0)  # = user setexpiry --days=0
    if state == "pwexpired":
        # Over LDAP pwdLastSet takes only 0 or -1, and a maximum password age under one day means "never
        # expires": set pwdLastSet 60 days back (past the 42-day maxPwdAge) together with the password,
        # under DSDB_CONTROL_PASSWORD_BYPASS_LAST_SET_OID, as classicupgrade imports passwords.
        last_set = int((time.time() - 60 * 86400 + 11644473600) * 10**7)  # NTTIME: 100 ns since 1601
        dn = db.search(db.get_default_basedn(), expression=who, attrs=[])[0].dn
        replace(dn, {"clearTextPassword": u["password"].encode("utf-16-le"), "pwdLastSet": str(last_set)},
                ["local_oid:1.3.6.1.4.1.7165.4.3.20:0"])
for g, members in spec["members"].items(): db.add_remove_group_members(g, members)  # = group addmembers
`;

function smbConf(dir: string, ns: Netns, cert: { cert: string; key: string }, caCert: string): string {
  const dc = join(dir, 'dc');
  // With --targetdir, provisioning still leaves the pid, socket, log and cache paths at their compiled-in
  // system locations. No DNS, NetBIOS, file serving or winbindd (whose orphaned children outlive a stop):
  // LDAP, Kerberos and RPC are all the tests use.
  return `[global]
netbios name = DC1
realm = ${REALM}
workgroup = ${DOMAIN}
server role = active directory domain controller
idmap_ldb:use rfc2307 = yes
private dir = ${dc}/private
state directory = ${dc}/state
lock directory = ${dc}
cache directory = ${dc}/cache
binddns dir = ${dc}/bind-dns
pid directory = ${dir}/run
ncalrpc dir = ${dir}/run/ncalrpc
winbindd socket directory = ${dir}/run/winbindd
ntp signd socket directory = ${dir}/run/ntp_signd
log file = ${dir}/log.%m
interfaces = lo ${ns.nsIf}
bind interfaces only = yes
server services = -s3fs -nbt -wrepl -ntp_signd -dnsupdate -dns -winbindd
dns update command = /bin/true
dns forwarder = 127.0.0.1
prefork children = 2
tls enabled = yes
tls certfile = ${cert.cert}
tls keyfile = ${cert.key}
tls cafile = ${caCert}
`;
}

/** samba-tool's rule: the CN is "Given Surname" when those are set, else the login. */
function userDn(seed: Seed): string {
  const cn = seed.given && seed.surname ? `${seed.given} ${seed.surname}` : seed.login;
  return `CN=${cn},${USERS_DN}`;
}

/** Provisions, starts and seeds a DC; everything lives under one temp dir and one namespace. */
export async function startSambaAd(): Promise<SambaAd> {
  const dir = await mkdtemp(join(tmpdir(), 'samba-ad-'));
  let ns: Netns | undefined;
  try {
    ns = await createNetns('samba-ad');
    return await provisionAndStart(dir, ns);
  } catch (error) {
    await ns?.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function provisionAndStart(dir: string, ns: Netns): Promise<SambaAd> {
  const conf = join(dir, 'smb.conf');
  const logFile = join(dir, 'samba.log');
  const caFile = join(dir, 'pki', 'ca.pem');
  const tlsOptions = async () => ({ ca: [await readFile(caFile, 'utf8')] });
  const inNs = (cmd: string, args: readonly string[], input?: string) =>
    ns.exec(cmd, args, { env: SYSTEM_ENV, ...(input === undefined ? {} : { input }) });
  const samba = async (args: string[]) => (await inNs('samba-tool', [...args, '-s', conf])).stdout;

  let t0 = Date.now();
  await writeFile(join(dir, 'empty.conf'), ''); // keeps provision from merging /etc/samba/smb.conf
  const where = ['-s', join(dir, 'empty.conf'), `--targetdir=${join(dir, 'dc')}`, `--host-ip=${ns.nsIp}`];
  const [, pki] = await Promise.all([
    inNs('samba-tool', [...PROVISION.split(' '), `--adminpass=${ADMIN_PASSWORD}`, ...where]),
    createCa(join(dir, 'pki'), 'Samba AD test CA'),
  ]);
  const cert = await issueServerCert(pki, 'dc1', { dns: ['dc1.example.test'], ips: [ns.nsIp] });
  await mkdir(join(dir, 'run'), { recursive: true });
  await writeFile(conf, smbConf(dir, ns, cert, pki.caCert));
  const provisionMs = Date.now() - t0;

  const ldapsUrl = `ldaps://${ns.nsIp}:636`;
  let server: Server | undefined;
  let destroyed = false;
  const start = async () => {
    if (destroyed) throw new Error('this Samba AD was destroyed');
    if (server) return;
    const flags = ['--foreground', '--no-process-group', '--debug-stdout', '-d1', '-s', conf];
    const [command, args] = ns.wrap('samba', flags);
    // Not detached (no setsid): if the test runner dies, a Ctrl-C to its process group still ends samba.
    server = startServer('samba-ad', command, args, logFile, { env: SYSTEM_ENV });
    await waitForLdaps(ldapsUrl, await tlsOptions(), server);
  };
  const stop = async () => {
    await server?.stop(10_000);
    server = undefined;
    await ns.killAll(); // the workers (ldap, kdc, rpc, ...) exit just after the master
  };

  t0 = Date.now();
  await start();
  const startMs = Date.now() - t0;

  t0 = Date.now();
  await inNs('/usr/bin/python3', ['-c', SEED_PY, conf], seedSpec());
  await lockOut(ldapsUrl, await tlsOptions(), userDn({ login: 'locked-user', password: '' }));
  const seedMs = Date.now() - t0;

  const users: Record<string, AdUser> = {};
  for (const s of SEED)
    users[s.login] = { dn: userDn(s), password: s.password, upn: `${s.login}@example.test` };
  const groups: Record<string, string> = {};
  for (const g of REGISTRY_GROUPS) groups[g] = `CN=${g},${USERS_DN}`;

  const unwatch = watchLog(logFile); // from here on its owner: destroy() forgets it
  return {
    ldapsUrl,
    ldapUrl: `ldap://${ns.nsIp}:389`,
    caCert: pki.caCert,
    realm: REALM,
    domain: DOMAIN,
    baseDn: BASE_DN,
    usersDn: USERS_DN,
    serviceDn: userDn(SERVICE),
    servicePassword: SERVICE.password,
    adminUpn: 'administrator@example.test',
    adminPassword: ADMIN_PASSWORD,
    users,
    groups,
    lockoutThreshold: LOCKOUT_THRESHOLD,
    lockoutDurationMinutes: LOCKOUT_MINUTES,
    netns: ns,
    dir,
    logFile,
    timings: { provisionMs, startMs, seedMs },
    start,
    stop,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await stop();
      } finally {
        unwatch();
        await ns.destroy();
        await rm(dir, { recursive: true, force: true });
      }
    },
    samba,
  };
}

/** The input of SEED_PY. */
function seedSpec(): string {
  const members = Object.fromEntries(Object.entries(NESTED).map(([g, m]) => [g, [...m]]));
  for (const u of SEED) for (const g of u.groups ?? []) (members[g] ??= []).push(u.login);
  const spec = {
    lockoutThreshold: LOCKOUT_THRESHOLD,
    lockoutMinutes: LOCKOUT_MINUTES,
    groups: REGISTRY_GROUPS,
    users: [SERVICE, ...SEED],
    members,
  };
  return JSON.stringify(spec);
}

/** Binds `name` on a fresh LDAPS connection, verified with the DC's CA; resolves to the error, or undefined on success. */
export async function bindError(ad: SambaAd, name: string, password: string): Promise<unknown> {
  const client = new Client({
    url: ad.ldapsUrl,
    tlsOptions: { ca: [await readFile(ad.caCert, 'utf8')] },
    connectTimeout: 3000,
    timeout: 5000,
  });
  try {
    await client.bind(name, password);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.unbind();
  }
}

/** Locks `dn` out the way users do: LOCKOUT_THRESHOLD binds with a wrong password. */
async function lockOut(url: string, tlsOptions: { ca: string[] }, dn: string): Promise<void> {
  for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
    const client = new Client({ url, tlsOptions, connectTimeout: 3000, timeout: 5000 });
    try {
      await client.bind(dn, 'Wrong-Pass1!');
      throw new Error(`bind of ${dn} with a wrong password succeeded`);
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError)) throw error;
    } finally {
      await client.unbind();
    }
  }
}

/** Polls a verified LDAPS bind as Administrator: the port opens before the directory answers. */
async function waitForLdaps(url: string, tlsOptions: { ca: string[] }, server: Server): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) break;
    const client = new Client({ url, tlsOptions, connectTimeout: 1000, timeout: 2000 });
    try {
      await client.bind('administrator@example.test', ADMIN_PASSWORD);
      return;
    } catch (error) {
      last = error;
    } finally {
      await client.unbind().catch(() => undefined); // never connected: nothing to unbind
    }
    await sleep(100);
  }
  const log = await readFile(server.logFile, 'utf8').catch(() => '');
  throw new Error(`Samba AD did not answer on ${url} (${String(last)}); log tail:\n${log.slice(-3000)}`);
}

/** The configuration docs/active-directory.md recommends, over LDAPS with the domain's CA. */
export function sidecarEnvForAd(ad: SambaAd, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LDAP_PRESET: 'activedirectory',
    LDAP_URL: ad.ldapsUrl,
    LDAP_CA_FILE: ad.caCert,
    LDAP_BIND_DN: ad.serviceDn,
    LDAP_BIND_PASSWORD: ad.servicePassword,
    LDAP_USER_BASE_DN: ad.usersDn,
    LDAP_NESTED_GROUPS: 'true',
    AUTH_PUSH_GROUPS: 'registry-pushers',
    AUTH_PULL_GROUPS: 'registry-users',
    LDAP_TIMEOUT_MS: '3000',
    LDAP_CONNECT_TIMEOUT_MS: '2000',
    ...overrides,
  };
}
