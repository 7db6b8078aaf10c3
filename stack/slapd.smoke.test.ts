// Proves the slapd harness: seeded data, ACLs, binds, LDAPS and StartTLS with real CA verification,
// memberOf, unauthenticated binds, stop/start, and the log counters other tests rely on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, InvalidCredentialsError, NoSuchObjectError, UnwillingToPerformError } from 'ldapts';
import type { ClientOptions } from 'ldapts';
import { createCa } from './certs.ts';
import type { Pki } from './certs.ts';
import { stopAll } from './process.ts';
import { dnKey, seed, startSlapd } from './slapd.ts';
import type { Slapd } from './slapd.ts';
import { assertNoSecretsInLogs } from './credentials.ts';

const { alice, bob, dave, pobrien } = seed.users;

// `void`: node:test's describe() and test() return promises the runner itself tracks.

/** Runs `fn` with a fresh client and always unbinds it (ldapts keeps the socket open otherwise). */
async function withClient<T>(options: ClientOptions, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ timeout: 5000, connectTimeout: 3000, ...options });
  try {
    return await fn(client);
  } finally {
    await client.unbind();
  }
}

async function bindAs(url: string, dn: string, password: string, ca?: string): Promise<void> {
  const tlsOptions = ca === undefined ? {} : { tlsOptions: { ca: [readFileSync(ca)] } };
  await withClient({ url, ...tlsOptions }, (c) => c.bind(dn, password));
}

async function memberOf(slapd: Slapd, dn: string): Promise<string[]> {
  return withClient({ url: slapd.url }, async (c) => {
    await c.bind(slapd.serviceDn, slapd.servicePassword);
    const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['memberOf'] });
    const value = searchEntries[0]?.['memberOf'] ?? [];
    return (Array.isArray(value) ? value : [value]).map(String);
  });
}

void describe('slapd harness', () => {
  let tmp: string;
  let otherCa: Pki;
  let sharedPki: Pki;
  let slapd: Slapd;
  let anonDn: Slapd; // a second instance: bind_anon_dn, a caller's PKI, extra LDIF

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'slapd-smoke-'));
    [otherCa, sharedPki] = await Promise.all([
      createCa(join(tmp, 'other-ca'), 'Unrelated CA'),
      createCa(join(tmp, 'shared-ca'), 'Shared CA'),
    ]);
    const extraLdif = [
      `dn: uid=frank,${seed.peopleDn}`,
      'objectClass: inetOrgPerson',
      'uid: frank',
      'cn: Frank Fox',
      'sn: Fox',
      'userPassword: frank-password',
      '',
      `dn: cn=extra,${seed.groupsDn}`,
      'objectClass: groupOfNames',
      'cn: extra',
      `member: uid=frank,${seed.peopleDn}`,
      '',
    ].join('\n');
    [slapd, anonDn] = await Promise.all([
      startSlapd(),
      startSlapd({ allowAnonDnBind: true, pki: sharedPki, extraLdif }),
    ]);
  });

  after(async () => {
    try {
      await assertNoSecretsInLogs(); // before the servers and their logs are removed
    } finally {
      try {
        await Promise.all([slapd.destroy(), anonDn.destroy()]);
      } finally {
        await stopAll(); // also when before() failed half-way: nothing may outlive the test file
        await rm(tmp, { recursive: true, force: true });
      }
    }
  });

  void test('the service account finds alice; memberOf is returned only when asked for', async () => {
    await withClient({ url: slapd.url }, async (c) => {
      await c.bind(slapd.serviceDn, slapd.servicePassword);
      const { searchEntries } = await c.search(seed.peopleDn, { filter: '(uid=alice)' });
      assert.deepEqual(
        searchEntries.map((e) => e.dn),
        [alice.dn],
      );
      const [entry] = searchEntries;
      assert.ok(entry);
      assert.equal(entry['mail'], alice.mail);
      assert.equal(entry['memberOf'], undefined); // operational attribute
      assert.equal(entry['userPassword'], undefined); // auth access only
    });
    assert.deepEqual(await memberOf(slapd, alice.dn), [seed.groups.pushers.dn]);
  });

  void test('memberOf matches the seed, and is not transitive', async () => {
    assert.deepEqual(await memberOf(slapd, dave.dn), [seed.groups.ci.dn]);
    assert.deepEqual(await memberOf(slapd, seed.groups.ci.dn), [seed.groups.pushers.dn]);
    assert.deepEqual(await memberOf(slapd, pobrien.dn), [seed.groups.users.dn]);
    assert.deepEqual(await memberOf(slapd, seed.users.carol.dn), []);
  });

  void test('every seeded account binds with its documented password', async () => {
    for (const { dn, password } of [seed.service, ...Object.values(seed.users)]) {
      await bindAs(slapd.url, dn, password);
    }
  });

  void test('wrong passwords and unknown DNs fail with invalidCredentials (49)', async () => {
    await assert.rejects(bindAs(slapd.url, alice.dn, 'bob-password'), InvalidCredentialsError);
    await assert.rejects(bindAs(slapd.url, `uid=nobody,${seed.peopleDn}`, 'x'), InvalidCredentialsError);
  });

  void test('ACLs: anonymous sees nothing, a user sees only itself', async () => {
    await withClient({ url: slapd.url }, async (c) => {
      // Not even the base entry: slapd answers noSuchObject (32) rather than disclose it.
      await assert.rejects(c.search(seed.baseDn, { filter: '(objectClass=*)' }), NoSuchObjectError);
      await c.bind(bob.dn, bob.password);
      const own = await c.search(bob.dn, { scope: 'base' });
      assert.equal(own.searchEntries[0]?.['uid'], 'bob');
      await assert.rejects(c.search(alice.dn, { scope: 'base' }), NoSuchObjectError);
    });
  });

  void test('LDAPS verifies against the CA, and fails closed with another CA', async () => {
    await bindAs(slapd.ldapsUrl, alice.dn, alice.password, slapd.caCert);
    await assert.rejects(bindAs(slapd.ldapsUrl, alice.dn, alice.password, otherCa.caCert), /certificate/i);
    // The system trust store does not know the test CA either.
    await assert.rejects(bindAs(slapd.ldapsUrl, alice.dn, alice.password), /certificate/i);
  });

  void test('StartTLS upgrades the plain port, verified against the CA', async () => {
    await withClient({ url: slapd.url }, async (c) => {
      await c.startTLS({ ca: [readFileSync(slapd.caCert)] });
      await c.bind(alice.dn, alice.password);
    });
    await assert.rejects(
      withClient({ url: slapd.url }, (c) => c.startTLS({ ca: [readFileSync(otherCa.caCert)] })),
      /certificate/i,
    );
  });

  void test('a DN with an empty password: refused by default, anonymous with allowAnonDnBind', async () => {
    await assert.rejects(bindAs(slapd.url, alice.dn, ''), UnwillingToPerformError);
    await bindAs(anonDn.url, alice.dn, '');
  });

  void test('options: a given PKI signs the cert, extra LDIF goes through the memberof overlay', async () => {
    assert.equal(anonDn.caCert, sharedPki.caCert);
    await bindAs(anonDn.ldapsUrl, alice.dn, alice.password, sharedPki.caCert);
    await bindAs(anonDn.url, `uid=frank,${seed.peopleDn}`, 'frank-password');
    assert.deepEqual(await memberOf(anonDn, `uid=frank,${seed.peopleDn}`), [`cn=extra,${seed.groupsDn}`]);
  });

  void test('countBinds counts each simple bind once, failed ones too, whatever the DN spelling', async () => {
    const before = await slapd.countBinds(alice.dn);
    await bindAs(slapd.url, alice.dn, alice.password);
    assert.equal(await slapd.countBinds(alice.dn), before + 1);
    await assert.rejects(bindAs(slapd.url, alice.dn, 'wrong'), InvalidCredentialsError);
    assert.equal(await slapd.countBinds(alice.dn), before + 2);
    await bindAs(slapd.url, 'UID=Alice, OU=People,DC=example,DC=test', alice.password);
    assert.equal(await slapd.countBinds(alice.dn), before + 3);

    const pBefore = await slapd.countBinds(pobrien.dn);
    await bindAs(slapd.url, pobrien.dn, pobrien.password);
    assert.equal(await slapd.countBinds(pobrien.dn), pBefore + 1);
    assert.equal(await slapd.countBinds(`cn=O'Brien\\2C Pat \\28QA\\29,${seed.peopleDn}`), pBefore + 1);
  });

  void test('countSearches counts SRCH operations', async () => {
    const before = await slapd.countSearches();
    await withClient({ url: slapd.url }, async (c) => {
      await c.bind(slapd.serviceDn, slapd.servicePassword);
      await c.search(seed.peopleDn, { filter: '(uid=bob)' });
      await c.search(seed.groupsDn, { filter: '(member=*)' });
    });
    assert.equal(await slapd.countSearches(), before + 2);
  });

  void test('stop() refuses connections and keeps the data; start() serves it again', async () => {
    await slapd.stop();
    await assert.rejects(bindAs(slapd.url, alice.dn, alice.password), /ECONNREFUSED/);
    await assert.rejects(bindAs(slapd.ldapsUrl, alice.dn, alice.password, slapd.caCert), /ECONNREFUSED/);
    const binds = await slapd.countBinds(alice.dn);
    await slapd.start();
    await bindAs(slapd.url, alice.dn, alice.password);
    await bindAs(slapd.ldapsUrl, alice.dn, alice.password, slapd.caCert);
    assert.equal(await slapd.countBinds(alice.dn), binds + 2);
    assert.deepEqual(await memberOf(slapd, alice.dn), [seed.groups.pushers.dn]);
  });

  void test('dnKey folds case, spaces and RFC 4514 escapes', () => {
    assert.equal(dnKey('UID=Alice , OU=People'), dnKey('uid=alice,ou=people'));
    assert.equal(dnKey("cn=O'Brien\\, Pat"), dnKey("cn=O'Brien\\2c Pat"));
    assert.equal(dnKey('cn=caf\\C3\\A9'), dnKey('cn=café'));
    assert.notEqual(dnKey('cn=a\\,b'), dnKey('cn=a,b'));
    assert.notEqual(dnKey('cn=a\\ '), dnKey('cn=a'));
  });

  void test('a failed start reports the reason and leaves no process behind', async () => {
    await assert.rejects(
      startSlapd({ extraLdif: 'dn: cn=x,dc=elsewhere\nobjectClass: device\n' }),
      /ldapadd/,
    );
  });

  void test('destroy() leaves nothing behind', async () => {
    const extra = await startSlapd();
    await extra.destroy();
    assert.equal(existsSync(extra.dir), false);
    await assert.rejects(bindAs(extra.url, alice.dn, alice.password), /ECONNREFUSED/);
  });
});
