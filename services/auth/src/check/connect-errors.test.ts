import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfidentialityRequiredError,
  InappropriateAuthError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  StrongAuthRequiredError,
} from 'ldapts';
import { DirectoryUnavailableError } from '../directory/errors.ts';
import { explainConnectFailure } from './connect-errors.ts';

const URL = 'ldaps://dc1.example.test';

/** A TLS failure as DirectoryProbe.connect throws it: Node's error, wrapped once. */
function tlsFailure(code: string, message = `certificate problem ${code}`): Error {
  const cause = Object.assign(new Error(message), { code });
  return new DirectoryUnavailableError(`${URL}: ${message}`, { cause });
}

describe('explainConnectFailure', () => {
  it('names the password variable the operator set when the service account is rejected', () => {
    const error = new InvalidCredentialsError('invalid credentials');
    assert.deepEqual(explainConnectFailure(error, URL, {}), {
      kind: 'misconfigured',
      message: `${URL}: the directory rejected the service account: check LDAP_BIND_DN and LDAP_BIND_PASSWORD`,
    });
    assert.equal(
      explainConnectFailure(error, URL, { LDAP_BIND_PASSWORD_FILE: '/run/secrets/bind' }).message,
      `${URL}: the directory rejected the service account: check LDAP_BIND_DN and LDAP_BIND_PASSWORD_FILE`,
    );
  });

  it('asks for TLS when the server refuses simple binds in the clear', () => {
    for (const error of [new StrongAuthRequiredError('x'), new ConfidentialityRequiredError('x')]) {
      assert.deepEqual(explainConnectFailure(error, URL, {}), {
        kind: 'misconfigured',
        message: `${URL}: the directory refuses simple binds without encryption: use an ldaps:// LDAP_URL or set LDAP_START_TLS=true`,
      });
    }
  });

  it('asks for a service account when the server refuses the kind of bind (anonymous)', () => {
    const error = new InappropriateAuthError('anonymous bind disallowed');
    const failure = explainConnectFailure(error, URL, { LDAP_BIND_PASSWORD_FILE: '/run/secrets/bind' });
    assert.deepEqual(failure, {
      kind: 'misconfigured',
      message: `${URL}: the directory refuses this kind of bind (${error.message}): set LDAP_BIND_DN and LDAP_BIND_PASSWORD_FILE`,
    });
    assert.match(error.message, /^anonymous bind disallowed/);
  });

  it('shows any other answer of the server with its result code', () => {
    const error = new InvalidDNSyntaxError('invalid DN');
    assert.deepEqual(explainConnectFailure(error, URL, {}), {
      kind: 'misconfigured',
      message: `${URL}: the service account's bind failed: InvalidDNSyntaxError (resultCode 34) ${error.message}`,
    });
  });

  it('asks for LDAP_CA_FILE for every way a certificate chain does not verify', () => {
    // Written out, not imported from the module: the list is what the check promises operators.
    for (const code of [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'CERT_UNTRUSTED',
      'CERT_SIGNATURE_FAILURE',
    ]) {
      assert.deepEqual(explainConnectFailure(tlsFailure(code), URL, {}), {
        kind: 'misconfigured',
        message: `${URL}: the server's certificate is not trusted (${code}): set LDAP_CA_FILE to the CA that signed it`,
      });
    }
  });

  it('says a certificate is not valid now, without blaming the CA', () => {
    for (const code of ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']) {
      assert.deepEqual(explainConnectFailure(tlsFailure(code), URL, {}), {
        kind: 'misconfigured',
        message: `${URL}: the server's certificate is not valid now (${code})`,
      });
    }
  });

  it('quotes the host check and asks for a name the certificate holds', () => {
    const error = tlsFailure('ERR_TLS_CERT_ALTNAME_INVALID', "Host: dc1. is not in the cert's altnames");
    assert.deepEqual(explainConnectFailure(error, URL, {}), {
      kind: 'misconfigured',
      message: `${URL}: the server's certificate does not name this host (Host: dc1. is not in the cert's altnames): use a host name the certificate names in LDAP_URL`,
    });
  });

  it('calls everything else unreachable, quoting the innermost cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:636'), { code: 'ECONNREFUSED' });
    const wrapped = new DirectoryUnavailableError(`${URL}: down`, {
      cause: new Error('socket', { cause: refused }),
    });
    assert.deepEqual(explainConnectFailure(wrapped, URL, {}), {
      kind: 'unreachable',
      message: `${URL}: cannot connect (connect ECONNREFUSED 10.0.0.1:636)`,
    });
    assert.deepEqual(explainConnectFailure('no route', URL, {}), {
      kind: 'unreachable',
      message: `${URL}: cannot connect (no route)`,
    });
  });

  it('ends on an error that is its own cause', () => {
    const loop = new Error('loop');
    loop.cause = loop;
    assert.deepEqual(explainConnectFailure(loop, URL, {}), {
      kind: 'unreachable',
      message: `${URL}: cannot connect (loop)`,
    });
  });
});
