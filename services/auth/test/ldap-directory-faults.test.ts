// LdapDirectory (ldap-directory.ts) in-process against a real slapd, the stall server and refused ports: the
// answers and failures the decider sees (unknown / ambiguous user, a base DN that is missing or malformed,
// the directory unreachable), what the metrics observer is told, the pool healing after a server drops its
// connections, rotation retiring pooled connections, and the group walk stopping where it should.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { freePort } from '@registry-ldap-auth/stack/process';
import { loadConfig } from '../src/config.ts';
import type { DirectoryObserver, LdapOperation, OperationOutcome } from '../src/directory/directory.ts';
import { CredentialsRejectedError, DirectoryUnavailableError } from '../src/directory/errors.ts';
import type { LdapConfig } from '../src/directory/ldap-config.ts';
import { FRESH_MS } from '../src/directory/address-cache.ts';
import { LdapDirectory } from '../src/directory/ldap-directory.ts';
import { serverLabel } from '../src/directory/servers.ts';
import type { ServerEvent } from '../src/directory/servers.ts';
import { openldapEnv } from './support/openldap-env.ts';
import { startStallServer } from './support/stall-server.ts';
import type { StallMode, StallServer } from './support/stall-server.ts';
import { waitFor } from './support/wait.ts';
import { checkLogsThenStop } from './support/teardown.ts';

// carol → loop-a → loop-b → loop-a: a membership cycle that carol reaches through one group. loop-b has two
// names (cn values).
const LOOP_LDIF = [
  [
    `dn: cn=loop-a,${seed.groupsDn}`,
    'objectClass: groupOfNames',
    'cn: loop-a',
    `member: ${seed.users.carol.dn}`,
  ].join('\n'),
  [
    `dn: cn=loop-b,${seed.groupsDn}`,
    'objectClass: groupOfNames',
    'cn: loop-b',
    'cn: loop-b-alias', // a second value: the group's name is the first
    `member: cn=loop-a,${seed.groupsDn}`,
  ].join('\n'),
  [
    `dn: cn=loop-a,${seed.groupsDn}`,
    'changetype: modify',
    'add: member',
    `member: cn=loop-b,${seed.groupsDn}`,
  ].join('\n'),
].join('\n\n');

let slapd: Slapd;
let dir: string;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  slapd = await startSlapd({ extraLdif: LOOP_LDIF });
  dir = await mkdtemp(join(tmpdir(), 'ldap-directory-faults-'));
});
after(() => checkLogsThenStop(cleanup, slapd, dir));

interface Harness {
  directory: LdapDirectory;
  operations: [LdapOperation, OperationOutcome][];
  seconds: number[];
  events: ServerEvent[];
  notices: string[];
}

function directoryFor(
  overrides: Record<string, string> = {},
  edit: (config: LdapConfig) => LdapConfig = (c) => c,
  dns: ConstructorParameters<typeof LdapDirectory>[2] = {},
): Harness {
  const env: Record<string, string> = { ...openldapEnv(slapd), ...overrides };
  for (const [name, value] of Object.entries(env)) if (value === '') Reflect.deleteProperty(env, name);
  const h: Omit<Harness, 'directory'> = { operations: [], seconds: [], events: [], notices: [] };
  const observer: DirectoryObserver = {
    operation: (operation, outcome, seconds) => {
      h.operations.push([operation, outcome]);
      h.seconds.push(seconds);
    },
    serverState: (e) => h.events.push(e),
    notice: (level, message) => h.notices.push(`${level}: ${message}`),
  };
  const directory = new LdapDirectory(edit(loadConfig(env).ldap), observer, dns);
  cleanup.push(() => directory.close());
  h.events.length = 0; // each server's initial "up"
  return { directory, ...h };
}

async function stall(mode: StallMode): Promise<StallServer> {
  const url = new URL(slapd.url);
  const server = await startStallServer(mode, { host: url.hostname, port: Number(url.port) });
  cleanup.push(() => server.close());
  return server;
}

function rejectedWith(reason: string, message?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof CredentialsRejectedError, String(error));
    assert.equal(error.reason, reason);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  };
}

function unavailable(kind: string, variable: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DirectoryUnavailableError, String(error));
    assert.equal(error.kind, kind);
    assert.equal(error.variable, variable);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

describe('LdapDirectory: answers, failures and what is observed', () => {
  it('no entry is an unknown user, two are an ambiguous one', async () => {
    const h = directoryFor();
    await assert.rejects(h.directory.findUser('nobody'), rejectedWith('unknown_user'));
    const both = directoryFor({
      LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(|(uid={username})(uid=bob)))',
    });
    await assert.rejects(both.directory.findUser('alice'), rejectedWith('ambiguous_user'));
    assert.equal((await both.directory.findUser('bob')).dn, seed.users.bob.dn);
  });

  it('a user without LDAP_USERNAME_ATTRIBUTE keeps the login as the username', async () => {
    const h = directoryFor({ LDAP_USERNAME_ATTRIBUTE: 'displayName' });
    assert.deepEqual(await h.directory.findUser('alice'), { dn: seed.users.alice.dn, username: 'alice' });
  });

  it('the observer sees each bind and search with its outcome and a duration in seconds', async () => {
    const h = directoryFor();
    const start = performance.now();
    const alice = await h.directory.findUser('alice');
    await h.directory.verifyPassword(alice, seed.users.alice.password);
    await assert.rejects(h.directory.verifyPassword(alice, 'wrong'), rejectedWith('invalid_password'));
    assert.deepEqual(h.operations, [
      ['bind', 'success'], // the pool's service connection
      ['search', 'success'],
      ['bind', 'success'],
      ['bind', 'rejected'],
    ]);
    // Each duration lies within the time these calls took altogether.
    const total = (performance.now() - start) / 1000;
    for (const s of h.seconds) assert.ok(s >= 0 && s <= total, `${s} s of ${total} s`);
  });

  it('an empty password is refused without a bind', async () => {
    const h = directoryFor();
    const alice = await h.directory.findUser('alice');
    const binds = await slapd.countBinds(seed.users.alice.dn);
    await assert.rejects(
      h.directory.verifyPassword(alice, ''),
      rejectedWith('invalid_password', 'empty password'),
    );
    assert.equal(await slapd.countBinds(seed.users.alice.dn), binds);
  });

  it("the user's own connection is closed right after the bind", async () => {
    const h = directoryFor();
    const bob = await h.directory.findUser('bob');
    await h.directory.verifyPassword(bob, seed.users.bob.password);
    const log = await readFile(slapd.logFile, 'utf8');
    const binds = [...log.matchAll(new RegExp(`conn=(\\d+) op=\\d+ BIND dn="${seed.users.bob.dn}"`, 'gi'))];
    const conn = binds.at(-1)?.[1];
    assert.ok(conn !== undefined, "bob's bind is not in slapd's log");
    await waitFor(
      `slapd to close bob's connection ${conn}`,
      async () => new RegExp(`conn=${conn} fd=\\d+ closed`).test(await readFile(slapd.logFile, 'utf8')),
      3000,
      20,
    );
  });

  it('an unreachable directory is unavailable, observed as a failed bind, and then known to be down', async () => {
    const port = await freePort();
    const h = directoryFor({ LDAP_URL: `ldap://127.0.0.1:${port}` });
    assert.equal(h.directory.knownDown(), false);
    await assert.rejects(
      h.directory.findUser('alice'),
      unavailable('unreachable', 'LDAP_URL', /ECONNREFUSED/),
    );
    assert.deepEqual(h.operations, [['bind', 'error']]);
    assert.equal(h.directory.knownDown(), true);
    await assert.rejects(h.directory.checkHealth(), unavailable('unreachable', 'LDAP_URL'));
  });

  it('a missing base DN names LDAP_USER_BASE_DN or LDAP_GROUP_BASE_DN, and fails the health check', async () => {
    const missing = `ou=nowhere,${seed.baseDn}`;
    const users = directoryFor({ LDAP_USER_BASE_DN: missing });
    const message = new RegExp(`does not exist in the directory: ${missing}$`);
    await assert.rejects(
      users.directory.findUser('alice'),
      unavailable('base_dn_missing', 'LDAP_USER_BASE_DN', message),
    );
    await assert.rejects(
      users.directory.checkHealth(),
      unavailable('base_dn_missing', 'LDAP_USER_BASE_DN', message),
    );
    const groups = directoryFor({ LDAP_GROUP_BASE_DN: missing });
    await groups.directory.checkHealth();
    const alice = await groups.directory.findUser('alice');
    await assert.rejects(
      groups.directory.resolveGroups(alice),
      unavailable('base_dn_missing', 'LDAP_GROUP_BASE_DN', message),
    );
  });

  it('a base DN that is not a DN is base_dn_invalid', async () => {
    const h = directoryFor({}, (c) => ({ ...c, userBaseDn: 'not a dn' }));
    await assert.rejects(
      h.directory.checkHealth(),
      unavailable('base_dn_invalid', 'LDAP_USER_BASE_DN', /is not a valid DN: not a dn$/),
    );
  });

  it('a server that drops its pooled connections is taken out: the retry goes to the next LDAP_URL', async () => {
    const relay = await stall('forward');
    const h = directoryFor({ LDAP_URL: `${relay.url},${slapd.url}`, LDAP_TIMEOUT_MS: '500' });
    await h.directory.findUser('alice');
    assert.equal(relay.accepted, 1);
    relay.mode = 'silent';
    relay.dropConnections();
    assert.equal((await h.directory.findUser('bob')).dn, seed.users.bob.dn);
    assert.equal(relay.accepted, 1, 'the server that dropped the connection was dialled again');
    assert.deepEqual(
      h.events.map((e) => [e.server, e.up]),
      [[serverLabel(relay.url), false]],
    );
    assert.equal(h.directory.knownDown(), false);
  });

  it('an idle pooled connection to a server found down is not used again', async () => {
    const relay = await stall('forward');
    const h = directoryFor({ LDAP_URL: `${relay.url},${slapd.url}`, LDAP_TIMEOUT_MS: '300' });
    await h.directory.findUser('alice'); // pools a connection through the relay
    relay.mode = 'silent'; // new connections hang; the pooled one still works
    await h.directory.probeServers();
    assert.deepEqual(
      h.events.map((e) => [e.server, e.up]),
      [[serverLabel(relay.url), false]],
    );
    const binds = await slapd.countBinds(seed.service.dn);
    await h.directory.findUser('bob');
    assert.equal(
      await slapd.countBinds(seed.service.dn),
      binds + 1,
      'the connection to the down server was reused',
    );
    assert.equal(relay.accepted, 2); // the first connection and the probe
  });

  it('probeServers keeps each server state current', async () => {
    const port = await freePort();
    const refused = `ldap://127.0.0.1:${port}`;
    const h = directoryFor({ LDAP_URL: `${refused},${slapd.url}` });
    await h.directory.probeServers();
    assert.deepEqual(
      h.events.map((e) => [e.server, e.up]),
      [[serverLabel(refused), false]],
    );
  });

  it('a rotated CA file (SIGHUP) retires pooled connections: the next search binds anew', async () => {
    const caFile = join(dir, 'ca.pem');
    const ca = await readFile(slapd.caCert, 'utf8');
    await writeFile(caFile, ca);
    const h = directoryFor({ LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: caFile });
    await h.directory.findUser('alice');
    const binds = await slapd.countBinds(seed.service.dn);
    await h.directory.findUser('bob');
    assert.equal(await slapd.countBinds(seed.service.dn), binds, 'the pooled connection was not reused');
    await writeFile(caFile, `${ca}\n${ca}`);
    h.directory.reload();
    assert.deepEqual(h.notices, ['info: re-read LDAP_CA_FILE: new connections use it']);
    await h.directory.findUser('alice');
    assert.equal(await slapd.countBinds(seed.service.dn), binds + 1);
  });

  it("a DNS failure does not fail a user's bind: its connection goes to the address last looked up", async () => {
    const clock = { now: 0 };
    const dns: { failure?: Error } = {};
    const lookups: string[] = [];
    const port = new URL(slapd.url).port;
    const h = directoryFor({ LDAP_URL: `ldap://directory.test:${port}` }, undefined, {
      now: () => clock.now,
      resolve: (hostname) => {
        lookups.push(hostname);
        return dns.failure === undefined
          ? Promise.resolve([{ address: '127.0.0.1', family: 4 }])
          : Promise.reject(dns.failure);
      },
    });
    const alice = await h.directory.findUser('alice');
    await h.directory.verifyPassword(alice, seed.users.alice.password);
    assert.deepEqual(lookups, ['directory.test'], 'the pooled and the bind connection: one lookup');

    dns.failure = Object.assign(new Error('getaddrinfo EAI_AGAIN directory.test'), { code: 'EAI_AGAIN' });
    clock.now += FRESH_MS;
    await h.directory.verifyPassword(alice, seed.users.alice.password);
    await h.directory.verifyPassword(alice, seed.users.alice.password);
    assert.equal(
      lookups.length,
      2,
      'the second bind, within RETRY_MS of the failure, asked the resolver again',
    );
    assert.deepEqual(h.notices, [
      'warn: DNS lookup of directory.test failed or is slow: connecting to its last address',
    ]);
    assert.equal(h.directory.knownDown(), false);
    assert.deepEqual(h.events, [], 'no server was marked down');
  });

  it('with LDAP_CONNECT_TIMEOUT_MS under 1 s, a slow lookup still falls back to the last address in time', async () => {
    // The lookup counts against LDAP_CONNECT_TIMEOUT_MS: a fixed 0.5 s wait outlasted 400 ms, so the bind's
    // connection timed out and the server was marked down, as if there were no last address at all.
    const clock = { now: 0 };
    const dns = { hang: false };
    const port = new URL(slapd.url).port;
    const h = directoryFor(
      { LDAP_URL: `ldap://directory.test:${port}`, LDAP_CONNECT_TIMEOUT_MS: '400' },
      undefined,
      {
        now: () => clock.now,
        resolve: () =>
          dns.hang
            ? new Promise(() => undefined) // a resolver that never answers
            : Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
      },
    );
    const alice = await h.directory.findUser('alice');
    dns.hang = true;
    clock.now += FRESH_MS;
    await h.directory.verifyPassword(alice, seed.users.alice.password);
    assert.deepEqual(h.notices, [
      'warn: DNS lookup of directory.test failed or is slow: connecting to its last address',
    ]);
    assert.deepEqual(h.events, [], 'no server was marked down');
  });

  it('after close() a search fails as unavailable', async () => {
    const h = directoryFor();
    await h.directory.findUser('alice');
    await h.directory.close();
    await assert.rejects(h.directory.findUser('alice'), unavailable('unreachable', 'LDAP_URL', /closed/));
  });
});

describe('LdapDirectory: the group walk', () => {
  async function searchesFor(h: Harness, uid: string): Promise<{ names: string[]; searches: number }> {
    const user = await h.directory.findUser(uid);
    const before = await slapd.countSearches();
    const names = (await h.directory.resolveGroups(user)).map((g) => g.name).sort();
    return { names, searches: (await slapd.countSearches()) - before };
  }

  it('without nesting: one search for the direct groups', async () => {
    const h = directoryFor({ LDAP_NESTED_GROUPS: 'false' });
    assert.deepEqual(await searchesFor(h, 'dave'), { names: ['registry-ci'], searches: 1 });
  });

  it('with nesting: one search per level, stopping when a level finds nothing new', async () => {
    const h = directoryFor({ LDAP_NESTED_GROUPS: 'true' });
    assert.deepEqual(await searchesFor(h, 'dave'), {
      names: ['registry-ci', 'registry-pushers'],
      searches: 3,
    });
    // A cycle ends as soon as it comes back to a group already found.
    assert.deepEqual(await searchesFor(h, 'carol'), { names: ['loop-a', 'loop-b'], searches: 3 });
  });
});
