// Who may push and pull, seen from a real skopeo and from the registry's disk: one matrix, run through
// each front proxy (nginx auth_request in push-pull.test.ts, Caddy forward_auth in caddy-push-pull.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { readPulledImage } from '@registry-ldap-auth/stack/skopeo';
import { creds } from './fixture.ts';
import type { E2e } from './fixture.ts';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';

const REFUSED = /denied|forbidden|403/i;

export interface Front {
  readonly e2e: E2e;
  /** `127.0.0.1:PORT` of the front proxy under test: the registry host in image references. */
  readonly host: string;
  /** True when the proxy's access log names `user` for a `method path` request answered `status`. */
  loggedUser(user: string, method: string, path: string, status: number): Promise<boolean>;
  teardown(): Promise<void>;
}

/** `more` adds a front's own tests to the same describe, on the same running stack. */
export function pushPullMatrix(
  title: string,
  start: () => Promise<Front>,
  more?: (front: () => Front) => void,
): void {
  void describe(title, { timeout: 90_000 }, () => {
    let front: Front | undefined;
    let image: OciImage;
    const ctx = (): Front => {
      assert.ok(front, 'the stack did not start');
      return front;
    };

    before(async () => {
      front = await start();
      // Distinct sizes, so a layer swapped or dropped on the way shows up as a digest mismatch.
      image = await buildOciImage(join(front.e2e.work, 'oci'), {
        tag: 'v1',
        layerSizes: [3 << 20, 700_000, 12_345, 1],
      });
    });
    after(async () => {
      await front?.teardown();
    });

    const ref = (repo: string): string => `${ctx().host}/${repo}`;

    async function pullDigests(
      repo: string,
      who: Parameters<typeof creds>[0],
      dir: string,
    ): Promise<string[]> {
      const { e2e } = ctx();
      const pull = await e2e.skopeo.pull(ref(repo), join(e2e.work, dir), creds(who));
      assert.equal(pull.code, 0, pull.stderr);
      const { manifest } = await readPulledImage(join(e2e.work, dir));
      return [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    }
    const pushed = (img: OciImage): string[] => [img.config.digest, ...img.layers.map((l) => l.digest)];

    void test('alice (pusher) pushes a 4-layer image and pulls back the same layers', async () => {
      const { e2e } = ctx();
      const push = await e2e.skopeo.push(image, ref('team/app:v1'), creds('alice'));
      assert.equal(push.code, 0, push.stderr);
      assert.deepEqual(await pullDigests('team/app:v1', 'alice', 'alice-pull'), pushed(image));
      const stored = await e2e.stack.registry.blobDigests();
      for (const digest of pushed(image)) assert.ok(stored.includes(digest), `${digest} not in storage`);
      assert.deepEqual(await e2e.stack.registry.repositories(), ['team/app']);
    });

    void test('bob (reader) pulls the image alice pushed', async () => {
      assert.deepEqual(await pullDigests('team/app:v1', 'bob', 'bob-pull'), pushed(image));
    });

    void test("bob's push to a new repository is refused and writes nothing", async () => {
      const { e2e } = ctx();
      await e2e.skopeo.clearBlobInfoCache(); // a real upload attempt, not a cross-repo mount
      const before = await e2e.stack.registry.storageFiles();
      const push = await e2e.skopeo.push(image, ref('team/bobs:v1'), creds('bob'));
      assert.notEqual(push.code, 0, 'bob pushed');
      assert.match(push.stderr, REFUSED);
      const files = await e2e.stack.registry.storageFiles();
      assert.deepEqual(files, before, 'the refused push changed the registry storage');
      assert.ok(!files.some((f) => f.includes('/_uploads/')), 'an upload dir was left behind');
      assert.deepEqual(await e2e.stack.registry.repositories(), ['team/app']);
    });

    void test("bob's push of a new tag to an existing repository is refused and writes nothing", async () => {
      const { e2e } = ctx();
      const retag = await buildOciImage(join(e2e.work, 'oci'), { tag: 'v2', layerSizes: [4096] });
      await e2e.skopeo.clearBlobInfoCache();
      const before = await e2e.stack.registry.storageFiles();
      const push = await e2e.skopeo.push(retag, ref('team/app:v2'), creds('bob'));
      assert.notEqual(push.code, 0, 'bob pushed');
      assert.match(push.stderr, REFUSED);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before);
      const tags = await e2e.skopeo.copy(`docker://${ref('team/app:v2')}`, `dir:${join(e2e.work, 'none')}`, {
        srcCreds: creds('alice'),
      });
      assert.notEqual(tags.code, 0, 'team/app:v2 exists after a refused push');
    });

    void test('carol (no group) may log in but neither pull nor push', async () => {
      const { e2e } = ctx();
      const pull = await e2e.skopeo.pull(ref('team/app:v1'), join(e2e.work, 'carol-pull'), creds('carol'));
      assert.notEqual(pull.code, 0, 'carol pulled');
      assert.match(pull.stderr, REFUSED);
      await e2e.skopeo.clearBlobInfoCache();
      const before = await e2e.stack.registry.storageFiles();
      const push = await e2e.skopeo.push(image, ref('carol/app:v1'), creds('carol'));
      assert.notEqual(push.code, 0, 'carol pushed');
      assert.deepEqual(await e2e.stack.registry.storageFiles(), before);
    });

    void test('dave (pusher only through a nested group) pushes and pulls', async () => {
      const { e2e } = ctx();
      const own = await buildOciImage(join(e2e.work, 'oci'), { tag: 'dave', layerSizes: [1 << 20, 2048] });
      await e2e.skopeo.clearBlobInfoCache();
      const push = await e2e.skopeo.push(own, ref('ci/dave-app:1.0'), creds('dave'));
      assert.equal(push.code, 0, push.stderr);
      assert.deepEqual(await pullDigests('ci/dave-app:1.0', 'dave', 'dave-pull'), pushed(own));
      assert.deepEqual(await e2e.stack.registry.repositories(), ['ci/dave-app', 'team/app']);
      assert.ok(
        await ctx().loggedUser('dave', 'PUT', '/v2/ci/dave-app/manifests/1.0', 201),
        'the access log does not name dave for his manifest PUT',
      );
    });

    void test('no log of the stack holds a password or an Authorization value', async () => {
      ctx();
      await assertNoSecretsInLogs(); // every log of the stack and of the proxy under test
    });

    more?.(ctx);
  });
}
