// @ts-nocheck
// 
// Every decision ends with exactly one reason from this closed set. The HTTP status and the metrics/audit
// `result` of each reason are defined here and nowhere else (reasons.test.ts keeps the table honest).

// `challenge` is the first request of nearly every client session (docker, skopeo and crane send no
// credentials until they have been challenged): counted apart, so it does not drown real failures.
export type DecisionResult = 'allow' | 'deny' | 'challenge' | 'unauthenticated' | 'locked' | 'error';

interface ReasonSpec {
  readonly status: 200 | 401 | 403 | 500 | 503;
  readonly result: DecisionResult;
  readonly description: string;
}

export const REASONS = {
  granted: { status: 200, result: 'allow', description: 'credentials valid and the action is granted' },

  no_credentials: {
    status: 401,
    result: 'challenge',
    description: 'no Authorization header: the Basic challenge every client gets first',
  },
  malformed_credentials: {
    status: 401,
    result: 'unauthenticated',
    description: 'Authorization is not well-formed HTTP Basic (RFC 7617, UTF-8)',
  },
  empty_password: {
    status: 401,
    result: 'unauthenticated',
    description: 'empty password, refused before any bind',
  },
  unknown_user: {
    status: 401,
    result: 'unauthenticated',
    description: 'no directory entry matches the username',
  },
  ambiguous_user: {
    status: 401,
    result: 'unauthenticated',
    description: 'more than one directory entry matches the username',
  },
  invalid_password: {
    status: 401,
    result: 'unauthenticated',
    description: 'the directory rejected the password',
  },
  account_disabled: { status: 401, result: 'unauthenticated', description: 'account disabled (AD data 533)' },
  account_expired: { status: 401, result: 'unauthenticated', description: 'account expired (AD data 701)' },
  password_must_change: {
    status: 401,
    result: 'unauthenticated',
    description: 'password must be changed at next logon (AD data 773)',
  },
  password_expired: { status: 401, result: 'unauthenticated', description: 'password expired (AD data 532)' },
  account_locked: {
    status: 401,
    result: 'unauthenticated',
    description: 'the directory has locked the account (AD data 775)',
  },
  locked_out: {
    status: 401,
    result: 'locked',
    description:
      'too many recent failures, or checks in flight, for this account or client address (LOCKOUT_*); the audit line’s lock says which',
  },

  // CI job tokens (OIDC_USERNAME + a JWT as the password; docs/oidc.md).
  untrusted_issuer: {
    status: 401,
    result: 'unauthenticated',
    description: 'the token\'s "iss" is not a trusted issuer of OIDC_CONFIG_FILE',
  },
  token_invalid: {
    status: 401,
    result: 'unauthenticated',
    description: 'not a well-formed signed JWT, a bad signature, or a required claim missing or malformed',
  },
  token_unsigned: {
    status: 401,
    result: 'unauthenticated',
    description: 'the token is unsigned (alg "none")',
  },
  token_algorithm_not_allowed: {
    status: 401,
    result: 'unauthenticated',
    description:
      'the token is signed with an algorithm off the allow-list (HMAC, or one the issuer may not use)',
  },
  token_unknown_key: {
    status: 401,
    result: 'unauthenticated',
    description: 'the token names a key the issuer does not publish, even after re-fetching its JWKS',
  },
  token_expired: { status: 401, result: 'unauthenticated', description: 'the token is past its "exp"' },
  token_not_yet_valid: {
    status: 401,
    result: 'unauthenticated',
    description: 'the token\'s "nbf" or "iat" lies in the future (beyond the clock skew)',
  },
  token_lifetime_too_long: {
    status: 401,
    result: 'unauthenticated',
    description: "the token is valid for longer than the issuer's max_token_lifetime_seconds",
  },
  token_wrong_audience: {
    status: 401,
    result: 'unauthenticated',
    description: 'the token\'s "aud" does not name this registry (the issuer\'s configured audience)',
  },

  not_granted: { status: 403, result: 'deny', description: 'authenticated, but no rule grants this action' },
  no_matching_rule: {
    status: 403,
    result: 'deny',
    description: 'a valid token, but no rule of its issuer matches its claims',
  },
  invalid_request: {
    status: 403,
    result: 'deny',
    description:
      'not a registry API request this service authorizes (unknown route, bad repository name, ...)',
  },
  form_body: {
    status: 403,
    result: 'deny',
    description:
      'a POST/PUT/PATCH with a form or multipart body: the registry would read parameters (mount, from) from a body this service never sees',
  },

  directory_unavailable: {
    status: 503,
    result: 'error',
    description: 'the directory is unreachable and no valid cached decision exists',
  },
  issuer_unavailable: {
    status: 503,
    result: 'error',
    description: "the token's key is not cached and the issuer's keys cannot be fetched (fail closed)",
  },
  directory_misconfigured: {
    status: 503,
    result: 'error',
    description:
      "the directory refuses this service's configuration (service bind rejected, base DN missing, certificate not trusted); the log names the variable",
  },
  proxy_misconfigured: {
    status: 500,
    result: 'error',
    description:
      'the request lacks X-Original-Method / X-Original-URI (or X-Forwarded-Method / X-Forwarded-Uri from a trusted proxy), or the two pairs disagree: the proxy is not configured correctly',
  },
  internal_error: { status: 500, result: 'error', description: 'unexpected failure inside the service' },
} as const satisfies Record<string, ReasonSpec>;

export type Reason = keyof typeof REASONS;

/** Reasons for which the client is challenged with WWW-Authenticate. */
export function isChallenge(reason: Reason): boolean {
  return REASONS[reason].status === 401;
}
