// @ts-nocheck
// The seam the decider calls when the Basic username is OIDC_USERNAME: the password is a CI job token.
// Verified tokens are cached until their `exp` under an HMAC of the token (never the token itself), so the
// ~100 requests of a push cost one signature check; the decision is then the first matching rule's grants.
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.ts';
import type { DecisionCache } from '../decision-cache.ts';
import type { Identity } from '../directory/directory.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { REASONS } from '../reasons.ts';
import type { Reason } from '../reasons.ts';
import type { Access } from '../registry-scope.ts';
import { IssuerRules } from './claim-rules.ts';
import type { RuleMatch } from './claim-rules.ts';
import type { OidcConfig } from './oidc-config.ts';
import { TokenVerifier } from './token-verifier.ts';
import type { KeyOptions } from './token-verifier.ts';

interface Entry {
  readonly identity: Identity;
  readonly match: RuleMatch | undefined;
  /** The token's `exp`, in milliseconds. */
  readonly expiresAt: number;
}

/** The decider's Decision, less what it knows itself (the scope); `login` is the subject when known. */
export interface TokenDecision {
  readonly reason: Reason;
  /** `token`: verified for this request; `cache`: verified before. */
  readonly source: 'cache' | 'token';
  readonly login?: string;
  readonly identity?: Identity;
  readonly error?: string;
}

interface TokenContext {
  readonly login: string;
  readonly access: readonly Access[];
}

export interface TokenAuthenticatorOptions {
  /** A keyed hash of the token (the decision cache's HMAC): the cache never holds a token. */
  readonly key: (token: string) => string;
  readonly maxEntries: number;
  readonly metrics?: Pick<Metrics, 'oidcKeyFetches'>;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  readonly now?: () => number;
  readonly keys?: KeyOptions;
}

export class TokenAuthenticator {
  readonly username: string;
  readonly #verifier: TokenVerifier;
  readonly #rules: ReadonlyMap<string, IssuerRules>;
  readonly #cache: LRUCache<string, Entry>;
  readonly #key: (token: string) => string;
  readonly #now: () => number;

  constructor(config: OidcConfig, options: TokenAuthenticatorOptions) {
    this.username = config.username;
    this.#key = options.key;
    this.#now = options.now ?? Date.now;
    this.#cache = new LRUCache({ max: options.maxEntries });
    this.#rules = new Map(config.issuers.map((i) => [i.issuer, new IssuerRules(i)]));
    const { logger, metrics } = options;
    this.#verifier = new TokenVerifier(config.issuers, {
      now: this.#now,
      ...(options.keys === undefined ? {} : { keys: options.keys }),
      onKeyFetch: (issuer, outcome, error) => {
        // Labels bounded by the rules file: one issuer name each, two outcomes.
        metrics?.oidcKeyFetches.inc({ issuer: issuer.name, outcome });
        if (outcome === 'success') logger?.info({ issuer: issuer.issuer }, 'OIDC issuer keys fetched');
        else logger?.warn({ issuer: issuer.issuer, error: error?.message }, 'OIDC issuer keys not fetched');
      },
    });
  }

  prefetch(): Promise<void> {
    return this.#verifier.prefetch();
  }

  /** Synchronous when the token was verified before and has not expired. */
  authenticate(token: string, access: readonly Access[]): TokenDecision | Promise<TokenDecision> {
    const key = this.#key(token);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      if (this.#now() < cached.expiresAt) return conclude(cached, access, 'cache');
      this.#cache.delete(key);
    }
    return this.#verify(key, token, access);
  }

  async #verify(key: string, token: string, access: readonly Access[]): Promise<TokenDecision> {
    const result = await this.#verifier.verify(token);
    if (!result.ok) {
      const rules = result.issuer === undefined ? undefined : this.#rules.get(result.issuer.issuer);
      return {
        reason: result.reason,
        source: 'token',
        // A verified signature makes the claims worth naming (an expired job, a wrong audience).
        ...(rules !== undefined && result.claims !== undefined
          ? { login: rules.subject(result.claims) }
          : {}),
        error: result.detail,
      };
    }
    const rules = this.#rules.get(result.issuer.issuer);
    if (rules === undefined) throw new Error(`no rules for ${result.issuer.issuer}`); // built from the same list
    const entry: Entry = {
      identity: { username: rules.subject(result.claims), dn: '', groups: [] },
      match: rules.match(result.claims),
      expiresAt: result.expiresAt,
    };
    // Within the clock skew a token may be verified with its exp just passed: nothing to keep then.
    if (entry.expiresAt > this.#now()) this.#cache.set(key, entry);
    return conclude(entry, access, 'token');
  }
}

/**
 * The service's authenticator for OIDC_CONFIG_FILE (undefined without it), keyed by the decision cache's
 * HMAC, with every issuer's keys being fetched already so the first job does not wait for them.
 */
export function startTokenAuthenticator(
  config: Pick<Config, 'oidc' | 'cache'>,
  cache: Pick<DecisionCache, 'key'>,
  metrics: Pick<Metrics, 'oidcKeyFetches'>,
  logger: Pick<Logger, 'info' | 'warn'>,
): TokenAuthenticator | undefined {
  const { oidc } = config;
  if (oidc === undefined) return undefined;
  const tokens = new TokenAuthenticator(oidc, {
    key: (token) => cache.key(oidc.username, token),
    maxEntries: config.cache.maxEntries,
    metrics,
    logger,
  });
  void tokens.prefetch(); // a failure is logged and counted; the keys are fetched again on demand
  return tokens;
}

function conclude(entry: Entry, access: readonly Access[], source: TokenDecision['source']): TokenDecision {
  const { identity, match } = entry;
  if (match === undefined) return { reason: 'no_matching_rule', source, login: identity.username };
  const granted = match.policy.allows(identity, access);
  return { reason: granted ? 'granted' : 'not_granted', source, identity };
}

/**
 * The decision for a token: lockout does not apply to a token whose signature verifies (a CI fleet shares
 * addresses and one username), but every token refused as unauthenticated counts against the client
 * address, as a wrong password does.
 */
export function decideToken<C extends TokenContext>(
  tokens: TokenAuthenticator,
  token: string,
  context: C,
  onRefused: () => void,
): (C & TokenDecision) | Promise<C & TokenDecision> {
  const settle = (d: TokenDecision): C & TokenDecision => {
    if (REASONS[d.reason].status === 401) onRefused();
    return { ...context, ...d };
  };
  const decision = tokens.authenticate(token, context.access);
  return decision instanceof Promise ? decision.then(settle) : settle(decision);
}
