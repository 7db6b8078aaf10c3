// The configuration check (`--check`) in-process against a real slapd, a refused port, a listener that
// never answers, TLS listeners whose certificate does not verify and a connection that drops after the
// bind: the report's lines as the operator reads them, and its exit code. test/check.test.ts runs the
// same command as a child process (argument handling, the prompt, exit codes of the process).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { freePort } from '@registry-ldap-auth/stack/process';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { loadConfig } from '../src/config.ts';
import type { Env } from '../src/env-reader.ts';
import { runCheck } from '../src/check/check.ts';
import { EXIT } from '../src/check/report.ts';
import { capturedReport } from './support/log-capture.ts';
import type { ExitCode } from '../src/check/report.ts';
import { checkUser } from '../src/check/user-check.ts';
import type { UserToCheck } from '../src/check/user-check.ts';
import { listenOnLoopback } from './support/loopback.ts';
import { openldapEnv, withoutEmpty } from './support/openldap-env.ts';
import { startStallServer } from './support/stall-server.ts';
import type { StallServer } from './support/stall-server.ts';
import { waitFor } from './support/wait.ts';
import { checkLogsThenStop } from './support/teardown.ts';

const { alice, bob, carol, dave } = seed.users;
const { pushers, users, admins, ci } = seed.groups;
const contractorsDn = `ou=contractors,${seed.baseDn}`;
const zoeDn = `uid=zoe,${contractorsDn}`;
const notAGroupDn = `cn=not-a-group,${seed.groupsDn}`;

// A second place users live, an entry under the group base that is no group, and two groups that share a
// description.
const EXTRA_LDIF = `${[
  [`dn: ${contractorsDn}`, 'objectClass: organizationalUnit', 'ou: contractors'],
  [`dn: ${zoeDn}`, 'objectClass: inetOrgPerson', 'uid: zoe', 'cn: Zoe Zimmer', 'sn: Zimmer'],
  [`dn: ${notAGroupDn}`, 'objectClass: organizationalRole', 'cn: not-a-group'],
  ...['platform-a', 'platform-b'].map((cn) => [
    `dn: cn=${cn},${seed.groupsDn}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    `member: ${seed.users.erin.dn}`,
    'description: Platform team',
  ]),
]
  .map((r) => r.join('\n'))
  .join('\n\n')}\n`;

let slapd: Slapd;
let dir: string;
let passwordFile: string;
/** Listeners that refuse nothing but answer nothing useful. */
let silent: string;
let wrongName: { url: string; ca: string };
let dropsAfterBind: string;
let dropsAfterRootDse: string;
let refused: string;
let oidcFile: string;
/** Passes connections through to slapd and counts those still open. */
let forward: StallServer;
const cleanup: (() => Promise<void>)[] = [];

/** Passes the first `requests` requests through to slapd, then hangs up when the client sends another. */
async function startDropAfter(requests: number): Promise<string> {
  const target = new URL(slapd.url);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let seen = 0;
    client.on('error', () => undefined); // the check sees the hang-up; nothing to do here
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    client.on('data', (data: Buffer) => {
      seen++;
      if (seen <= requests) upstream.write(data);
      else {
        upstream.destroy();
        client.destroy();
      }
    });
    client.on('close', () => upstream.destroy());
  });
  return `ldap://127.0.0.1:${await listenOnLoopback(server, cleanup)}`;
}

before(async () => {
  slapd = await startSlapd({ anonymousRead: true, extraLdif: EXTRA_LDIF });
  dir = await mkdtemp(join(tmpdir(), 'check-inprocess-'));
  passwordFile = join(dir, 'bind-password');
  await writeFile(passwordFile, `${seed.service.password}\n`);
  await writeFile(join(dir, 'wrong-password'), 'not-the-password\n');

  const target = new URL(slapd.url);
  forward = await startStallServer('forward', { host: target.hostname, port: Number(target.port) });
  cleanup.push(() => forward.close());
  const stall = await startStallServer('silent');
  cleanup.push(() => stall.close());
  silent = stall.url;

  const pki = await createCa(join(dir, 'other-ca'), 'other test CA');
  const cert = await issueServerCert(pki, 'elsewhere', { dns: ['elsewhere.test'] });
  const [certPem, keyPem] = await Promise.all([readFile(cert.cert, 'utf8'), readFile(cert.key, 'utf8')]);
  const tlsServer = tls.createServer({ cert: certPem, key: keyPem });
  tlsServer.on('tlsClientError', () => undefined); // the client refuses the certificate: expected
  wrongName = { url: `ldaps://127.0.0.1:${await listenOnLoopback(tlsServer, cleanup)}`, ca: pki.caCert };

  dropsAfterBind = await startDropAfter(1);
  dropsAfterRootDse = await startDropAfter(2);
  refused = `ldap://127.0.0.1:${await freePort()}`;
  oidcFile = join(dir, 'oidc.json');
  const issuer = {
    name: 'gitlab',
    issuer: `https://127.0.0.1:${new URL(refused).port}`,
    audience: 'https://registry.example.test',
    rules: [{ claims: { namespace_path: 'platform' }, pull: 'platform/**' }],
  };
  await writeFile(oidcFile, JSON.stringify({ issuers: [issuer] }));
});
after(() => checkLogsThenStop(cleanup, slapd, dir));

/** The seeded directory's environment with `overrides`; an empty value removes the variable. */
function envWith(overrides: Record<string, string>): Env {
  return withoutEmpty(openldapEnv(slapd, overrides));
}

interface Outcome {
  readonly code: ExitCode;
  readonly text: string;
}

async function check(overrides: Record<string, string>, user?: UserToCheck): Promise<Outcome> {
  const env = envWith(overrides);
  const { report, text } = capturedReport();
  await runCheck(loadConfig(env), env, report, user);
  const code = report.summary();
  return { code, text: text() };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One whole report line (continuation lines indented under it), as Report writes it. */
function line(label: 'ok' | 'info' | 'warn' | 'FAIL', text: string): RegExp {
  return new RegExp(`^  ${label.padEnd(4)}  ${escape(text).replaceAll('\n', '\n        ')}$`, 'm');
}

function assertReport(
  r: Outcome,
  code: ExitCode,
  present: readonly RegExp[],
  absent: readonly RegExp[] = [],
) {
  assert.equal(r.code, code, r.text);
  for (const re of present) assert.match(r.text, re);
  for (const re of absent) assert.doesNotMatch(r.text, re);
}

const userFilter = '(&(objectClass=inetOrgPerson)(uid={username}))';
const groupFilter = '(&(objectClass=groupOfNames)(member={dn}))';
const isGroup = '(&(objectClass=groupOfNames)(objectClass=*))';

describe('--check in-process: the configuration and the directory', () => {
  it('passes the seeded configuration, describing it and resolving every group, exit 0', async () => {
    const r = await check({});
    assertReport(r, EXIT.ok, [
      /^\nconfiguration\n/,
      line('ok', 'loaded: LDAP_PRESET=openldap, 1 LDAP_URL'),
      line(
        'info',
        [
          `bind:   ${seed.service.dn}, password from LDAP_BIND_PASSWORD`,
          `users:  ${userFilter} under ${seed.peopleDn}, named by uid`,
          `groups: ${groupFilter} under ${seed.groupsDn}, named by cn; nested: walked`,
        ].join('\n'),
      ),
      /\ndirectory\n/,
      line('ok', `${slapd.url}: connected, bound as ${seed.service.dn}`),
      line('info', 'server: OpenLDAP'),
      line('ok', `LDAP_USER_BASE_DN=${seed.peopleDn} exists and holds users`),
      line('ok', `LDAP_GROUP_BASE_DN=${seed.groupsDn} exists and holds groups`),
      /\ngroups \(AUTH_\*_GROUPS\)\n/,
      line('ok', `AUTH_PUSH_GROUPS: registry-pushers → ${pushers.dn}`),
      line('ok', `AUTH_PULL_GROUPS: registry-users → ${users.dn}`),
      line('ok', `AUTH_PULL_GROUPS: registry-admins → ${admins.dn}`),
      line('ok', `AUTH_DELETE_GROUPS: registry-admins → ${admins.dn}`),
      line('info', 'AUTH_CATALOG_GROUPS is empty: whoever may pull every repository may list the catalog'),
      /\n\nall checks passed \(exit 0\)\n$/,
    ]);
    assert.doesNotMatch(r.text, /warn|FAIL|\nuser |job tokens/);
  });

  // Each row: the environment an operator might have, what the report then says, and the exit code.
  const rows: {
    name: string;
    env: () => Record<string, string>;
    code: ExitCode;
    present: () => RegExp[];
    absent?: () => RegExp[];
  }[] = [
    {
      name: 'describes anonymous binds, unnested groups, empty lists and a password file',
      env: () => ({
        LDAP_BIND_DN: '',
        LDAP_BIND_PASSWORD: '',
        LDAP_NESTED_GROUPS: 'false',
        AUTH_PULL_GROUPS: '',
        AUTH_DELETE_GROUPS: '',
      }),
      code: EXIT.ok,
      present: () => [
        line('info', 'bind:   anonymous (no LDAP_BIND_DN)'),
        /^ {8}groups: .*; nested: off$/m,
        line('ok', `${slapd.url}: connected, bound anonymously`),
        line('info', 'AUTH_PULL_GROUPS is empty: every authenticated user may pull'),
        line('info', 'AUTH_DELETE_GROUPS is empty: nobody may delete'),
      ],
    },
    {
      name: 'names LDAP_BIND_PASSWORD_FILE as where the password comes from',
      env: () => ({ LDAP_BIND_PASSWORD: '', LDAP_BIND_PASSWORD_FILE: passwordFile }),
      code: EXIT.ok,
      present: () => [/^ {2}info {2}bind: {3}.*, password from LDAP_BIND_PASSWORD_FILE$/m],
    },
    {
      name: 'checks every LDAP_URL and says StartTLS is used',
      env: () => ({
        LDAP_URL: `${slapd.url},${slapd.url.replace('127.0.0.1', 'LOCALHOST')}`,
        LDAP_START_TLS: 'true',
        LDAP_CA_FILE: slapd.caCert,
      }),
      code: EXIT.ok,
      present: () => [
        line('ok', 'loaded: LDAP_PRESET=openldap, 2 LDAP_URLs'),
        line('ok', `${slapd.url}: connected (StartTLS), bound as ${seed.service.dn}`),
      ],
    },
    {
      name: 'warns that LDAP_TLS_INSECURE turns certificate checks off, exit 1',
      env: () => ({ LDAP_URL: slapd.ldapsUrl, LDAP_TLS_INSECURE: 'true' }),
      code: EXIT.warnings,
      present: () => [
        line('warn', 'LDAP_TLS_INSECURE=true: the server certificate is not verified'),
        line('ok', `${slapd.ldapsUrl}: connected, bound as ${seed.service.dn}`),
        /\n\n0 problems, 1 warning \(exit 1\)\n$/,
      ],
    },
    {
      name: 'warns about a cleartext URL to another host and one server of several down, exit 1',
      env: () => ({
        LDAP_URL: [
          'ldap://directory.invalid',
          'ldap://localhost.invalid',
          'ldap://not.localhost',
          'ldap://127.0.0.10:1',
          slapd.url,
        ].join(','),
      }),
      code: EXIT.warnings,
      present: () => [
        ...['directory.invalid', 'localhost.invalid', 'not.localhost'].map((host) =>
          line(
            'warn',
            `ldap://${host}: passwords cross the network unencrypted: use ldaps:// or LDAP_START_TLS=true`,
          ),
        ),
        /^ {2}warn {2}ldap:\/\/directory\.invalid: cannot connect \(.*ENOTFOUND.*\)$/m,
        /^ {2}warn {2}ldap:\/\/127\.0\.0\.10:1: cannot connect \(.*ECONNREFUSED.*\)$/m,
        line('ok', `LDAP_GROUP_BASE_DN=${seed.groupsDn} exists and holds groups`),
        /\n\n0 problems, 7 warnings \(exit 1\)\n$/,
      ],
      absent: () => [/FAIL/, /unencrypted.*127\.0\.0\./],
    },
    {
      name: 'does not call ldaps:// to another host unencrypted',
      env: () => ({ LDAP_URL: `ldaps://directory.invalid,${slapd.ldapsUrl}`, LDAP_CA_FILE: slapd.caCert }),
      code: EXIT.warnings,
      present: () => [/^ {2}warn {2}ldaps:\/\/directory\.invalid: cannot connect/m],
      absent: () => [/unencrypted/],
    },
    {
      name: 'does not call StartTLS to another host unencrypted',
      env: () => ({
        LDAP_URL: `ldap://directory.invalid,${slapd.url}`,
        LDAP_START_TLS: 'true',
        LDAP_CA_FILE: slapd.caCert,
      }),
      code: EXIT.warnings,
      present: () => [/^ {2}warn {2}ldap:\/\/directory\.invalid: cannot connect/m],
      absent: () => [/unencrypted/],
    },
    {
      name: 'fetches the keys of the OIDC_CONFIG_FILE issuers before checking the directory',
      env: () => ({ OIDC_CONFIG_FILE: oidcFile }),
      code: EXIT.misconfigured,
      present: () => [
        new RegExp(
          `\\njob tokens \\(OIDC_CONFIG_FILE\\)\\n  info  1 trusted issuer in ${escape(oidcFile)}; tokens log in as oidc\\n  FAIL  gitlab: the keys of https://127\\.0\\.0\\.1:\\d+ cannot be fetched: .+\\n\\ndirectory\\n`,
        ),
      ],
    },
    {
      name: 'warns about a misspelt variable, naming the real one, exit 1',
      env: () => ({ LDAP_NESTED_GROUP: 'true' }),
      code: EXIT.warnings,
      present: () => [
        line(
          'warn',
          'LDAP_NESTED_GROUP is set but not read by registry-ldap-auth: did you mean LDAP_NESTED_GROUPS?',
        ),
      ],
    },
    {
      name: 'fails with exit 3 when the only server refuses the connection, and checks nothing further',
      env: () => ({ LDAP_URL: refused }),
      code: EXIT.unreachable,
      present: () => [
        new RegExp(`^  FAIL  ${escape(refused)}: cannot connect \\(.*ECONNREFUSED.*\\)$`, 'm'),
        /\n\n1 problem, 0 warnings \(exit 3\)\n$/,
      ],
      absent: () => [/server:/, /groups \(AUTH/],
    },
    {
      name: 'fails with exit 3 when the server accepts the connection and never answers',
      env: () => ({ LDAP_URL: silent, LDAP_CONNECT_TIMEOUT_MS: '300', LDAP_TIMEOUT_MS: '300' }),
      code: EXIT.unreachable,
      present: () => [new RegExp(`^  FAIL  ${escape(silent)}: cannot connect \\(.+\\)$`, 'm')],
    },
    {
      name: 'names LDAP_CA_FILE when the certificate is not trusted, exit 4 even with another server up',
      env: () => ({ LDAP_URL: `${slapd.ldapsUrl},${slapd.url}` }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `${slapd.ldapsUrl}: the server's certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN): set LDAP_CA_FILE to the CA that signed it`,
        ),
      ],
    },
    {
      name: 'says when the certificate names another host, exit 4',
      env: () => ({ LDAP_URL: wrongName.url, LDAP_CA_FILE: wrongName.ca }),
      code: EXIT.misconfigured,
      present: () => [
        new RegExp(
          `^  FAIL  ${escape(wrongName.url)}: the server's certificate does not name this host \\(.*127\\.0\\.0\\.1.*\\): use a host name the certificate names in LDAP_URL$`,
          'm',
        ),
      ],
    },
    {
      name: 'names the password variable when the service account is rejected, exit 4',
      env: () => ({ LDAP_BIND_PASSWORD: '', LDAP_BIND_PASSWORD_FILE: join(dir, 'wrong-password') }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `${slapd.url}: the directory rejected the service account: check LDAP_BIND_DN and LDAP_BIND_PASSWORD_FILE`,
        ),
      ],
      absent: () => [/server:/],
    },
    {
      name: 'reports a search that fails after the bind, exit 4',
      env: () => ({ LDAP_URL: dropsAfterBind }),
      code: EXIT.misconfigured,
      present: () => [
        line('ok', `${dropsAfterBind}: connected, bound as ${seed.service.dn}`),
        new RegExp(`^  FAIL  ${escape(dropsAfterBind)}: the directory failed a search: \\w+: .+$`, 'm'),
      ],
    },
    {
      name: 'reports a base DN lookup that fails as a failed search, not as a malformed DN, exit 4',
      env: () => ({ LDAP_URL: dropsAfterRootDse }),
      code: EXIT.misconfigured,
      present: () => [
        line('info', 'server: OpenLDAP'),
        new RegExp(`^  FAIL  ${escape(dropsAfterRootDse)}: the directory failed a search: \\w+: .+$`, 'm'),
      ],
      absent: () => [/is not a DN/, /does not exist/],
    },
    {
      name: 'names the preset for the server when LDAP_PRESET=activedirectory meets OpenLDAP, exit 4',
      env: () => ({ LDAP_PRESET: 'activedirectory', LDAP_NESTED_GROUPS: 'true' }),
      code: EXIT.misconfigured,
      present: () => [
        line('FAIL', 'LDAP_PRESET=activedirectory, but the server is OpenLDAP: set LDAP_PRESET=openldap'),
        /^ {8}groups: .*; nested: in the filter \(AD in-chain rule\)$/m,
      ],
    },
    {
      name: 'says a user base DN does not exist and which naming contexts the server holds, exit 4',
      env: () => ({ LDAP_USER_BASE_DN: `ou=staff,${seed.baseDn}` }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `LDAP_USER_BASE_DN=ou=staff,${seed.baseDn} does not exist on the server (the server holds ${seed.baseDn})`,
        ),
        // The groups are still checked: the group base is fine.
        line('ok', `AUTH_PUSH_GROUPS: registry-pushers → ${pushers.dn}`),
      ],
    },
    {
      name: 'leaves the groups unresolved when the group base DN does not exist, exit 4',
      env: () => ({ LDAP_GROUP_BASE_DN: `ou=teams,${seed.baseDn}` }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `LDAP_GROUP_BASE_DN=ou=teams,${seed.baseDn} does not exist on the server (the server holds ${seed.baseDn})`,
        ),
        line('info', 'not resolved: fix LDAP_GROUP_BASE_DN / LDAP_GROUP_FILTER first'),
      ],
      absent: () => [/AUTH_PUSH_GROUPS:/],
    },
    {
      name: 'says a group base that is not a DN is not one, and leaves the groups unresolved, exit 4',
      env: () => ({ LDAP_GROUP_BASE_DN: 'groups' }),
      code: EXIT.misconfigured,
      present: () => [
        line('FAIL', 'LDAP_GROUP_BASE_DN="groups" is not a DN (like ou=people,dc=example,dc=com)'),
        line('info', 'not resolved: fix LDAP_GROUP_BASE_DN / LDAP_GROUP_FILTER first'),
      ],
      absent: () => [/AUTH_PUSH_GROUPS:/],
    },
    {
      name: 'says where the groups are when the group base holds none, exit 4',
      env: () => ({ LDAP_GROUP_BASE_DN: seed.peopleDn }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `LDAP_GROUP_BASE_DN=${seed.peopleDn} holds no groups (no entry matches ${isGroup}, from LDAP_GROUP_FILTER)\ngroups are under ${seed.groupsDn}: set LDAP_GROUP_BASE_DN to that`,
        ),
        line('info', 'not resolved: fix LDAP_GROUP_BASE_DN / LDAP_GROUP_FILTER first'),
      ],
      absent: () => [/AUTH_PUSH_GROUPS:/],
    },
    {
      name: 'names every OU that holds users, an escaped comma in a DN included, exit 4',
      env: () => ({
        LDAP_USER_BASE_DN: seed.servicesDn,
        LDAP_USER_FILTER: "(&(objectClass=inetOrgPerson)(|(uid=zoe)(cn=O'Brien*))(uid={username}))",
      }),
      code: EXIT.misconfigured,
      present: () => [
        new RegExp(
          `^ {8}users are under (${escape(seed.peopleDn)}; ${escape(contractorsDn)}|${escape(contractorsDn)}; ${escape(seed.peopleDn)}): set LDAP_USER_BASE_DN to that$`,
          'm',
        ),
      ],
    },
    {
      name: 'lists every group a name matches',
      env: () => ({
        LDAP_GROUP_NAME_ATTRIBUTE: 'description',
        AUTH_PUSH_GROUPS: 'Platform team',
        AUTH_PULL_GROUPS: '',
        AUTH_DELETE_GROUPS: '',
      }),
      code: EXIT.ok,
      present: () => [
        line(
          'ok',
          `AUTH_PUSH_GROUPS: Platform team → cn=platform-a,${seed.groupsDn}; cn=platform-b,${seed.groupsDn}`,
        ),
      ],
    },
    {
      name: 'says when no entry on the server matches the user filter, exit 4',
      env: () => ({ LDAP_USER_FILTER: '(&(objectClass=posixAccount)(uid={username}))' }),
      code: EXIT.misconfigured,
      present: () => [
        line(
          'FAIL',
          `LDAP_USER_BASE_DN=${seed.peopleDn} holds no users (no entry matches (&(objectClass=posixAccount)(uid=*)), from LDAP_USER_FILTER)\nno entry on the server matches it either: check LDAP_USER_FILTER and LDAP_PRESET`,
        ),
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const r = await check(row.env());
      assertReport(r, row.code, row.present(), row.absent?.() ?? []);
    });
  }
});

describe('--check in-process: connections', () => {
  it('closes every connection it opened, to each LDAP_URL and for the login', async () => {
    const before = forward.accepted;
    const r = await check(
      { LDAP_URL: `${forward.url},${forward.url}` },
      { login: 'bob', password: bob.password, repository: 'sample/app' },
    );
    assertReport(r, EXIT.ok, [line('ok', 'password accepted')]);
    assert.ok(forward.accepted >= before + 3, 'two probes and the login went through the listener');
    await waitFor('every connection of the check closed', () => forward.open === 0, 5000);
  });
});

describe('--check in-process: AUTH_*_GROUPS', () => {
  it('resolves names and DNs with their repository patterns, and names each one that is not a group', async () => {
    const r = await check({
      AUTH_PUSH_GROUPS: `registry-pushers@team/**;${ci.dn}@ci/*`,
      AUTH_PULL_GROUPS: `registry-pusher,Registry-Admin,zzzzzzzzzzzz,registry-*,registryx,registy-pushr`,
      AUTH_DELETE_GROUPS: `${notAGroupDn};cn=registry-admin,${seed.groupsDn};${seed.service.dn}`,
      AUTH_CATALOG_GROUPS: admins.cn,
    });
    const base = seed.groupsDn;
    assertReport(r, EXIT.misconfigured, [
      line('ok', `AUTH_PUSH_GROUPS: registry-pushers (repositories team/**) → ${pushers.dn}`),
      line('ok', `AUTH_PUSH_GROUPS: ${ci.dn} (repositories ci/*) is a group`),
      line(
        'FAIL',
        `AUTH_PULL_GROUPS: "registry-pusher" matches no group under ${base} (cn=registry-pusher): did you mean registry-pushers?`,
      ),
      // Group names compare case-insensitively, so the suggestion does too.
      line(
        'FAIL',
        `AUTH_PULL_GROUPS: "Registry-Admin" matches no group under ${base} (cn=Registry-Admin): did you mean registry-admins?`,
      ),
      line('FAIL', `AUTH_PULL_GROUPS: "zzzzzzzzzzzz" matches no group under ${base} (cn=zzzzzzzzzzzz)`),
      // A suggestion may differ in up to a third of the name: 3 edits for 9 letters, 3 for 13.
      line(
        'FAIL',
        `AUTH_PULL_GROUPS: "registryx" matches no group under ${base} (cn=registryx): did you mean registry-ci?`,
      ),
      line(
        'FAIL',
        `AUTH_PULL_GROUPS: "registy-pushr" matches no group under ${base} (cn=registy-pushr): did you mean registry-pushers?`,
      ),
      // A `*` in a group name is a character, not a wildcard matching every registry-… group.
      /^ {2}FAIL {2}AUTH_PULL_GROUPS: "registry-\*" matches no group under /m,
      line(
        'FAIL',
        `AUTH_DELETE_GROUPS: ${notAGroupDn} is not a group on the server (no entry, or not matching ${isGroup})`,
      ),
      line(
        'FAIL',
        `AUTH_DELETE_GROUPS: cn=registry-admin,${base} is not a group on the server (no entry, or not matching ${isGroup})`,
      ),
      line(
        'FAIL',
        `AUTH_DELETE_GROUPS: ${seed.service.dn} is outside LDAP_GROUP_BASE_DN=${base}: group searches never find it`,
      ),
      line('ok', `AUTH_CATALOG_GROUPS: registry-admins → ${admins.dn}`),
      /\n\n9 problems, 0 warnings \(exit 4\)\n$/,
    ]);
  });
});

describe('--check --user in-process', () => {
  const as = (login: string, password: string, repository = 'sample/app'): UserToCheck => ({
    login,
    password,
    repository,
  });

  it("shows the user's DN, canonical name, nested groups and what the policy decides", async () => {
    const r = await check({}, as('BOB', bob.password, 'team/app'));
    assertReport(r, EXIT.ok, [
      /\nuser BOB\n/,
      line('ok', `found ${bob.dn}\ncanonical name (uid): bob`),
      line('ok', 'password accepted'),
      line('info', 'groups (1, nested included): registry-users'),
      line('info', 'pull   team/app: allowed'),
      line('info', 'push   team/app: denied (may: AUTH_PUSH_GROUPS (registry-pushers))'),
      line('info', 'delete team/app: denied (may: AUTH_DELETE_GROUPS (registry-admins))'),
    ]);
    assert.ok(!r.text.includes(bob.password), 'the password is never printed');
  });

  // checkUser alone: the login section without the directory checks before it.
  const rows: {
    name: string;
    env?: () => Record<string, string>;
    user: () => UserToCheck;
    code: ExitCode;
    present: () => RegExp[];
  }[] = [
    {
      name: 'a member through a nested group may push',
      user: () => as('dave', dave.password),
      code: EXIT.ok,
      present: () => [
        line('info', 'groups (2, nested included): registry-ci, registry-pushers'),
        line('info', 'push   sample/app: allowed'),
      ],
    },
    {
      name: 'without LDAP_NESTED_GROUPS only the direct group counts',
      env: () => ({ LDAP_NESTED_GROUPS: 'false' }),
      user: () => as('dave', dave.password),
      code: EXIT.ok,
      present: () => [
        line('info', 'groups (1): registry-ci'),
        line(
          'info',
          'pull   sample/app: denied (may: AUTH_PULL_GROUPS (registry-users, registry-pushers, registry-admins) or AUTH_PUSH_GROUPS (registry-pushers))',
        ),
      ],
    },
    {
      name: 'a user in no group, with nobody allowed to delete',
      env: () => ({ AUTH_DELETE_GROUPS: '' }),
      user: () => as('carol', carol.password),
      code: EXIT.ok,
      present: () => [
        line('info', `groups: none under LDAP_GROUP_BASE_DN=${seed.groupsDn}`),
        line('info', 'delete sample/app: denied (may: nobody: AUTH_DELETE_GROUPS is empty)'),
      ],
    },
    {
      name: 'a wrong password, exit 5',
      user: () => as('alice', 'not-alices-password'),
      code: EXIT.userRejected,
      present: () => [
        line('ok', `found ${alice.dn}\ncanonical name (uid): alice`),
        line('FAIL', 'alice: the directory refused the password (invalid_password)'),
      ],
    },
    {
      name: 'an unknown user, with the filter that found nobody, exit 5',
      user: () => as('mallory', 'whatever'),
      code: EXIT.userRejected,
      present: () => [
        line(
          'FAIL',
          `mallory: no entry under LDAP_USER_BASE_DN=${seed.peopleDn} matches (&(objectClass=inetOrgPerson)(uid=mallory))`,
        ),
      ],
    },
    {
      name: 'the login as the Active Directory preset reduces it (DOMAIN\\user, lower case)',
      env: () => ({ LDAP_PRESET: 'activedirectory', LDAP_USER_BASE_DN: seed.peopleDn }),
      user: () => as('EXAMPLE\\Alice', 'whatever'),
      code: EXIT.userRejected,
      present: () => [/^ {2}FAIL {2}EXAMPLE\\Alice: no entry under .* matches .*\(sAMAccountName=alice\)/m],
    },
    {
      name: 'a login two entries match, exit 5',
      env: () => ({
        LDAP_USER_BASE_DN: seed.baseDn,
        LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(|(uid={username})(uid=zoe)))',
      }),
      user: () => as('alice', alice.password),
      code: EXIT.userRejected,
      present: () => [
        line(
          'FAIL',
          'alice: more than one entry under LDAP_USER_BASE_DN matches (&(objectClass=inetOrgPerson)(|(uid=alice)(uid=zoe))): nobody can log in as that',
        ),
      ],
    },
    {
      name: 'a directory that cannot be reached, exit 3',
      env: () => ({ LDAP_URL: refused }),
      user: () => as('alice', alice.password),
      code: EXIT.unreachable,
      present: () => [/^ {2}FAIL {2}the directory could not answer: .*ECONNREFUSED/m],
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const { report, text } = capturedReport();
      await checkUser(loadConfig(envWith(row.env?.() ?? {})), row.user(), report);
      assertReport({ code: report.exitCode, text: text() }, row.code, row.present());
    });
  }
});
