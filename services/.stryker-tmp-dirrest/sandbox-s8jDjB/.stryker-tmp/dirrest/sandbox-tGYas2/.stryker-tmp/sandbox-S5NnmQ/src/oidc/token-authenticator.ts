// @ts-nocheck
// 
// 
// The seam the decider calls when the Basic username is OIDC_USERNAME: the password is a CI job token.
// Verified tokens are cached until their `exp` under an HMAC of the token (never the token itself), so the
// ~100 requests of a push cost one signature check; the decision is then the first matching rule's grants.
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
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
    if (stryMutAct_9fa48("278")) {
      {}
    } else {
      stryCov_9fa48("278");
      this.username = config.username;
      this.#key = options.key;
      this.#now = stryMutAct_9fa48("279") ? options.now && Date.now : (stryCov_9fa48("279"), options.now ?? Date.now);
      this.#cache = new LRUCache(stryMutAct_9fa48("280") ? {} : (stryCov_9fa48("280"), {
        max: options.maxEntries
      }));
      this.#rules = new Map(config.issuers.map(stryMutAct_9fa48("281") ? () => undefined : (stryCov_9fa48("281"), i => stryMutAct_9fa48("282") ? [] : (stryCov_9fa48("282"), [i.issuer, new IssuerRules(i)]))));
      const {
        logger,
        metrics
      } = options;
      this.#verifier = new TokenVerifier(config.issuers, stryMutAct_9fa48("283") ? {} : (stryCov_9fa48("283"), {
        now: this.#now,
        ...((stryMutAct_9fa48("286") ? options.keys !== undefined : stryMutAct_9fa48("285") ? false : stryMutAct_9fa48("284") ? true : (stryCov_9fa48("284", "285", "286"), options.keys === undefined)) ? {} : stryMutAct_9fa48("287") ? {} : (stryCov_9fa48("287"), {
          keys: options.keys
        })),
        onKeyFetch: (issuer, outcome, error) => {
          if (stryMutAct_9fa48("288")) {
            {}
          } else {
            stryCov_9fa48("288");
            // Labels bounded by the rules file: one issuer name each, two outcomes.
            stryMutAct_9fa48("289") ? metrics.oidcKeyFetches.inc({
              issuer: issuer.name,
              outcome
            }) : (stryCov_9fa48("289"), metrics?.oidcKeyFetches.inc(stryMutAct_9fa48("290") ? {} : (stryCov_9fa48("290"), {
              issuer: issuer.name,
              outcome
            })));
            if (stryMutAct_9fa48("293") ? outcome !== 'success' : stryMutAct_9fa48("292") ? false : stryMutAct_9fa48("291") ? true : (stryCov_9fa48("291", "292", "293"), outcome === (stryMutAct_9fa48("294") ? "" : (stryCov_9fa48("294"), 'success')))) stryMutAct_9fa48("295") ? logger.info({
              issuer: issuer.issuer
            }, 'OIDC issuer keys fetched') : (stryCov_9fa48("295"), logger?.info(stryMutAct_9fa48("296") ? {} : (stryCov_9fa48("296"), {
              issuer: issuer.issuer
            }), stryMutAct_9fa48("297") ? "" : (stryCov_9fa48("297"), 'OIDC issuer keys fetched')));else stryMutAct_9fa48("298") ? logger.warn({
              issuer: issuer.issuer,
              error: error?.message
            }, 'OIDC issuer keys not fetched') : (stryCov_9fa48("298"), logger?.warn(stryMutAct_9fa48("299") ? {} : (stryCov_9fa48("299"), {
              issuer: issuer.issuer,
              error: stryMutAct_9fa48("300") ? error.message : (stryCov_9fa48("300"), error?.message)
            }), stryMutAct_9fa48("301") ? "" : (stryCov_9fa48("301"), 'OIDC issuer keys not fetched')));
          }
        }
      }));
    }
  }
  prefetch(): Promise<void> {
    if (stryMutAct_9fa48("302")) {
      {}
    } else {
      stryCov_9fa48("302");
      return this.#verifier.prefetch();
    }
  }

  /** Synchronous when the token was verified before and has not expired. */
  authenticate(token: string, access: readonly Access[]): TokenDecision | Promise<TokenDecision> {
    if (stryMutAct_9fa48("303")) {
      {}
    } else {
      stryCov_9fa48("303");
      const key = this.#key(token);
      const cached = this.#cache.get(key);
      if (stryMutAct_9fa48("306") ? cached === undefined : stryMutAct_9fa48("305") ? false : stryMutAct_9fa48("304") ? true : (stryCov_9fa48("304", "305", "306"), cached !== undefined)) {
        if (stryMutAct_9fa48("307")) {
          {}
        } else {
          stryCov_9fa48("307");
          if (stryMutAct_9fa48("311") ? this.#now() >= cached.expiresAt : stryMutAct_9fa48("310") ? this.#now() <= cached.expiresAt : stryMutAct_9fa48("309") ? false : stryMutAct_9fa48("308") ? true : (stryCov_9fa48("308", "309", "310", "311"), this.#now() < cached.expiresAt)) return conclude(cached, access, stryMutAct_9fa48("312") ? "" : (stryCov_9fa48("312"), 'cache'));
          if (stryMutAct_9fa48("313")) {
            ;
          } else {
            stryCov_9fa48("313");
            this.#cache.delete(key);
          }
        }
      }
      return this.#verify(key, token, access);
    }
  }
  async #verify(key: string, token: string, access: readonly Access[]): Promise<TokenDecision> {
    if (stryMutAct_9fa48("314")) {
      {}
    } else {
      stryCov_9fa48("314");
      const result = await this.#verifier.verify(token);
      if (stryMutAct_9fa48("317") ? false : stryMutAct_9fa48("316") ? true : stryMutAct_9fa48("315") ? result.ok : (stryCov_9fa48("315", "316", "317"), !result.ok)) {
        if (stryMutAct_9fa48("318")) {
          {}
        } else {
          stryCov_9fa48("318");
          const rules = (stryMutAct_9fa48("321") ? result.issuer !== undefined : stryMutAct_9fa48("320") ? false : stryMutAct_9fa48("319") ? true : (stryCov_9fa48("319", "320", "321"), result.issuer === undefined)) ? undefined : this.#rules.get(result.issuer.issuer);
          return stryMutAct_9fa48("322") ? {} : (stryCov_9fa48("322"), {
            reason: result.reason,
            source: stryMutAct_9fa48("323") ? "" : (stryCov_9fa48("323"), 'token'),
            // A verified signature makes the claims worth naming (an expired job, a wrong audience).
            ...((stryMutAct_9fa48("326") ? rules !== undefined || result.claims !== undefined : stryMutAct_9fa48("325") ? false : stryMutAct_9fa48("324") ? true : (stryCov_9fa48("324", "325", "326"), (stryMutAct_9fa48("328") ? rules === undefined : stryMutAct_9fa48("327") ? true : (stryCov_9fa48("327", "328"), rules !== undefined)) && (stryMutAct_9fa48("330") ? result.claims === undefined : stryMutAct_9fa48("329") ? true : (stryCov_9fa48("329", "330"), result.claims !== undefined)))) ? stryMutAct_9fa48("331") ? {} : (stryCov_9fa48("331"), {
              login: rules.subject(result.claims)
            }) : {}),
            error: result.detail
          });
        }
      }
      const rules = this.#rules.get(result.issuer.issuer);
      if (stryMutAct_9fa48("334") ? rules !== undefined : stryMutAct_9fa48("333") ? false : stryMutAct_9fa48("332") ? true : (stryCov_9fa48("332", "333", "334"), rules === undefined)) throw new Error(stryMutAct_9fa48("336") ? `` : (stryCov_9fa48("336"), `no rules for ${result.issuer.issuer}`)); // built from the same list
      const entry: Entry = stryMutAct_9fa48("337") ? {} : (stryCov_9fa48("337"), {
        identity: stryMutAct_9fa48("338") ? {} : (stryCov_9fa48("338"), {
          username: rules.subject(result.claims),
          dn: stryMutAct_9fa48("339") ? "Stryker was here!" : (stryCov_9fa48("339"), ''),
          groups: stryMutAct_9fa48("340") ? ["Stryker was here"] : (stryCov_9fa48("340"), [])
        }),
        match: rules.match(result.claims),
        expiresAt: result.expiresAt
      });
      // Within the clock skew a token may be verified with its exp just passed: nothing to keep then.
      if (stryMutAct_9fa48("344") ? entry.expiresAt <= this.#now() : stryMutAct_9fa48("343") ? entry.expiresAt >= this.#now() : stryMutAct_9fa48("342") ? false : stryMutAct_9fa48("341") ? true : (stryCov_9fa48("341", "342", "343", "344"), entry.expiresAt > this.#now())) if (stryMutAct_9fa48("345")) {
        ;
      } else {
        stryCov_9fa48("345");
        this.#cache.set(key, entry);
      }
      return conclude(entry, access, stryMutAct_9fa48("346") ? "" : (stryCov_9fa48("346"), 'token'));
    }
  }
}

/**
 * The service's authenticator for OIDC_CONFIG_FILE (undefined without it), keyed by the decision cache's
 * HMAC, with every issuer's keys being fetched already so the first job does not wait for them.
 */
export function startTokenAuthenticator(config: Pick<Config, 'oidc' | 'cache'>, cache: Pick<DecisionCache, 'key'>, metrics: Pick<Metrics, 'oidcKeyFetches'>, logger: Pick<Logger, 'info' | 'warn'>): TokenAuthenticator | undefined {
  if (stryMutAct_9fa48("347")) {
    {}
  } else {
    stryCov_9fa48("347");
    const {
      oidc
    } = config;
    if (stryMutAct_9fa48("350") ? oidc !== undefined : stryMutAct_9fa48("349") ? false : stryMutAct_9fa48("348") ? true : (stryCov_9fa48("348", "349", "350"), oidc === undefined)) return undefined;
    const tokens = new TokenAuthenticator(oidc, stryMutAct_9fa48("351") ? {} : (stryCov_9fa48("351"), {
      key: stryMutAct_9fa48("352") ? () => undefined : (stryCov_9fa48("352"), token => cache.key(oidc.username, token)),
      maxEntries: config.cache.maxEntries,
      metrics,
      logger
    }));
    void tokens.prefetch(); // a failure is logged and counted; the keys are fetched again on demand
    return tokens;
  }
}
function conclude(entry: Entry, access: readonly Access[], source: TokenDecision['source']): TokenDecision {
  if (stryMutAct_9fa48("353")) {
    {}
  } else {
    stryCov_9fa48("353");
    const {
      identity,
      match
    } = entry;
    if (stryMutAct_9fa48("356") ? match !== undefined : stryMutAct_9fa48("355") ? false : stryMutAct_9fa48("354") ? true : (stryCov_9fa48("354", "355", "356"), match === undefined)) return stryMutAct_9fa48("357") ? {} : (stryCov_9fa48("357"), {
      reason: stryMutAct_9fa48("358") ? "" : (stryCov_9fa48("358"), 'no_matching_rule'),
      source,
      login: identity.username
    });
    const granted = match.policy.allows(identity, access);
    return stryMutAct_9fa48("359") ? {} : (stryCov_9fa48("359"), {
      reason: granted ? stryMutAct_9fa48("360") ? "" : (stryCov_9fa48("360"), 'granted') : stryMutAct_9fa48("361") ? "" : (stryCov_9fa48("361"), 'not_granted'),
      source,
      identity
    });
  }
}

/**
 * The decision for a token: lockout does not apply to a token whose signature verifies (a CI fleet shares
 * addresses and one username), but every token refused as unauthenticated counts against the client
 * address, as a wrong password does.
 */
export function decideToken<C extends TokenContext>(tokens: TokenAuthenticator, token: string, context: C, onRefused: () => void): C & TokenDecision | Promise<C & TokenDecision> {
  if (stryMutAct_9fa48("362")) {
    {}
  } else {
    stryCov_9fa48("362");
    const settle = (d: TokenDecision): C & TokenDecision => {
      if (stryMutAct_9fa48("363")) {
        {}
      } else {
        stryCov_9fa48("363");
        if (stryMutAct_9fa48("366") ? REASONS[d.reason].status !== 401 : stryMutAct_9fa48("365") ? false : stryMutAct_9fa48("364") ? true : (stryCov_9fa48("364", "365", "366"), REASONS[d.reason].status === 401)) if (stryMutAct_9fa48("367")) {
          ;
        } else {
          stryCov_9fa48("367");
          onRefused();
        }
        return stryMutAct_9fa48("368") ? {} : (stryCov_9fa48("368"), {
          ...context,
          ...d
        });
      }
    };
    const decision = tokens.authenticate(token, context.access);
    return decision instanceof Promise ? decision.then(settle) : settle(decision);
  }
}