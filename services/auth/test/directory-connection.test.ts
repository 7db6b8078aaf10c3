// Opening connections (connection.ts) in-process against real servers: slapd (LDAP, StartTLS, LDAPS), the
// stall server, refused loopback ports and TLS listeners with certificates that do not verify. What an
// operator sees: which error (kind, variable, message naming the server), failover to the next LDAP_URL,
// a failed server skipped, every wait bounded.
import assert from 'node:assert/strict';
import { readFile, mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client, InvalidCredentialsError } from 'ldapts';
import { startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { freePort } from '@registry-ldap-auth/stack/process';
import {
  closeQuietly,
  connectTo,
  connectionUrl,
  isUsable,
  openConnection,
  withDeadline,
} from '../src/directory/connection.ts';
import type { ConnectionSettings } from '../src/directory/connection.ts';
import { AddressCache, FRESH_MS } from '../src/directory/address-cache.ts';
import { DirectoryUnavailableError } from '../src/directory/errors.ts';
import { ServerSet, serverLabel } from '../src/directory/servers.ts';
import type { ServerEvent } from '../src/directory/servers.ts';
import { isAnswer } from '../src/directory/connector.ts';
import { listenOnLoopback } from './support/loopback.ts';
import { messageIdOf, startStallServer, startTlsSuccess } from './support/stall-server.ts';
import type { StallServer } from './support/stall-server.ts';
import { waitFor } from './support/wait.ts';
import { searchWorks } from './support/search-works.ts';
import { checkLogsThenStop } from './support/teardown.ts';

let slapd: Slapd;
let slapdCa: string;
let dir: string;
const cleanup: (() => Promise<void>)[] = [];

/** A StartTLS server with `cert`: it accepts the upgrade, completes the handshake, then says nothing. */
async function startTlsListener(cert: { cert: string; key: string }): Promise<string> {
  const [certPem, keyPem] = await Promise.all([readFile(cert.cert, 'utf8'), readFile(cert.key, 'utf8')]);
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined); // the client hangs up after its timeout or a failed check
    socket.once('data', (data: Buffer) => {
      const id = messageIdOf(data);
      if (id === undefined) return;
      socket.write(startTlsSuccess(id));
      const secure = new tls.TLSSocket(socket, { isServer: true, cert: certPem, key: keyPem });
      secure.on('error', () => undefined); // the client refuses the certificate: its choice, not ours
    });
  });
  return `ldap://127.0.0.1:${await listenOnLoopback(server, cleanup)}`;
}

async function stall(mode: Parameters<typeof startStallServer>[0]): Promise<StallServer> {
  const url = new URL(slapd.url);
  const server = await startStallServer(mode, { host: url.hostname, port: Number(url.port) });
  cleanup.push(() => server.close());
  return server;
}

before(async () => {
  slapd = await startSlapd();
  slapdCa = await readFile(slapd.caCert, 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'connection-test-'));
});
after(() => checkLogsThenStop(cleanup, slapd, dir));

const settings = (overrides: Partial<ConnectionSettings> = {}): ConnectionSettings => ({
  startTls: false,
  tlsInsecure: false,
  timeoutMs: 1000,
  connectTimeoutMs: 500,
  ca: [slapdCa],
  ...overrides,
});

function serverSet(urls: string[], retryAfterMs = 2000): { servers: ServerSet; events: ServerEvent[] } {
  const events: ServerEvent[] = [];
  const servers = new ServerSet(urls, { retryAfterMs }, { serverState: (e) => events.push(e) });
  events.length = 0; // the initial "up" of each
  return { servers, events };
}

const serviceBind = (client: Client) => client.bind(slapd.serviceDn, slapd.servicePassword);
const wrongBind = (client: Client) => client.bind(slapd.serviceDn, 'not-the-password');

const works = (client: Client): Promise<void> => searchWorks(client, slapd.baseDn);

function unavailable(kind: string, message: RegExp | string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DirectoryUnavailableError, String(error));
    assert.equal(error.kind, kind);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
}

describe('opening a connection', () => {
  it('a refused port is unreachable, names the server, and with every server down the next call fails at once', async () => {
    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;
    const { servers, events } = serverSet([url]);
    await assert.rejects(
      openConnection(servers, settings(), serviceBind, isAnswer),
      unavailable('unreachable', new RegExp(`^ldap://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`)),
    );
    assert.deepEqual(
      events.map((e) => [e.server, e.up]),
      [[`ldap://127.0.0.1:${port}`, false]],
    );
    await assert.rejects(
      openConnection(servers, settings(), serviceBind, isAnswer),
      unavailable('unreachable', /^every LDAP server is down; the next is probed in [12] s$/),
    );
  });

  it('fails over to the second LDAP_URL when the first does not answer, then skips the first', async () => {
    const silent = await stall('silent');
    const { servers, events } = serverSet([silent.url, slapd.url]);
    const fast = settings({ timeoutMs: 300 });
    const client = await openConnection(servers, fast, serviceBind, isAnswer);
    assert.equal(connectionUrl(client), slapd.url);
    assert.equal(silent.accepted, 1);
    assert.deepEqual(
      events.map((e) => [e.server, e.up, e.failover]),
      [[serverLabel(silent.url), false, serverLabel(slapd.url)]],
    );
    await works(client);
    const again = await openConnection(servers, fast, serviceBind, isAnswer);
    assert.equal(connectionUrl(again), slapd.url);
    assert.equal(silent.accepted, 1, 'the failed server was dialled again');
    await works(again);
  });

  it("the server's answer (a rejected bind) is final: no failover, and the server counts as up", async () => {
    const second = await stall('forward');
    const { servers } = serverSet([slapd.url, second.url]);
    await assert.rejects(openConnection(servers, settings(), wrongBind, isAnswer), InvalidCredentialsError);
    assert.equal(second.accepted, 0);

    // A server that was down and answers a probe with a rejection is up again.
    const flaky = await stall('silent');
    const single = serverSet([flaky.url], 0);
    await assert.rejects(
      openConnection(single.servers, settings({ timeoutMs: 300 }), serviceBind, isAnswer),
      unavailable('unreachable', new RegExp(`^${serverLabel(flaky.url)}: `)),
    );
    assert.equal(single.servers.allDown, true);
    flaky.mode = 'forward';
    await assert.rejects(
      openConnection(single.servers, settings(), wrongBind, isAnswer),
      InvalidCredentialsError,
    );
    assert.equal(single.servers.allDown, false);
    assert.deepEqual(
      single.events.map((e) => e.up),
      [false, true],
    );
  });

  it('LDAPS with a certificate that does not verify is certificate_untrusted (LDAP_CA_FILE), also once every server is down', async () => {
    const { servers } = serverSet([slapd.ldapsUrl]);
    const label = serverLabel(slapd.ldapsUrl);
    const untrusted = (error: unknown): boolean => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.equal(error.kind, 'certificate_untrusted');
      assert.equal(error.variable, 'LDAP_CA_FILE');
      return true;
    };
    await assert.rejects(openConnection(servers, settings({ ca: undefined }), serviceBind, isAnswer), (e) => {
      untrusted(e);
      assert.match(
        (e as Error).message,
        new RegExp(`^${label}: the server certificate is not trusted \\(.+\\): check LDAP_CA_FILE$`),
      );
      return true;
    });
    await assert.rejects(openConnection(servers, settings({ ca: undefined }), serviceBind, isAnswer), (e) => {
      untrusted(e);
      assert.match(
        (e as Error).message,
        /: check LDAP_CA_FILE \(every LDAP server is down; the next is probed in [12] s\)$/,
      );
      return true;
    });
  });

  it('LDAPS verifies against the CA given, or not at all with LDAP_TLS_INSECURE', async () => {
    await works(await connectTo(slapd.ldapsUrl, settings(), serviceBind));
    await works(await connectTo(slapd.ldapsUrl, settings({ ca: undefined, tlsInsecure: true }), serviceBind));
  });

  it('StartTLS verifies the certificate too, against the host of the URL', async () => {
    await assert.rejects(
      openConnection(
        serverSet([slapd.url]).servers,
        settings({ startTls: true, ca: undefined }),
        serviceBind,
        isAnswer,
      ),
      unavailable('certificate_untrusted', /the server certificate is not trusted/),
    );
    await works(await connectTo(slapd.url, settings({ startTls: true }), serviceBind));

    const pki = await createCa(join(dir, 'other-ca'), 'other test CA');
    const ca = [await readFile(pki.caCert, 'utf8')];
    // Named for 127.0.0.1 only (not localhost): passes only if the URL's host is what is checked.
    const byIp = await startTlsListener(await issueServerCert(pki, 'by-ip', { ips: ['127.0.0.1'] }));
    await assert.rejects(
      openConnection(
        serverSet([byIp]).servers,
        settings({ startTls: true, ca, timeoutMs: 300 }),
        serviceBind,
        isAnswer,
      ),
      unavailable('unreachable', new RegExp(`^${serverLabel(byIp)}: (?!.*not trusted)`)),
    );
    const elsewhere = await startTlsListener(
      await issueServerCert(pki, 'elsewhere', { dns: ['elsewhere.test'] }),
    );
    await assert.rejects(
      openConnection(serverSet([elsewhere]).servers, settings({ startTls: true, ca }), serviceBind, isAnswer),
      unavailable('certificate_untrusted', /not trusted/),
    );
  });

  it('a StartTLS handshake that never starts ends after LDAP_CONNECT_TIMEOUT_MS', async () => {
    const silent = await stall('starttls-silent');
    await assert.rejects(
      connectTo(silent.url, settings({ startTls: true, connectTimeoutMs: 300 }), serviceBind),
      /StartTLS handshake timed out after 300 ms/,
    );
    await assert.rejects(
      openConnection(
        serverSet([silent.url]).servers,
        settings({ startTls: true, connectTimeoutMs: 300 }),
        serviceBind,
        isAnswer,
      ),
      unavailable('unreachable', `${serverLabel(silent.url)}: StartTLS handshake timed out after 300 ms`),
    );
  });

  it('a connection upgraded with StartTLS is no longer usable once its TLS socket closes', async () => {
    const relay = await stall('forward');
    const client = await connectTo(relay.url, settings({ startTls: true }), serviceBind);
    assert.equal(isUsable(client), true);
    relay.dropConnections();
    await waitFor('the connection to be unusable', () => !isUsable(client), 3000, 20);
    closeQuietly(client);

    const plain = await connectTo(relay.url, settings(), serviceBind);
    assert.equal(isUsable(plain), true);
    relay.dropConnections();
    await waitFor('the plain connection to be unusable', () => !isUsable(plain), 3000, 20);
  });

  it('a server that was down and accepts a connection again is up', async () => {
    const flaky = await stall('silent');
    const { servers, events } = serverSet([flaky.url], 0);
    await assert.rejects(
      openConnection(servers, settings({ timeoutMs: 200 }), serviceBind, isAnswer),
      unavailable('unreachable', /Operation timed out/),
    );
    flaky.mode = 'forward';
    await works(await openConnection(servers, settings(), serviceBind, isAnswer));
    assert.equal(servers.allDown, false);
    assert.deepEqual(
      events.map((e) => e.up),
      [false, true],
    );
  });

  it('a StartTLS connection outlives LDAP_CONNECT_TIMEOUT_MS: the handshake timer stops once it is done', async () => {
    const client = await connectTo(
      slapd.url,
      settings({ startTls: true, connectTimeoutMs: 100 }),
      serviceBind,
    );
    // Keep using it until well past the handshake timeout (an operation at a time, no idle wait).
    const start = performance.now();
    let searches = 0;
    while (performance.now() - start < 400 || searches < 3) {
      const { searchEntries } = await client.search(slapd.baseDn, { scope: 'base', attributes: ['1.1'] });
      assert.equal(searchEntries.length, 1);
      searches++;
    }
    assert.equal(isUsable(client), true);
    await client.unbind();
  });

  it('the whole opening is bounded (2 × connect timeout + 2 × operation timeout), and the connection closed', async () => {
    const relay = await stall('forward');
    await assert.rejects(
      connectTo(
        relay.url,
        settings({ connectTimeoutMs: 100, timeoutMs: 150 }),
        // Bound, then stuck in a later step of the opening: only the backstop ends it.
        async (client) => {
          await serviceBind(client);
          await new Promise(() => undefined);
        },
      ),
      { message: 'opening the connection took longer than 500 ms' },
    );
    assert.equal(relay.accepted, 1);
    await waitFor('the abandoned connection to be closed', () => relay.open === 0, 3000, 20);
  });

  it('withDeadline passes a result through, and on expiry rejects and cancels', async () => {
    let cancelled = 0;
    assert.equal(
      await withDeadline(
        Promise.resolve(7),
        5000,
        () => new Error('late'),
        () => cancelled++,
      ),
      7,
    );
    await assert.rejects(
      withDeadline(
        new Promise(() => undefined),
        20,
        () => new Error('late'),
        () => cancelled++,
      ),
      { message: 'late' },
    );
    assert.equal(cancelled, 1);
  });

  it('connectionUrl names the LDAP_URL a connection was opened to', async () => {
    const client = await connectTo(slapd.url, settings(), serviceBind);
    assert.equal(connectionUrl(client), slapd.url);
    assert.equal(connectionUrl(new Client({ url: slapd.url })), undefined);
    await works(client);
  });
});

describe('host names (address-cache.ts)', () => {
  /** An AddressCache whose resolver knows the names in `hosts`; a name mapped to an Error fails with it. */
  function resolverFor(hosts: Map<string, string | Error>) {
    const clock = { now: 0 };
    const lookups: string[] = [];
    const cache = new AddressCache({
      now: () => clock.now,
      resolve: (hostname) => {
        lookups.push(hostname);
        const answer = hosts.get(hostname);
        if (answer === undefined)
          return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
        if (answer instanceof Error) return Promise.reject(answer);
        return Promise.resolve([{ address: answer, family: 4 }]);
      },
    });
    return { clock, lookups, lookup: cache.lookup };
  }
  const at = (url: string, host: string): string => {
    const u = new URL(url);
    return `${u.protocol}//${host}:${u.port}`;
  };

  it('plain, LDAPS and StartTLS dial the address the cache gives, and a failed lookup reuses the last one', async () => {
    const hosts = new Map<string, string | Error>([['localhost', '127.0.0.1']]);
    const r = resolverFor(hosts);
    const s = settings({ lookup: r.lookup });
    for (const [url, over] of [
      [at(slapd.url, 'localhost'), {}],
      [at(slapd.ldapsUrl, 'localhost'), {}],
      [at(slapd.url, 'localhost'), { startTls: true }],
    ] as const) {
      await works(await connectTo(url, { ...s, ...over }, serviceBind));
    }
    assert.deepEqual(r.lookups, ['localhost'], 'one lookup for three connections');

    hosts.set(
      'localhost',
      Object.assign(new Error('getaddrinfo EAI_AGAIN localhost'), { code: 'EAI_AGAIN' }),
    );
    r.clock.now += FRESH_MS;
    await works(await connectTo(at(slapd.ldapsUrl, 'localhost'), s, serviceBind));
    assert.deepEqual(
      r.lookups,
      ['localhost', 'localhost'],
      'asked again once the answer was no longer fresh',
    );
  });

  it('the certificate is checked against the host name, whatever address it resolved to', async () => {
    const r = resolverFor(new Map([['directory.test', '127.0.0.1']]));
    for (const [url, over] of [
      [at(slapd.ldapsUrl, 'directory.test'), {}],
      [at(slapd.url, 'directory.test'), { startTls: true }],
    ] as const) {
      await assert.rejects(
        openConnection(
          serverSet([url]).servers,
          settings({ lookup: r.lookup, ...over }),
          serviceBind,
          isAnswer,
        ),
        unavailable('certificate_untrusted', /not trusted/),
      );
    }
  });

  it('a name the resolver does not know is unreachable, naming the server', async () => {
    const r = resolverFor(new Map());
    const url = at(slapd.url, 'nowhere.test');
    await assert.rejects(
      openConnection(serverSet([url]).servers, settings({ lookup: r.lookup }), serviceBind, isAnswer),
      unavailable('unreachable', new RegExp(`^${serverLabel(url)}: .*ENOTFOUND`)),
    );
  });
});
