// What the registry receives from the reference nginx config, seen by a recording server in the
// registry's place: never the client's credentials, and nginx's own view of the client's address.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { startNginx } from '@registry-ldap-auth/stack/nginx';
import type { Nginx } from '@registry-ldap-auth/stack/nginx';
import { stopAll } from '@registry-ldap-auth/stack/process';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';

void describe('what the registry receives through nginx', { timeout: 60_000 }, () => {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  let recorder: Server;
  let slapd: Slapd;
  let sidecar: Sidecar;
  let nginx: Nginx;
  let ca: Buffer;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    const work = await mkdtemp(join(tmpdir(), 'e2e-upstream-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    recorder = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2' }).end('{}');
    });
    recorder.listen(0, '127.0.0.1');
    await once(recorder, 'listening');
    cleanups.push(async () => {
      recorder.closeAllConnections();
      recorder.close();
      await once(recorder, 'close');
    });
    const pki = await createCa(join(work, 'pki'), 'upstream e2e CA');
    const tls = await issueServerCert(pki, 'nginx', { dns: ['localhost'], ips: ['127.0.0.1'] });
    ca = await readFile(pki.caCert);
    slapd = await startSlapd();
    cleanups.push(() => slapd.destroy());
    sidecar = await startSidecar(sidecarEnvFor(slapd));
    cleanups.push(() => sidecar.stop());
    nginx = await startNginx({
      registryPort: (recorder.address() as AddressInfo).port,
      authPort: sidecar.port,
      tls,
      workerProcesses: 1,
    });
    cleanups.push(() => nginx.stop());
  });

  after(async () => {
    try {
      await assertNoSecretsInLogs();
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await stopAll();
    }
  });

  function send(method: string, path: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(`${nginx.url}${path}`, { method, headers, ca, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
      req.end();
    });
  }

  void test('an allowed pull reaches the registry without the Authorization header', async () => {
    const { uid, password } = seed.users.alice;
    const status = await send('GET', '/v2/team/app/tags/list', {
      Authorization: basic(uid, password),
      'X-Forwarded-For': '198.51.100.99',
      'X-Real-IP': '198.51.100.98',
    });
    assert.equal(status, 200);
    const last = seen.at(-1);
    assert.equal(last?.url, '/v2/team/app/tags/list');
    assert.equal(last.headers.authorization, undefined, 'the registry received the client credentials');
    // The address nginx saw, not one the client claimed.
    assert.equal(last.headers['x-real-ip'], '127.0.0.1');
  });

  void test('an allowed push of a manifest reaches the registry without the Authorization header', async () => {
    const { uid, password } = seed.users.alice;
    const before = seen.length;
    const status = await send('PUT', '/v2/team/app/manifests/v1', {
      Authorization: basic(uid, password),
      'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
    });
    assert.equal(status, 200);
    assert.equal(seen.length, before + 1);
    assert.equal(seen.at(-1)?.headers.authorization, undefined);
  });

  void test('a refused request never reaches the registry at all', async () => {
    const before = seen.length;
    const { uid, password } = seed.users.bob;
    assert.equal(
      await send('PUT', '/v2/team/app/manifests/v2', { Authorization: basic(uid, password) }),
      403,
    );
    assert.equal(await send('GET', '/v2/team/app/tags/list', {}), 401);
    assert.equal(seen.length, before);
  });
});
