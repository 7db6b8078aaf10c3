// @ts-nocheck
// Decisions through the real sidecar process against a real slapd.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const { alice, bob, carol, dave, erin, pobrien } = seed.users;
let slapd: Slapd;
let sidecar: Sidecar;

before(async () => {
  slapd = await startSlapd({ allowAnonDnBind: true });
  sidecar = await startSidecar(openldapEnv(slapd, { AUTH_CATALOG_GROUPS: 'registry-admins' }));
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    await sidecar.stop();
    await slapd.destroy();
  }
});

describe('the allow / deny matrix', () => {
  const cases: [string, string, string, string, string, number][] = [
    ['a pusher pushes', alice.uid, alice.password, 'PUT', '/v2/team/app/manifests/v1', 200],
    ['a pusher starts an upload', alice.uid, alice.password, 'POST', '/v2/team/app/blobs/uploads/', 200],
    ['a pusher pulls', alice.uid, alice.password, 'GET', '/v2/team/app/manifests/v1', 200],
    ['a reader pulls', bob.uid, bob.password, 'GET', `/v2/team/app/blobs/${DIGEST}`, 200],
    ['a reader may not push', bob.uid, bob.password, 'PUT', '/v2/team/app/manifests/v1', 403],
    ['a reader may not start an upload', bob.uid, bob.password, 'POST', '/v2/team/app/blobs/uploads/', 403],
    [
      'a reader may not continue an upload',
      bob.uid,
      bob.password,
      'PATCH',
      '/v2/team/app/blobs/uploads/abc',
      403,
    ],
    ['a user in no group logs in', carol.uid, carol.password, 'GET', '/v2/', 200],
    ['a user in no group may not pull', carol.uid, carol.password, 'GET', '/v2/team/app/tags/list', 403],
    ['a nested-group member pushes', dave.uid, dave.password, 'PUT', '/v2/team/app/manifests/v1', 200],
    [
      'a user whose DN needs escaping pulls',
      pobrien.uid,
      pobrien.password,
      'GET',
      '/v2/team/app/tags/list',
      200,
    ],
    [
      'a user whose DN needs escaping may not push',
      pobrien.uid,
      pobrien.password,
      'PUT',
      '/v2/team/app/manifests/v1',
      403,
    ],
    ['the delete group deletes', erin.uid, erin.password, 'DELETE', `/v2/team/app/manifests/${DIGEST}`, 200],
    ['a pusher may not delete', alice.uid, alice.password, 'DELETE', `/v2/team/app/manifests/${DIGEST}`, 403],
    ['the catalog group lists the catalog', erin.uid, erin.password, 'GET', '/v2/_catalog', 200],
    ['a reader may not list the catalog', bob.uid, bob.password, 'GET', '/v2/_catalog', 403],
    [
      'a pusher mounts from a repository it may pull',
      alice.uid,
      alice.password,
      'POST',
      `/v2/app/blobs/uploads/?mount=${DIGEST}&from=other`,
      200,
    ],
    ['a wrong password', alice.uid, 'not-alices-password', 'GET', '/v2/', 401],
    ['an unknown user', 'mallory', 'whatever', 'GET', '/v2/', 401],
    [
      'usernames match case-insensitively, as the directory does',
      'ALICE',
      alice.password,
      'PUT',
      '/v2/app/manifests/v1',
      200,
    ],
  ];
  for (const [name, user, password, method, uri, status] of cases) {
    it(`${name}: ${method} ${uri.slice(0, 50)} → ${status}`, async () => {
      const res = await decide(sidecar, method, uri, basic(user, password));
      assert.equal(res.status, status);
      if (status === 401)
        assert.match(
          res.headers.get('www-authenticate') ?? '',
          /^Basic realm="Registry realm", charset="UTF-8"$/,
        );
    });
  }

  it('names the canonical user and every group, nested ones included', async () => {
    const res = await decide(sidecar, 'GET', '/v2/', basic('Dave', dave.password));
    assert.equal(res.headers.get('x-auth-user'), 'dave');
    assert.deepEqual((res.headers.get('x-auth-groups') ?? '').split(',').sort(), [
      'registry-ci',
      'registry-pushers',
    ]);
  });
});

describe('one directory round trip', () => {
  it('50 concurrent identical cold requests bind as the user exactly once', async () => {
    const before = await slapd.countBinds(alice.dn);
    // A fresh sidecar, so the credentials are certainly cold.
    const cold = await startSidecar(openldapEnv(slapd));
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          decide(cold, 'HEAD', `/v2/app/blobs/${DIGEST}`, basic(alice.uid, alice.password)),
        ),
      );
      assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([200]));
      assert.equal((await slapd.countBinds(alice.dn)) - before, 1);
    } finally {
      await cold.stop();
    }
  });
});

describe('hostile input', () => {
  const injections = [
    '*',
    'alice)(uid=*',
    '*)(uid=*))(|(uid=*',
    'alice\\',
    'alice*',
    '(uid=alice)',
    'a*e',
    'alice)(|(objectClass=*',
  ];
  for (const username of injections) {
    it(`the username ${JSON.stringify(username)} never authenticates, even with a real password`, async () => {
      const binds = await slapd.countBinds(alice.dn);
      const res = await decide(sidecar, 'GET', '/v2/app/tags/list', basic(username, alice.password));
      assert.equal(res.status, 401);
      assert.equal(await slapd.countBinds(alice.dn), binds, 'no bind as alice happened');
    });
  }

  it('refuses an empty password although this slapd accepts unauthenticated binds', async () => {
    const probe = new Client({ url: slapd.url });
    await probe.bind(alice.dn, ''); // the server itself says yes: RFC 4513 unauthenticated bind
    await probe.unbind();
    const binds = await slapd.countBinds(alice.dn);
    const res = await decide(sidecar, 'GET', '/v2/', basic(alice.uid, ''));
    assert.equal(res.status, 401);
    assert.equal(await slapd.countBinds(alice.dn), binds, 'the sidecar never tried the bind');
  });

  it('answers 401 to a malformed header and 500 without the proxy headers, never 200', async () => {
    assert.equal((await decide(sidecar, 'GET', '/v2/', 'Basic Zm9v')).status, 401);
    assert.equal((await decide(sidecar, 'GET', '/v2/', 'Negotiate abc')).status, 401);
    assert.equal(
      (await fetch(`${sidecar.url}/auth`, { headers: { Authorization: basic(alice.uid, alice.password) } }))
        .status,
      500,
    );
  });

  it('writes an audit line for every decision, with the reason', async () => {
    const lines = await sidecar.logLines();
    const decisions = lines.filter((l) => l['msg'] === 'decision');
    assert.ok(decisions.some((l) => l['reason'] === 'empty_password' && l['result'] === 'unauthenticated'));
    assert.ok(decisions.some((l) => l['reason'] === 'unknown_user'));
    assert.ok(
      decisions.some((l) => l['reason'] === 'not_granted' && l['user'] === 'bob' && l['action'] === 'push'),
    );
    assert.ok(decisions.some((l) => l['reason'] === 'proxy_misconfigured'));
  });

  it('never logs a password or an Authorization value', async () => {
    const log = await sidecar.logText();
    for (const { uid, password } of Object.values(seed.users)) {
      assert.ok(!log.includes(password), `the log holds ${uid}'s password`);
      assert.ok(!log.includes(basic(uid, password).slice(6)), `the log holds ${uid}'s Authorization value`);
    }
    assert.ok(!log.includes('not-alices-password'));
    assert.doesNotMatch(log, /Basic [A-Za-z0-9+/]{8,}/);
  });
});
