// @ts-nocheck
// 
// 
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';

const minimal = {
  LDAP_URL: 'ldap://127.0.0.1:389',
  LDAP_USER_BASE_DN: 'ou=people,dc=example,dc=test',
  AUTH_PUSH_GROUPS: 'registry-pushers',
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig(minimal);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 8080);
    assert.equal(c.metricsPort, 9090);
    assert.equal(c.maxConnections, 1024);
    assert.equal(c.realm, 'Registry realm');
    assert.equal(c.ldap.preset, 'openldap');
    assert.equal(c.ldap.usernameAttribute, 'uid');
    assert.equal(c.ldap.groupBaseDn, minimal.LDAP_USER_BASE_DN);
    assert.equal(c.ldap.timeoutMs, 5000);
    assert.equal(c.ldap.connectTimeoutMs, 3000);
    assert.equal(c.ldap.poolSize, 4);
    assert.deepEqual(c.cache, {
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      maxEntries: 10000,
      staleIfErrorSeconds: 0,
    });
    assert.deepEqual(c.lockout, {
      maxFailures: 10,
      addressMaxFailures: 10,
      windowSeconds: 300,
      durationSeconds: 300,
      familiarSeconds: 604_800,
    });
    assert.deepEqual(c.trustedProxies, ['loopback']);
    assert.equal(c.logLevel, 'info');
  });

  it('names every missing required variable at once', () => {
    const p = problems({});
    assert.ok(p.some((m) => m.startsWith('LDAP_URL is required')));
    assert.ok(p.some((m) => m.startsWith('LDAP_USER_BASE_DN is required')));
    assert.ok(p.some((m) => m.startsWith('AUTH_PUSH_GROUPS is required')));
  });

  it('names every bad value by variable', () => {
    const p = problems({
      ...minimal,
      PORT: 'eighty',
      LDAP_URL: 'http://dir.example.test',
      LDAP_PRESET: 'novell',
      LDAP_START_TLS: 'maybe',
      LDAP_USER_FILTER: '(uid=alice)',
      LDAP_POOL_SIZE: '0',
      CACHE_TTL_SECONDS: '-1',
      LOG_LEVEL: 'loud',
      TRUSTED_PROXIES: 'not-an-address',
      LDAP_BIND_DN: 'cn=svc',
    });
    for (const name of [
      'PORT',
      'LDAP_URL',
      'LDAP_PRESET',
      'LDAP_START_TLS',
      'LDAP_USER_FILTER',
      'LDAP_POOL_SIZE',
      'CACHE_TTL_SECONDS',
      'LOG_LEVEL',
      'TRUSTED_PROXIES',
      'LDAP_BIND_DN',
    ]) {
      assert.ok(
        p.some((m) => m.includes(name)),
        `a problem names ${name}: ${p.join(' | ')}`,
      );
    }
  });

  it('refuses an AUTH_REALM that cannot go into a WWW-Authenticate header as is, and names it', () => {
    for (const realm of [
      'Régistry',
      'a\u0001b',
      'tab\there',
      'say "hi"',
      'back\\slash',
      'x'.repeat(129),
      '☃',
    ]) {
      assert.ok(
        problems({ ...minimal, AUTH_REALM: realm }).some((m) => m.startsWith('AUTH_REALM must be')),
        JSON.stringify(realm),
      );
    }
    for (const realm of ['Registry realm', 'ACME corp. registry (prod) #1', 'x'.repeat(128)])
      assert.equal(loadConfig({ ...minimal, AUTH_REALM: realm }).realm, realm);
  });

  it('refuses StartTLS on an ldaps:// URL', () => {
    assert.ok(
      problems({ ...minimal, LDAP_URL: 'ldaps://dir:636', LDAP_START_TLS: 'true' }).some((m) =>
        m.includes('LDAP_START_TLS'),
      ),
    );
  });

  it('needs {dn} in the group filter for a nested walk', () => {
    const p = problems({
      ...minimal,
      LDAP_NESTED_GROUPS: 'true',
      LDAP_GROUP_FILTER: '(&(objectClass=posixGroup)(memberUid={username}))',
    });
    assert.ok(p.some((m) => m.includes('LDAP_NESTED_GROUPS')));
  });

  it('reads *_PASSWORD_FILE, dropping one trailing newline, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const file = join(dir, 'bind-password');
    writeFileSync(file, 's3cret with spaces \n');
    const c = loadConfig({ ...minimal, LDAP_BIND_DN: 'cn=svc', LDAP_BIND_PASSWORD_FILE: file });
    assert.equal(c.ldap.bindPassword, 's3cret with spaces ');
    assert.ok(
      problems({
        ...minimal,
        LDAP_BIND_DN: 'cn=svc',
        LDAP_BIND_PASSWORD: 'x',
        LDAP_BIND_PASSWORD_FILE: file,
      }).some((m) => m.includes('not both')),
    );
    assert.ok(
      problems({ ...minimal, LDAP_BIND_DN: 'cn=svc', LDAP_BIND_PASSWORD_FILE: join(dir, 'missing') }).some(
        (m) => m.includes('ENOENT'),
      ),
    );
  });

  it('rewrites the AD group filter to LDAP_MATCHING_RULE_IN_CHAIN when nested groups are on', () => {
    const c = loadConfig({ ...minimal, LDAP_PRESET: 'activedirectory', LDAP_NESTED_GROUPS: 'true' });
    assert.equal(c.ldap.nestedInFilter, true);
    assert.match(c.ldap.groupFilter.source, /member:1\.2\.840\.113556\.1\.4\.1941:=\{dn\}/);
    assert.equal(c.ldap.usernameAttribute, 'sAMAccountName');
  });

  it('reads the CA bundle and refuses a file without certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    writeFileSync(join(dir, 'empty.pem'), 'nothing here');
    assert.ok(
      problems({ ...minimal, LDAP_CA_FILE: join(dir, 'empty.pem') }).some((m) => m.includes('LDAP_CA_FILE')),
    );
  });

  it('splits group lists on semicolons when they name groups by DN', () => {
    const c = loadConfig({
      ...minimal,
      AUTH_PUSH_GROUPS: 'CN=registry-pushers,CN=Users,DC=example,DC=test; registry-ci',
      AUTH_PULL_GROUPS: 'registry-users, registry-pushers',
    });
    assert.deepEqual(c.policy.pushGroups, ['CN=registry-pushers,CN=Users,DC=example,DC=test', 'registry-ci']);
    assert.deepEqual(c.policy.pullGroups, ['registry-users', 'registry-pushers']);
  });

  it('keeps a single DN whole in a comma list', () => {
    const c = loadConfig({
      ...minimal,
      AUTH_PUSH_GROUPS: 'CN=registry-pushers,CN=Users,DC=example,DC=test,registry-ci',
    });
    assert.deepEqual(c.policy.pushGroups, ['CN=registry-pushers,CN=Users,DC=example,DC=test', 'registry-ci']);
  });

  it('keeps an escaped comma inside a DN value (RFC 4514) in a comma list', () => {
    const c = loadConfig({
      ...minimal,
      AUTH_PUSH_GROUPS: 'cn=Ops\\, EMEA,ou=groups,dc=example,dc=test,registry-ci',
      AUTH_PULL_GROUPS: 'cn=a\\\\,dc=x,readers',
    });
    assert.deepEqual(c.policy.pushGroups, ['cn=Ops\\, EMEA,ou=groups,dc=example,dc=test', 'registry-ci']);
    assert.deepEqual(c.policy.pullGroups, ['cn=a\\\\,dc=x', 'readers']);
  });

  it('refuses a grant that looks like a DN but does not parse, naming the variable', () => {
    const p = problems({
      ...minimal,
      AUTH_PULL_GROUPS: 'cn=<readers>,dc=example,dc=test',
      AUTH_CATALOG_GROUPS: 'cn=a\\q,dc=x',
    });
    for (const variable of ['AUTH_PULL_GROUPS', 'AUTH_CATALOG_GROUPS']) {
      assert.ok(
        p.some((m) => m.startsWith(variable) && /distinguished name/.test(m)),
        `${variable}: ${p.join(' | ')}`,
      );
    }
  });

  it('validates repository-scoped grants', () => {
    const c = loadConfig({
      ...minimal,
      AUTH_PUSH_GROUPS: 'team-a@team-a/*',
      AUTH_PULL_GROUPS: 'readers@team-a/**',
    });
    assert.deepEqual(c.policy.pushGroups, ['team-a@team-a/*']);
    const p = problems({ ...minimal, AUTH_PUSH_GROUPS: 'team-a@Team A', AUTH_CATALOG_GROUPS: 'ops@x/*' });
    assert.ok(p.some((m) => m.startsWith('AUTH_PUSH_GROUPS')));
    assert.ok(p.some((m) => m.startsWith('AUTH_CATALOG_GROUPS')));
  });

  it('returns a frozen configuration', () => {
    const c = loadConfig(minimal);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.ldap) && Object.isFrozen(c.policy.pushGroups));
  });
});

// Every numeric setting: read from its own name, and held to its documented range at both ends.
const INTEGERS: [name: string, min: number, max: number, read: (c: Config) => number][] = [
  ['PORT', 0, 65535, (c) => c.port],
  ['METRICS_PORT', 0, 65535, (c) => c.metricsPort],
  ['MAX_CONNECTIONS', 1, 1_000_000, (c) => c.maxConnections],
  ['DECISION_TIMEOUT_MS', 100, 600_000, (c) => c.decisionTimeoutMs],
  ['LDAP_TIMEOUT_MS', 100, 600_000, (c) => c.ldap.timeoutMs],
  ['LDAP_CONNECT_TIMEOUT_MS', 100, 600_000, (c) => c.ldap.connectTimeoutMs],
  ['LDAP_POOL_SIZE', 1, 64, (c) => c.ldap.poolSize],
  ['CACHE_TTL_SECONDS', 0, 86_400, (c) => c.cache.ttlSeconds],
  ['CACHE_NEGATIVE_TTL_SECONDS', 0, 86_400, (c) => c.cache.negativeTtlSeconds],
  ['CACHE_MAX_ENTRIES', 1, 10_000_000, (c) => c.cache.maxEntries],
  ['CACHE_STALE_IF_ERROR_SECONDS', 0, 7 * 86_400, (c) => c.cache.staleIfErrorSeconds],
  ['LOCKOUT_MAX_FAILURES', 0, 1_000_000, (c) => c.lockout.maxFailures],
  ['LOCKOUT_ADDRESS_MAX_FAILURES', 0, 1_000_000, (c) => c.lockout.addressMaxFailures],
  ['LOCKOUT_WINDOW_SECONDS', 1, 86_400, (c) => c.lockout.windowSeconds],
  ['LOCKOUT_DURATION_SECONDS', 1, 86_400, (c) => c.lockout.durationSeconds],
  ['LOCKOUT_FAMILIAR_SECONDS', 0, 90 * 86_400, (c) => c.lockout.familiarSeconds],
];

describe('loadConfig: every setting from its own variable', () => {
  for (const [name, min, max, read] of INTEGERS) {
    it(`${name} takes ${min} and ${max}, refuses ${min - 1} and ${max + 1} naming itself`, () => {
      assert.equal(read(loadConfig({ ...minimal, [name]: String(min) })), min);
      assert.equal(read(loadConfig({ ...minimal, [name]: String(max) })), max);
      for (const bad of [min - 1, max + 1]) {
        const p = problems({ ...minimal, [name]: String(bad) });
        assert.equal(p.length, 1, `${name}=${bad}: ${p.join('; ')}`);
        assert.match(p[0] ?? '', new RegExp(`^${name}\\b`));
      }
    });
  }

  it('reads every string, list and switch from its own name', () => {
    const c = loadConfig({
      ...minimal,
      HOST: '127.0.0.2',
      METRICS_HOST: '127.0.0.3',
      AUTH_REALM: 'Example registry',
      AUTH_PULL_GROUPS: 'readers',
      AUTH_DELETE_GROUPS: 'cleaners',
      AUTH_CATALOG_GROUPS: 'auditors',
      TRUSTED_PROXIES: '10.0.0.0/8',
      LOG_LEVEL: 'warn',
      LDAP_PRESET: 'activedirectory',
      LDAP_URL: 'ldap://a.example.test,ldap://b.example.test',
      LDAP_START_TLS: 'true',
      LDAP_TLS_INSECURE: 'true',
      LDAP_BIND_DN: 'cn=svc,dc=example,dc=test',
      LDAP_BIND_PASSWORD: 'not-a-real-secret',
      LDAP_USER_FILTER: '(cn={username})',
      LDAP_USERNAME_ATTRIBUTE: 'cn',
      LDAP_GROUP_BASE_DN: 'ou=groups,dc=example,dc=test',
      LDAP_GROUP_FILTER: '(uniqueMember={dn})',
      LDAP_GROUP_NAME_ATTRIBUTE: 'ou',
      LDAP_NESTED_GROUPS: 'true',
    });
    assert.equal(c.host, '127.0.0.2');
    assert.equal(c.metricsHost, '127.0.0.3');
    assert.equal(c.realm, 'Example registry');
    assert.deepEqual(
      [c.policy.pushGroups, c.policy.pullGroups, c.policy.deleteGroups, c.policy.catalogGroups],
      [['registry-pushers'], ['readers'], ['cleaners'], ['auditors']],
    );
    assert.deepEqual(c.trustedProxies, ['10.0.0.0/8']);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.ldap.preset, 'activedirectory');
    assert.deepEqual(c.ldap.urls, ['ldap://a.example.test', 'ldap://b.example.test']);
    assert.equal(c.ldap.startTls, true);
    assert.equal(c.ldap.tlsInsecure, true);
    assert.equal(c.ldap.bindDn, 'cn=svc,dc=example,dc=test');
    assert.equal(c.ldap.bindPassword, 'not-a-real-secret');
    assert.equal(c.ldap.userFilter.source, '(cn={username})');
    assert.equal(c.ldap.usernameAttribute, 'cn');
    assert.equal(c.ldap.groupBaseDn, 'ou=groups,dc=example,dc=test');
    assert.equal(c.ldap.groupFilter.source, '(uniqueMember={dn})');
    assert.equal(c.ldap.groupNameAttribute, 'ou');
    assert.equal(c.ldap.nestedGroups, true);
    assert.equal(c.ldap.nestedInFilter, false, 'only the AD preset with (member={dn}) nests in the filter');
  });

  it('defaults the switches off, and LOCKOUT_ADDRESS_MAX_FAILURES to LOCKOUT_MAX_FAILURES', () => {
    const c = loadConfig({ ...minimal, LOCKOUT_MAX_FAILURES: '7' });
    assert.equal(c.ldap.startTls, false);
    assert.equal(c.ldap.tlsInsecure, false);
    assert.equal(c.ldap.nestedGroups, false);
    assert.equal(c.ldap.bindDn, undefined);
    assert.equal(c.lockout.addressMaxFailures, 7);
    assert.deepEqual(c.policy.pullGroups, []);
  });

  it('takes an attribute given by name or by OID, and refuses anything else naming the variable', () => {
    for (const ok of ['uid', 'sAMAccountName', 'x-custom-1', '0.9.2342.19200300.100.1.1']) {
      assert.equal(loadConfig({ ...minimal, LDAP_USERNAME_ATTRIBUTE: ok }).ldap.usernameAttribute, ok);
      assert.equal(loadConfig({ ...minimal, LDAP_GROUP_NAME_ATTRIBUTE: ok }).ldap.groupNameAttribute, ok);
    }
    for (const bad of [
      '1uid',
      'uid;binary',
      'u id',
      '(uid)',
      '1.',
      '.1.2',
      '1..2',
      'uid*',
      'a.b.c',
      '1.2.x',
    ]) {
      for (const name of ['LDAP_USERNAME_ATTRIBUTE', 'LDAP_GROUP_NAME_ATTRIBUTE']) {
        assert.deepEqual(problems({ ...minimal, [name]: bad }), [`${name} is not an attribute name: ${bad}`]);
      }
    }
  });

  it('takes ldap:// and ldaps:// URLs with a host, and refuses anything with a path, query or other scheme', () => {
    for (const ok of ['ldap://dc1', 'LDAPS://dc1.example.test:636', 'ldap://[::1]:389/', 'ldap://10.0.0.1']) {
      assert.deepEqual(loadConfig({ ...minimal, LDAP_URL: ok }).ldap.urls, [ok]);
    }
    for (const bad of [
      'ldap://',
      'ldap://dc1/dc=x',
      'ldap://dc1?x',
      'http://dc1',
      'xldap://dc1',
      'ldap://dc1 x',
      ' ldap://dc1#',
    ]) {
      const p = problems({ ...minimal, LDAP_URL: bad });
      assert.ok(
        p.some((m) => m.startsWith('LDAP_URL:') && m.includes('is not an ldap:// or ldaps:// URL')),
        `${bad}: ${p.join('; ')}`,
      );
    }
  });
});
