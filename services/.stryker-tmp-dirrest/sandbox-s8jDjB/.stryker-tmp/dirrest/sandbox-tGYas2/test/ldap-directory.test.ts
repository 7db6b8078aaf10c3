// @ts-nocheck
// 
// The directory layer on its own (LdapDirectory, below the one seam) against a real slapd: the guards and
// the settings that the decider never exercises, because it refuses or fixes things earlier.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { loadConfig } from '../src/config.ts';
import { LdapDirectory } from '../src/directory/ldap-directory.ts';
import type { DirectoryObserver } from '../src/directory/directory.ts';
import { CredentialsRejectedError } from '../src/directory/errors.ts';
import { openldapEnv } from './support/openldap-env.ts';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';

/** A chain of groups 10 deep: chain-0 holds alice, chain-k holds chain-(k-1); plus a two-group cycle. */
const CHAIN = 10;
function chainLdif(): string {
  const records: string[] = [];
  for (let k = 0; k < CHAIN; k++) {
    const member = k === 0 ? seed.users.alice.dn : `cn=chain-${k - 1},${seed.groupsDn}`;
    records.push(
      [
        `dn: cn=chain-${k},${seed.groupsDn}`,
        'objectClass: groupOfNames',
        `cn: chain-${k}`,
        `member: ${member}`,
      ].join('\n'),
    );
  }
  // loop-a holds bob and loop-b; loop-b holds loop-a (added after it, so the member exists).
  records.push(
    [
      `dn: cn=loop-a,${seed.groupsDn}`,
      'objectClass: groupOfNames',
      'cn: loop-a',
      `member: ${seed.users.bob.dn}`,
      'description: Loop A',
    ].join('\n'),
    [
      `dn: cn=loop-b,${seed.groupsDn}`,
      'objectClass: groupOfNames',
      'cn: loop-b',
      `member: cn=loop-a,${seed.groupsDn}`,
      'description: Loop B',
    ].join('\n'),
  );
  return `${records.join('\n\n')}\n`;
}

const ignore: DirectoryObserver = { operation: () => undefined };
const directories: LdapDirectory[] = [];

function directoryFor(slapd: Slapd, overrides: Record<string, string> = {}): LdapDirectory {
  const env = { ...openldapEnv(slapd), AUTH_PUSH_GROUPS: 'registry-pushers', ...overrides };
  for (const [name, value] of Object.entries(env)) if (value === '') Reflect.deleteProperty(env, name);
  const directory = new LdapDirectory(loadConfig(env).ldap, ignore);
  directories.push(directory);
  return directory;
}

let slapd: Slapd;

before(async () => {
  slapd = await startSlapd({ allowAnonDnBind: true, anonymousRead: true, extraLdif: chainLdif() });
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    await Promise.all(directories.map((d) => d.close()));
    await slapd.destroy();
  }
});

describe('LdapDirectory against slapd', () => {
  it('refuses an empty password itself, where this slapd would let the bind through as anonymous', async () => {
    // The premise: this server answers success to alice's DN with an empty password (RFC 4513 §5.1.2).
    const raw = new Client({ url: slapd.url, connectTimeout: 2000, timeout: 2000 });
    try {
      await raw.bind(seed.users.alice.dn, '');
    } finally {
      await raw.unbind();
    }
    const directory = directoryFor(slapd);
    const alice = await directory.findUser('alice');
    await assert.rejects(directory.verifyPassword(alice, ''), CredentialsRejectedError);
    await directory.verifyPassword(alice, seed.users.alice.password);
    await assert.rejects(directory.verifyPassword(alice, 'wrong'), CredentialsRejectedError);
  });

  it('LDAP_USERNAME_ATTRIBUTE names the canonical user, whatever the login matched', async () => {
    const directory = directoryFor(slapd, {
      LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(mail={username}))',
      LDAP_USERNAME_ATTRIBUTE: 'uid',
    });
    assert.deepEqual(await directory.findUser(seed.users.alice.mail), {
      dn: seed.users.alice.dn,
      username: 'alice',
    });
    const byCn = directoryFor(slapd, { LDAP_USERNAME_ATTRIBUTE: 'cn' });
    assert.equal((await byCn.findUser('alice')).username, 'Alice Archer');
  });

  it('LDAP_GROUP_NAME_ATTRIBUTE names the groups', async () => {
    const directory = directoryFor(slapd, { LDAP_GROUP_NAME_ATTRIBUTE: 'description' });
    const bob = await directory.findUser('bob');
    const names = (await directory.resolveGroups(bob)).map((g) => g.name).sort();
    // registry-users has no description: its DN stands in for the name.
    assert.deepEqual(names, ['Loop A', 'Loop B', seed.groups.users.dn]);
  });

  it('searches anonymously when no LDAP_BIND_DN is set', async () => {
    const directory = directoryFor(slapd, { LDAP_BIND_DN: '', LDAP_BIND_PASSWORD: '' });
    const alice = await directory.findUser('alice');
    assert.equal(alice.dn, seed.users.alice.dn);
    await directory.checkHealth();
  });

  it('walks nested groups at most 8 levels deep, and a membership cycle ends', async () => {
    const directory = directoryFor(slapd, { LDAP_NESTED_GROUPS: 'true' });
    const chain = (await directory.resolveGroups(await directory.findUser('alice')))
      .map((g) => g.name)
      .filter((name) => name.startsWith('chain-'))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    assert.deepEqual(chain, [
      'chain-0',
      'chain-1',
      'chain-2',
      'chain-3',
      'chain-4',
      'chain-5',
      'chain-6',
      'chain-7',
    ]);
    const loop = (await directory.resolveGroups(await directory.findUser('bob'))).map((g) => g.name).sort();
    assert.deepEqual(loop, ['loop-a', 'loop-b', 'registry-users']);
  });

  it('without LDAP_NESTED_GROUPS only direct groups count', async () => {
    const directory = directoryFor(slapd, { LDAP_NESTED_GROUPS: 'false' });
    const names = (await directory.resolveGroups(await directory.findUser('alice')))
      .map((g) => g.name)
      .sort();
    assert.deepEqual(names, ['chain-0', 'registry-pushers']);
  });
});
