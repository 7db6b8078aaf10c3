import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { requiredAccess } from './registry-scope.ts';
import type { Access } from './registry-scope.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function access(method: string, uri: string): readonly Access[] | string {
  const result = requiredAccess(method, uri);
  return result.ok ? result.access : `denied: ${result.why}`;
}

describe('requiredAccess: the distribution route table', () => {
  const table: [string, string, readonly Access[]][] = [
    ['GET', '/v2/', [{ action: 'login' }]],
    ['HEAD', '/v2/', [{ action: 'login' }]],
    ['GET', '/v2/_catalog?n=100&last=a', [{ action: 'catalog' }]],
    ['GET', '/v2/team/app/tags/list', [{ action: 'pull', repository: 'team/app' }]],
    ['GET', '/v2/team/app/manifests/v1.2.3', [{ action: 'pull', repository: 'team/app' }]],
    ['HEAD', `/v2/app/manifests/${DIGEST}`, [{ action: 'pull', repository: 'app' }]],
    ['PUT', '/v2/app/manifests/latest', [{ action: 'push', repository: 'app' }]],
    ['DELETE', `/v2/app/manifests/${DIGEST}`, [{ action: 'delete', repository: 'app' }]],
    ['GET', `/v2/app/blobs/${DIGEST}`, [{ action: 'pull', repository: 'app' }]],
    ['HEAD', `/v2/app/blobs/${DIGEST}`, [{ action: 'pull', repository: 'app' }]],
    ['DELETE', `/v2/app/blobs/${DIGEST}`, [{ action: 'delete', repository: 'app' }]],
    ['POST', '/v2/app/blobs/uploads/', [{ action: 'push', repository: 'app' }]],
    ['POST', `/v2/app/blobs/uploads/?digest=${DIGEST}`, [{ action: 'push', repository: 'app' }]],
    [
      'PATCH',
      '/v2/app/blobs/uploads/6f1c2a7e-1b2c-4d5e-8f90-0123456789ab',
      [{ action: 'push', repository: 'app' }],
    ],
    ['PUT', `/v2/app/blobs/uploads/abc-123?digest=${DIGEST}`, [{ action: 'push', repository: 'app' }]],
    ['GET', '/v2/app/blobs/uploads/abc-123', [{ action: 'push', repository: 'app' }]],
    ['DELETE', '/v2/app/blobs/uploads/abc-123', [{ action: 'push', repository: 'app' }]],
    ['GET', `/v2/app/referrers/${DIGEST}?artifactType=x`, [{ action: 'pull', repository: 'app' }]],
    // A repository may itself be called "blobs" or "manifests".
    ['GET', '/v2/blobs/manifests/latest', [{ action: 'pull', repository: 'blobs' }]],
    [
      'POST',
      `/v2/app/blobs/uploads/?mount=${encodeURIComponent(DIGEST)}&from=library%2Fbase`,
      [
        { action: 'push', repository: 'app' },
        { action: 'pull', repository: 'library/base' },
      ],
    ],
  ];
  for (const [method, uri, expected] of table) {
    it(`${method} ${uri}`, () => {
      assert.deepEqual(access(method, uri), expected);
    });
  }
});

describe('requiredAccess: hostile and unknown requests are denied', () => {
  const hostile: [string, string][] = [
    ['GET', '/'],
    ['GET', '/v2'],
    ['GET', '/v1/_ping'],
    ['POST', '/v2/'],
    ['DELETE', '/v2/_catalog'],
    ['GET', '/v2/app/manifests/'],
    ['GET', '/v2/App/manifests/latest'],
    ['GET', '/v2/app/../other/manifests/latest'],
    ['GET', '/v2/app/./manifests/latest'],
    ['GET', '/v2/../v2/app/manifests/latest'],
    ['GET', '/v2/app/manifests/..'],
    ['GET', '/v2/app%2Fother/manifests/latest'],
    ['GET', '/v2/%61pp/manifests/latest'],
    ['GET', '/v2//app/manifests/latest'],
    ['GET', '/v2/app//manifests/latest'],
    ['GET', '/v2/-app/manifests/latest'],
    ['GET', '/v2/app-/manifests/latest'],
    ['GET', '/v2/a..b/manifests/latest'],
    ['GET', `/v2/${'a'.repeat(256)}/manifests/latest`],
    ['GET', '/v2/app/manifests/lat est'],
    ['GET', '/v2/app/manifests/-tag'],
    ['GET', '/v2/app/blobs/notadigest'],
    ['PUT', `/v2/app/blobs/${DIGEST}`],
    ['POST', '/v2/app/manifests/latest'],
    ['TRACE', '/v2/'],
    ['get', '/v2/'],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=Other`],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=a/../b`],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=a&from=b`],
    ['POST', `/v2/app/blobs/uploads/?mount=nodigest&from=other`],
    ['GET', '/v2/app/tags/list/../../../_catalog'],
    ['GET', '/v2/app/manifests/latest#frag'],
  ];
  for (const [method, uri] of hostile) {
    it(`${method} ${uri.slice(0, 60)}`, () => {
      assert.equal(requiredAccess(method, uri).ok, false);
    });
  }

  it('never grants a request whose path holds %, a dot segment, or is outside /v2/', () => {
    const segment = fc.oneof(
      fc.constantFrom('.', '..', '%2e', '%2F', 'app', 'blobs', 'manifests', 'uploads', ''),
      fc.string(),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'),
        fc.array(segment, { maxLength: 6 }),
        (method, segs) => {
          const uri = `/v2/${segs.join('/')}`;
          const result = requiredAccess(method, uri);
          // A generated segment may hold '?': what follows is the query, where '%' is ordinary encoding.
          const path = uri.split('?')[0] ?? '';
          if (path.includes('%') || /(^|\/)\.\.?(\/|$)/.test(path)) assert.equal(result.ok, false);
          if (result.ok) {
            for (const a of result.access)
              if (a.repository !== undefined) assert.match(a.repository, /^[a-z0-9]+([._/-]+[a-z0-9]+)*$/);
          }
        },
      ),
    );
  });
});

describe('requiredAccess: the counterexamples fast-check found', () => {
  it('GET /v2/?% is the base route with a query, not a percent-encoded path', () => {
    assert.deepEqual(access('GET', '/v2/?%'), [{ action: 'login' }]);
  });
});
