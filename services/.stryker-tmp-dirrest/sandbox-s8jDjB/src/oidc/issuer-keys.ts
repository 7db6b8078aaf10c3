// @ts-nocheck
// One trusted issuer's signing keys: discovery document → jwks_uri → JWKS, over HTTPS with the issuer's own
// CA, cached. Fetched again when they are old, or when a token names a key we do not hold (the issuer
// rotated), at most once per cooldown. When the issuer cannot be reached, keys already held keep working;
// a key we never saw cannot be trusted, and that is an outage (503), not a bad token (401).
import { createLocalJWKSet, errors } from 'jose';
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose';
import { IssuerFetchError, getJson } from './https-json.ts';

export type KeySelector = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<KeySelector>>;

/** The token's key is not cached and the issuer's keys cannot be fetched now. */
export class IssuerUnavailableError extends Error {
  constructor(issuer: string, cause: string) {
    super(`keys of ${issuer} unavailable: ${cause}`);
    this.name = 'IssuerUnavailableError';
  }
}

/** The issuer answered, and its JWKS does not hold the key the token names. */
export class UnknownKeyError extends Error {
  constructor(kid: unknown) {
    super(`no key ${typeof kid === 'string' ? JSON.stringify(kid.slice(0, 64)) : '(no kid)'} in the JWKS`);
    this.name = 'UnknownKeyError';
  }
}

export interface IssuerKeysOptions {
  readonly issuer: string;
  readonly ca: readonly string[] | undefined;
  /** Per HTTPS request (discovery, then JWKS). Default 5 s. */
  readonly timeoutMs?: number;
  /** Keys older than this are fetched again on their next use. Default 10 min. */
  readonly maxAgeMs?: number;
  /** At most one fetch per issuer in this time, whatever tokens arrive. Default 10 s. */
  readonly cooldownMs?: number;
  /** How long keys are still used while the issuer cannot be reached. Default 24 h. */
  readonly maxStaleMs?: number;
  readonly now?: () => number;
  readonly onFetch?: (outcome: 'success' | 'error', error?: Error) => void;
}

type Refresh = 'fetched' | 'failed' | 'cooling';

const MAX_DOCUMENT_BYTES = 512 * 1024;
const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

function discoveryUrl(issuer: string): string {
  // OIDC Discovery 1.0 §4: a terminating '/' of the issuer is removed before appending.
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

export class IssuerKeys {
  readonly #o: IssuerKeysOptions;
  readonly #now: () => number;
  #keys: KeySelector | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #lastError: string | undefined;
  #pending: Promise<Refresh> | undefined;
  #keyCount = 0;

  constructor(options: IssuerKeysOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Public keys in the last JWKS fetched (for the configuration check). */
  get keyCount(): number {
    return this.#keyCount;
  }

  /** Fetches the keys now (at start), so the first token does not wait; a failure is only reported. */
  async prefetch(): Promise<void> {
    await this.#refresh();
  }

  /** The key for a token's protected header, fetching the JWKS first when needed. */
  async key(header: JWSHeaderParameters): Promise<VerificationKey> {
    const o = this.#o;
    if (this.#usable() === undefined) await this.#refresh();
    // Old keys are still good while new ones are fetched: no token waits for that.
    else if (this.#now() - this.#fetchedAt > (o.maxAgeMs ?? 600_000)) void this.#refresh();
    const keys = this.#usable();
    if (keys === undefined) throw new IssuerUnavailableError(o.issuer, this.#lastError ?? 'not fetched yet');
    try {
      return await keys(header);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    // A key we have not seen: the issuer may have rotated. Ask again, unless we just did.
    const refresh = await this.#refresh();
    if (refresh === 'failed' || (refresh === 'cooling' && this.#lastError !== undefined)) {
      throw new IssuerUnavailableError(o.issuer, this.#lastError ?? 'fetch failed');
    }
    try {
      return await (this.#usable() ?? keys)(header);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw new UnknownKeyError(header.kid);
      throw error;
    }
  }

  #usable(): KeySelector | undefined {
    const stale = this.#now() - this.#fetchedAt > (this.#o.maxStaleMs ?? 86_400_000);
    return stale ? undefined : this.#keys;
  }

  /** One fetch at a time, at most one per cooldown; concurrent callers share it. */
  #refresh(): Promise<Refresh> {
    if (this.#pending !== undefined) return this.#pending;
    // A clock stepped back (NTP) ends the cooldown rather than stretching it.
    const since = this.#now() - this.#attemptedAt;
    if (since >= 0 && since < (this.#o.cooldownMs ?? 10_000)) return Promise.resolve('cooling');
    this.#attemptedAt = this.#now();
    this.#pending = this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<Refresh> {
    const { issuer, ca, onFetch } = this.#o;
    const get = (url: string): Promise<unknown> =>
      getJson(url, { ca, timeoutMs: this.#o.timeoutMs ?? 5000, maxBytes: MAX_DOCUMENT_BYTES });
    try {
      const discovery = await get(discoveryUrl(issuer));
      if (typeof discovery !== 'object' || discovery === null) throw new Error('discovery: not an object');
      const { issuer: named, jwks_uri: jwksUri } = discovery as Record<string, unknown>;
      // OIDC Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
      if (named !== issuer) throw new Error(`discovery names issuer ${JSON.stringify(named)}`);
      if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) {
        throw new Error('discovery: jwks_uri is not an https:// URL');
      }
      const jwks = await get(jwksUri);
      const keys = (jwks as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) throw new Error('JWKS: no "keys" list');
      const members: readonly unknown[] = keys;
      // Public keys only: a symmetric (oct) or private member has no business in an issuer's JWKS.
      const usable = members.filter(
        (k): k is JWK =>
          typeof k === 'object' && k !== null && PUBLIC_KEY_TYPES.has((k as JWK).kty ?? '') && !('d' in k),
      );
      const set: JSONWebKeySet = { keys: usable };
      this.#keys = createLocalJWKSet(set);
      this.#keyCount = usable.length;
      this.#fetchedAt = this.#now();
      this.#lastError = undefined;
      onFetch?.('success');
      return 'fetched';
    } catch (error) {
      const message = error instanceof IssuerFetchError ? error.message : (error as Error).message;
      this.#lastError = message;
      onFetch?.('error', new Error(message));
      return 'failed';
    }
  }
}
