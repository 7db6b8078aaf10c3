import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configVariables } from '../config.ts';
import { describeUnknown, unknownVariables } from './unknown-variables.ts';

describe('unknownVariables', () => {
  const known = configVariables();

  it('names a misspelt variable and the one it was meant to be', () => {
    assert.deepEqual(unknownVariables({ LDAP_NESTED_GROUP: 'true' }, known), [
      { name: 'LDAP_NESTED_GROUP', suggestion: 'LDAP_NESTED_GROUPS' },
    ]);
  });

  it('suggests a variable up to a third of the name away, and lists the unknown ones in order', () => {
    // LDAP_PORT is 3 edits from LDAP_URL (a third of 9); CACHE_SECONDS 4 from CACHE_TTL_SECONDS (13 / 3 = 4.3).
    assert.deepEqual(
      unknownVariables({ LDAP_PORT: '636', CACHE_SECONDS: '60', LOCKOUT_ZZZZZZZZZZZZ: '1' }, known),
      [
        { name: 'CACHE_SECONDS', suggestion: 'CACHE_TTL_SECONDS' },
        { name: 'LDAP_PORT', suggestion: 'LDAP_URL' },
        { name: 'LOCKOUT_ZZZZZZZZZZZZ' },
      ],
    );
  });

  it('ignores every variable the configuration reads, *_PASSWORD_FILE included', () => {
    const env = Object.fromEntries(known.map((name) => [name, 'x']));
    assert.ok(known.includes('LDAP_BIND_PASSWORD_FILE'));
    assert.deepEqual(unknownVariables(env, known), []);
  });

  it('ignores variables outside LDAP_, AUTH_, CACHE_ and LOCKOUT_', () => {
    assert.deepEqual(unknownVariables({ PATH: '/bin', NODE_OPTIONS: '', LDAPNOINIT: '1' }, known), []);
  });

  it('gives no suggestion when nothing known is close', () => {
    const [unknown] = unknownVariables({ AUTH_ZZZZZZZZZZZZZZZZZZZZ: '1' }, known);
    assert.deepEqual(unknown, { name: 'AUTH_ZZZZZZZZZZZZZZZZZZZZ' });
    assert.equal(
      describeUnknown(unknown),
      'AUTH_ZZZZZZZZZZZZZZZZZZZZ is set but not read by registry-ldap-auth',
    );
  });

  it('says which variable was probably meant', () => {
    assert.equal(
      describeUnknown({ name: 'CACHE_TTL', suggestion: 'CACHE_TTL_SECONDS' }),
      'CACHE_TTL is set but not read by registry-ldap-auth: did you mean CACHE_TTL_SECONDS?',
    );
  });
});
