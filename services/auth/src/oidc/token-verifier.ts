// Verifies a CI job token (a JWT signed by a trusted issuer) with jose, and names why one is refused. The
// checks that need no key come first (shape, algorithm, issuer), so a forged or foreign token costs neither
// a signature check nor a fetch.
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { Reason } from '../reasons.ts';
import { IssuerKeys, IssuerUnavailableError, UnknownKeyError } from './issuer-keys.ts';
import type { IssuerKeysOptions } from './issuer-keys.ts';
import { ASYMMETRIC_ALGORITHMS } from './rules-file.ts';
import type { TrustedIssuer } from './rules-file.ts';

export type TokenFailure = Extract<
  Reason,
  | 'untrusted_issuer'
  | 'token_invalid'
  | 'token_unsigned'
  | 'token_algorithm_not_allowed'
  | 'token_unknown_key'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_lifetime_too_long'
  | 'token_wrong_audience'
  | 'issuer_unavailable'
>;

export type Verification =
  | {
      readonly ok: true;
      readonly issuer: TrustedIssuer;
      readonly claims: JWTPayload;
      /** Milliseconds since the epoch: the token's `exp`. */
      readonly expiresAt: number;
    }
  | {
      readonly ok: false;
      readonly reason: TokenFailure;
      /** For the operator's log: never the token. */
      readonly detail: string;
      readonly issuer?: TrustedIssuer;
      /** Only when the signature was verified (an expired token, a wrong audience). */
      readonly claims?: JWTPayload;
    };

export type KeyOptions = Omit<IssuerKeysOptions, 'issuer' | 'ca' | 'onFetch'>;

export interface TokenVerifierOptions {
  readonly now?: () => number;
  readonly keys?: KeyOptions;
  readonly onKeyFetch?: (issuer: TrustedIssuer, outcome: 'success' | 'error', error?: Error) => void;
}

// Compact JWS (RFC 7515 §7.1): three base64url parts; the signature is empty for alg "none".
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const fail = (
  reason: TokenFailure,
  detail: string,
  more: { issuer?: TrustedIssuer; claims?: JWTPayload } = {},
): Verification => ({
  ok: false,
  reason,
  detail,
  ...more,
});

export class TokenVerifier {
  readonly #issuers = new Map<string, { issuer: TrustedIssuer; keys: IssuerKeys }>();
  readonly #now: () => number;

  constructor(issuers: readonly TrustedIssuer[], options: TokenVerifierOptions = {}) {
    this.#now = options.now ?? Date.now;
    for (const issuer of issuers) {
      const keys = new IssuerKeys({
        ...options.keys,
        now: this.#now,
        issuer: issuer.issuer,
        ca: issuer.ca,
        onFetch: (outcome, error) => options.onKeyFetch?.(issuer, outcome, error),
      });
      this.#issuers.set(issuer.issuer, { issuer, keys });
    }
  }

  /** Fetches every issuer's keys (at start); failures are reported through onKeyFetch only. */
  async prefetch(): Promise<void> {
    await Promise.all([...this.#issuers.values()].map(({ keys }) => keys.prefetch()));
  }

  async verify(token: string): Promise<Verification> {
    if (!COMPACT_JWS.test(token)) return fail('token_invalid', 'not a compact JWS (three base64url parts)');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (error) {
      return fail('token_invalid', (error as Error).message);
    }
    if (typeof alg !== 'string') return fail('token_invalid', 'no "alg" in the header');
    if (alg.toLowerCase() === 'none') return fail('token_unsigned', 'alg "none"');
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      return fail('token_algorithm_not_allowed', `alg ${JSON.stringify(alg.slice(0, 16))}`);
    }
    if (typeof iss !== 'string') return fail('token_invalid', 'no "iss" claim');
    const trusted = this.#issuers.get(iss);
    if (trusted === undefined) return fail('untrusted_issuer', `iss ${JSON.stringify(iss.slice(0, 200))}`);
    const { issuer, keys } = trusted;
    if (!issuer.algorithms.includes(alg)) {
      return fail('token_algorithm_not_allowed', `alg ${alg} is not allowed for ${issuer.name}`, { issuer });
    }
    return this.#verifySigned(token, issuer, keys);
  }

  async #verifySigned(token: string, issuer: TrustedIssuer, keys: IssuerKeys): Promise<Verification> {
    const now = this.#now();
    let claims: JWTPayload;
    try {
      const key = await keys.key(decodeProtectedHeader(token));
      ({ payload: claims } = await jwtVerify(token, key, {
        issuer: issuer.issuer,
        audience: [...issuer.audiences],
        algorithms: [...issuer.algorithms],
        clockTolerance: issuer.clockSkewSeconds,
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      return refusal(error, issuer);
    }
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || typeof iat !== 'number') {
      return fail('token_invalid', '"exp" and "iat" must be numbers', { issuer });
    }
    if (iat > now / 1000 + issuer.clockSkewSeconds) {
      return fail('token_not_yet_valid', '"iat" lies in the future', { issuer, claims });
    }
    if (exp - iat > issuer.maxTokenLifetimeSeconds) {
      return fail('token_lifetime_too_long', `valid for ${exp - iat} s`, { issuer, claims });
    }
    return { ok: true, issuer, claims, expiresAt: exp * 1000 };
  }
}

/** jose's and our errors as reasons. jose checks the signature before the claims, so claims it reports are verified. */
function refusal(error: unknown, issuer: TrustedIssuer): Verification {
  if (error instanceof IssuerUnavailableError) return fail('issuer_unavailable', error.message, { issuer });
  if (error instanceof UnknownKeyError) return fail('token_unknown_key', error.message, { issuer });
  if (error instanceof errors.JWTExpired) {
    return fail('token_expired', error.message, { issuer, claims: error.payload });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const more = { issuer, claims: error.payload };
    if (error.claim === 'aud') return fail('token_wrong_audience', error.message, more);
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return fail('token_not_yet_valid', error.message, more);
    }
    return fail('token_invalid', error.message, more);
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return fail('token_invalid', 'the token names no "kid" and several keys match', { issuer });
  }
  if (error instanceof errors.JOSEError) return fail('token_invalid', error.message, { issuer });
  // A key in the issuer's JWKS that WebCrypto cannot import (DataError) or jose will not verify with (an
  // RSA key under 2048 bits: TypeError) verifies no token: a refusal, not a fault of this service.
  if (error instanceof TypeError || (error instanceof DOMException && error.name === 'DataError')) {
    return fail('token_invalid', `the issuer's key cannot be used: ${error.message}`, { issuer });
  }
  throw error;
}
