// nginx's own refusals (auth_request's 401/403/500, an unreachable registry) answered in the registry's
// JSON error format, so clients print a message a person understands instead of an HTML page.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import type { StackReply } from '@registry-ldap-auth/stack/stack';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { authAs, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

interface ErrorBody {
  errors: { code: string; message: string; detail: unknown }[];
}

/** The distribution API's error body: one error with `code`, as application/json. */
function assertRegistryError(res: StackReply, status: number, code: string): void {
  assert.equal(res.status, status);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(res.body.toString('utf8')) as ErrorBody;
  const [error, ...more] = body.errors;
  assert.equal(more.length, 0, 'one error');
  assert.equal(error?.code, code);
  assert.match(error.message, /\w/, 'the error has a message');
  assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
}

void describe('registry-style errors from nginx', { timeout: 120_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;
  let image: OciImage;

  before(async () => {
    ({ e2e, teardown } = await startE2e());
    image = await buildOciImage(join(e2e.work, 'oci'), { tag: 'v1', layerSizes: [4096] });
  });
  after(async () => {
    await teardown?.();
  });

  void test('401 without credentials: UNAUTHORIZED as JSON, keeping the Basic challenge', async () => {
    const res = await e2e.stack.request('GET', '/v2/');
    assertRegistryError(res, 401, 'UNAUTHORIZED');
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Registry realm", charset="UTF-8"');
  });

  void test('401 for a wrong password: UNAUTHORIZED as JSON', async () => {
    const res = await e2e.stack.request('GET', '/v2/team/app/tags/list', {
      headers: { Authorization: basic('alice', 'not-alices-password') },
    });
    assertRegistryError(res, 401, 'UNAUTHORIZED');
    assert.match(res.headers['www-authenticate'] ?? '', /^Basic realm=/);
  });

  void test('403 for a push bob may not make: DENIED as JSON', async () => {
    const res = await e2e.stack.request('POST', '/v2/team/app/blobs/uploads/', {
      headers: { ...authAs('bob'), 'Content-Length': '0' },
    });
    assertRegistryError(res, 403, 'DENIED');
  });

  void test("the registry's own errors pass through untouched", async () => {
    const res = await e2e.stack.request('GET', '/v2/team/none/manifests/v1', { headers: authAs('bob') });
    assert.equal(res.status, 404);
    assert.equal((JSON.parse(res.body.toString('utf8')) as ErrorBody).errors[0]?.code, 'MANIFEST_UNKNOWN');
  });

  void test('skopeo prints the denial in words, not an HTML page', async () => {
    const push = await e2e.skopeo.push(image, `${e2e.stack.host}/team/app:v1`, creds('bob'));
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /requested access to the resource is denied/);
    assert.doesNotMatch(push.stderr, /<html/i);
  });

  void test('skopeo prints the login failure in words', async () => {
    const pull = await e2e.skopeo.pull(`${e2e.stack.host}/team/app:v1`, join(e2e.work, 'pulled'), {
      username: 'alice',
      password: 'not-alices-password',
    });
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /authentication required/);
    assert.doesNotMatch(pull.stderr, /<html/i);
  });

  // Last: these stop parts of the stack.
  void test('500 while the directory is down: UNAVAILABLE as JSON', async () => {
    await e2e.stack.slapd.stop();
    // dave has not logged in before: nothing cached, so the sidecar must ask the directory (503 → 500).
    // (skopeo reports a 5xx by its status alone; docker prints the message.)
    const res = await e2e.stack.request('GET', '/v2/team/app/tags/list', { headers: authAs('dave') });
    assertRegistryError(res, 500, 'UNAVAILABLE');
  });

  void test('502 while the registry is down: UNAVAILABLE as JSON', async () => {
    await e2e.stack.registry.stop();
    // bob's login is cached from the tests above, so auth passes without the directory.
    const res = await e2e.stack.request('GET', '/v2/team/app/tags/list', { headers: authAs('bob') });
    assertRegistryError(res, 502, 'UNAVAILABLE');
  });

  void test('500 while the sidecar is down: UNAVAILABLE as JSON', async () => {
    await e2e.stack.sidecar.stop();
    const res = await e2e.stack.request('GET', '/v2/', { headers: authAs('alice') });
    assertRegistryError(res, 500, 'UNAVAILABLE');
  });
});
