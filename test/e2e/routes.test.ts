// Requests distribution's own route table accepts get the access of the route they reach: what used to be
// refused (HEAD on an upload's status, POST …/blobs/uploads without the slash, names with a domain part)
// now reaches the registry, and what the registry would not route still stops at the sidecar.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { authAs, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

void describe('the registry routes through nginx', { timeout: 60_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;

  before(async () => {
    ({ e2e, teardown } = await startE2e());
  });
  after(async () => {
    await teardown?.();
  });

  /** Starts an upload as alice and returns its Location path (with `_state`). */
  const startUpload = async (repo: string): Promise<string> => {
    const res = await e2e.stack.request('POST', `/v2/${repo}/blobs/uploads/`, {
      headers: { ...authAs('alice'), 'Content-Length': '0' },
    });
    assert.equal(res.status, 202, res.body.toString());
    const url = new URL(String(res.headers.location), e2e.stack.url);
    return `${url.pathname}${url.search}`;
  };

  /** Uploads `content` into `repo` as alice in two requests (POST, then PUT with the digest). */
  const uploadBlob = async (repo: string, content: Buffer): Promise<string> => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const location = await startUpload(repo);
    const put = await e2e.stack.request('PUT', `${location}&digest=${encodeURIComponent(digest)}`, {
      headers: { ...authAs('alice'), 'Content-Type': 'application/octet-stream' },
      body: content,
    });
    assert.equal(put.status, 201, put.body.toString());
    return digest;
  };

  void test('HEAD on an upload status reaches the registry (204 with its Range) for a pusher', async () => {
    const location = await startUpload('team/app');
    const head = await e2e.stack.request('HEAD', location, { headers: authAs('alice') });
    assert.equal(head.status, 204);
    assert.equal(head.headers['range'], '0-0');
    const bob = await e2e.stack.request('HEAD', location, { headers: authAs('bob') });
    assert.equal(bob.status, 403, 'a reader may not look at uploads');
  });

  void test('POST …/blobs/uploads without the slash gets the registry’s redirect, not a 403', async () => {
    const res = await e2e.stack.request('POST', '/v2/team/app/blobs/uploads', {
      headers: { ...authAs('alice'), 'Content-Length': '0' },
    });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/v2/team/app/blobs/uploads/');
    const bob = await e2e.stack.request('POST', '/v2/team/app/blobs/uploads', {
      headers: { ...authAs('bob'), 'Content-Length': '0' },
    });
    assert.equal(bob.status, 403);
  });

  void test('a name with a domain part (upper case, dots) is pushed and pulled through nginx', async () => {
    const content = Buffer.from('a layer under a mirrored name\n');
    const digest = await uploadBlob('Mirror.Example/lib/base', content);
    const files = await e2e.stack.registry.storageFiles();
    assert.ok(files.some((f) => f.startsWith('docker/registry/v2/repositories/Mirror.Example/lib/base/')));
    const pull = await e2e.stack.request('GET', `/v2/Mirror.Example/lib/base/blobs/${digest}`, {
      headers: authAs('bob'),
    });
    assert.equal(pull.status, 200);
    assert.deepEqual(pull.body, content);
    const carol = await e2e.stack.request('GET', `/v2/Mirror.Example/lib/base/blobs/${digest}`, {
      headers: authAs('carol'),
    });
    assert.equal(carol.status, 403, 'carol (in no group) may not pull');
  });

  void test('separators distribution allows (__, runs of -) are pushed and pulled', async () => {
    const content = Buffer.from('separators\n');
    const digest = await uploadBlob('team/a__b---c.d', content);
    const pull = await e2e.stack.request('GET', `/v2/team/a__b---c.d/blobs/${digest}`, {
      headers: authAs('bob'),
    });
    assert.equal(pull.status, 200);
  });

  void test('a client cannot choose the host of the Location URLs the registry builds', async () => {
    // The registry prefers Forwarded and X-Forwarded-Host to Host; nginx sets the one and drops the other.
    const res = await e2e.stack.request('POST', '/v2/team/app/blobs/uploads/', {
      headers: {
        ...authAs('alice'),
        'Content-Length': '0',
        'X-Forwarded-Host': 'evil.example',
        Forwarded: 'host=evil.example;proto=http',
      },
    });
    assert.equal(res.status, 202);
    assert.ok(
      String(res.headers.location).startsWith(`${e2e.stack.url}/v2/team/app/blobs/uploads/`),
      String(res.headers.location),
    );
  });

  void test('path spellings the registry decodes or cleans into another name are refused, nothing written', async () => {
    // alice may push anywhere: the registry would decode %2F into a name (and start an upload in team/x)
    // or redirect a cleaned path. The sidecar authorizes only the raw path it can match exactly.
    const ca = await readFile(e2e.stack.caCert);
    // The path as is in the request line (a URL object would read `//v2/…` as a host).
    const post = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: e2e.stack.ports.nginx,
            method: 'POST',
            path,
            headers: { ...authAs('alice'), 'Content-Length': '0' },
            ca,
            agent: false,
            timeout: 10_000,
          },
          (res) => {
            res.resume();
            res.once('end', () => {
              resolve(res.statusCode ?? 0);
            });
          },
        );
        req.once('timeout', () => req.destroy(new Error(`POST ${path} timed out`)));
        req.once('error', reject);
        req.end();
      });
    for (const path of [
      '/v2/team%2Fx/blobs/uploads/',
      '/v2/team/x%2Fblobs/uploads/',
      '//v2/team/x/blobs/uploads/',
      '/v2/other/../team/x/blobs/uploads/',
      '/v2/team/./x/blobs/uploads/',
      '/v2/team//x/blobs/uploads/',
    ]) {
      const status = await post(path);
      assert.equal(status, 403, `${path} answered ${status}`);
    }
    assert.ok(!(await e2e.stack.registry.repositories()).includes('team/x'), 'team/x was written');
  });

  void test('names distribution does not route are refused by the sidecar and never reach it', async () => {
    const before = (await e2e.stack.nginx.accessLogLines()).length;
    for (const name of ['team/a___b', 'Team/App', 'team/-app', 'host:5000']) {
      const res = await e2e.stack.request('POST', `/v2/${name}/blobs/uploads/`, {
        headers: { ...authAs('alice'), 'Content-Length': '0' },
      });
      assert.equal(res.status, 403, name);
    }
    const lines = (await e2e.stack.nginx.accessLogLines()).slice(before);
    assert.equal(lines.length, 4);
    assert.ok(
      lines.every((l) => / urt=-$/.test(l)),
      'a refused request reached the registry',
    );
  });
});
