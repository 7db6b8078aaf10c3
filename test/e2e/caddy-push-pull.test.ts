// Real skopeo through a real Caddy (forward_auth, caddy/Caddyfile): the same push/pull matrix as through
// nginx, with the sidecar reading X-Forwarded-Method / X-Forwarded-Uri from its trusted proxy.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { test } from 'node:test';
import { startCaddy } from '@registry-ldap-auth/stack/caddy';
import { authAs } from './support/fixture.ts';
import { pushPullMatrix } from './support/push-pull-matrix.ts';
import type { Front } from './support/push-pull-matrix.ts';
import { startE2e } from './support/fixture.ts';

interface AccessEntry {
  request?: { method?: string; uri?: string; headers?: Record<string, string[]> };
  status?: number;
}

pushPullMatrix(
  'push and pull through Caddy forward_auth with LDAP groups',
  async () => {
    const { e2e, teardown } = await startE2e();
    try {
      const { stack } = e2e;
      const caddy = await startCaddy({
        registryPort: stack.ports.registry,
        authPort: stack.ports.sidecar,
        tls: stack.tls,
      });
      return {
        e2e,
        host: `127.0.0.1:${caddy.port}`,
        async loggedUser(user, method, path, status) {
          // Caddy 2.6's access log cannot name the user forward_auth verified (copy_headers changes the
          // request after it was logged): the sidecar's audit line for that request names them.
          const entries = (await caddy.accessLogEntries()) as AccessEntry[];
          const served = entries.some(
            (e) => e.status === status && e.request?.method === method && e.request.uri === path,
          );
          const repository = /^\/v2\/(.+)\/manifests\//.exec(path)?.[1];
          const audited = (await stack.sidecar.logLines()).some(
            (l) =>
              l['user'] === user &&
              l['method'] === method &&
              l['repository'] === repository &&
              l['result'] === 'allow',
          );
          return served && audited;
        },
        async teardown() {
          await caddy.stop();
          await teardown();
        },
      };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
  (front) => {
    void test("a client's own X-Original-* / X-Forwarded-* headers cannot turn bob's upload into a pull", async () => {
      // Caddy passes the client's headers on to the sidecar: if they counted, bob (reader) would be judged
      // on "GET /v2/team/app/manifests/v1" and his POST would open an upload in team/app.
      const { e2e, host } = front();
      const before = await e2e.stack.registry.storageFiles();
      const status = await post(front(), `https://${host}/v2/team/app/blobs/uploads/`, {
        ...authAs('bob'),
        'X-Original-Method': 'GET',
        'X-Original-URI': '/v2/team/app/manifests/v1',
        'X-Forwarded-Method': 'GET',
        'X-Forwarded-Uri': '/v2/team/app/manifests/v1',
      });
      assert.equal(status, 403);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before, 'an upload was started');
      const audit = (await e2e.stack.sidecar.logLines()).at(-1);
      assert.ok(audit, 'no audit line');
      assert.equal(audit['method'], 'POST');
      assert.equal(audit['action'], 'push');
    });

    void test('a client cannot choose the host of the Location URLs the registry builds', async () => {
      // The registry prefers Forwarded to Host: the Caddyfile clears a client's Forwarded header.
      const { host } = front();
      const res = await postFor(front(), `https://${host}/v2/team/app/blobs/uploads/`, {
        ...authAs('alice'),
        'Content-Length': '0',
        Forwarded: 'host=evil.example;proto=http',
      });
      assert.equal(res.status, 202);
      assert.ok(String(res.location).startsWith(`https://${host}/v2/team/app/blobs/uploads/`), res.location);
    });
  },
);

async function post(front: Front, url: string, headers: Record<string, string>): Promise<number> {
  return (await postFor(front, url, headers)).status;
}

async function postFor(
  front: Front,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; location: string | undefined }> {
  const ca = await readFile(front.e2e.stack.caCert);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, ca, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
    });
    req.once('timeout', () => req.destroy(new Error('POST timed out')));
    req.once('error', reject);
    req.end();
  });
}
