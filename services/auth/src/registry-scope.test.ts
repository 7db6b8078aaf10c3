import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyParameters, isRepositoryName, requiredAccess } from './registry-scope.ts';
import type { Access } from './registry-scope.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function access(method: string, uri: string, contentType?: string): readonly Access[] | string {
  const result = requiredAccess(method, uri, contentType);
  return result.ok ? result.access : `denied: ${result.why}`;
}

describe('requiredAccess: the distribution route table', () => {
  const table: [string, string, readonly Access[]][] = [
    ['GET', '/v2/', [{ action: 'login' }]],
    ['HEAD', '/v2/', [{ action: 'login' }]],
    ['GET', '/v2/_catalog?n=100&last=a', [{ action: 'catalog' }]],
    ['GET', '/v2/team/app/tags/list', [{ action: 'pull', repository: 'team/app' }]],
    ['HEAD', '/v2/team/app/tags/list', [{ action: 'pull', repository: 'team/app' }]],
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
    ['HEAD', `/v2/app/referrers/${DIGEST}`, [{ action: 'pull', repository: 'app' }]],
    // The registry reads `from` only when an upload starts (POST); elsewhere it is no extra access.
    ['GET', '/v2/app/manifests/latest?from=other', [{ action: 'pull', repository: 'app' }]],
    ['PUT', '/v2/app/manifests/latest?from=Other&from=x', [{ action: 'push', repository: 'app' }]],
    [
      'PUT',
      `/v2/app/blobs/uploads/abc-123?digest=${DIGEST}&from=other`,
      [{ action: 'push', repository: 'app' }],
    ],
    ['PATCH', '/v2/app/blobs/uploads/abc-123?from=other', [{ action: 'push', repository: 'app' }]],
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

describe('requiredAccess: what distribution routes is authorized like its canonical form', () => {
  const table: [string, string, readonly Access[]][] = [
    [
      'HEAD',
      '/v2/app/blobs/uploads/6f1c2a7e-1b2c-4d5e-8f90-0123456789ab',
      [{ action: 'push', repository: 'app' }],
    ],
    ['GET', '/v2/app/blobs/uploads/a.b=c_d-e', [{ action: 'push', repository: 'app' }]],
    // gorilla/mux StrictSlash(true): the other form is routed and answered with a 301 to the canonical one.
    ['POST', '/v2/app/blobs/uploads', [{ action: 'push', repository: 'app' }]],
    [
      'POST',
      `/v2/app/blobs/uploads?mount=${encodeURIComponent(DIGEST)}&from=other`,
      [
        { action: 'push', repository: 'app' },
        { action: 'pull', repository: 'other' },
      ],
    ],
    ['GET', '/v2', [{ action: 'login' }]],
    ['GET', '/v2/_catalog/', [{ action: 'catalog' }]],
    ['GET', '/v2/team/app/tags/list/', [{ action: 'pull', repository: 'team/app' }]],
    ['HEAD', '/v2/app/manifests/latest/', [{ action: 'pull', repository: 'app' }]],
    ['PATCH', '/v2/app/blobs/uploads/abc/', [{ action: 'push', repository: 'app' }]],
    // reference.NameRegexp: an optional domain (upper case, dots, a port) before the path components.
    [
      'GET',
      '/v2/Registry.Example.COM/team/app/tags/list',
      [{ action: 'pull', repository: 'Registry.Example.COM/team/app' }],
    ],
    ['GET', '/v2/localhost:5000/app/manifests/v1', [{ action: 'pull', repository: 'localhost:5000/app' }]],
    ['PUT', '/v2/my-host/app/manifests/v1', [{ action: 'push', repository: 'my-host/app' }]],
    // Separators: one period, one or two underscores, any number of dashes.
    ['GET', '/v2/a.b/c__d/e---f/g_h/tags/list', [{ action: 'pull', repository: 'a.b/c__d/e---f/g_h' }]],
    // A name may end in a route's own words.
    ['GET', '/v2/x/blobs/uploads/tags/list', [{ action: 'pull', repository: 'x/blobs/uploads' }]],
    ['POST', '/v2/x/blobs/uploads/blobs/uploads/', [{ action: 'push', repository: 'x/blobs/uploads' }]],
    [
      'GET',
      `/v2/${'a/'.repeat(126)}bbb/manifests/latest`,
      [{ action: 'pull', repository: `${'a/'.repeat(126)}bbb` }],
    ],
  ];
  for (const [method, uri, expected] of table) {
    it(`${method} ${uri.slice(0, 70)}`, () => {
      assert.deepEqual(access(method, uri), expected);
    });
  }

  it('a mount whose source has a domain needs pull on that exact name', () => {
    assert.deepEqual(
      access('POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=Mirror.Example%2Flib%2Fbase`),
      [
        { action: 'push', repository: 'app' },
        { action: 'pull', repository: 'Mirror.Example/lib/base' },
      ],
    );
  });
});

describe('requiredAccess: hostile and unknown requests are denied', () => {
  // The reason is the audit line's detail: it names what the operator should look at.
  const hostile: [string, string, string][] = [
    ['GET', '/', 'not under /v2/'],
    ['GET', '/v2x', 'not under /v2/'],
    ['GET', '/v3/', 'not under /v2/'],
    ['GET', '/v1/_ping', 'not under /v2/'],
    ['POST', '/v2/', 'method not allowed on this route'],
    ['DELETE', '/v2/_catalog', 'method not allowed on this route'],
    ['GET', '/v2/app/manifests/', 'unknown route'],
    ['GET', '/v2/App/manifests/latest', 'unknown route'],
    ['GET', '/v2/app/../other/manifests/latest', 'dot segment in path'],
    ['GET', '/v2/app/./manifests/latest', 'dot segment in path'],
    ['GET', '/v2/../v2/app/manifests/latest', 'dot segment in path'],
    ['GET', '/v2/app/manifests/..', 'dot segment in path'],
    ['GET', '/v2/app%2Fother/manifests/latest', 'percent-encoded path'],
    ['GET', '/v2/%61pp/manifests/latest', 'percent-encoded path'],
    ['GET', '/v2//app/manifests/latest', 'unknown route'],
    ['GET', '/v2/app//manifests/latest', 'unknown route'],
    ['GET', '/v2/-app/manifests/latest', 'unknown route'],
    ['GET', '/v2/app-/manifests/latest', 'unknown route'],
    ['GET', '/v2/a..b/manifests/latest', 'unknown route'],
    ['GET', `/v2/${'a'.repeat(256)}/manifests/latest`, 'repository name too long'],
    ['GET', '/v2/app/manifests/lat est', 'unknown route'],
    ['GET', '/v2/app/manifests/-tag', 'unknown route'],
    ['GET', '/v2/app/blobs/notadigest', 'unknown route'],
    ['PUT', `/v2/app/blobs/${DIGEST}`, 'method not allowed on this route'],
    ['POST', '/v2/app/manifests/latest', 'method not allowed on this route'],
    ['TRACE', '/v2/', 'method not allowed on this route'],
    ['get', '/v2/', 'method not allowed on this route'],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=Other`, 'invalid from repository'],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=a/../b`, 'invalid from repository'],
    ['POST', `/v2/app/blobs/uploads/?mount=${DIGEST}&from=a&from=b`, 'invalid from repository'],
    ['POST', `/v2/app/blobs/uploads/?mount=nodigest&from=other`, 'invalid mount digest'],
    ['GET', '/v2/app/tags/list/../../../_catalog', 'dot segment in path'],
    // Upper case and a port only in a leading domain component, which must be followed by a path.
    ['GET', '/v2/Team/App/manifests/latest', 'unknown route'],
    ['GET', '/v2/host:5000/manifests/latest', 'unknown route'],
    ['GET', '/v2/team/host:5000/app/manifests/latest', 'unknown route'],
    ['GET', '/v2/-host/app/manifests/latest', 'unknown route'],
    ['GET', '/v2/host-/app/manifests/latest', 'unknown route'],
    ['GET', '/v2/host..example/app/manifests/latest', 'unknown route'],
    ['GET', '/v2/host:/app/manifests/latest', 'unknown route'],
    ['GET', '/v2/a___b/manifests/latest', 'unknown route'],
    ['GET', '/v2/a._b/manifests/latest', 'unknown route'],
    ['GET', `/v2/${'a/'.repeat(127)}bb/manifests/latest`, 'repository name too long'],
    ['GET', `/v2/app/blobs/sha256:${'a'.repeat(1100)}`, 'path too long'],
    // Two slashes, or one at the end as well as the optional one.
    ['GET', '/v2//', 'unknown route'],
    ['GET', '/v2/app/tags/list//', 'unknown route'],
    ['POST', '/v2/app/blobs/uploads//', 'unknown route'],
    // POST on an upload would start another one (a mount included); the registry routes it, clients don't.
    ['POST', `/v2/app/blobs/uploads/abc?mount=${DIGEST}&from=other`, 'method not allowed on this route'],
    ['GET', '/v2/app/blobs/uploads/', 'method not allowed on this route'],
    ['HEAD', '/v2/_catalog', 'method not allowed on this route'],
    ['GET', '/v2/app/manifests/latest#frag', 'unknown route'],
  ];
  for (const [method, uri, why] of hostile) {
    it(`${method} ${uri.slice(0, 60)}: ${why}`, () => {
      assert.deepEqual(requiredAccess(method, uri), { ok: false, why, denial: 'invalid_request' });
    });
  }

  it('never grants a request whose path holds % or a dot segment', () => {
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
              if (a.repository !== undefined)
                assert.match(a.repository, /^[A-Za-z0-9]+([._/:-]+[A-Za-z0-9]+)*$/);
          }
        },
      ),
    );
  });

  it('never grants a path outside /v2/, however close to it', () => {
    const prefix = fc.constantFrom(
      '',
      '/',
      '/v1/',
      '/v2',
      '/V2/',
      '/v2x/',
      '//v2/',
      '/api/v2/',
      'v2/',
      '/v3/',
    );
    const rest = fc.oneof(
      fc.constantFrom(
        '',
        'team/app/manifests/v1',
        'team/app/blobs/uploads/',
        '_catalog',
        'team/app/tags/list',
      ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'),
        prefix,
        rest,
        (method, p, r) => {
          const uri = `${p}${r}`;
          // '/v2' is the login route without its slash, with or without a query ('/v2?x').
          const path = uri.split('?', 1)[0] ?? '';
          fc.pre(!path.startsWith('/v2/') && path !== '/v2');
          assert.equal(requiredAccess(method, uri).ok, false, `${method} ${uri}`);
        },
      ),
    );
  });
});

describe('requiredAccess: the counterexamples fast-check found', () => {
  it('GET /v2/?% is the base route with a query, not a percent-encoded path', () => {
    assert.deepEqual(access('GET', '/v2/?%'), [{ action: 'login' }]);
  });

  it('GET /v2?x is the login route (no slash) with a query, not a path outside /v2/', () => {
    assert.deepEqual(access('GET', '/v2?x'), [{ action: 'login' }]);
    assert.equal(requiredAccess('PUT', '/v2?x').ok, false);
  });
});

describe('requiredAccess: parameters the registry would read from a body are refused', () => {
  const mount = `/v2/app/blobs/uploads/`;
  const refused: [string, string, string][] = [
    ['POST', 'application/x-www-form-urlencoded', 'form body'],
    ['POST', 'Application/X-WWW-Form-URLEncoded; charset=UTF-8', 'form body'],
    ['POST', 'application/x-www-form-urlencoded;;=', 'form body'],
    ['POST', 'application/x-www-form-urlencoded\t', 'form body'],
    ['POST', ' \tapplication/x-www-form-urlencoded ', 'form body'],
    ['POST', 'multipart/form-data; boundary=x', 'multipart body'],
    ['POST', 'MULTIPART/FORM-DATA ; boundary=x', 'multipart body'],
    ['POST', 'multipart/mixed; boundary=x', 'multipart body'],
    ['POST', 'mult\u00c4\u00b0part/form-data; boundary=x', 'content type outside visible ASCII'],
    ['POST', 'application/octet-stream, application/x-www-form-urlencoded', 'more than one content type'],
    ['POST', 'application/x-www-form-urlencoded\u0000', 'content type outside visible ASCII'],
    ['PUT', 'application/x-www-form-urlencoded', 'form body'],
    ['PATCH', 'multipart/form-data; boundary=x', 'multipart body'],
  ];
  for (const [method, contentType, why] of refused) {
    it(`${method} with ${JSON.stringify(contentType)}: ${why}`, () => {
      const uri = method === 'POST' ? mount : `${mount}u1`;
      assert.deepEqual(requiredAccess(method, uri, contentType), { ok: false, why, denial: 'form_body' });
    });
  }

  it('also on routes that take no parameters, such as a manifest PUT', () => {
    const result = requiredAccess('PUT', '/v2/app/manifests/v1', 'application/x-www-form-urlencoded');
    assert.deepEqual(result.ok ? result.access : result.denial, 'form_body');
  });

  it('a content type the registry never reads as a form passes, and so does none', () => {
    for (const contentType of [
      undefined,
      '',
      'application/octet-stream',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8',
      'application/x-www-form-urlencodedx',
      'text/plain; note="multipart/form-data"',
    ]) {
      assert.deepEqual(access('POST', mount, contentType), [{ action: 'push', repository: 'app' }]);
    }
  });

  it('GET, HEAD and DELETE carry no parameters in a body Go would read: the content type does not matter', () => {
    assert.deepEqual(bodyParameters('GET', 'application/x-www-form-urlencoded'), undefined);
    assert.deepEqual(bodyParameters('DELETE', 'multipart/form-data'), undefined);
    assert.deepEqual(access('DELETE', '/v2/app/blobs/uploads/u1', 'application/x-www-form-urlencoded'), [
      { action: 'push', repository: 'app' },
    ]);
  });
});

describe('requiredAccess: a query read the way Go reads it', () => {
  const digest = encodeURIComponent(DIGEST);
  const denied = (uri: string): boolean => !requiredAccess('POST', uri).ok;
  it('a percent-encoded key is the key itself (Go decodes keys): fr%6Fm is from', () => {
    assert.deepEqual(access('POST', `/v2/app/blobs/uploads/?mount=${digest}&fr%6Fm=other`), [
      { action: 'push', repository: 'app' },
      { action: 'pull', repository: 'other' },
    ]);
  });
  it('a repeated from or mount is refused (Go takes the first; no guessing which)', () => {
    for (const query of [`mount=${digest}&from=a&from=b`, `mount=${digest}&mount=${digest}&from=a`]) {
      assert.ok(denied(`/v2/app/blobs/uploads/?${query}`), query);
    }
  });
  it('a from joined with `;` is not a repository name: refused (Go 1.17+ drops the pair)', () => {
    assert.ok(denied(`/v2/app/blobs/uploads/?mount=${digest}&from=app;from=other`));
  });
  it('from without mount still needs pull on it, as the registry asks of its own access controller', () => {
    assert.deepEqual(access('POST', '/v2/app/blobs/uploads/?from=other'), [
      { action: 'push', repository: 'app' },
      { action: 'pull', repository: 'other' },
    ]);
  });
  it('mount without from is an ordinary upload (the registry mounts only with both)', () => {
    assert.deepEqual(access('POST', `/v2/app/blobs/uploads/?mount=${digest}`), [
      { action: 'push', repository: 'app' },
    ]);
  });
  it('an empty from is refused rather than read as absent', () => {
    assert.ok(denied(`/v2/app/blobs/uploads/?mount=${digest}&from=`));
  });
});

describe('isRepositoryName: exactly the names distribution v2.8.2 accepts', () => {
  // reference/regexp.go, spelt out as distribution writes it. Its `[-]*` separator makes a backtracking
  // engine exponential on long near misses, so it is only run here, on short strings.
  const alphaNumeric = '[a-z0-9]+';
  const separator = '(?:[._]|__|[-]*)';
  const nameComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
  const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
  const distribution = new RegExp(`^(?:${domain}/)?${nameComponent}(?:/${nameComponent})*$`);

  it('agrees with reference.NameRegexp on generated names', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '_', '-', ':', '/'), maxLength: 14 }),
        (name) => {
          assert.equal(isRepositoryName(name), distribution.test(name), name);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('and on the 255-character limit (reference.NameTotalLengthMax)', () => {
    assert.equal(isRepositoryName('a'.repeat(255)), true);
    assert.equal(isRepositoryName('a'.repeat(256)), false);
  });
});
