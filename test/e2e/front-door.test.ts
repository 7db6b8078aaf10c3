// What a client sees at nginx before any image moves: the challenge, refusals, the old-docker block, that
// nothing but /v2/ reaches the registry, and that the sidecar's metrics and nginx's log record each decision.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { run } from '@registry-ldap-auth/stack/process';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { authAs, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';
import { counterDeltas, scrape, seriesKey } from './support/metrics.ts';

const CHALLENGE = 'Basic realm="Registry realm", charset="UTF-8"';
const API_VERSION = 'registry/2.0';
const WRONG_PASSWORD = 'Wr0ng-but-plausible';
const OLD_DOCKER = 'docker/1.5.0 go/go1.4';
const DECISIONS = 'registry_auth_decisions_total';

/** Local addresses of every socket `pid` listens on (TCP), from `ss` (iproute2). */
async function listeningAddresses(pid: number): Promise<string[]> {
  const { stdout } = await run('ss', ['-Hltnp']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3] ?? '');
}

async function pidListeningOn(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`]);
  const pid = /pid=(\d+),/.exec(stdout)?.[1];
  if (pid === undefined) throw new Error(`nothing listens on port ${port}: ${stdout}`);
  return Number(pid);
}

function refusesConnection(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(true);
    });
  });
}

void describe('the front door: nginx in front of the registry and the sidecar', { timeout: 60_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;

  before(async () => {
    ({ e2e, teardown } = await startE2e());
  });
  after(async () => {
    await teardown?.();
  });

  void test('GET /v2/ without credentials: 401, the Basic challenge and the API version header', async () => {
    const res = await e2e.stack.request('GET', '/v2/');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], CHALLENGE);
    assert.equal(res.headers['docker-distribution-api-version'], API_VERSION);
  });

  void test('a wrong password and an unknown user get 401 with the challenge', async () => {
    for (const authorization of [basic('alice', WRONG_PASSWORD), basic('mallory', WRONG_PASSWORD)]) {
      const res = await e2e.stack.request('GET', '/v2/', { headers: { Authorization: authorization } });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], CHALLENGE);
    }
    const good = await e2e.stack.request('GET', '/v2/', { headers: authAs('alice') });
    assert.equal(good.status, 200);
    assert.equal(good.headers['docker-distribution-api-version'], API_VERSION);
  });

  void test('the docker 1.5 user agent is refused with 404, even with good credentials', async () => {
    const before = await scrape(e2e.stack.metricsUrl);
    const res = await e2e.stack.request('GET', '/v2/', {
      headers: { ...authAs('alice'), 'User-Agent': OLD_DOCKER },
    });
    assert.equal(res.status, 404);
    // Refused before auth_request: the sidecar never saw it.
    assert.deepEqual(counterDeltas(before, await scrape(e2e.stack.metricsUrl), DECISIONS), new Map());
  });

  void test('the registry, the sidecar and nginx listen on 127.0.0.1 only', async () => {
    const { registry, sidecar, nginx } = e2e.stack.ports;
    const owners = {
      registry: await pidListeningOn(registry),
      sidecar: e2e.stack.sidecar.server.child.pid ?? -1,
      nginx: await pidListeningOn(nginx),
    };
    assert.deepEqual(await listeningAddresses(owners.registry), [`127.0.0.1:${registry}`]);
    assert.deepEqual(
      (await listeningAddresses(owners.sidecar)).sort(),
      [`127.0.0.1:${sidecar}`, `127.0.0.1:${e2e.stack.ports.metrics}`].sort(),
    );
    assert.deepEqual(await listeningAddresses(owners.nginx), [`127.0.0.1:${nginx}`]);
    // And from the outside: the machine's own non-loopback addresses reach none of them.
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
      .map((a) => a?.address ?? '');
    for (const address of external) {
      for (const port of [registry, sidecar, nginx]) {
        assert.ok(await refusesConnection(address, port), `${address}:${port} accepts connections`);
      }
    }
  });

  void test('nothing outside /v2/ reaches the registry, and /_auth is internal', async () => {
    const registryLog = async (): Promise<string> => readFile(e2e.stack.logs.registry, 'utf8');
    const logBefore = await registryLog();
    const paths = [
      '/',
      '/debug/vars',
      '/debug/pprof/',
      '/v2/../debug/vars',
      '/v2/..%2fdebug/vars',
      '/v2/%2e%2e/debug/vars',
      '/_auth',
      '/auth',
      '/metrics',
      '/healthz',
    ];
    for (const path of paths) {
      const res = await e2e.stack.request('GET', path, { headers: authAs('alice') });
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body.toString('utf8'), /memstats|cmdline|registry_auth|status/, path);
    }
    const head = await e2e.stack.request('HEAD', '/_auth', { headers: authAs('alice') });
    assert.equal(head.status, 404);
    // The registry logs every request it serves ("response completed"): it served none of these.
    assert.equal(await registryLog(), logBefore);
  });

  void test('the metrics count exactly the decisions made, and the access log names the user', async () => {
    const requests: [string, string, Record<string, string>, string, number][] = [
      // [method, path, headers, series labels (action/result), expected status]
      ['GET', '/v2/', {}, 'login/challenge', 401],
      ['GET', '/v2/', authAs('alice'), 'login/allow', 200],
      ['GET', '/v2/', authAs('alice'), 'login/allow', 200],
      ['GET', '/v2/', { Authorization: basic('bob', WRONG_PASSWORD) }, 'login/unauthenticated', 401],
      ['GET', '/v2/metrics-probe/tags/list', authAs('bob'), 'pull/allow', 404],
      ['PUT', '/v2/metrics-probe/manifests/v1', authAs('bob'), 'push/deny', 403],
      ['GET', '/v2/metrics-probe/tags/list', authAs('carol'), 'pull/deny', 403],
      ['DELETE', `/v2/metrics-probe/manifests/sha256:${'a'.repeat(64)}`, authAs('alice'), 'delete/deny', 403],
    ];
    const before = await scrape(e2e.stack.metricsUrl);
    const logBefore = (await e2e.stack.nginx.accessLogLines()).length;
    const expected = new Map<string, number>();
    for (const [method, path, headers, labels, status] of requests) {
      const res = await e2e.stack.request(method, path, { headers });
      assert.equal(res.status, status, `${method} ${path}`);
      const [action = '', result = ''] = labels.split('/');
      const key = seriesKey(DECISIONS, { action, result });
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const after = await scrape(e2e.stack.metricsUrl);
    assert.deepEqual(counterDeltas(before, after, DECISIONS), expected);

    const lines = (await e2e.stack.nginx.accessLogLines()).slice(logBefore);
    assert.equal(lines.length, requests.length, lines.join('\n'));
    const user = (line: string): string => line.split(' ')[2] ?? '';
    // Only a request the sidecar allowed carries its verified user; everything else is "-".
    assert.deepEqual(lines.map(user), ['-', 'alice', 'alice', '-', 'bob', '-', '-', '-']);
  });

  void test('nginx reuses its connections to the sidecar instead of opening one per decision', async () => {
    const port = e2e.stack.ports.sidecar;
    // A closed TCP connection lingers in TIME-WAIT on the side that closed it, nginx's or the sidecar's.
    const closed = async (): Promise<number> => {
      const { stdout } = await run('ss', [
        '-Htn',
        'state',
        'time-wait',
        `( sport = :${port} or dport = :${port} )`,
      ]);
      return stdout.split('\n').filter((line) => line.trim() !== '').length;
    };
    const before = await closed();
    const asks: [Record<string, string>, number][] = [
      [authAs('alice'), 200],
      [{ Authorization: basic('alice', WRONG_PASSWORD) }, 401],
      [{}, 401],
    ];
    for (let i = 0; i < 10; i++) {
      for (const [headers, status] of asks) {
        assert.equal((await e2e.stack.request('GET', '/v2/', { headers })).status, status);
      }
    }
    // One connection per decision would leave 30 here.
    assert.ok(
      (await closed()) - before <= 2,
      `${(await closed()) - before} connections to the sidecar closed`,
    );
  });

  void test('no log of the stack holds a password or an Authorization value', async () => {
    await assertNoSecretsInLogs();
  });
});
