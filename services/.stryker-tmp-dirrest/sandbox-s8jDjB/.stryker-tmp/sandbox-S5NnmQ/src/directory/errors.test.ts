// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BusyError,
  ConfidentialityRequiredError,
  InappropriateAuthError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  StrongAuthRequiredError,
} from 'ldapts';
import {
  CredentialsRejectedError,
  DirectoryUnavailableError,
  asUnavailable,
  classifyServiceError,
  classifyTransportError,
  classifyUserBindError,
  isCertificateError,
} from './errors.ts';

const adBind = (data: string) =>
  new InvalidCredentialsError(
    `80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data ${data}, v1db1`,
  );

describe('classifyUserBindError', () => {
  const table: [string, string][] = [
    ['52e', 'invalid_password'],
    ['525', 'unknown_user'],
    ['533', 'account_disabled'],
    ['701', 'account_expired'],
    ['773', 'password_must_change'],
    ['532', 'password_expired'],
    ['775', 'account_locked'],
  ];
  for (const [data, reason] of table) {
    it(`AD data ${data} → ${reason}`, () => {
      const error = classifyUserBindError(adBind(data));
      assert.ok(error instanceof CredentialsRejectedError);
      assert.equal(error.reason, reason);
    });
  }

  it('an OpenLDAP invalid credentials (49) is a wrong password', () => {
    const error = classifyUserBindError(new InvalidCredentialsError('Invalid Credentials'));
    assert.ok(error instanceof CredentialsRejectedError && error.reason === 'invalid_password');
  });

  it('anything else is the directory being unavailable, never a rejection', () => {
    assert.ok(classifyUserBindError(new BusyError('busy')) instanceof DirectoryUnavailableError);
    assert.ok(
      classifyUserBindError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ) instanceof DirectoryUnavailableError,
    );
  });
});

describe('classifyUserBindError, beyond AD', () => {
  it('AD data 530 and 531 (not permitted now / here) are a disabled account', () => {
    for (const data of ['530', '531']) {
      const error = classifyUserBindError(adBind(data));
      assert.ok(error instanceof CredentialsRejectedError && error.reason === 'account_disabled', data);
    }
  });

  it('a refused unauthenticated bind (resultCode 48) is a wrong password, with the server message', () => {
    const error = classifyUserBindError(
      new InappropriateAuthError('unauthenticated bind (DN with no password) disallowed'),
    );
    assert.ok(error instanceof CredentialsRejectedError);
    assert.equal(error.reason, 'invalid_password');
    assert.equal(error.message, 'unauthenticated bind (DN with no password) disallowed Code: 0x30');
  });

  it("a rejection keeps the directory's message, or names its reason", () => {
    const error = classifyUserBindError(adBind('775'));
    assert.match(error.message, /data 775/);
    const bare = new CredentialsRejectedError('unknown_user');
    assert.equal(bare.message, 'unknown_user');
    assert.equal(bare.name, 'CredentialsRejectedError');
  });
});

describe('DirectoryUnavailableError', () => {
  it('is unreachable (LDAP_URL) unless told otherwise, and names the variable to fix', () => {
    const plain = new DirectoryUnavailableError('down');
    assert.equal(plain.name, 'DirectoryUnavailableError');
    assert.equal(plain.kind, 'unreachable');
    assert.equal(plain.variable, 'LDAP_URL');
    assert.equal(plain.misconfigured, false);
    const tlsKind = new DirectoryUnavailableError('x', { kind: 'tls_required' });
    assert.equal(tlsKind.variable, 'LDAP_START_TLS');
    assert.equal(tlsKind.misconfigured, true);
    assert.equal(
      new DirectoryUnavailableError('x', { kind: 'bind_rejected', variable: 'LDAP_BIND_DN' }).variable,
      'LDAP_BIND_DN',
    );
  });

  it('asUnavailable keeps a DirectoryUnavailableError and wraps anything else with its name and cause', () => {
    const own = new DirectoryUnavailableError('down', { kind: 'certificate_untrusted' });
    assert.equal(asUnavailable(own), own);
    const busy = new BusyError('server busy');
    const wrapped = asUnavailable(busy);
    assert.equal(wrapped.message, 'BusyError: server busy Code: 0x33');
    assert.equal(wrapped.cause, busy);
    assert.equal(wrapped.kind, 'unreachable');
    assert.equal(asUnavailable('odd').message, 'odd');
  });
});

describe('classifyTransportError', () => {
  // Node's codes for a server certificate that does not verify.
  const certificateCodes = [
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_UNTRUSTED',
    'CERT_SIGNATURE_FAILURE',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'CERT_REJECTED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ];
  for (const code of certificateCodes) {
    it(`${code} is an untrusted certificate: fix LDAP_CA_FILE`, () => {
      const cause = Object.assign(new Error('certificate problem'), { code });
      const error = classifyTransportError(cause, 'ldaps://dc1:636');
      assert.equal(error.kind, 'certificate_untrusted');
      assert.equal(error.variable, 'LDAP_CA_FILE');
      assert.equal(
        error.message,
        'ldaps://dc1:636: the server certificate is not trusted (certificate problem): check LDAP_CA_FILE',
      );
      assert.equal(error.cause, cause);
    });
  }

  it('anything else (refused, reset, a non-string code) is unreachable and names the server', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:389'), { code: 'ECONNREFUSED' });
    const error = classifyTransportError(refused, 'ldap://127.0.0.1:389');
    assert.equal(error.kind, 'unreachable');
    assert.equal(error.message, 'ldap://127.0.0.1:389: connect ECONNREFUSED 127.0.0.1:389');
    assert.equal(error.cause, refused);
    assert.equal(isCertificateError(Object.assign(new Error('x'), { code: 7 })), false);
    assert.equal(isCertificateError(undefined), false);
    assert.equal(classifyTransportError('gone', 'ldap://a:389').message, 'ldap://a:389: gone');
    const own = new DirectoryUnavailableError('already classified');
    assert.equal(classifyTransportError(own, 'ldap://a:389'), own);
  });
});

describe('classifyServiceError', () => {
  const base = { dn: 'ou=people,dc=example,dc=org', variable: 'LDAP_USER_BASE_DN' };

  it('a refused plain simple bind (resultCodes 8 and 13) asks for TLS: LDAP_START_TLS', () => {
    for (const cause of [
      new StrongAuthRequiredError('confidentiality required'),
      new ConfidentialityRequiredError('TLS confidentiality required'),
    ]) {
      const error = classifyServiceError(cause);
      assert.equal(error.kind, 'tls_required');
      assert.equal(error.variable, 'LDAP_START_TLS');
      assert.equal(
        error.message,
        `the directory refuses simple binds without transport encryption (resultCode ${cause.code}): ` +
          'use an ldaps:// LDAP_URL or set LDAP_START_TLS=true',
      );
      assert.equal(error.cause, cause);
    }
  });

  it('a missing or malformed base DN names the base variable; without a base it is only unavailable', () => {
    const missing = classifyServiceError(new NoSuchObjectError('no such object'), base);
    assert.equal(missing.kind, 'base_dn_missing');
    assert.equal(missing.variable, 'LDAP_USER_BASE_DN');
    assert.equal(
      missing.message,
      'LDAP_USER_BASE_DN does not exist in the directory: ou=people,dc=example,dc=org',
    );
    const invalid = classifyServiceError(new InvalidDNSyntaxError('invalid DN'), {
      dn: 'not a dn',
      variable: 'LDAP_GROUP_BASE_DN',
    });
    assert.equal(invalid.kind, 'base_dn_invalid');
    assert.equal(invalid.variable, 'LDAP_GROUP_BASE_DN');
    assert.equal(invalid.message, 'LDAP_GROUP_BASE_DN is not a valid DN: not a dn');
    assert.equal(classifyServiceError(new NoSuchObjectError('no such object')).kind, 'unreachable');
    assert.equal(classifyServiceError(new InvalidDNSyntaxError('invalid DN')).kind, 'unreachable');
    assert.equal(classifyServiceError(new BusyError('busy'), base).kind, 'unreachable');
    const own = new DirectoryUnavailableError('down');
    assert.equal(classifyServiceError(own, base), own);
  });
});
