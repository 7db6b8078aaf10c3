// Password guessing through nginx, as a client would: what reaches the directory is read from slapd's
// own log, what the client gets from nginx. Every request here comes from 127.0.0.1 (nginx's
// $remote_addr), so the per-address limit is raised for this stack: these tests are about the account.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const { alice, bob } = seed.users;

void describe('guessing through nginx stops at LOCKOUT_MAX_FAILURES', { timeout: 120_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;

  before(async () => {
    ({ e2e, teardown } = await startE2e({
      sidecarEnv: { LOCKOUT_MAX_FAILURES: '10', LOCKOUT_ADDRESS_MAX_FAILURES: '1000' },
    }));
  });
  after(async () => {
    await teardown?.();
  });

  const login = (user: string, password: string) =>
    e2e.stack.request('GET', '/v2/', { headers: { Authorization: basic(user, password) } });

  void test('61 concurrent logins as alice, the right password last: at most 10 binds reach slapd, none is let in', async () => {
    const before = await e2e.stack.slapd.countBinds(alice.dn);
    const passwords = [...Array.from({ length: 60 }, (_, i) => `guess-${i}`), alice.password];
    const answers = await Promise.all(passwords.map((pw) => login(alice.uid, pw)));
    const binds = (await e2e.stack.slapd.countBinds(alice.dn)) - before;
    assert.ok(binds > 0 && binds <= 10, `${binds} binds as alice reached slapd`);
    assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([401]));
    assert.equal((await login(alice.uid, alice.password)).status, 401, 'alice stays locked');
  });

  void test('with bob locked, " bob", "Bob  " and fullwidth "ｂｏｂ" with his password get 401 and reach no bind', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await login(bob.uid, `guess-${i}`)).status, 401);
    const before = await e2e.stack.slapd.countBinds(bob.dn);
    for (const form of [' bob', 'Bob  ', 'ｂｏｂ', 'bob']) {
      const res = await login(form, bob.password);
      assert.equal(res.status, 401, form);
    }
    const pull = await e2e.stack.request('GET', '/v2/team/app/tags/list', {
      headers: { Authorization: basic('ｂｏｂ', bob.password) },
    });
    assert.equal(pull.status, 401, 'nothing is served to a locked account under another spelling');
    assert.equal((await e2e.stack.slapd.countBinds(bob.dn)) - before, 0);
  });
});
