// Values the registry reads from places the sidecar never sees. docker-registry reads `mount` and `from`
// with Go's Request.FormValue, which for POST/PUT/PATCH with a form content type parses the body and
// prefers it to the query; the sidecar sees only headers. Before the fix a form-body mount answered 201
// and linked another repository's blob into one the user may push: alice (push team/*) read ci/source's
// layer. Both nginx and the sidecar now refuse it, each on its own.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCaddy } from '@registry-ldap-auth/stack/caddy';
import type { Caddy } from '@registry-ldap-auth/stack/caddy';
import { MEDIA_TYPES, buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import { authAs, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

const SCOPED = {
  AUTH_PUSH_GROUPS: 'registry-pushers@team/*,registry-ci@ci/*',
  AUTH_PULL_GROUPS: 'nobody',
};

/** A multipart/form-data body with the given fields (RFC 7578). */
function multipart(boundary: string, fields: Record<string, string>): string {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return `${parts.join('')}--${boundary}--\r\n`;
}

const form = (layer: string): string => `mount=${encodeURIComponent(layer)}&from=ci%2Fsource`;
const fields = (layer: string): Record<string, string> => ({ mount: layer, from: 'ci/source' });

/**
 * Ways to hand Go's FormValue a `mount`/`from` in the body: the media type in any case, with parameters
 * (valid or not: Go still uses the type), or padded. The last is spelt with U+0130 (sent as its UTF-8
 * bytes, which Node writes from this Latin-1 string): docker-registry 2.8.2 does not read it as a form,
 * but Go folds case over Unicode, so what cannot be classified exactly is refused as well.
 */
const FORM_BODIES: readonly { name: string; contentType: string; body: (layer: string) => string }[] = [
  { name: 'urlencoded', contentType: 'application/x-www-form-urlencoded', body: form },
  {
    name: 'urlencoded, mixed case with charset',
    contentType: 'Application/X-WWW-Form-URLEncoded; charset=UTF-8',
    body: form,
  },
  { name: 'urlencoded, invalid parameter', contentType: 'application/x-www-form-urlencoded;;=', body: form },
  { name: 'urlencoded, tab padded', contentType: 'application/x-www-form-urlencoded\t;a=b', body: form },
  {
    name: 'multipart/form-data',
    contentType: 'multipart/form-data; boundary=b0undary',
    body: (layer) => multipart('b0undary', fields(layer)),
  },
  {
    name: 'multipart/form-data spelt with U+0130',
    contentType: `mult${Buffer.from('\u0130', 'utf8').toString('latin1')}part/form-data; boundary=xyz`,
    body: (layer) => multipart('xyz', fields(layer)),
  },
];

/** The reference config without nginx's own refusal: what the sidecar does alone behind a proxy. */
function withoutNginxRefusal(site: string): string {
  const edited = site.replace(/^\s*if \(\$registry_form_body\) \{\s*return 403;\s*\}$/m, '');
  assert.notEqual(edited, site, "the nginx template's form-body refusal moved: update this test");
  return edited;
}

const SETUPS = [
  { name: 'the reference nginx config', nginxEditSite: undefined, refusedBy: 'nginx' },
  { name: 'nginx without its own refusal', nginxEditSite: withoutNginxRefusal, refusedBy: 'sidecar' },
] as const;

for (const setup of SETUPS) {
  void describe(
    `a form-body mount cannot read another repository (${setup.name})`,
    { timeout: 90_000 },
    () => {
      let e2e: E2e;
      let teardown: (() => Promise<void>) | undefined;
      let layer: string;
      let manifest: string;

      before(async () => {
        ({ e2e, teardown } = await startE2e({
          sidecarEnv: SCOPED,
          ...(setup.nginxEditSite === undefined ? {} : { nginxEditSite: setup.nginxEditSite }),
        }));
        // ci/source holds a layer only registry-ci may read; alice (registry-pushers) may push team/* only.
        const secret = await buildOciImage(join(e2e.work, 'secret'), { tag: 'v1', layerSizes: [64 * 1024] });
        layer = secret.layers[0]?.digest ?? '';
        manifest = secret.manifest.digest;
        const push = await e2e.skopeo.push(secret, `${e2e.stack.host}/ci/source:v1`, creds('dave'));
        assert.equal(push.code, 0, push.stderr);
      });
      after(async () => {
        await teardown?.();
      });

      const linkedInto = async (repo: string): Promise<boolean> =>
        (await e2e.stack.registry.storageFiles()).includes(
          `docker/registry/v2/repositories/${repo}/_layers/sha256/${hex(layer)}/link`,
        );

      void test('alice may not read ci/source directly, nor mount from it through the query', async () => {
        const get = await e2e.stack.request('GET', `/v2/ci/source/blobs/${layer}`, {
          headers: authAs('alice'),
        });
        assert.equal(get.status, 403);
        const mount = await e2e.stack.request(
          'POST',
          `/v2/team/derived/blobs/uploads/?mount=${encodeURIComponent(layer)}&from=ci%2Fsource`,
          { headers: { ...authAs('alice'), 'Content-Length': '0' } },
        );
        assert.equal(mount.status, 403);
      });

      for (const [i, { name, contentType, body }] of FORM_BODIES.entries()) {
        void test(`a form-body mount (${name}) is refused by ${setup.refusedBy} and links nothing`, async () => {
          const repo = `team/derived${i}`;
          const res = await e2e.stack.request('POST', `/v2/${repo}/blobs/uploads/`, {
            headers: { ...authAs('alice'), 'Content-Type': contentType },
            body: body(layer),
          });
          assert.equal(res.status, 403, `answered ${res.status} ${res.body.toString()}`);
          assert.equal(await linkedInto(repo), false, `ci/source's layer was linked into ${repo}`);
          const read = await e2e.stack.request('GET', `/v2/${repo}/blobs/${layer}`, {
            headers: authAs('alice'),
          });
          assert.notEqual(read.status, 200, `alice read ci/source's layer through ${repo}`);
          const audit = (await e2e.stack.sidecar.logLines()).filter(
            (l) => l['msg'] === 'decision' && l['reason'] === 'form_body',
          );
          // Behind the reference config the sidecar never sees the request; alone, it says why it refused.
          assert.equal(audit.length, setup.refusedBy === 'sidecar' ? i + 1 : 0);
        });
      }

      /** alice's POST to start an upload in `repo`, refused or not, left no link to the layer and no read. */
      const assertNoLeak = async (repo: string): Promise<void> => {
        assert.equal(await linkedInto(repo), false, `ci/source's layer was linked into ${repo}`);
        const read = await e2e.stack.request('GET', `/v2/${repo}/blobs/${layer}`, {
          headers: authAs('alice'),
        });
        assert.notEqual(read.status, 200, `alice read ci/source's layer through ${repo}`);
      };

      void test('every query spelling Go reads as `from` is checked as `from`: 403, nothing linked', async () => {
        const d = encodeURIComponent(layer);
        const queries = [
          `mount=${d}&fr%6Fm=ci%2Fsource`, // Go decodes keys
          `m%6Funt=${d}&from=ci%2Fsource`,
          `mount=${d}&from=ci%2Fsource&from=team%2Fbase`, // Go takes the first
          `mount=${d}&from=team%2Fbase&from=ci%2Fsource`,
          `mount=${d}&from=team%2Fbase;from=ci%2Fsource`, // Go 1.17+ drops a pair holding `;`
          `mount=${d}&mount=${d}&from=ci%2Fsource`,
        ];
        for (const [i, query] of queries.entries()) {
          const repo = `team/query${i}`;
          for (const slash of ['/', '']) {
            const res = await e2e.stack.request('POST', `/v2/${repo}/blobs/uploads${slash}?${query}`, {
              headers: { ...authAs('alice'), 'Content-Length': '0' },
            });
            assert.equal(res.status, 403, `${query} (${slash || 'no slash'}) answered ${res.status}`);
          }
          await assertNoLeak(repo);
        }
      });

      void test('of two Content-Type lines the first counts, as in Go: a form first is refused', async () => {
        const send = (contentTypes: string[], repo: string) =>
          e2e.stack.request('POST', `/v2/${repo}/blobs/uploads/`, {
            headers: { ...authAs('alice'), 'Content-Type': contentTypes },
            body: form(layer),
          });
        const formFirst = await send(
          ['application/x-www-form-urlencoded', 'application/octet-stream'],
          'team/ct0',
        );
        assert.equal(formFirst.status, 403);
        await send(['application/octet-stream', 'application/x-www-form-urlencoded'], 'team/ct1');
        await assertNoLeak('team/ct0');
        await assertNoLeak('team/ct1');
      });

      void test('method-override headers and parameters are not honoured: a GET stays a GET', async () => {
        const path = `/v2/ci/source/manifests/${manifest}`;
        const res = await e2e.stack.request('GET', `${path}?_method=DELETE`, {
          headers: {
            ...authAs('dave'),
            Accept: MEDIA_TYPES.manifest,
            'X-HTTP-Method-Override': 'DELETE',
            'X-Method-Override': 'DELETE',
          },
        });
        assert.equal(res.status, 200);
        const head = await e2e.stack.request('HEAD', path, {
          headers: { ...authAs('dave'), Accept: MEDIA_TYPES.manifest },
        });
        assert.equal(head.status, 200, 'the manifest is gone');
      });

      void test('an ordinary upload by alice still starts (202), with or without a content type', async () => {
        for (const contentType of [undefined, 'application/octet-stream']) {
          const res = await e2e.stack.request('POST', '/v2/team/plain/blobs/uploads/', {
            headers: {
              ...authAs('alice'),
              'Content-Length': '0',
              ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
            },
          });
          assert.equal(res.status, 202, String(contentType));
        }
      });
    },
  );
}

void describe('a form-body mount through Caddy forward_auth (the sidecar alone)', { timeout: 90_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;
  let caddy: Caddy | undefined;
  let layer: string;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ sidecarEnv: SCOPED }));
    caddy = await startCaddy({
      registryPort: e2e.stack.ports.registry,
      authPort: e2e.stack.ports.sidecar,
      tls: e2e.stack.tls,
    });
    const secret = await buildOciImage(join(e2e.work, 'secret'), { tag: 'v1', layerSizes: [64 * 1024] });
    layer = secret.layers[0]?.digest ?? '';
    const push = await e2e.skopeo.push(secret, `${e2e.stack.host}/ci/source:v1`, creds('dave'));
    assert.equal(push.code, 0, push.stderr);
  });
  after(async () => {
    await caddy?.stop();
    await teardown?.();
  });

  /** One HTTPS request to Caddy, TLS verified against the stack's CA. */
  const viaCaddy = async (path: string, headers: Record<string, string>, body: string): Promise<number> => {
    const ca = await readFile(e2e.stack.caCert);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${caddy?.url ?? ''}${path}`,
        { method: 'POST', headers, ca, agent: false, timeout: 10_000 },
        (res) => {
          res.resume();
          res.once('end', () => {
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error('POST timed out')));
      req.once('error', reject);
      req.end(body);
    });
  };

  void test('Caddy forwards Content-Type, so every form-body variant is refused (form_body) and links nothing', async () => {
    for (const [i, { name, contentType, body }] of FORM_BODIES.entries()) {
      const repo = `team/caddy${i}`;
      const status = await viaCaddy(
        `/v2/${repo}/blobs/uploads/`,
        { ...authAs('alice'), 'Content-Type': contentType },
        body(layer),
      );
      assert.equal(status, 403, name);
      const files = await e2e.stack.registry.storageFiles();
      assert.ok(
        !files.includes(`docker/registry/v2/repositories/${repo}/_layers/sha256/${hex(layer)}/link`),
        `${name}: ci/source's layer was linked into ${repo}`,
      );
    }
    const refused = (await e2e.stack.sidecar.logLines()).filter((l) => l['reason'] === 'form_body');
    assert.equal(refused.length, FORM_BODIES.length);
  });
});
