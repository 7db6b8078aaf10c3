// CI without passwords, end to end: a real HTTPS OIDC issuer on loopback signs GitLab-shaped job tokens,
// and skopeo pushes through nginx with the token as the password of `oidc`. What counts is what the
// registry stored, and what the sidecar's audit log says about each decision.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import {
  gitlabJob,
  hmacWithPublicKey,
  startOidcIssuer,
  unsignedToken,
} from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import { startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const AUDIENCE = 'https://registry.example.test';
const REFUSED = /denied|forbidden|403/i;
const UNAUTHORIZED = /unauthorized|401/i;

void describe(
  'CI job tokens: skopeo pushes through nginx with an OIDC token as the password',
  { timeout: 120_000 },
  () => {
    let dir: string;
    let issuer: OidcIssuer | undefined;
    let e2e: E2e;
    let teardown: (() => Promise<void>) | undefined;
    let image: OciImage;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'oidc-e2e-'));
      issuer = await startOidcIssuer(dir);
      const rules = join(dir, 'oidc.yml');
      await writeFile(
        rules,
        [
          'issuers:',
          '  - name: gitlab',
          `    issuer: ${issuer.url}`,
          `    audience: ${AUDIENCE}`,
          `    ca_file: ${issuer.caFile}`,
          '    subject: "{project_path}@{ref_path}"',
          '    rules:',
          '      - claims: { namespace_path: platform, ref_protected: "true" }',
          '        push: ["{project_path}"]',
          '      - claims: { namespace_path: platform }',
          '        pull: ["platform/**"]',
          '',
        ].join('\n'),
      );
      ({ e2e, teardown } = await startE2e({ sidecarEnv: { OIDC_CONFIG_FILE: rules } }));
      image = await buildOciImage(join(e2e.work, 'oci'), { tag: 'v1', layerSizes: [1 << 20, 4321] });
    });
    after(async () => {
      try {
        await teardown?.();
      } finally {
        await issuer?.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });

    const token = (job: { branch: string; protected: boolean; mergeRequest?: number; now?: number }) => {
      if (issuer === undefined) throw new Error('no issuer');
      return issuer.sign(gitlabJob(issuer.url, AUDIENCE, { project: 'platform/app', ...job }));
    };
    const ref = (repo: string): string => `${e2e.stack.host}/${repo}`;
    const decisions = async (): Promise<Record<string, unknown>[]> =>
      (await e2e.stack.sidecar.logLines()).filter((l) => l['msg'] === 'decision');

    void test('a protected-branch job of platform/app pushes it; the registry holds every layer', async () => {
      const before = (await decisions()).length;
      const push = await e2e.skopeo.push(image, ref('platform/app:v1'), {
        username: 'oidc',
        password: await token({ branch: 'main', protected: true }),
      });
      assert.equal(push.code, 0, push.stderr);
      const stored = await e2e.stack.registry.blobDigests();
      for (const digest of [image.config.digest, ...image.layers.map((l) => l.digest)]) {
        assert.ok(stored.includes(digest), `${digest} not in storage`);
      }
      assert.deepEqual(await e2e.stack.registry.repositories(), ['platform/app']);
      const lines = (await decisions()).slice(before);
      const allowed = lines.filter((l) => l['result'] === 'allow');
      assert.ok(allowed.length >= 5, `${allowed.length} allowed decisions for the push`);
      for (const l of allowed) assert.equal(l['user'], 'gitlab:platform/app@refs/heads/main');
      assert.equal(
        lines.filter((l) => l['source'] === 'token').length,
        1,
        'one signature check for the whole push',
      );
    });

    void test('the same job may not push another repository: refused, nothing written', async () => {
      await e2e.skopeo.clearBlobInfoCache();
      const files = await e2e.stack.registry.storageFiles();
      const push = await e2e.skopeo.push(image, ref('platform/other:v1'), {
        username: 'oidc',
        password: await token({ branch: 'main', protected: true }),
      });
      assert.notEqual(push.code, 0, 'pushed to platform/other');
      assert.match(push.stderr, REFUSED);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), files);
    });

    void test("a merge-request job's push is refused and writes nothing; it may pull", async () => {
      await e2e.skopeo.clearBlobInfoCache();
      const mr = {
        username: 'oidc',
        password: await token({ branch: 'feature-x', protected: false, mergeRequest: 7 }),
      };
      const retag = await buildOciImage(join(e2e.work, 'oci-mr'), { tag: 'mr', layerSizes: [2048] });
      const files = await e2e.stack.registry.storageFiles();
      const push = await e2e.skopeo.push(retag, ref('platform/app:mr-7'), mr);
      assert.notEqual(push.code, 0, 'the merge-request job pushed');
      assert.match(push.stderr, REFUSED);
      assert.deepEqual(await e2e.stack.registry.storageFiles(), files);
      const pull = await e2e.skopeo.pull(ref('platform/app:v1'), join(e2e.work, 'mr-pull'), mr);
      assert.equal(pull.code, 0, pull.stderr);
    });

    // Both forgeries pass a verifier that trusts the token's own "alg" (jsonwebtoken before 9 given the PEM
    // key verifies HS256 with the PEM as the HMAC secret; alg none needs no key at all): the claims here
    // are those of a protected-branch job, so a naive check would let them push.
    void test('forged tokens (alg none, HS256 keyed with the public key) push nothing', async () => {
      if (issuer === undefined) throw new Error('no issuer');
      const claims = gitlabJob(issuer.url, AUDIENCE, {
        project: 'platform/app',
        branch: 'main',
        protected: true,
      });
      const victim = await issuer.addKey({ kid: 'published' });
      const forgeries = {
        token_unsigned: unsignedToken(claims),
        token_algorithm_not_allowed: hmacWithPublicKey(claims, victim),
      };
      await e2e.skopeo.clearBlobInfoCache();
      const files = await e2e.stack.registry.storageFiles();
      for (const [reason, forged] of Object.entries(forgeries)) {
        const push = await e2e.skopeo.push(image, ref('platform/app:forged'), {
          username: 'oidc',
          password: forged,
        });
        assert.notEqual(push.code, 0, `${reason}: the forgery pushed`);
        assert.match(push.stderr, UNAUTHORIZED);
        const last = (await decisions()).at(-1);
        assert.deepEqual([last?.['reason'], last?.['user']], [reason, 'oidc']);
      }
      assert.deepEqual(await e2e.stack.registry.storageFiles(), files);
    });

    void test('an expired token is refused at login (401, token_expired)', async () => {
      const expired = await token({ branch: 'main', protected: true, now: Date.now() - 7200_000 });
      const push = await e2e.skopeo.push(image, ref('platform/app:v2'), {
        username: 'oidc',
        password: expired,
      });
      assert.notEqual(push.code, 0, 'an expired token pushed');
      assert.match(push.stderr, UNAUTHORIZED);
      const last = (await decisions()).at(-1);
      assert.deepEqual(
        [last?.['reason'], last?.['user']],
        ['token_expired', 'gitlab:platform/app@refs/heads/main'],
      );
    });
  },
);
