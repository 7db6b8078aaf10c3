// Cross-repository blob mounts and manifest deletes, with raw distribution-API requests through nginx.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MEDIA_TYPES, buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { authAs, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

void describe('cross-repository mounts and deletes through nginx', { timeout: 60_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;
  let image: OciImage;
  let layer: string;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ registryDelete: true }));
    image = await buildOciImage(join(e2e.work, 'oci'), { tag: 'v1', layerSizes: [256 * 1024, 999] });
    layer = image.layers[0]?.digest ?? '';
    const push = await e2e.skopeo.push(image, `${e2e.stack.host}/team/base:v1`, creds('alice'));
    assert.equal(push.code, 0, push.stderr);
  });
  after(async () => {
    await teardown?.();
  });

  /** A layer link in `repo`: the registry's record that the repository holds the blob. */
  const linked = async (repo: string, digest: string): Promise<boolean> =>
    (await e2e.stack.registry.storageFiles()).includes(
      `docker/registry/v2/repositories/${repo}/_layers/sha256/${hex(digest)}/link`,
    );

  const mount = (who: 'dave' | 'bob' | 'carol', repo: string, from: string) =>
    e2e.stack.request(
      'POST',
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(layer)}&from=${encodeURIComponent(from)}`,
      { headers: { ...authAs(who), 'Content-Length': '0' } },
    );

  void test('dave (nested pusher, may pull team/base) mounts a layer from team/base: 201, no upload', async () => {
    const res = await mount('dave', 'ci/derived', 'team/base');
    assert.equal(res.status, 201);
    assert.equal(res.headers['docker-content-digest'], layer);
    assert.ok(await linked('ci/derived', layer));
    const files = await e2e.stack.registry.storageFiles();
    assert.ok(!files.some((f) => f.includes('/_uploads/')), 'the mount started an upload');
    const head = await e2e.stack.request('HEAD', `/v2/ci/derived/blobs/${layer}`, {
      headers: authAs('dave'),
    });
    assert.equal(head.status, 200);
  });

  void test('a mount by someone who may not push is refused and links nothing', async () => {
    for (const who of ['bob', 'carol'] as const) {
      const before = await e2e.stack.registry.storageFiles();
      const res = await mount(who, `team/${who}-copy`, 'team/base');
      assert.equal(res.status, 403, who);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before, who);
    }
  });

  void test('a mount whose `from` is not a repository name is refused, not turned into an upload', async () => {
    const before = await e2e.stack.registry.storageFiles();
    for (const from of ['Team/Base', 'team/base/../other', 'team%2Fbase']) {
      const res = await mount('dave', 'ci/derived2', from);
      assert.equal(res.status, 403, from);
    }
    assert.deepEqual(await e2e.stack.registry.storageFiles(), before);
  });

  void test('DELETE of a manifest: 403 for pushers and readers, 202 for erin (registry-admins)', async () => {
    const path = `/v2/team/base/manifests/${image.manifest.digest}`;
    const present = async (): Promise<number> =>
      (
        await e2e.stack.request('HEAD', path, {
          headers: { ...authAs('alice'), Accept: MEDIA_TYPES.manifest },
        })
      ).status;
    assert.equal(await present(), 200);
    for (const who of ['alice', 'dave', 'bob'] as const) {
      const res = await e2e.stack.request('DELETE', path, { headers: authAs(who) });
      assert.equal(res.status, 403, who);
      assert.equal(await present(), 200, `the manifest went after ${who}'s refused DELETE`);
    }
    const res = await e2e.stack.request('DELETE', path, { headers: authAs('erin') });
    assert.equal(res.status, 202);
    assert.equal(await present(), 404);
  });

  void test('erin (the delete group, also a reader) may pull but not push', async () => {
    const pull = await e2e.stack.request('GET', `/v2/team/base/blobs/${layer}`, { headers: authAs('erin') });
    assert.equal(pull.status, 200);
    const push = await e2e.stack.request('POST', '/v2/team/base/blobs/uploads/', {
      headers: { ...authAs('erin'), 'Content-Length': '0' },
    });
    assert.equal(push.status, 403);
  });

  void test('skopeo delete through nginx: refused for bob (pull only), done for erin', async () => {
    const push = await e2e.skopeo.push(image, `${e2e.stack.host}/team/gone:v1`, creds('alice'));
    assert.equal(push.code, 0, push.stderr);
    const manifest = async (): Promise<number> =>
      (
        await e2e.stack.request('HEAD', `/v2/team/gone/manifests/${image.manifest.digest}`, {
          headers: { ...authAs('alice'), Accept: MEDIA_TYPES.manifest },
        })
      ).status;
    const refused = await e2e.skopeo.delete(`${e2e.stack.host}/team/gone:v1`, creds('bob'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied/);
    assert.equal(await manifest(), 200, "the manifest went after bob's refused delete");
    const done = await e2e.skopeo.delete(`${e2e.stack.host}/team/gone:v1`, creds('erin'));
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await manifest(), 404);
  });

  void test('no log of the stack holds a password or an Authorization value', async () => {
    await assertNoSecretsInLogs();
  });
});

void describe(
  'a mount needs pull on the source repository (repository-scoped grants)',
  { timeout: 60_000 },
  () => {
    let e2e: E2e;
    let teardown: (() => Promise<void>) | undefined;
    let layer: string;

    before(async () => {
      // alice (registry-pushers) may push, and so pull, team/* only; dave (registry-ci) also ci/*.
      ({ e2e, teardown } = await startE2e({
        sidecarEnv: {
          AUTH_PUSH_GROUPS: 'registry-pushers@team/*,registry-ci@ci/*',
          AUTH_PULL_GROUPS: 'nobody',
        },
      }));
      const image = await buildOciImage(join(e2e.work, 'oci'), { tag: 'v1', layerSizes: [128 * 1024] });
      layer = image.layers[0]?.digest ?? '';
      for (const [who, repo] of [
        ['alice', 'team/base'],
        ['dave', 'ci/source'],
      ] as const) {
        const push = await e2e.skopeo.push(image, `${e2e.stack.host}/${repo}:v1`, creds(who));
        assert.equal(push.code, 0, push.stderr);
      }
    });
    after(async () => {
      await teardown?.();
    });

    const mount = (repo: string, from: string) =>
      e2e.stack.request(
        'POST',
        `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(layer)}&from=${encodeURIComponent(from)}`,
        { headers: { ...authAs('alice'), 'Content-Length': '0' } },
      );

    void test('alice may push team/derived but not pull ci/source: the mount from ci/source is refused', async () => {
      const before = await e2e.stack.registry.storageFiles();
      const res = await mount('team/derived', 'ci/source');
      assert.equal(res.status, 403);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before, 'nothing was linked or uploaded');
    });

    void test('the same mount from a repository alice may pull succeeds', async () => {
      const res = await mount('team/derived', 'team/base');
      assert.equal(res.status, 201);
      assert.equal(res.headers['docker-content-digest'], layer);
    });

    void test('delete without pull: skopeo delete is refused at its first step, reading the manifest', async () => {
      // erin is in AUTH_DELETE_GROUPS but not in AUTH_PULL_GROUPS ('nobody') here.
      const before = await e2e.stack.registry.storageFiles();
      const res = await e2e.skopeo.delete(`${e2e.stack.host}/team/base:v1`, creds('erin'));
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /denied/);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before, 'nothing was deleted');
    });

    void test('alice may not push outside team/*', async () => {
      const res = await e2e.stack.request('POST', '/v2/ci/other/blobs/uploads/', {
        headers: { ...authAs('alice'), 'Content-Length': '0' },
      });
      assert.equal(res.status, 403);
    });
  },
);
