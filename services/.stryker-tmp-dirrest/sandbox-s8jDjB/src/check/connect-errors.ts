// @ts-nocheck
// Why a service-account connection failed, in words that name the variable to change. The server's
// answers (bind rejected, encryption required) and untrusted certificates are configuration problems;
// everything else (refused, timed out, reset) means the server could not be reached.
import {
  ConfidentialityRequiredError,
  InappropriateAuthError,
  InvalidCredentialsError,
  ResultCodeError,
  StrongAuthRequiredError,
} from 'ldapts';
import type { Env } from '../env-reader.ts';

export interface ConnectFailure {
  readonly kind: 'misconfigured' | 'unreachable';
  readonly message: string;
}

// Node's TLS verification codes (X509_V_ERR_* from OpenSSL, and Node's own host check).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const WRONG_NAME = 'ERR_TLS_CERT_ALTNAME_INVALID';

/** The first `code` along the error's cause chain. */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    message = e.message;
  return message;
}

/** `env` tells which of NAME / NAME_FILE the operator set, so the message names the one to fix. */
export function explainConnectFailure(error: unknown, url: string, env: Env): ConnectFailure {
  const passwordVariable =
    env['LDAP_BIND_PASSWORD_FILE'] === undefined ? 'LDAP_BIND_PASSWORD' : 'LDAP_BIND_PASSWORD_FILE';
  if (error instanceof InvalidCredentialsError) {
    return {
      kind: 'misconfigured',
      message: `${url}: the directory rejected the service account: check LDAP_BIND_DN and ${passwordVariable}`,
    };
  }
  if (error instanceof StrongAuthRequiredError || error instanceof ConfidentialityRequiredError) {
    return {
      kind: 'misconfigured',
      message: `${url}: the directory refuses simple binds without encryption: use an ldaps:// LDAP_URL or set LDAP_START_TLS=true`,
    };
  }
  if (error instanceof InappropriateAuthError) {
    return {
      kind: 'misconfigured',
      message: `${url}: the directory refuses this kind of bind (${error.message}): set LDAP_BIND_DN and ${passwordVariable}`,
    };
  }
  if (error instanceof ResultCodeError) {
    return {
      kind: 'misconfigured',
      message: `${url}: the service account's bind failed: ${error.name} (resultCode ${error.code}) ${error.message}`,
    };
  }
  const code = errorCode(error);
  if (code !== undefined && UNTRUSTED.has(code)) {
    return {
      kind: 'misconfigured',
      message: `${url}: the server's certificate is not trusted (${code}): set LDAP_CA_FILE to the CA that signed it`,
    };
  }
  if (code !== undefined && EXPIRED.has(code)) {
    return { kind: 'misconfigured', message: `${url}: the server's certificate is not valid now (${code})` };
  }
  if (code === WRONG_NAME) {
    return {
      kind: 'misconfigured',
      message: `${url}: the server's certificate does not name this host (${innermostMessage(error)}): use a host name the certificate names in LDAP_URL`,
    };
  }
  return { kind: 'unreachable', message: `${url}: cannot connect (${innermostMessage(error)})` };
}
