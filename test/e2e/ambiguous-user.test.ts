// A login that matches two directory entries is refused as ambiguous through the whole stack: the client
// gets 401 with the challenge, the audit says why, and no password is tried against either entry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { basic, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const contractors = `ou=contractors,${seed.peopleDn}`;
const twin = `uid=alice,${contractors}`;
// A second uid=alice under the user base, as a directory with a contractors OU can have.
const extraLdif = [
  [`dn: ${contractors}`, 'objectClass: organizationalUnit', 'ou: contractors'].join('\n'),
  [
    `dn: ${twin}`,
    'objectClass: inetOrgPerson',
    'uid: alice',
    'cn: Alice Other',
    'sn: Other',
    'userPassword: alice-password',
  ].join('\n'),
].join('\n\n');

void describe('an ambiguous login through nginx', { timeout: 60_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ slapd: { extraLdif } }));
  });
  after(async () => {
    await teardown?.();
  });

  void test('401 with the challenge, audited as ambiguous_user, and no bind as either alice', async () => {
    const { stack } = e2e;
    const [bindsBefore, twinBefore] = [
      await stack.slapd.countBinds(seed.users.alice.dn),
      await stack.slapd.countBinds(twin),
    ];
    const res = await stack.request('GET', '/v2/team/app/tags/list', {
      headers: { Authorization: basic('alice', seed.users.alice.password) },
    });
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] ?? '', /^Basic realm=/);
    const decisions = (await stack.sidecar.logLines()).filter((l) => l['msg'] === 'decision');
    const line = decisions.at(-1);
    assert.equal(line?.['reason'], 'ambiguous_user');
    assert.equal(line['result'], 'unauthenticated');
    assert.equal(await stack.slapd.countBinds(seed.users.alice.dn), bindsBefore);
    assert.equal(await stack.slapd.countBinds(twin), twinBefore);
  });

  void test('bob, who is not ambiguous, is let through to the registry', async () => {
    const res = await e2e.stack.request('GET', '/v2/team/app/tags/list', {
      headers: { Authorization: basic('bob', seed.users.bob.password) },
    });
    assert.equal(res.status, 404, 'the registry has no team/app yet: NAME_UNKNOWN');
  });
});
