// @ts-nocheck
// 
// 
// The closed set of failures the directory layer reports. Callers branch with `instanceof`; reasons.ts
// maps each to the HTTP status.
import {
  ConfidentialityRequiredError,
  InappropriateAuthError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  StrongAuthRequiredError,
} from 'ldapts';
import type { Reason } from '../reasons.ts';

export type RejectionReason = Extract<
  Reason,
  | 'unknown_user'
  | 'ambiguous_user'
  | 'invalid_password'
  | 'account_disabled'
  | 'account_expired'
  | 'password_must_change'
  | 'password_expired'
  | 'account_locked'
>;

/** The directory answered, and the answer is no. Safe to cache briefly; counts towards lockout. */
export class CredentialsRejectedError extends Error {
  readonly reason: RejectionReason;
  constructor(reason: RejectionReason, message?: string) {
    super(message ?? reason);
    this.name = 'CredentialsRejectedError';
    this.reason = reason;
  }
}

/**
 * Why the directory could not be used. `unreachable` heals by itself (retry); every other kind is the
 * directory refusing this service's configuration, and names the variable to fix.
 */
export const UNAVAILABLE_KINDS = {
  unreachable: 'LDAP_URL',
  bind_rejected: 'LDAP_BIND_PASSWORD_FILE',
  base_dn_missing: 'LDAP_USER_BASE_DN',
  base_dn_invalid: 'LDAP_USER_BASE_DN',
  certificate_untrusted: 'LDAP_CA_FILE',
  tls_required: 'LDAP_START_TLS',
} as const;

export type UnavailableKind = keyof typeof UNAVAILABLE_KINDS;

export interface UnavailableOptions extends ErrorOptions {
  readonly kind?: UnavailableKind;
  /** The variable to fix; by default the kind's (UNAVAILABLE_KINDS). */
  readonly variable?: string;
}

/** The directory could not be asked (down, timing out, TLS refused, misconfigured). Never cached; 503. */
export class DirectoryUnavailableError extends Error {
  readonly kind: UnavailableKind;
  readonly variable: string;
  constructor(message: string, options: UnavailableOptions = {}) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
    this.kind = options.kind ?? 'unreachable';
    this.variable = options.variable ?? UNAVAILABLE_KINDS[this.kind];
  }

  /** Rejected or misconfigured, as opposed to unreachable: retrying will not help. */
  get misconfigured(): boolean {
    return this.kind !== 'unreachable';
  }
}

// Node's codes for a server certificate that does not verify (OpenSSL X509_V_ERR_* names, and the host check).
const CERTIFICATE_ERRORS = new Set([
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
]);

/** True for a TLS failure caused by the server's certificate not verifying against LDAP_CA_FILE. */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERTIFICATE_ERRORS.has(code);
}

/** A failure to connect to `server` (refused, timed out, TLS refused): the directory is unavailable. */
export function classifyTransportError(error: unknown, server: string): DirectoryUnavailableError {
  if (error instanceof DirectoryUnavailableError) return error;
  const text = error instanceof Error ? error.message : String(error);
  if (isCertificateError(error)) {
    return new DirectoryUnavailableError(
      `${server}: the server certificate is not trusted (${text}): check LDAP_CA_FILE`,
      { cause: error, kind: 'certificate_untrusted' },
    );
  }
  return new DirectoryUnavailableError(`${server}: ${text}`, { cause: error });
}

// Active Directory puts the real cause of a failed bind in the diagnostic message:
// "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563".
const AD_BIND_DATA: Readonly<Record<string, RejectionReason>> = {
  '525': 'unknown_user',
  '52e': 'invalid_password',
  '530': 'account_disabled', // not permitted to log on at this time
  '531': 'account_disabled', // not permitted to log on at this workstation
  '532': 'password_expired',
  '533': 'account_disabled',
  '701': 'account_expired',
  '773': 'password_must_change',
  '775': 'account_locked',
};

/** Classifies the error of a bind made with a user's own credentials. */
export function classifyUserBindError(error: unknown): Error {
  if (error instanceof InvalidCredentialsError) {
    const data = /\bdata ([0-9a-f]{3,4})\b/i.exec(error.message)?.[1]?.toLowerCase();
    return new CredentialsRejectedError(
      (data === undefined ? undefined : AD_BIND_DATA[data]) ?? 'invalid_password',
      error.message,
    );
  }
  // 48: the server refuses this kind of bind for this entry (e.g. unauthenticated binds disabled).
  if (error instanceof InappropriateAuthError)
    return new CredentialsRejectedError('invalid_password', error.message);
  return asUnavailable(error);
}

export function asUnavailable(error: unknown): DirectoryUnavailableError {
  if (error instanceof DirectoryUnavailableError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DirectoryUnavailableError(message, { cause: error });
}

/** Turns a service-account failure into an error that names its cause and the variable to fix. */
export function classifyServiceError(
  error: unknown,
  base?: { dn: string; variable: string },
): DirectoryUnavailableError {
  if (error instanceof DirectoryUnavailableError) return error;
  if (error instanceof StrongAuthRequiredError || error instanceof ConfidentialityRequiredError) {
    return new DirectoryUnavailableError(
      'the directory refuses simple binds without transport encryption (resultCode ' +
        `${error.code}): use an ldaps:// LDAP_URL or set LDAP_START_TLS=true`,
      { cause: error, kind: 'tls_required' },
    );
  }
  if (error instanceof NoSuchObjectError && base !== undefined) {
    return new DirectoryUnavailableError(`${base.variable} does not exist in the directory: ${base.dn}`, {
      cause: error,
      kind: 'base_dn_missing',
      variable: base.variable,
    });
  }
  if (error instanceof InvalidDNSyntaxError && base !== undefined) {
    return new DirectoryUnavailableError(`${base.variable} is not a valid DN: ${base.dn}`, {
      cause: error,
      kind: 'base_dn_invalid',
      variable: base.variable,
    });
  }
  return asUnavailable(error);
}
