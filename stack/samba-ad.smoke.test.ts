// Smoke test of the Samba AD harness: the DC it provisions behaves like the Active Directory the
// `activedirectory` preset is written against (TLS, strong-auth rule, nested groups, bind error codes).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Client, InvalidCredentialsError, StrongAuthRequiredError } from 'ldapts';
import { SPECIAL_ACCOUNTS, bindError, startSambaAd } from './samba-ad.ts';
import type { SambaAd } from './samba-ad.ts';
import { assertNoSecretsInLogs } from './credentials.ts';

// 1.2.840.113556.1.4.1941 = LDAP_MATCHING_RULE_IN_CHAIN: transitive group membership.
const IN_CHAIN = '1.2.840.113556.1.4.1941';

void describe('Samba AD harness', { timeout: 60_000 }, () => {
  let ad: SambaAd | undefined;
  let ca: string[] = [];

  const dc = (): SambaAd => {
    assert.ok(ad, 'the DC did not start');
    return ad;
  };
  // ldapts speaks implicit TLS whenever `tlsOptions` is set, even on an ldap:// URL (port 389 then
  // resets the handshake): StartTLS clients get the CA only in startTLS().
  const client = (url = dc().ldapsUrl) =>
    new Client({
      url,
      connectTimeout: 3000,
      timeout: 5000,
      ...(url.startsWith('ldaps:') ? { tlsOptions: { ca } } : {}),
    });

  before(async () => {
    const t0 = Date.now();
    ad = await startSambaAd();
    ca = [await readFile(ad.caCert, 'utf8')];
    console.log(`# Samba AD up in ${Date.now() - t0} ms`, ad.timings, ad.ldapsUrl);
  });

  after(async () => {
    try {
      await assertNoSecretsInLogs(); // before the servers and their logs are removed
    } finally {
      await ad?.destroy();
    }
  });

  void it('serves LDAPS with a certificate our CA verifies for the namespace IP', async () => {
    assert.match(dc().ldapsUrl, /^ldaps:\/\/10\.213\.\d+\.\d+:636$/);
    assert.equal(await bindError(dc(), dc().serviceDn, dc().servicePassword), undefined);
    // Without our CA the same connection must fail verification.
    const untrusted = new Client({ url: dc().ldapsUrl, connectTimeout: 3000, timeout: 5000 });
    try {
      await assert.rejects(untrusted.bind(dc().serviceDn, dc().servicePassword), /certificate/i);
    } finally {
      await untrusted.unbind();
    }
  });

  void it('lets the service account find alice by sAMAccountName, and alice bind by that DN', async () => {
    const c = client();
    try {
      await c.bind(dc().serviceDn, dc().servicePassword);
      const { searchEntries } = await c.search(dc().usersDn, {
        scope: 'sub',
        filter: '(sAMAccountName=alice)',
        attributes: ['cn', 'userPrincipalName', 'memberOf'],
      });
      assert.equal(searchEntries.length, 1);
      const entry = searchEntries[0]!;
      assert.equal(entry.dn, dc().users['alice']!.dn);
      assert.equal(entry['cn'], 'Alice Anders');
      assert.equal(entry['userPrincipalName'], 'alice@example.test');
      assert.equal(entry['memberOf'], dc().groups['registry-pushers']);
    } finally {
      await c.unbind();
    }
    assert.equal(await bindError(dc(), dc().users['alice']!.dn, 'Alice-Pass1!'), undefined);
    assert.equal(await bindError(dc(), dc().users['alice']!.upn, 'Alice-Pass1!'), undefined);
    const wrong = await bindError(dc(), dc().users['alice']!.dn, 'Wrong-Pass1!');
    assert.ok(wrong instanceof InvalidCredentialsError);
    assert.match(wrong.message, /data 52e,/);
  });

  void it('accepts StartTLS on 389 and refuses a cleartext simple bind there (strongAuthRequired)', async () => {
    const tls = client(dc().ldapUrl);
    try {
      // ldapts' startTLS checks the certificate against `localhost` unless told the host (a fresh
      // options object each time: ldapts stores the socket in it).
      await tls.startTLS({ ca, host: dc().netns.nsIp });
      await tls.bind(dc().users['bob']!.dn, dc().users['bob']!.password);
    } finally {
      await tls.unbind();
    }
    const plain = client(dc().ldapUrl);
    try {
      const error: unknown = await plain.bind(dc().users['bob']!.dn, dc().users['bob']!.password).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof StrongAuthRequiredError, `expected resultCode 8, got ${String(error)}`);
      assert.equal(error.code, 8);
    } finally {
      await plain.unbind();
    }
  });

  void it('resolves nested membership with LDAP_MATCHING_RULE_IN_CHAIN', async () => {
    const c = client();
    try {
      await c.bind(dc().serviceDn, dc().servicePassword);
      const { searchEntries } = await c.search(dc().usersDn, {
        scope: 'sub',
        filter: `(&(objectClass=group)(member:${IN_CHAIN}:=${dc().users['dave']!.dn}))`,
        attributes: ['cn'],
      });
      const names = searchEntries.map((e) => String(e['cn'])).sort();
      assert.deepEqual(names, ['registry-ci', 'registry-pushers']);
      // All three are global security groups: groupType 0x80000002 (ADS_GROUP_TYPE_SECURITY_ENABLED | GLOBAL).
      const groups = await c.search(dc().usersDn, {
        scope: 'one',
        filter: '(&(objectClass=group)(cn=registry-*))',
        attributes: ['cn', 'groupType'],
      });
      assert.deepEqual(
        groups.searchEntries.map((e) => [e['cn'], e['groupType']]).sort(),
        Object.keys(dc().groups)
          .sort()
          .map((g) => [g, String(0x80000002 | 0)]),
      );
    } finally {
      await c.unbind();
    }
  });

  void it('reports each special account state as its AD data code when bound with the right password', async () => {
    for (const [login, code] of Object.entries(SPECIAL_ACCOUNTS)) {
      const user = dc().users[login]!;
      const error = await bindError(dc(), user.dn, user.password);
      console.log(`# ${login}: ${error instanceof Error ? error.message : String(error)}`);
      assert.ok(error instanceof InvalidCredentialsError, `${login}: expected resultCode 49`);
      assert.match(error.message, new RegExp(`data ${code},`), login);
    }
  });

  void it('sets the domain-wide lockout threshold it advertises', async () => {
    const c = client();
    try {
      await c.bind(dc().serviceDn, dc().servicePassword);
      const { searchEntries } = await c.search(dc().baseDn, {
        scope: 'base',
        attributes: ['lockoutThreshold'],
      });
      assert.equal(searchEntries[0]?.['lockoutThreshold'], String(dc().lockoutThreshold));
      assert.equal(dc().lockoutThreshold, 3);
    } finally {
      await c.unbind();
    }
  });

  void it('leaves nothing running in the namespace after stop(), and serves again after start()', async () => {
    await dc().stop();
    assert.deepEqual(await dc().netns.pids(), []);
    await dc().start();
    assert.equal(await bindError(dc(), dc().users['carol']!.dn, dc().users['carol']!.password), undefined);
    assert.match(await dc().samba(['user', 'show', 'carol']), /sAMAccountName: carol/);
  });
});
