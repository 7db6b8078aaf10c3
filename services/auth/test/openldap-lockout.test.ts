// Guessing against the real sidecar process and a real slapd: what reaches the directory is read from
// slapd's own log (one `BIND dn=… method=128` line per simple bind), not from the sidecar under test.
// Client addresses are set with X-Real-IP, which the sidecar takes from loopback (TRUSTED_PROXIES default).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';

const { alice, bob, carol } = seed.users;
let slapd: Slapd;
const sidecars: Sidecar[] = [];

before(async () => {
  slapd = await startSlapd();
});
after(async () => {
  for (const s of sidecars) await s.stop();
  await slapd.destroy();
});

/** A sidecar of its own: fresh cache and lockout counters. */
async function sidecarWith(overrides: Record<string, string>): Promise<Sidecar> {
  const s = await startSidecar(openldapEnv(slapd, overrides));
  sidecars.push(s);
  return s;
}

/** Asks as nginx does, for a client at `address`. */
function ask(s: Sidecar, user: string, password: string, address: string, uri = '/v2/'): Promise<Response> {
  return fetch(`${s.url}/auth`, {
    headers: {
      'X-Original-Method': 'GET',
      'X-Original-URI': uri,
      'X-Real-IP': address,
      Authorization: basic(user, password),
    },
  });
}

/** The sidecar's lines with `msg` matching, once at least `count` are written (within 10 s). */
async function linesWith(s: Sidecar, msg: RegExp, count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; ; i++) {
    const lines = (await s.logLines()).filter((l) => msg.test(String(l['msg'])));
    if (lines.length >= count) return lines;
    if (i >= 200) throw new Error(`${lines.length} of ${count} lines matching ${String(msg)} within 10 s`);
    await sleep(50);
  }
}

/** No answer let the guesser in: 401, or 503 where a busy machine made the directory miss its deadline. */
function noneConfirmed(answers: readonly Response[]): void {
  const statuses = new Set(answers.map((r) => r.status));
  assert.ok(statuses.has(401), 'refused');
  for (const status of statuses) assert.ok(status === 401 || status === 503, `an answer was ${status}`);
}

const stranger = (i: number) => `203.0.113.${i + 1}`;

describe('parallel guesses stop at the limit', () => {
  it('61 concurrent guesses for carol from one address: at most 10 binds reach slapd, the right password (last) is never confirmed', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '10' });
    const before = await slapd.countBinds(carol.dn);
    const passwords = [...Array.from({ length: 60 }, (_, i) => `guess-${i}`), carol.password];
    const answers = await Promise.all(passwords.map((pw) => ask(s, carol.uid, pw, '198.51.100.1')));
    const binds = (await slapd.countBinds(carol.dn)) - before;
    assert.ok(binds <= 10, `${binds} binds as carol reached slapd`);
    assert.ok(binds > 0, 'the first guesses did reach it');
    noneConfirmed(answers);
  });

  it('61 concurrent guesses for carol from 61 addresses: still at most 10 binds', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '10' });
    const before = await slapd.countBinds(carol.dn);
    const passwords = [...Array.from({ length: 60 }, (_, i) => `guess-${i}`), carol.password];
    const answers = await Promise.all(
      passwords.map((pw, i) => ask(s, carol.uid, pw, `198.51.100.${i + 10}`)),
    );
    const binds = (await slapd.countBinds(carol.dn)) - before;
    assert.ok(binds <= 10 && binds > 0, `${binds} binds as carol reached slapd`);
    noneConfirmed(answers);
  });
});

describe('every form of a login shares one lock', () => {
  const forms = [' bob', 'bob ', 'Bob  ', 'ｂｏｂ'];

  it('with bob locked, wrong passwords as " bob", "bob ", "Bob  ", "ｂｏｂ" reach no bind, and the right one as " bob" or "ｂｏｂ" is locked_out', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '4', LOCKOUT_ADDRESS_MAX_FAILURES: '1000' });
    for (let i = 0; i < 4; i++) assert.equal((await ask(s, 'bob', `guess-${i}`, stranger(i))).status, 401);
    const before = await slapd.countBinds(bob.dn);
    for (const [i, form] of forms.entries()) {
      for (let j = 0; j < 4; j++)
        assert.equal((await ask(s, form, `form-${i}-${j}`, stranger(10 + i * 4 + j))).status, 401);
    }
    for (const form of [' bob', 'ｂｏｂ']) {
      const res = await ask(s, form, bob.password, stranger(40));
      assert.equal(res.status, 401, form);
      assert.equal(res.headers.get('x-auth-user'), null);
    }
    assert.equal((await slapd.countBinds(bob.dn)) - before, 0, 'no bind as bob after the lock');
    const audit = await linesWith(s, /^decision$/, 4 + forms.length * 4 + 2);
    assert.deepEqual(
      audit.slice(4).map((l) => [l['reason'], l['lock']]),
      Array.from({ length: forms.length * 4 + 2 }, () => ['locked_out', 'user']),
    );
  });

  it('failures typed as different forms add up on one account: four forms, four failures, locked', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '4', LOCKOUT_ADDRESS_MAX_FAILURES: '1000' });
    const before = await slapd.countBinds(bob.dn);
    for (const [i, form] of forms.entries())
      assert.equal((await ask(s, form, `wrong-${i}`, stranger(i))).status, 401);
    assert.equal((await slapd.countBinds(bob.dn)) - before, 4);
    assert.equal((await ask(s, 'bob', bob.password, stranger(9))).status, 401);
    assert.equal((await slapd.countBinds(bob.dn)) - before, 4, 'the right password did not reach slapd');
  });

  it('one wrong password typed as every form costs one bind (one negative-cache entry)', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '10' });
    const before = await slapd.countBinds(bob.dn);
    for (const form of ['bob', ...forms])
      assert.equal((await ask(s, form, 'stale-ci', '192.0.2.1')).status, 401);
    assert.equal((await slapd.countBinds(bob.dn)) - before, 1);
  });
});

describe('strangers cannot lock out a verified user', () => {
  const HOME = '192.0.2.10';

  async function aliceLockedByStrangers(): Promise<Sidecar> {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '10' });
    assert.equal((await ask(s, alice.uid, alice.password, HOME)).status, 200);
    for (let i = 0; i < 10; i++)
      assert.equal((await ask(s, alice.uid, `guess-${i}`, stranger(i))).status, 401);
    return s;
  }

  it('alice, who verified from her address, keeps working there; the right password from anywhere else is locked_out with no bind', async () => {
    const s = await aliceLockedByStrangers();
    const before = await slapd.countBinds(alice.dn);
    const home = await ask(s, alice.uid, alice.password, HOME, '/v2/team/app/manifests/v1');
    assert.equal(home.status, 200);
    assert.equal(home.headers.get('x-auth-user'), 'alice');
    for (const password of [alice.password, 'guess-3', 'another-guess'])
      assert.equal((await ask(s, alice.uid, password, '198.51.100.200')).status, 401, password);
    assert.equal((await slapd.countBinds(alice.dn)) - before, 0);
  });

  it('logs one warn line when the lock starts (user, until when), counts it by key, and the audit says which key is locked', async () => {
    const s = await aliceLockedByStrangers();
    await ask(s, alice.uid, alice.password, '198.51.100.200');
    const [started, ...more] = await linesWith(s, /^lockout started/, 1);
    assert.ok(started, 'a lockout line');
    assert.equal(more.length, 0);
    assert.equal(started['level'], 'warn');
    assert.deepEqual(
      [started['lock'], started['user'], started['against']],
      ['user', 'alice', 'other addresses'],
    );
    assert.ok(Date.parse(String(started['until'])) > Date.now(), 'until a time to come');
    const decisions = await linesWith(s, /^decision$/, 12);
    assert.deepEqual(
      [decisions.at(-1)?.['reason'], decisions.at(-1)?.['lock'], decisions.at(-1)?.['client_ip']],
      ['locked_out', 'user', '198.51.100.200'],
    );
    const metrics = await (await fetch(`${s.metricsUrl}/metrics`)).text();
    assert.match(metrics, /^registry_auth_lockouts_total\{key="user"\} 1$/m);
  });

  it('an address locked by its own failures is named as such in the log and the audit', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '100', LOCKOUT_ADDRESS_MAX_FAILURES: '3' });
    for (const user of ['nobody', 'noone', 'carol']) await ask(s, user, 'typo', '192.0.2.50');
    const res = await ask(s, alice.uid, alice.password, '192.0.2.50');
    assert.equal(res.status, 401);
    const [started] = await linesWith(s, /^lockout started/, 1);
    assert.deepEqual([started?.['lock'], started?.['client_ip']], ['address', '192.0.2.50']);
    const decisions = await linesWith(s, /^decision$/, 4);
    assert.deepEqual([decisions.at(-1)?.['reason'], decisions.at(-1)?.['lock']], ['locked_out', 'address']);
    assert.equal(
      (await ask(s, alice.uid, alice.password, '192.0.2.51')).status,
      200,
      'other addresses log in',
    );
  });

  it('an IPv6 client that takes a new address in its /64 for each guess is locked as one address', async () => {
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: '100', LOCKOUT_ADDRESS_MAX_FAILURES: '3' });
    const binds = await slapd.countBinds(seed.users.carol.dn);
    for (const [i, user] of ['nobody', 'noone', 'carol'].entries())
      assert.equal((await ask(s, user, 'typo', `2001:db8:5:6::${i + 1}`)).status, 401);
    assert.equal(await slapd.countBinds(seed.users.carol.dn), binds + 1);
    const res = await ask(s, seed.users.carol.uid, 'typo-again', '2001:db8:5:6:1234:5678:9abc:def0');
    assert.equal(res.status, 401);
    assert.equal(
      await slapd.countBinds(seed.users.carol.dn),
      binds + 1,
      'a fourth guess reached the directory',
    );
    const [started] = await linesWith(s, /^lockout started/, 1);
    assert.deepEqual([started?.['lock'], started?.['client_ip']], ['address', '2001:db8:5:6::/64']);
    const decisions = await linesWith(s, /^decision$/, 4);
    assert.deepEqual(
      [decisions.at(-1)?.['reason'], decisions.at(-1)?.['client_ip']],
      ['locked_out', '2001:db8:5:6:1234:5678:9abc:def0'],
      'the audit line keeps the full address',
    );
    assert.equal(
      (await ask(s, alice.uid, alice.password, '2001:db8:5:7::1')).status,
      200,
      'the next /64 logs in',
    );
  });
});
