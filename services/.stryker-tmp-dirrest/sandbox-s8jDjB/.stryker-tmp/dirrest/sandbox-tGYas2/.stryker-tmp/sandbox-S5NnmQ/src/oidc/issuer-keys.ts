// @ts-nocheck
// 
// 
// One trusted issuer's signing keys: discovery document → jwks_uri → JWKS, over HTTPS with the issuer's own
// CA, cached. Fetched again when they are old, or when a token names a key we do not hold (the issuer
// rotated), at most once per cooldown. When the issuer cannot be reached, keys already held keep working;
// a key we never saw cannot be trusted, and that is an outage (503), not a bad token (401).
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
import { createLocalJWKSet, errors } from 'jose';
import type { JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose';
import { IssuerFetchError, getJson } from './https-json.ts';
export type KeySelector = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<KeySelector>>;

/** The token's key is not cached and the issuer's keys cannot be fetched now. */
export class IssuerUnavailableError extends Error {
  constructor(issuer: string, cause: string) {
    if (stryMutAct_9fa48("121")) {
      {}
    } else {
      stryCov_9fa48("121");
      super(stryMutAct_9fa48("122") ? `` : (stryCov_9fa48("122"), `keys of ${issuer} unavailable: ${cause}`));
      this.name = stryMutAct_9fa48("123") ? "" : (stryCov_9fa48("123"), 'IssuerUnavailableError');
    }
  }
}

/** The issuer answered, and its JWKS does not hold the key the token names. */
export class UnknownKeyError extends Error {
  constructor(kid: unknown) {
    if (stryMutAct_9fa48("124")) {
      {}
    } else {
      stryCov_9fa48("124");
      super(stryMutAct_9fa48("125") ? `` : (stryCov_9fa48("125"), `no key ${(stryMutAct_9fa48("128") ? typeof kid !== 'string' : stryMutAct_9fa48("127") ? false : stryMutAct_9fa48("126") ? true : (stryCov_9fa48("126", "127", "128"), typeof kid === (stryMutAct_9fa48("129") ? "" : (stryCov_9fa48("129"), 'string')))) ? JSON.stringify(stryMutAct_9fa48("130") ? kid : (stryCov_9fa48("130"), kid.slice(0, 64))) : stryMutAct_9fa48("131") ? "" : (stryCov_9fa48("131"), '(no kid)')} in the JWKS`));
      this.name = stryMutAct_9fa48("132") ? "" : (stryCov_9fa48("132"), 'UnknownKeyError');
    }
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
const MAX_DOCUMENT_BYTES = stryMutAct_9fa48("133") ? 512 / 1024 : (stryCov_9fa48("133"), 512 * 1024);
const PUBLIC_KEY_TYPES = new Set(stryMutAct_9fa48("134") ? [] : (stryCov_9fa48("134"), [stryMutAct_9fa48("135") ? "" : (stryCov_9fa48("135"), 'RSA'), stryMutAct_9fa48("136") ? "" : (stryCov_9fa48("136"), 'EC'), stryMutAct_9fa48("137") ? "" : (stryCov_9fa48("137"), 'OKP')]));
function discoveryUrl(issuer: string): string {
  if (stryMutAct_9fa48("138")) {
    {}
  } else {
    stryCov_9fa48("138");
    // OIDC Discovery 1.0 §4: a terminating '/' of the issuer is removed before appending.
    return stryMutAct_9fa48("139") ? `` : (stryCov_9fa48("139"), `${issuer.replace(stryMutAct_9fa48("140") ? /\// : (stryCov_9fa48("140"), /\/$/), stryMutAct_9fa48("141") ? "Stryker was here!" : (stryCov_9fa48("141"), ''))}/.well-known/openid-configuration`);
  }
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
    if (stryMutAct_9fa48("142")) {
      {}
    } else {
      stryCov_9fa48("142");
      this.#o = options;
      this.#now = stryMutAct_9fa48("143") ? options.now && Date.now : (stryCov_9fa48("143"), options.now ?? Date.now);
    }
  }

  /** Public keys in the last JWKS fetched (for the configuration check). */
  get keyCount(): number {
    if (stryMutAct_9fa48("144")) {
      {}
    } else {
      stryCov_9fa48("144");
      return this.#keyCount;
    }
  }

  /** Fetches the keys now (at start), so the first token does not wait; a failure is only reported. */
  async prefetch(): Promise<void> {
    if (stryMutAct_9fa48("145")) {
      {}
    } else {
      stryCov_9fa48("145");
      await this.#refresh();
    }
  }

  /** The key for a token's protected header, fetching the JWKS first when needed. */
  async key(header: JWSHeaderParameters): Promise<VerificationKey> {
    if (stryMutAct_9fa48("146")) {
      {}
    } else {
      stryCov_9fa48("146");
      const o = this.#o;
      if (stryMutAct_9fa48("149") ? this.#usable() !== undefined : stryMutAct_9fa48("148") ? false : stryMutAct_9fa48("147") ? true : (stryCov_9fa48("147", "148", "149"), this.#usable() === undefined)) await this.#refresh();
      // Old keys are still good while new ones are fetched: no token waits for that.
      else if (stryMutAct_9fa48("153") ? this.#now() - this.#fetchedAt <= (o.maxAgeMs ?? 600_000) : stryMutAct_9fa48("152") ? this.#now() - this.#fetchedAt >= (o.maxAgeMs ?? 600_000) : stryMutAct_9fa48("151") ? false : stryMutAct_9fa48("150") ? true : (stryCov_9fa48("150", "151", "152", "153"), (stryMutAct_9fa48("154") ? this.#now() + this.#fetchedAt : (stryCov_9fa48("154"), this.#now() - this.#fetchedAt)) > (stryMutAct_9fa48("155") ? o.maxAgeMs && 600_000 : (stryCov_9fa48("155"), o.maxAgeMs ?? 600_000)))) void this.#refresh();
      const keys = this.#usable();
      if (stryMutAct_9fa48("158") ? keys !== undefined : stryMutAct_9fa48("157") ? false : stryMutAct_9fa48("156") ? true : (stryCov_9fa48("156", "157", "158"), keys === undefined)) throw new IssuerUnavailableError(o.issuer, stryMutAct_9fa48("160") ? this.#lastError && 'not fetched yet' : (stryCov_9fa48("160"), this.#lastError ?? (stryMutAct_9fa48("161") ? "" : (stryCov_9fa48("161"), 'not fetched yet'))));
      try {
        if (stryMutAct_9fa48("162")) {
          {}
        } else {
          stryCov_9fa48("162");
          return await keys(header);
        }
      } catch (error) {
        if (stryMutAct_9fa48("163")) {
          {}
        } else {
          stryCov_9fa48("163");
          if (stryMutAct_9fa48("166") ? false : stryMutAct_9fa48("165") ? true : stryMutAct_9fa48("164") ? error instanceof errors.JWKSNoMatchingKey : (stryCov_9fa48("164", "165", "166"), !(error instanceof errors.JWKSNoMatchingKey))) throw error;
        }
      }
      // A key we have not seen: the issuer may have rotated. Ask again, unless we just did.
      const refresh = await this.#refresh();
      if (stryMutAct_9fa48("169") ? refresh === 'failed' && refresh === 'cooling' && this.#lastError !== undefined : stryMutAct_9fa48("168") ? false : stryMutAct_9fa48("167") ? true : (stryCov_9fa48("167", "168", "169"), (stryMutAct_9fa48("171") ? refresh !== 'failed' : stryMutAct_9fa48("170") ? false : (stryCov_9fa48("170", "171"), refresh === (stryMutAct_9fa48("172") ? "" : (stryCov_9fa48("172"), 'failed')))) || (stryMutAct_9fa48("174") ? refresh === 'cooling' || this.#lastError !== undefined : stryMutAct_9fa48("173") ? false : (stryCov_9fa48("173", "174"), (stryMutAct_9fa48("176") ? refresh !== 'cooling' : stryMutAct_9fa48("175") ? true : (stryCov_9fa48("175", "176"), refresh === (stryMutAct_9fa48("177") ? "" : (stryCov_9fa48("177"), 'cooling')))) && (stryMutAct_9fa48("179") ? this.#lastError === undefined : stryMutAct_9fa48("178") ? true : (stryCov_9fa48("178", "179"), this.#lastError !== undefined)))))) {
        if (stryMutAct_9fa48("180")) {
          {}
        } else {
          stryCov_9fa48("180");
          throw new IssuerUnavailableError(o.issuer, stryMutAct_9fa48("182") ? this.#lastError && 'fetch failed' : (stryCov_9fa48("182"), this.#lastError ?? (stryMutAct_9fa48("183") ? "" : (stryCov_9fa48("183"), 'fetch failed'))));
        }
      }
      try {
        if (stryMutAct_9fa48("184")) {
          {}
        } else {
          stryCov_9fa48("184");
          return await (stryMutAct_9fa48("185") ? this.#usable() && keys : (stryCov_9fa48("185"), this.#usable() ?? keys))(header);
        }
      } catch (error) {
        if (stryMutAct_9fa48("186")) {
          {}
        } else {
          stryCov_9fa48("186");
          if (stryMutAct_9fa48("188") ? false : stryMutAct_9fa48("187") ? true : (stryCov_9fa48("187", "188"), error instanceof errors.JWKSNoMatchingKey)) if (stryMutAct_9fa48("189")) {
            ;
          } else {
            stryCov_9fa48("189");
            throw new UnknownKeyError(header.kid);
          }
          throw error;
        }
      }
    }
  }
  #usable(): KeySelector | undefined {
    if (stryMutAct_9fa48("190")) {
      {}
    } else {
      stryCov_9fa48("190");
      const stale = stryMutAct_9fa48("194") ? this.#now() - this.#fetchedAt <= (this.#o.maxStaleMs ?? 86_400_000) : stryMutAct_9fa48("193") ? this.#now() - this.#fetchedAt >= (this.#o.maxStaleMs ?? 86_400_000) : stryMutAct_9fa48("192") ? false : stryMutAct_9fa48("191") ? true : (stryCov_9fa48("191", "192", "193", "194"), (stryMutAct_9fa48("195") ? this.#now() + this.#fetchedAt : (stryCov_9fa48("195"), this.#now() - this.#fetchedAt)) > (stryMutAct_9fa48("196") ? this.#o.maxStaleMs && 86_400_000 : (stryCov_9fa48("196"), this.#o.maxStaleMs ?? 86_400_000)));
      return stale ? undefined : this.#keys;
    }
  }

  /** One fetch at a time, at most one per cooldown; concurrent callers share it. */
  #refresh(): Promise<Refresh> {
    if (stryMutAct_9fa48("197")) {
      {}
    } else {
      stryCov_9fa48("197");
      if (stryMutAct_9fa48("200") ? this.#pending === undefined : stryMutAct_9fa48("199") ? false : stryMutAct_9fa48("198") ? true : (stryCov_9fa48("198", "199", "200"), this.#pending !== undefined)) return this.#pending;
      // A clock stepped back (NTP) ends the cooldown rather than stretching it.
      const since = stryMutAct_9fa48("201") ? this.#now() + this.#attemptedAt : (stryCov_9fa48("201"), this.#now() - this.#attemptedAt);
      if (stryMutAct_9fa48("204") ? since >= 0 || since < (this.#o.cooldownMs ?? 10_000) : stryMutAct_9fa48("203") ? false : stryMutAct_9fa48("202") ? true : (stryCov_9fa48("202", "203", "204"), (stryMutAct_9fa48("207") ? since < 0 : stryMutAct_9fa48("206") ? since > 0 : stryMutAct_9fa48("205") ? true : (stryCov_9fa48("205", "206", "207"), since >= 0)) && (stryMutAct_9fa48("210") ? since >= (this.#o.cooldownMs ?? 10_000) : stryMutAct_9fa48("209") ? since <= (this.#o.cooldownMs ?? 10_000) : stryMutAct_9fa48("208") ? true : (stryCov_9fa48("208", "209", "210"), since < (stryMutAct_9fa48("211") ? this.#o.cooldownMs && 10_000 : (stryCov_9fa48("211"), this.#o.cooldownMs ?? 10_000)))))) return Promise.resolve(stryMutAct_9fa48("212") ? "" : (stryCov_9fa48("212"), 'cooling'));
      this.#attemptedAt = this.#now();
      this.#pending = this.#fetch().finally(() => {
        if (stryMutAct_9fa48("213")) {
          {}
        } else {
          stryCov_9fa48("213");
          this.#pending = undefined;
        }
      });
      return this.#pending;
    }
  }
  async #fetch(): Promise<Refresh> {
    if (stryMutAct_9fa48("214")) {
      {}
    } else {
      stryCov_9fa48("214");
      const {
        issuer,
        ca,
        onFetch
      } = this.#o;
      const get = stryMutAct_9fa48("215") ? () => undefined : (stryCov_9fa48("215"), (() => {
        const get = (url: string): Promise<unknown> => getJson(url, stryMutAct_9fa48("216") ? {} : (stryCov_9fa48("216"), {
          ca,
          timeoutMs: stryMutAct_9fa48("217") ? this.#o.timeoutMs && 5000 : (stryCov_9fa48("217"), this.#o.timeoutMs ?? 5000),
          maxBytes: MAX_DOCUMENT_BYTES
        }));
        return get;
      })());
      try {
        if (stryMutAct_9fa48("218")) {
          {}
        } else {
          stryCov_9fa48("218");
          const discovery = await get(discoveryUrl(issuer));
          if (stryMutAct_9fa48("221") ? typeof discovery !== 'object' && discovery === null : stryMutAct_9fa48("220") ? false : stryMutAct_9fa48("219") ? true : (stryCov_9fa48("219", "220", "221"), (stryMutAct_9fa48("223") ? typeof discovery === 'object' : stryMutAct_9fa48("222") ? false : (stryCov_9fa48("222", "223"), typeof discovery !== (stryMutAct_9fa48("224") ? "" : (stryCov_9fa48("224"), 'object')))) || (stryMutAct_9fa48("226") ? discovery !== null : stryMutAct_9fa48("225") ? false : (stryCov_9fa48("225", "226"), discovery === null)))) throw new Error(stryMutAct_9fa48("228") ? "" : (stryCov_9fa48("228"), 'discovery: not an object'));
          const {
            issuer: named,
            jwks_uri: jwksUri
          } = discovery as Record<string, unknown>;
          // OIDC Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
          if (stryMutAct_9fa48("231") ? named === issuer : stryMutAct_9fa48("230") ? false : stryMutAct_9fa48("229") ? true : (stryCov_9fa48("229", "230", "231"), named !== issuer)) throw new Error(stryMutAct_9fa48("233") ? `` : (stryCov_9fa48("233"), `discovery names issuer ${JSON.stringify(named)}`));
          if (stryMutAct_9fa48("236") ? typeof jwksUri !== 'string' && !jwksUri.startsWith('https://') : stryMutAct_9fa48("235") ? false : stryMutAct_9fa48("234") ? true : (stryCov_9fa48("234", "235", "236"), (stryMutAct_9fa48("238") ? typeof jwksUri === 'string' : stryMutAct_9fa48("237") ? false : (stryCov_9fa48("237", "238"), typeof jwksUri !== (stryMutAct_9fa48("239") ? "" : (stryCov_9fa48("239"), 'string')))) || (stryMutAct_9fa48("240") ? jwksUri.startsWith('https://') : (stryCov_9fa48("240"), !(stryMutAct_9fa48("241") ? jwksUri.endsWith('https://') : (stryCov_9fa48("241"), jwksUri.startsWith(stryMutAct_9fa48("242") ? "" : (stryCov_9fa48("242"), 'https://')))))))) {
            if (stryMutAct_9fa48("243")) {
              {}
            } else {
              stryCov_9fa48("243");
              throw new Error(stryMutAct_9fa48("245") ? "" : (stryCov_9fa48("245"), 'discovery: jwks_uri is not an https:// URL'));
            }
          }
          const jwks = await get(jwksUri);
          const keys = stryMutAct_9fa48("246") ? (jwks as {
            keys?: unknown;
          } | null).keys : (stryCov_9fa48("246"), (jwks as {
            keys?: unknown;
          } | null)?.keys);
          if (stryMutAct_9fa48("249") ? false : stryMutAct_9fa48("248") ? true : stryMutAct_9fa48("247") ? Array.isArray(keys) : (stryCov_9fa48("247", "248", "249"), !Array.isArray(keys))) throw new Error(stryMutAct_9fa48("251") ? "" : (stryCov_9fa48("251"), 'JWKS: no "keys" list'));
          const members: readonly unknown[] = keys;
          // Public keys only: a symmetric (oct) or private member has no business in an issuer's JWKS.
          const usable = stryMutAct_9fa48("252") ? members : (stryCov_9fa48("252"), members.filter(stryMutAct_9fa48("253") ? () => undefined : (stryCov_9fa48("253"), (k): k is JWK => stryMutAct_9fa48("256") ? typeof k === 'object' && k !== null && PUBLIC_KEY_TYPES.has((k as JWK).kty ?? '') || !('d' in k) : stryMutAct_9fa48("255") ? false : stryMutAct_9fa48("254") ? true : (stryCov_9fa48("254", "255", "256"), (stryMutAct_9fa48("258") ? typeof k === 'object' && k !== null || PUBLIC_KEY_TYPES.has((k as JWK).kty ?? '') : stryMutAct_9fa48("257") ? true : (stryCov_9fa48("257", "258"), (stryMutAct_9fa48("260") ? typeof k === 'object' || k !== null : stryMutAct_9fa48("259") ? true : (stryCov_9fa48("259", "260"), (stryMutAct_9fa48("262") ? typeof k !== 'object' : stryMutAct_9fa48("261") ? true : (stryCov_9fa48("261", "262"), typeof k === (stryMutAct_9fa48("263") ? "" : (stryCov_9fa48("263"), 'object')))) && (stryMutAct_9fa48("265") ? k === null : stryMutAct_9fa48("264") ? true : (stryCov_9fa48("264", "265"), k !== null)))) && PUBLIC_KEY_TYPES.has(stryMutAct_9fa48("266") ? (k as JWK).kty && '' : (stryCov_9fa48("266"), (k as JWK).kty ?? (stryMutAct_9fa48("267") ? "Stryker was here!" : (stryCov_9fa48("267"), '')))))) && (stryMutAct_9fa48("268") ? 'd' in k : (stryCov_9fa48("268"), !((stryMutAct_9fa48("269") ? "" : (stryCov_9fa48("269"), 'd')) in k)))))));
          const set: JSONWebKeySet = stryMutAct_9fa48("270") ? {} : (stryCov_9fa48("270"), {
            keys: usable
          });
          this.#keys = createLocalJWKSet(set);
          this.#keyCount = usable.length;
          this.#fetchedAt = this.#now();
          this.#lastError = undefined;
          stryMutAct_9fa48("271") ? onFetch('success') : (stryCov_9fa48("271"), onFetch?.(stryMutAct_9fa48("272") ? "" : (stryCov_9fa48("272"), 'success')));
          return stryMutAct_9fa48("273") ? "" : (stryCov_9fa48("273"), 'fetched');
        }
      } catch (error) {
        if (stryMutAct_9fa48("274")) {
          {}
        } else {
          stryCov_9fa48("274");
          const message = error instanceof IssuerFetchError ? error.message : (error as Error).message;
          this.#lastError = message;
          stryMutAct_9fa48("275") ? onFetch('error', new Error(message)) : (stryCov_9fa48("275"), onFetch?.(stryMutAct_9fa48("276") ? "" : (stryCov_9fa48("276"), 'error'), new Error(message)));
          return stryMutAct_9fa48("277") ? "" : (stryCov_9fa48("277"), 'failed');
        }
      }
    }
  }
}