// An outsider's attempts to reach another repository through a grant on one's own: alice may push team/*
// and nothing else; ci/source holds dave's image. Each attempt goes through nginx (and Caddy) to the real
// registry, and the test checks what the registry wrote and served, not only what the sidecar answered.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { startCaddy } from '@registry-ldap-auth/stack/caddy';
import type { Caddy } from '@registry-ldap-auth/stack/caddy';
import { MEDIA_TYPES, buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { authAs, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const SCOPED = {
  AUTH_PUSH_GROUPS: 'registry-pushers@team/*,registry-ci@ci/*',
  AUTH_PULL_GROUPS: 'nobody',
};

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** One request with the target sent exactly as given (no URL parsing, no dot-segment removal). */
function rawRequest(
  port: number,
  ca: Buffer,
  method: string,
  target: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      // write, not end: a half-closed TLS connection may be reset before the answer; the server closes.
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${lines.join('')}\r\n`,
      );
    });
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`${method} ${target} timed out`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      if (status?.[1] === undefined) reject(new Error(`${method} ${target}: no status line`));
      else resolve(Number(status[1]));
    });
  });
}

/** Spellings of ci/source a router or a proxy might read as ci/source while a check reads another name. */
const SPELLINGS: readonly string[] = [
  '/v2/ci/source/tags/list',
  '/v2/ci/source/tags/list/',
  '/v2/ci//source/tags/list',
  '/v2/ci/./source/tags/list',
  '/v2/team/../ci/source/tags/list',
  '/v2/team/app/../../ci/source/tags/list',
  '//v2/ci/source/tags/list',
  '/v2/ci%2Fsource/tags/list',
  '/v2/ci/source%2Ftags/list',
  '/v2/%63i/source/tags/list',
  '/v2/ci/source/tags/list;x=y',
  '/v2/ci/source/tags/list#frag',
  '/v2/ci/source/tags/list?n=1&n=2',
  '/v2/CI/source/tags/list',
  '/v2/ci/source/manifests/v1',
  '/v2/ci/source/manifests/v1/',
];

void describe('alice (push team/*) cannot reach ci/source through team/*', { timeout: 120_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;
  let caddy: Caddy | undefined;
  let secret: OciImage;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ sidecarEnv: SCOPED }));
    secret = await buildOciImage(join(e2e.work, 'secret'), { tag: 'v1', layerSizes: [4096] });
    const push = await e2e.skopeo.push(secret, `${e2e.stack.host}/ci/source:v1`, creds('dave'));
    assert.equal(push.code, 0, push.stderr);
    caddy = await startCaddy({
      registryPort: e2e.stack.ports.registry,
      authPort: e2e.stack.ports.sidecar,
      tls: e2e.stack.tls,
    });
  });
  after(async () => {
    await caddy?.stop();
    await teardown?.();
  });

  const layer = (): string => secret.layers[0]?.digest ?? '';
  const storage = (): Promise<string[]> => e2e.stack.registry.storageFiles();
  const registryLines = async (needle: string): Promise<number> =>
    (await readFile(e2e.stack.registry.logFile, 'utf8')).split('\n').filter((l) => l.includes(needle)).length;

  /** Starts an upload in `repo` as alice; the path and query of its Location. */
  const startUpload = async (repo: string): Promise<string> => {
    const res = await e2e.stack.request('POST', `/v2/${repo}/blobs/uploads/`, {
      headers: { ...authAs('alice'), 'Content-Length': '0' },
    });
    assert.equal(res.status, 202, res.body.toString());
    const location = new URL(String(res.headers.location), e2e.stack.url);
    return `${location.pathname}${location.search}`;
  };

  void test('an upload session stays in its repository: its _state is refused in another, nothing is written there', async () => {
    const session = await startUpload('team/a');
    const digest = encodeURIComponent(layer());
    const octets = { ...authAs('alice'), 'Content-Type': 'application/octet-stream' };
    // Moved to a repository alice may push: the registry refuses the state bound to team/a.
    const moved = await e2e.stack.request(
      'PUT',
      `${session.replace('/team/a/', '/team/b/')}&digest=${digest}`,
      {
        headers: octets,
        body: 'x',
      },
    );
    assert.equal(moved.status, 404, moved.body.toString());
    assert.match(moved.body.toString(), /BLOB_UPLOAD_INVALID/);
    // Moved to ci/source: refused before the registry sees it.
    const before = await registryLines('/v2/ci/source/blobs/uploads/');
    for (const method of ['PATCH', 'PUT', 'GET', 'DELETE']) {
      const res = await e2e.stack.request(method, session.replace('/team/a/', '/ci/source/'), {
        headers: octets,
        body: method === 'GET' ? '' : 'x',
      });
      assert.equal(res.status, 403, `${method} answered ${res.status}`);
    }
    assert.equal(await registryLines('/v2/ci/source/blobs/uploads/'), before);
    const written = (await storage()).filter((f) => f.includes('/repositories/team/b/'));
    assert.deepEqual(written, [], 'the registry wrote into team/b');
  });

  void test("a mount of ci/source's layer from a repository alice may pull starts a plain upload, links nothing", async () => {
    const res = await e2e.stack.request(
      'POST',
      `/v2/team/m/blobs/uploads/?mount=${encodeURIComponent(layer())}&from=team%2Fa`,
      { headers: { ...authAs('alice'), 'Content-Length': '0' } },
    );
    assert.equal(res.status, 202, res.body.toString());
    const link = `docker/registry/v2/repositories/team/m/_layers/sha256/${hex(layer())}/link`;
    assert.equal((await storage()).includes(link), false);
  });

  void test("finishing an upload with ci/source's digest but other content is refused and links nothing", async () => {
    const session = await startUpload('team/c');
    const res = await e2e.stack.request('PUT', `${session}&digest=${encodeURIComponent(layer())}`, {
      headers: { ...authAs('alice'), 'Content-Type': 'application/octet-stream' },
      body: 'not the layer',
    });
    assert.equal(res.status, 400, res.body.toString());
    assert.match(res.body.toString(), /DIGEST_INVALID/);
    const link = `docker/registry/v2/repositories/team/c/_layers/sha256/${hex(layer())}/link`;
    assert.equal((await storage()).includes(link), false);
    const read = await e2e.stack.request('GET', `/v2/team/c/blobs/${layer()}`, { headers: authAs('alice') });
    assert.equal(read.status, 404);
  });

  void test("a manifest in team/* naming ci/source's blobs is refused by the registry; no tag is written", async () => {
    const manifest = await readFile(join(secret.dir, 'blobs', 'sha256', hex(secret.manifest.digest)));
    const res = await e2e.stack.request('PUT', '/v2/team/stolen/manifests/v1', {
      headers: { ...authAs('alice'), 'Content-Type': MEDIA_TYPES.manifest },
      body: manifest,
    });
    assert.equal(res.status, 400, res.body.toString());
    assert.match(res.body.toString(), /MANIFEST_BLOB_UNKNOWN/);
    assert.deepEqual(
      (await storage()).filter((f) => f.includes('/repositories/team/stolen/')),
      [],
      'the registry wrote into team/stolen',
    );
    const byDigest = await e2e.stack.request('GET', `/v2/team/stolen/manifests/${secret.manifest.digest}`, {
      headers: { ...authAs('alice'), Accept: MEDIA_TYPES.manifest },
    });
    assert.equal(byDigest.status, 404);
  });

  void test('no spelling of ci/source reaches the registry as a request of alice, through nginx or Caddy', async () => {
    const headers = { Authorization: authAs('alice')['Authorization'] ?? '' };
    const fronts = [
      { name: 'nginx', port: e2e.stack.ports.nginx },
      { name: 'Caddy', port: caddy?.port ?? 0 },
    ];
    const ca = await readFile(e2e.stack.caCert);
    const before = await registryLines('ci/source');
    for (const front of fronts) {
      for (const target of SPELLINGS) {
        for (const method of ['GET', 'HEAD']) {
          const status = await rawRequest(front.port, ca, method, target, headers).catch((e: unknown) => {
            throw new Error(`${front.name} ${method} ${target}: ${String(e)}`);
          });
          assert.ok(
            [400, 403, 404].includes(status),
            `${front.name}: ${method} ${target} answered ${status}`,
          );
        }
      }
      // Headers that name another request, sent by the client: never believed.
      const forged = await rawRequest(front.port, ca, 'GET', '/v2/ci/source/tags/list', {
        ...headers,
        'X-Original-URI': '/v2/team/a/tags/list',
        'X-Original-Method': 'GET',
        'X-Forwarded-Uri': '/v2/team/a/tags/list',
        'X-Forwarded-Method': 'GET',
        'X-Original-URL': 'https://x/v2/team/a/tags/list',
      });
      assert.ok([403, 500].includes(forged), `${front.name}: forged headers answered ${forged}`);
    }
    assert.equal(await registryLines('ci/source'), before, 'a request for ci/source reached the registry');
  });
});
