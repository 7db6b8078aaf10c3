// The connector (connector.ts) in-process against a real slapd, the stall server and refused ports: the
// service bind and its retry after LDAP_BIND_PASSWORD_FILE changed, LDAP_CA_FILE re-read when the server
// certificate stops verifying, failover and the background probe that brings a failed server back, and the
// notices an operator reads in the log.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, InvalidCredentialsError } from 'ldapts';
import { startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { createCa } from '@registry-ldap-auth/stack/certs';
import { freePort } from '@registry-ldap-auth/stack/process';
import { loadConfig } from '../src/config.ts';
import { Connector } from '../src/directory/connector.ts';
import type { DirectoryObserver } from '../src/directory/directory.ts';
import { DirectoryUnavailableError } from '../src/directory/errors.ts';
import { serverLabel } from '../src/directory/servers.ts';
import type { ServerEvent } from '../src/directory/servers.ts';
import { startStallServer } from './support/stall-server.ts';
import type { StallMode, StallServer } from './support/stall-server.ts';
import { openldapEnv } from './support/openldap-env.ts';
import { waitFor } from './support/wait.ts';
import { searchWorks } from './support/search-works.ts';
import { checkLogsThenStop } from './support/teardown.ts';

let slapd: Slapd;
let dir: string;
let otherCa: string;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  slapd = await startSlapd();
  dir = await mkdtemp(join(tmpdir(), 'connector-test-'));
  otherCa = (await createCa(join(dir, 'other-ca'), 'other test CA')).caCert;
});
after(() => checkLogsThenStop(cleanup, slapd, dir));

interface Notice {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

interface Harness {
  connector: Connector;
  events: ServerEvent[];
  notices: Notice[];
  readonly rotated: number;
}

function connectorFor(overrides: Record<string, string> = {}): Harness {
  const env: Record<string, string> = { ...openldapEnv(slapd), ...overrides };
  for (const [name, value] of Object.entries(env)) if (value === '') Reflect.deleteProperty(env, name);
  const events: ServerEvent[] = [];
  const notices: Notice[] = [];
  const observer: DirectoryObserver = {
    operation: () => undefined,
    serverState: (e) => events.push(e),
    notice: (level, message, fields) => notices.push({ level, message, fields }),
  };
  const connector = new Connector(loadConfig(env).ldap, observer);
  cleanup.push(() => {
    connector.close();
    return Promise.resolve();
  });
  let rotated = 0;
  connector.onRotated = () => {
    rotated++;
  };
  events.length = 0; // each server's initial "up"
  return {
    connector,
    events,
    notices,
    get rotated() {
      return rotated;
    },
  };
}

/** The latest notice (a function: assert.deepEqual(h.notices, []) narrows the array's type). */
function lastNotice(h: Harness): Notice | undefined {
  return h.notices.at(-1);
}

async function stall(mode: StallMode): Promise<StallServer> {
  const url = new URL(slapd.url);
  const server = await startStallServer(mode, { host: url.hostname, port: Number(url.port) });
  cleanup.push(() => server.close());
  return server;
}

const works = (client: Client): Promise<void> => searchWorks(client, slapd.baseDn);

const userBind = (client: Client) => client.bind(slapd.serviceDn, slapd.servicePassword);

describe('Connector against slapd', () => {
  it('a rejected service bind re-reads LDAP_BIND_PASSWORD_FILE and retries only when it changed', async () => {
    const file = join(dir, 'bind-password');
    await writeFile(file, 'wrong-one\n');
    const h = connectorFor({ LDAP_BIND_PASSWORD: '', LDAP_BIND_PASSWORD_FILE: file });
    const rejected = (error: unknown): boolean => {
      assert.ok(error instanceof DirectoryUnavailableError, String(error));
      assert.equal(error.kind, 'bind_rejected');
      assert.equal(error.variable, 'LDAP_BIND_PASSWORD_FILE');
      assert.equal(
        error.message,
        `the directory rejected the service account's bind (LDAP_BIND_DN ${slapd.serviceDn}): check LDAP_BIND_PASSWORD_FILE`,
      );
      assert.ok(error.cause instanceof InvalidCredentialsError);
      return true;
    };
    // Unchanged file: no retry (one bind), no rotation.
    const binds = await slapd.countBinds(slapd.serviceDn);
    await assert.rejects(h.connector.openService(), rejected);
    assert.equal(await slapd.countBinds(slapd.serviceDn), binds + 1);
    assert.equal(h.rotated, 0);
    assert.deepEqual(h.notices, []);

    // Changed, but still wrong: one retry, rejected again.
    await writeFile(file, 'wrong-two\n');
    await assert.rejects(h.connector.openService(), rejected);
    assert.equal(await slapd.countBinds(slapd.serviceDn), binds + 3);
    assert.equal(h.rotated, 1);
    assert.deepEqual(h.notices, [
      {
        level: 'info',
        message: 're-read LDAP_BIND_PASSWORD_FILE: new connections use it',
        fields: { trigger: 'the directory rejected the service bind', changed: ['LDAP_BIND_PASSWORD_FILE'] },
      },
    ]);

    // Rotated to the right password (one trailing newline is not part of it): the retry succeeds.
    await writeFile(file, `${slapd.servicePassword}\n`);
    await works(await h.connector.openService());
    assert.equal(h.rotated, 2);

    // An empty file is reported and the working password kept.
    await writeFile(file, '');
    h.connector.reload();
    assert.deepEqual(lastNotice(h), {
      level: 'error',
      message: `LDAP_BIND_PASSWORD_FILE: ${file} is empty`,
      fields: { trigger: 'SIGHUP' },
    });
    assert.equal(h.rotated, 2);
    await works(await h.connector.openService());
  });

  it('a rejected LDAP_BIND_PASSWORD (no file to re-read) names LDAP_BIND_PASSWORD', async () => {
    const h = connectorFor({ LDAP_BIND_PASSWORD: 'not-the-password' });
    await assert.rejects(h.connector.openService(), (error: unknown) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.equal(error.kind, 'bind_rejected');
      assert.equal(error.variable, 'LDAP_BIND_PASSWORD');
      assert.match(error.message, /check LDAP_BIND_PASSWORD$/);
      return true;
    });
  });

  it('without LDAP_BIND_DN the service connection binds anonymously', async () => {
    const h = connectorFor({ LDAP_BIND_DN: '', LDAP_BIND_PASSWORD: '' });
    const client = await h.connector.openService();
    assert.equal(await client.exop('1.3.6.1.4.1.4203.1.11.3').then((r) => r.value ?? ''), '');
    await client.unbind();
  });

  it('a service connection that cannot reach the directory is unavailable, not rejected', async () => {
    const port = await freePort();
    const h = connectorFor({ LDAP_URL: `ldap://127.0.0.1:${port}` });
    await assert.rejects(h.connector.openService(), (error: unknown) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.equal(error.kind, 'unreachable');
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    assert.equal(h.connector.allDown, true);
    // Skipped for a while (LDAP_URL's servers are retried after 2 s): the next attempt fails at once.
    await assert.rejects(h.connector.openService(), {
      message: /^every LDAP server is down; the next is probed in [12] s$/,
    });
  });

  it('a certificate that stops verifying re-reads LDAP_CA_FILE and, once it changed, connects again', async () => {
    const file = join(dir, 'ca.pem');
    await writeFile(file, await readFile(otherCa));
    const h = connectorFor({ LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: file });
    const untrusted = (error: unknown): boolean => {
      assert.ok(error instanceof DirectoryUnavailableError, String(error));
      assert.equal(error.kind, 'certificate_untrusted');
      return true;
    };
    await assert.rejects(h.connector.open(userBind), untrusted);
    await assert.rejects(h.connector.open(userBind), untrusted); // every server down: still the cause
    assert.equal(h.rotated, 0);
    // An unchanged CA is not tried again: the server stays down.
    assert.deepEqual(
      h.events.map((e) => e.up),
      [false],
    );
    await writeFile(file, 'no certificate here');
    await assert.rejects(h.connector.open(userBind), untrusted);
    assert.deepEqual(lastNotice(h), {
      level: 'error',
      message: `LDAP_CA_FILE: ${file} holds no PEM certificate`,
      fields: { trigger: 'the server certificate did not verify' },
    });
    await writeFile(file, await readFile(slapd.caCert));
    await works(await h.connector.open(userBind));
    assert.equal(h.rotated, 1);
    assert.deepEqual(lastNotice(h), {
      level: 'info',
      message: 're-read LDAP_CA_FILE: new connections use it',
      fields: { trigger: 'the server certificate did not verify', changed: ['LDAP_CA_FILE'] },
    });
    assert.equal(h.connector.allDown, false);
  });

  it('fails over to the second LDAP_URL, and the background probe brings the first back once it answers', async () => {
    const first = await stall('silent');
    const h = connectorFor({ LDAP_URL: `${first.url},${slapd.url}`, LDAP_TIMEOUT_MS: '300' });
    const client = await h.connector.openService();
    assert.deepEqual(
      h.events.map((e) => [e.server, e.up, e.failover]),
      [[serverLabel(first.url), false, serverLabel(slapd.url)]],
    );
    assert.equal(h.connector.allDown, false);
    assert.equal(h.connector.usable(client), true);
    await works(client);
    first.mode = 'forward';
    await waitFor(
      'the first server to be probed and up again',
      () => h.events.some((e) => e.server === serverLabel(first.url) && e.up),
      8000,
      50,
    );
    assert.ok(first.accepted >= 2);
  });

  it('a pooled connection reported broken takes its server out: its connections are no longer usable', async () => {
    const relay = await stall('forward');
    const h = connectorFor({ LDAP_URL: `${relay.url},${slapd.url}` });
    const client = await h.connector.openService();
    assert.equal(h.connector.usable(client), true);
    h.connector.broken(client, new Error('operation timed out'));
    assert.equal(h.connector.usable(client), false);
    assert.deepEqual(h.events, [
      {
        server: serverLabel(relay.url),
        up: false,
        error: 'operation timed out',
        failover: serverLabel(slapd.url),
      },
    ]);
    // A connection the connector did not open is not judged.
    assert.equal(h.connector.usable(new Client({ url: slapd.url })), true);
    await client.unbind();
  });

  it('probeServers marks each server up or down, and a rejected probe bind still counts as up', async () => {
    const port = await freePort();
    const refused = `ldap://127.0.0.1:${port}`;
    const h = connectorFor({ LDAP_URL: `${refused},${slapd.url}` });
    await h.connector.probeServers();
    assert.deepEqual(
      h.events.map((e) => [e.server, e.up]),
      [[serverLabel(refused), false]],
    );
    assert.match(h.events[0]?.error ?? '', /ECONNREFUSED/);
    assert.equal(h.connector.allDown, false);

    const relay = await stall('silent');
    const wrong = connectorFor({
      LDAP_URL: relay.url,
      LDAP_BIND_PASSWORD: 'not-the-password',
      LDAP_TIMEOUT_MS: '300',
    });
    await wrong.connector.probeServers();
    assert.equal(wrong.connector.allDown, true);
    relay.mode = 'forward';
    await wrong.connector.probeServers();
    assert.equal(wrong.connector.allDown, false);
    assert.deepEqual(
      wrong.events.map((e) => e.up),
      [false, true],
    );
  });

  it('only a certificate failure re-reads LDAP_CA_FILE', async () => {
    const file = join(dir, 'ca-unreachable.pem');
    await writeFile(file, await readFile(slapd.caCert));
    const port = await freePort();
    const h = connectorFor({ LDAP_URL: `ldaps://127.0.0.1:${port}`, LDAP_CA_FILE: file });
    await writeFile(file, `${await readFile(slapd.caCert, 'utf8')}\n${await readFile(otherCa, 'utf8')}`);
    await assert.rejects(h.connector.open(userBind), { kind: 'unreachable' });
    assert.equal(h.rotated, 0);
    assert.deepEqual(h.notices, []);
  });

  it('a retry after a password change that cannot reach the directory is unavailable, not a rejected bind', async () => {
    const relay = await stall('forward');
    const file = join(dir, 'retry-password');
    await writeFile(file, 'wrong-one');
    const h = connectorFor({
      LDAP_URL: relay.url,
      LDAP_BIND_PASSWORD: '',
      LDAP_BIND_PASSWORD_FILE: file,
      LDAP_TIMEOUT_MS: '300',
    });
    await writeFile(file, slapd.servicePassword);
    // The directory stops answering between the rejected bind and the retry.
    h.connector.onRotated = () => {
      relay.mode = 'silent';
      relay.dropConnections();
    };
    await assert.rejects(h.connector.openService(), (error: unknown) => {
      assert.ok(error instanceof DirectoryUnavailableError, String(error));
      assert.equal(error.kind, 'unreachable');
      assert.match(error.message, /timed out/);
      return true;
    });
  });

  it('a probe closes its connection', async () => {
    const relay = await stall('forward');
    const h = connectorFor({ LDAP_URL: relay.url });
    await h.connector.probeServers();
    assert.equal(relay.accepted, 1);
    await waitFor('the probe connection to be closed', () => relay.open === 0, 3000, 20);
  });

  it('an observer without serverState or notice is fine', async () => {
    const file = join(dir, 'quiet-password');
    const caFile = join(dir, 'quiet-ca.pem');
    await writeFile(file, 'wrong-one');
    await writeFile(caFile, await readFile(slapd.caCert));
    const port = await freePort();
    const env: Record<string, string> = {
      ...openldapEnv(slapd),
      LDAP_URL: `ldap://127.0.0.1:${port},${slapd.url}`,
      LDAP_BIND_PASSWORD_FILE: file,
      LDAP_CA_FILE: caFile,
    };
    Reflect.deleteProperty(env, 'LDAP_BIND_PASSWORD');
    const connector = new Connector(loadConfig(env).ldap, { operation: () => undefined });
    cleanup.push(() => {
      connector.close();
      return Promise.resolve();
    });
    await writeFile(file, slapd.servicePassword);
    await works(await connector.openService()); // a server down, the password re-read
    await rm(caFile);
    connector.reload(); // a file that cannot be read
  });

  it('SIGHUP re-reads both files and reports what changed', async () => {
    const passwordFile = join(dir, 'sighup-password');
    const caFile = join(dir, 'sighup-ca.pem');
    await writeFile(passwordFile, slapd.servicePassword);
    await writeFile(caFile, await readFile(slapd.caCert));
    const h = connectorFor({
      LDAP_URL: slapd.ldapsUrl,
      LDAP_BIND_PASSWORD: '',
      LDAP_BIND_PASSWORD_FILE: passwordFile,
      LDAP_CA_FILE: caFile,
    });
    h.connector.reload();
    assert.deepEqual(h.notices, []);
    assert.equal(h.rotated, 0);
    await writeFile(passwordFile, 'rotated-password');
    await writeFile(caFile, `${await readFile(slapd.caCert, 'utf8')}\n${await readFile(otherCa, 'utf8')}`);
    h.connector.reload();
    assert.equal(h.rotated, 1);
    assert.deepEqual(h.notices, [
      {
        level: 'info',
        message: 're-read LDAP_BIND_PASSWORD_FILE and LDAP_CA_FILE: new connections use it',
        fields: { trigger: 'SIGHUP', changed: ['LDAP_BIND_PASSWORD_FILE', 'LDAP_CA_FILE'] },
      },
    ]);
    await rm(caFile);
    h.connector.reload();
    assert.deepEqual(lastNotice(h), {
      level: 'error',
      message: `LDAP_CA_FILE: cannot read ${caFile} (ENOENT)`,
      fields: { trigger: 'SIGHUP' },
    });
  });
});
