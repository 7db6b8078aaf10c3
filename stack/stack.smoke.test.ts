// Smoke test of the stack pieces: the reference nginx config in front of the real registry, with a
// throwaway auth stub standing in for the sidecar, driven by skopeo; plus `docker-compose config`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { request } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCa, issueServerCert } from './certs.ts';
import { startNginx } from './nginx.ts';
import type { Nginx } from './nginx.ts';
import { buildOciImage } from './oci-image.ts';
import { freePort, run, stopAll } from './process.ts';
import { startRegistry } from './registry.ts';
import type { Registry } from './registry.ts';
import { createSkopeo, readPulledImage } from './skopeo.ts';
import type { Skopeo } from './skopeo.ts';
import { assertNoSecretsInLogs, basic } from './credentials.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ALICE = { username: 'alice', password: 'alice-password' };
const CHALLENGE = 'Basic realm="Registry realm", charset="UTF-8"';

/** Answers like the sidecar would for one known user; records what nginx sent it. */
async function startAuthStub(): Promise<{ server: HttpServer; port: number; seen: IncomingHttpHeaders[] }> {
  const good = basic(ALICE.username, ALICE.password);
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (req.headers.authorization === good) {
      res.writeHead(200, { 'X-Auth-User': 'alice', 'X-Auth-Groups': 'registry-pushers' }).end();
    } else {
      res.writeHead(401, { 'WWW-Authenticate': CHALLENGE }).end('nginx never passes this body on');
    }
  });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, port, seen };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(nginx: Nginx, ca: Buffer, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: nginx.port, path, headers, ca, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.once('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.once('error', reject);
    req.end();
  });
}

void describe('stack smoke: nginx reference config + registry + skopeo', { timeout: 60_000 }, () => {
  let dir: string;
  let ca: Buffer;
  let stub: Awaited<ReturnType<typeof startAuthStub>>;
  let registry: Registry;
  let nginx: Nginx;
  let skopeo: Skopeo;

  // Undone in reverse order in `after`, also when `before` failed half-way.
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stack-smoke-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pki = await createCa(join(dir, 'pki'), 'stack smoke CA');
    const tls = await issueServerCert(pki, 'nginx', { dns: ['localhost'], ips: ['127.0.0.1'] });
    ca = await readFile(pki.caCert);
    stub = await startAuthStub();
    cleanups.push(async () => {
      stub.server.closeAllConnections();
      stub.server.close();
      await once(stub.server, 'close');
    });
    registry = await startRegistry();
    cleanups.push(() => registry.stop());
    nginx = await startNginx({ registryPort: registry.port, authPort: stub.port, tls, workerProcesses: 1 });
    cleanups.push(() => nginx.stop());
    skopeo = await createSkopeo(pki.caCert);
    cleanups.push(() => skopeo.destroy());
  });

  after(async () => {
    try {
      await assertNoSecretsInLogs(); // before the servers and their logs are removed
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await stopAll(); // anything a failed start left behind
    }
  });

  void test('GET /v2/ without credentials: 401 with the Basic challenge and the API version header', async () => {
    const res = await get(nginx, ca, '/v2/');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], CHALLENGE);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.doesNotMatch(res.body, /never passes/);
  });

  void test("GET /v2/ with alice's credentials: 200 from the registry", async () => {
    const res = await get(nginx, ca, '/v2/', { Authorization: basic(ALICE.username, ALICE.password) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  void test('the registry is not served outside /v2/ and /_auth is internal', async () => {
    assert.equal((await get(nginx, ca, '/_auth')).status, 404);
    assert.equal((await get(nginx, ca, '/debug/vars')).status, 404);
  });

  void test('the sidecar gets nginx-set X-Original-* headers, never forged ones, and no other client header', async () => {
    stub.seen.length = 0;
    const res = await get(nginx, ca, '/v2/?n=1', {
      Authorization: basic(ALICE.username, ALICE.password),
      'X-Original-URI': '/v2/forged/manifests/latest',
      'X-Original-Method': 'DELETE',
      'X-Real-IP': '203.0.113.9',
      'X-Forwarded-For': '203.0.113.9',
      'X-Leak': 'client-only',
    });
    assert.equal(res.status, 200);
    assert.equal(stub.seen.length, 1);
    const h = stub.seen[0]!;
    assert.equal(h['x-original-uri'], '/v2/?n=1');
    assert.equal(h['x-original-method'], 'GET');
    assert.equal(h['x-real-ip'], '127.0.0.1');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h.authorization, basic(ALICE.username, ALICE.password));
    assert.equal(h['x-leak'], undefined);
    assert.equal(h['content-length'], undefined);
  });

  void test('skopeo pushes a 3-layer image as alice and pulls it back intact', async () => {
    const image = await buildOciImage(join(dir, 'oci'), { tag: 'v1', layerSizes: [2 << 20, 300_000, 1] });
    const target = `127.0.0.1:${nginx.port}/smoke/app:v1`;
    const push = await skopeo.push(image, target, ALICE);
    assert.equal(push.code, 0, push.stderr);

    const pulled = join(dir, 'pulled');
    const pull = await skopeo.pull(target, pulled, ALICE);
    assert.equal(pull.code, 0, pull.stderr);
    const { manifest } = await readPulledImage(pulled);
    assert.deepEqual(
      manifest.layers.map((l) => l.digest),
      image.layers.map((l) => l.digest),
    );
    assert.equal(manifest.config.digest, image.config.digest);
    const stored = await registry.blobDigests();
    for (const layer of image.layers) assert.ok(stored.includes(layer.digest), layer.digest);
    assert.deepEqual(await registry.repositories(), ['smoke/app']);

    const methods = new Set(stub.seen.map((h) => h['x-original-method']));
    for (const m of ['GET', 'HEAD', 'POST', 'PATCH', 'PUT']) assert.ok(methods.has(m), `no ${m} subrequest`);
    // Blobs are streamed both ways, never spooled to disk. nginx deletes a temp file when its request ends
    // but warns each time it writes one, so the error log is the lasting evidence.
    assert.doesNotMatch(await readFile(nginx.errorLog, 'utf8'), /buffered to a temporary file/);
  });

  void test('a push with a wrong password is refused and writes nothing', async () => {
    const image = await buildOciImage(join(dir, 'oci'), { tag: 'refused', layerSizes: [1000] });
    const push = await skopeo.push(image, `127.0.0.1:${nginx.port}/smoke/refused:v1`, {
      username: 'alice',
      password: 'wrong',
    });
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /unauthorized|authentication required|401/i);
    assert.deepEqual(await registry.repositories(), ['smoke/app']);
  });

  void test('the access log names the verified user', async () => {
    const lines = await nginx.accessLogLines();
    assert.ok(
      lines.some((l) => / - alice \[.*"GET \/v2\/ HTTP\/1\.1" 200 /.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => / - - \[.*"GET \/v2\/ HTTP\/1\.1" 401 /.test(l)),
      lines.join('\n'),
    );
  });

  void test('docker-compose accepts compose/docker-compose.yml, with and without the monitoring profile', async () => {
    const file = join(REPO_ROOT, 'compose', 'docker-compose.yml');
    const plain = await run('docker-compose', ['-f', file, 'config', '--quiet'], { cwd: REPO_ROOT });
    assert.doesNotMatch(plain.stderr, /WARNING/);
    const services = await run('docker-compose', [
      '-f',
      file,
      '--profile',
      'monitoring',
      'config',
      '--services',
    ]);
    assert.deepEqual(services.stdout.trim().split('\n').sort(), [
      'auth',
      'grafana',
      'nginx',
      'openldap',
      'prometheus',
      'registry',
    ]);
  });
});
