import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

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
