// The push/pull matrix as a registry client meets it, with Active Directory as the directory: skopeo →
// nginx (TLS, auth_request) → registry, the sidecar with LDAP_PRESET=activedirectory asking a Samba 4 AD DC
// that runs in its own network namespace. Refusals are checked on the registry's disk too.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { startNginx } from '@registry-ldap-auth/stack/nginx';
import type { Nginx } from '@registry-ldap-auth/stack/nginx';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { stopAll } from '@registry-ldap-auth/stack/process';
import { startRegistry } from '@registry-ldap-auth/stack/registry';
import type { Registry } from '@registry-ldap-auth/stack/registry';
import { sidecarEnvForAd, startSambaAd } from '@registry-ldap-auth/stack/samba-ad';
import type { SambaAd } from '@registry-ldap-auth/stack/samba-ad';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { createSkopeo, readPulledImage } from '@registry-ldap-auth/stack/skopeo';
import type { Credentials, Skopeo } from '@registry-ldap-auth/stack/skopeo';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';

const REFUSED = /denied|forbidden|403/i;
const UNAUTHORIZED = /unauthorized|authentication required|401/i;
const CHALLENGE = 'Basic realm="Registry realm", charset="UTF-8"';

void describe('push and pull through nginx with Active Directory groups', { timeout: 110_000 }, () => {
  let work: string;
  let ad: SambaAd;
  let registry: Registry;
  let sidecar: Sidecar;
  let nginx: Nginx;
  let skopeo: Skopeo;
  let ca: Buffer;
  let image: OciImage;
  // Undone in reverse order in `after`, also when `before` failed half-way.
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'e2e-ad-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const pki = await createCa(join(work, 'pki'), 'AD e2e CA');
    const [dc, tls] = await Promise.all([
      startSambaAd(),
      issueServerCert(pki, 'nginx', { dns: ['localhost'], ips: ['127.0.0.1'] }),
    ]);
    ad = dc;
    cleanups.push(() => ad.destroy());
    ca = await readFile(pki.caCert);
    registry = await startRegistry();
    cleanups.push(() => registry.stop());
    sidecar = await startSidecar(sidecarEnvForAd(ad));
    cleanups.push(() => sidecar.stop());
    nginx = await startNginx({
      registryPort: registry.port,
      authPort: sidecar.port,
      tls,
      workerProcesses: 1,
    });
    cleanups.push(() => nginx.stop());
    skopeo = await createSkopeo(pki.caCert);
    cleanups.push(() => skopeo.destroy());
    // Distinct sizes, so a layer swapped or dropped on the way shows up as a digest mismatch.
    image = await buildOciImage(join(work, 'oci'), { tag: 'v1', layerSizes: [2 << 20, 40_000, 1] });
  });

  after(async () => {
    try {
      await assertNoSecretsInLogs(); // before the servers and their logs are removed
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await stopAll(); // anything a failed start left running
    }
  });

  const ref = (repo: string): string => `127.0.0.1:${nginx.port}/${repo}`;
  const as = (login: string, seeded = login.replace(/^.*\\|@.*$/g, '').toLowerCase()): Credentials => {
    const user = ad.users[seeded];
    assert.ok(user, `no seeded user ${seeded}`);
    return { username: login, password: user.password };
  };
  const digests = (img: OciImage): string[] => [img.config.digest, ...img.layers.map((l) => l.digest)];

  async function pulledDigests(repo: string, creds: Credentials, dir: string): Promise<string[]> {
    const pull = await skopeo.pull(ref(repo), join(work, dir), creds);
    assert.equal(pull.code, 0, pull.stderr);
    const { manifest } = await readPulledImage(join(work, dir));
    return [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  }

  /** A refused push: skopeo fails with `expected`, and the registry's storage is exactly as before. */
  async function assertPushRefused(img: OciImage, repo: string, creds: Credentials, expected: RegExp) {
    await skopeo.clearBlobInfoCache(); // a real upload attempt, not a cross-repository mount
    const before = await registry.storageFiles();
    const push = await skopeo.push(img, ref(repo), creds);
    assert.notEqual(push.code, 0, `${creds.username} pushed to ${repo}`);
    assert.match(push.stderr, expected);
    assert.deepEqual(await registry.storageFiles(), before, 'the refused push changed the storage');
  }

  void test('unauthenticated: 401 with the Basic challenge, and skopeo gets nothing', async () => {
    const status = await new Promise<{ code: number; challenge: unknown }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: nginx.port, path: '/v2/', ca, agent: false, timeout: 10_000 },
        (res) => {
          res.resume();
          resolve({ code: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
        },
      );
      req.once('timeout', () => req.destroy(new Error('GET /v2/ timed out')));
      req.once('error', reject);
      req.end();
    });
    assert.deepEqual(status, { code: 401, challenge: CHALLENGE });
    const pull = await skopeo.pull(ref('team/app:v1'), join(work, 'anonymous-pull'));
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, UNAUTHORIZED);
  });

  void test('alice (registry-pushers) pushes by sAMAccountName and pulls back by UPN and DOMAIN\\user', async () => {
    const push = await skopeo.push(image, ref('team/app:v1'), as('alice'));
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(
      await pulledDigests('team/app:v1', as('alice@example.test'), 'alice-upn'),
      digests(image),
    );
    assert.deepEqual(await pulledDigests('team/app:v1', as('EXAMPLE\\alice'), 'alice-nt'), digests(image));
    const stored = await registry.blobDigests();
    for (const digest of digests(image)) assert.ok(stored.includes(digest), `${digest} not in storage`);
    assert.deepEqual(await registry.repositories(), ['team/app']);
  });

  void test('bob (registry-users) pulls, but his pushes are refused and write nothing', async () => {
    assert.deepEqual(await pulledDigests('team/app:v1', as('bob'), 'bob-pull'), digests(image));
    await assertPushRefused(image, 'team/bobs:v1', as('bob'), REFUSED);
    const retag = await buildOciImage(join(work, 'oci'), { tag: 'v2', layerSizes: [4096] });
    await assertPushRefused(retag, 'team/app:v2', as('bob'), REFUSED);
    assert.deepEqual(await registry.repositories(), ['team/app']);
  });

  void test('dave (registry-ci, nested in registry-pushers) pushes and pulls', async () => {
    const own = await buildOciImage(join(work, 'oci'), { tag: 'dave', layerSizes: [1 << 20, 2048] });
    await skopeo.clearBlobInfoCache();
    const push = await skopeo.push(own, ref('ci/dave-app:1.0'), as('dave'));
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(await pulledDigests('ci/dave-app:1.0', as('dave'), 'dave-pull'), digests(own));
    assert.deepEqual(await registry.repositories(), ['ci/dave-app', 'team/app']);
  });

  void test('carol (in no registry group) may neither pull nor push', async () => {
    const pull = await skopeo.pull(ref('team/app:v1'), join(work, 'carol-pull'), as('carol'));
    assert.notEqual(pull.code, 0, 'carol pulled');
    assert.match(pull.stderr, REFUSED);
    await assertPushRefused(image, 'carol/app:v1', as('carol'), REFUSED);
  });

  void test('a disabled account and a wrong password are 401, not 403', async () => {
    await assertPushRefused(image, 'team/app:v3', as('disabled-user'), UNAUTHORIZED);
    const wrong = { username: 'alice', password: 'Not-Alices-Pass1!' };
    await assertPushRefused(image, 'team/app:v3', wrong, UNAUTHORIZED);
  });

  void test('the access log names the canonical user, whatever form she logged in with', async () => {
    const lines = await nginx.accessLogLines();
    const pulls = lines.filter((l) => /"GET \/v2\/team\/app\/manifests\/v1 HTTP\/1\.1" 200 /.test(l));
    assert.ok(pulls.length >= 3, lines.join('\n'));
    assert.ok(
      pulls.every((l) => / - (alice|bob) \[/.test(l)),
      pulls.join('\n'),
    );
    assert.ok(!lines.some((l) => /alice@example\.test|EXAMPLE\\\\alice/i.test(l)), 'a login form was logged');
  });

  void test('no log holds a password or an Authorization value', async () => {
    const logs = [nginx.accessLog, nginx.errorLog, registry.logFile];
    const text = [
      await sidecar.logText(),
      ...(await Promise.all(logs.map((f) => readFile(f, 'utf8').catch(() => '')))),
    ].join('\n');
    for (const [login, { password }] of Object.entries(ad.users)) {
      assert.ok(!text.includes(password), `a log holds ${login}'s password`);
    }
    assert.doesNotMatch(text, /Basic [A-Za-z0-9+/]{8,}/);
  });
});
