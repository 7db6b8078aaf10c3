// The closed set of failures the directory layer reports. Callers branch with `instanceof`; reasons.ts
// maps each to the HTTP status.
import { InappropriateAuthError, InvalidCredentialsError } from 'ldapts';
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

/** The directory could not be asked (down, timing out, TLS refused, misconfigured). Never cached; 503. */
export class DirectoryUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
  }
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
