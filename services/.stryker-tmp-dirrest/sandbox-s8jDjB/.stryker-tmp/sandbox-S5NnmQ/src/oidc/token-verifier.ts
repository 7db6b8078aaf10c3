// @ts-nocheck
// 
// Verifies a CI job token (a JWT signed by a trusted issuer) with jose, and names why one is refused. The
// checks that need no key come first (shape, algorithm, issuer), so a forged or foreign token costs neither
// a signature check nor a fetch.
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
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { Reason } from '../reasons.ts';
import { IssuerKeys, IssuerUnavailableError, UnknownKeyError } from './issuer-keys.ts';
import type { IssuerKeysOptions } from './issuer-keys.ts';
import { ASYMMETRIC_ALGORITHMS } from './rules-file.ts';
import type { TrustedIssuer } from './rules-file.ts';
export type TokenFailure = Extract<Reason, 'untrusted_issuer' | 'token_invalid' | 'token_unsigned' | 'token_algorithm_not_allowed' | 'token_unknown_key' | 'token_expired' | 'token_not_yet_valid' | 'token_lifetime_too_long' | 'token_wrong_audience' | 'issuer_unavailable'>;
export type Verification = {
  readonly ok: true;
  readonly issuer: TrustedIssuer;
  readonly claims: JWTPayload;
  /** Milliseconds since the epoch: the token's `exp`. */
  readonly expiresAt: number;
} | {
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
const COMPACT_JWS = stryMutAct_9fa48("376") ? /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[^A-Za-z0-9_-]*$/ : stryMutAct_9fa48("375") ? /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]$/ : stryMutAct_9fa48("374") ? /^[A-Za-z0-9_-]+\.[^A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/ : stryMutAct_9fa48("373") ? /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]\.[A-Za-z0-9_-]*$/ : stryMutAct_9fa48("372") ? /^[^A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/ : stryMutAct_9fa48("371") ? /^[A-Za-z0-9_-]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/ : stryMutAct_9fa48("370") ? /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/ : stryMutAct_9fa48("369") ? /[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/ : (stryCov_9fa48("369", "370", "371", "372", "373", "374", "375", "376"), /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/);
const fail = stryMutAct_9fa48("377") ? () => undefined : (stryCov_9fa48("377"), (() => {
  const fail = (reason: TokenFailure, detail: string, more: {
    issuer?: TrustedIssuer;
    claims?: JWTPayload;
  } = {}): Verification => stryMutAct_9fa48("378") ? {} : (stryCov_9fa48("378"), {
    ok: stryMutAct_9fa48("379") ? true : (stryCov_9fa48("379"), false),
    reason,
    detail,
    ...more
  });
  return fail;
})());
export class TokenVerifier {
  readonly #issuers = new Map<string, {
    issuer: TrustedIssuer;
    keys: IssuerKeys;
  }>();
  readonly #now: () => number;
  constructor(issuers: readonly TrustedIssuer[], options: TokenVerifierOptions = {}) {
    if (stryMutAct_9fa48("380")) {
      {}
    } else {
      stryCov_9fa48("380");
      this.#now = stryMutAct_9fa48("381") ? options.now && Date.now : (stryCov_9fa48("381"), options.now ?? Date.now);
      for (const issuer of issuers) {
        if (stryMutAct_9fa48("382")) {
          {}
        } else {
          stryCov_9fa48("382");
          const keys = new IssuerKeys(stryMutAct_9fa48("383") ? {} : (stryCov_9fa48("383"), {
            ...options.keys,
            now: this.#now,
            issuer: issuer.issuer,
            ca: issuer.ca,
            onFetch: stryMutAct_9fa48("384") ? () => undefined : (stryCov_9fa48("384"), (outcome, error) => stryMutAct_9fa48("385") ? options.onKeyFetch(issuer, outcome, error) : (stryCov_9fa48("385"), options.onKeyFetch?.(issuer, outcome, error)))
          }));
          this.#issuers.set(issuer.issuer, stryMutAct_9fa48("387") ? {} : (stryCov_9fa48("387"), {
            issuer,
            keys
          }));
        }
      }
    }
  }

  /** Fetches every issuer's keys (at start); failures are reported through onKeyFetch only. */
  async prefetch(): Promise<void> {
    if (stryMutAct_9fa48("388")) {
      {}
    } else {
      stryCov_9fa48("388");
      await Promise.all((stryMutAct_9fa48("389") ? [] : (stryCov_9fa48("389"), [...this.#issuers.values()])).map(stryMutAct_9fa48("390") ? () => undefined : (stryCov_9fa48("390"), ({
        keys
      }) => keys.prefetch())));
    }
  }
  async verify(token: string): Promise<Verification> {
    if (stryMutAct_9fa48("391")) {
      {}
    } else {
      stryCov_9fa48("391");
      if (stryMutAct_9fa48("394") ? false : stryMutAct_9fa48("393") ? true : stryMutAct_9fa48("392") ? COMPACT_JWS.test(token) : (stryCov_9fa48("392", "393", "394"), !COMPACT_JWS.test(token))) return fail(stryMutAct_9fa48("395") ? "" : (stryCov_9fa48("395"), 'token_invalid'), stryMutAct_9fa48("396") ? "" : (stryCov_9fa48("396"), 'not a compact JWS (three base64url parts)'));
      let alg: unknown;
      let iss: unknown;
      try {
        if (stryMutAct_9fa48("397")) {
          {}
        } else {
          stryCov_9fa48("397");
          alg = decodeProtectedHeader(token).alg;
          iss = decodeJwt(token).iss;
        }
      } catch (error) {
        if (stryMutAct_9fa48("398")) {
          {}
        } else {
          stryCov_9fa48("398");
          return fail(stryMutAct_9fa48("399") ? "" : (stryCov_9fa48("399"), 'token_invalid'), (error as Error).message);
        }
      }
      if (stryMutAct_9fa48("402") ? typeof alg === 'string' : stryMutAct_9fa48("401") ? false : stryMutAct_9fa48("400") ? true : (stryCov_9fa48("400", "401", "402"), typeof alg !== (stryMutAct_9fa48("403") ? "" : (stryCov_9fa48("403"), 'string')))) return fail(stryMutAct_9fa48("404") ? "" : (stryCov_9fa48("404"), 'token_invalid'), stryMutAct_9fa48("405") ? "" : (stryCov_9fa48("405"), 'no "alg" in the header'));
      if (stryMutAct_9fa48("408") ? alg.toLowerCase() !== 'none' : stryMutAct_9fa48("407") ? false : stryMutAct_9fa48("406") ? true : (stryCov_9fa48("406", "407", "408"), (stryMutAct_9fa48("409") ? alg.toUpperCase() : (stryCov_9fa48("409"), alg.toLowerCase())) === (stryMutAct_9fa48("410") ? "" : (stryCov_9fa48("410"), 'none')))) return fail(stryMutAct_9fa48("411") ? "" : (stryCov_9fa48("411"), 'token_unsigned'), stryMutAct_9fa48("412") ? "" : (stryCov_9fa48("412"), 'alg "none"'));
      if (stryMutAct_9fa48("415") ? false : stryMutAct_9fa48("414") ? true : stryMutAct_9fa48("413") ? (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg) : (stryCov_9fa48("413", "414", "415"), !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))) {
        if (stryMutAct_9fa48("416")) {
          {}
        } else {
          stryCov_9fa48("416");
          return fail(stryMutAct_9fa48("417") ? "" : (stryCov_9fa48("417"), 'token_algorithm_not_allowed'), stryMutAct_9fa48("418") ? `` : (stryCov_9fa48("418"), `alg ${JSON.stringify(stryMutAct_9fa48("419") ? alg : (stryCov_9fa48("419"), alg.slice(0, 16)))}`));
        }
      }
      if (stryMutAct_9fa48("422") ? typeof iss === 'string' : stryMutAct_9fa48("421") ? false : stryMutAct_9fa48("420") ? true : (stryCov_9fa48("420", "421", "422"), typeof iss !== (stryMutAct_9fa48("423") ? "" : (stryCov_9fa48("423"), 'string')))) return fail(stryMutAct_9fa48("424") ? "" : (stryCov_9fa48("424"), 'token_invalid'), stryMutAct_9fa48("425") ? "" : (stryCov_9fa48("425"), 'no "iss" claim'));
      const trusted = this.#issuers.get(iss);
      if (stryMutAct_9fa48("428") ? trusted !== undefined : stryMutAct_9fa48("427") ? false : stryMutAct_9fa48("426") ? true : (stryCov_9fa48("426", "427", "428"), trusted === undefined)) return fail(stryMutAct_9fa48("429") ? "" : (stryCov_9fa48("429"), 'untrusted_issuer'), stryMutAct_9fa48("430") ? `` : (stryCov_9fa48("430"), `iss ${JSON.stringify(stryMutAct_9fa48("431") ? iss : (stryCov_9fa48("431"), iss.slice(0, 200)))}`));
      const {
        issuer,
        keys
      } = trusted;
      if (stryMutAct_9fa48("434") ? false : stryMutAct_9fa48("433") ? true : stryMutAct_9fa48("432") ? issuer.algorithms.includes(alg) : (stryCov_9fa48("432", "433", "434"), !issuer.algorithms.includes(alg))) {
        if (stryMutAct_9fa48("435")) {
          {}
        } else {
          stryCov_9fa48("435");
          return fail(stryMutAct_9fa48("436") ? "" : (stryCov_9fa48("436"), 'token_algorithm_not_allowed'), stryMutAct_9fa48("437") ? `` : (stryCov_9fa48("437"), `alg ${alg} is not allowed for ${issuer.name}`), stryMutAct_9fa48("438") ? {} : (stryCov_9fa48("438"), {
            issuer
          }));
        }
      }
      return this.#verifySigned(token, issuer, keys);
    }
  }
  async #verifySigned(token: string, issuer: TrustedIssuer, keys: IssuerKeys): Promise<Verification> {
    if (stryMutAct_9fa48("439")) {
      {}
    } else {
      stryCov_9fa48("439");
      const now = this.#now();
      let claims: JWTPayload;
      try {
        if (stryMutAct_9fa48("440")) {
          {}
        } else {
          stryCov_9fa48("440");
          const key = await keys.key(decodeProtectedHeader(token));
          ({
            payload: claims
          } = await jwtVerify(token, key, stryMutAct_9fa48("441") ? {} : (stryCov_9fa48("441"), {
            issuer: issuer.issuer,
            audience: stryMutAct_9fa48("442") ? [] : (stryCov_9fa48("442"), [...issuer.audiences]),
            algorithms: stryMutAct_9fa48("443") ? [] : (stryCov_9fa48("443"), [...issuer.algorithms]),
            clockTolerance: issuer.clockSkewSeconds,
            requiredClaims: stryMutAct_9fa48("444") ? [] : (stryCov_9fa48("444"), [stryMutAct_9fa48("445") ? "" : (stryCov_9fa48("445"), 'exp'), stryMutAct_9fa48("446") ? "" : (stryCov_9fa48("446"), 'iat')]),
            currentDate: new Date(now)
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("447")) {
          {}
        } else {
          stryCov_9fa48("447");
          return refusal(error, issuer);
        }
      }
      const {
        exp,
        iat
      } = claims;
      if (stryMutAct_9fa48("450") ? typeof exp !== 'number' && typeof iat !== 'number' : stryMutAct_9fa48("449") ? false : stryMutAct_9fa48("448") ? true : (stryCov_9fa48("448", "449", "450"), (stryMutAct_9fa48("452") ? typeof exp === 'number' : stryMutAct_9fa48("451") ? false : (stryCov_9fa48("451", "452"), typeof exp !== (stryMutAct_9fa48("453") ? "" : (stryCov_9fa48("453"), 'number')))) || (stryMutAct_9fa48("455") ? typeof iat === 'number' : stryMutAct_9fa48("454") ? false : (stryCov_9fa48("454", "455"), typeof iat !== (stryMutAct_9fa48("456") ? "" : (stryCov_9fa48("456"), 'number')))))) {
        if (stryMutAct_9fa48("457")) {
          {}
        } else {
          stryCov_9fa48("457");
          return fail(stryMutAct_9fa48("458") ? "" : (stryCov_9fa48("458"), 'token_invalid'), stryMutAct_9fa48("459") ? "" : (stryCov_9fa48("459"), '"exp" and "iat" must be numbers'), stryMutAct_9fa48("460") ? {} : (stryCov_9fa48("460"), {
            issuer
          }));
        }
      }
      if (stryMutAct_9fa48("464") ? iat <= now / 1000 + issuer.clockSkewSeconds : stryMutAct_9fa48("463") ? iat >= now / 1000 + issuer.clockSkewSeconds : stryMutAct_9fa48("462") ? false : stryMutAct_9fa48("461") ? true : (stryCov_9fa48("461", "462", "463", "464"), iat > (stryMutAct_9fa48("465") ? now / 1000 - issuer.clockSkewSeconds : (stryCov_9fa48("465"), (stryMutAct_9fa48("466") ? now * 1000 : (stryCov_9fa48("466"), now / 1000)) + issuer.clockSkewSeconds)))) {
        if (stryMutAct_9fa48("467")) {
          {}
        } else {
          stryCov_9fa48("467");
          return fail(stryMutAct_9fa48("468") ? "" : (stryCov_9fa48("468"), 'token_not_yet_valid'), stryMutAct_9fa48("469") ? "" : (stryCov_9fa48("469"), '"iat" lies in the future'), stryMutAct_9fa48("470") ? {} : (stryCov_9fa48("470"), {
            issuer,
            claims
          }));
        }
      }
      if (stryMutAct_9fa48("474") ? exp - iat <= issuer.maxTokenLifetimeSeconds : stryMutAct_9fa48("473") ? exp - iat >= issuer.maxTokenLifetimeSeconds : stryMutAct_9fa48("472") ? false : stryMutAct_9fa48("471") ? true : (stryCov_9fa48("471", "472", "473", "474"), (stryMutAct_9fa48("475") ? exp + iat : (stryCov_9fa48("475"), exp - iat)) > issuer.maxTokenLifetimeSeconds)) {
        if (stryMutAct_9fa48("476")) {
          {}
        } else {
          stryCov_9fa48("476");
          return fail(stryMutAct_9fa48("477") ? "" : (stryCov_9fa48("477"), 'token_lifetime_too_long'), stryMutAct_9fa48("478") ? `` : (stryCov_9fa48("478"), `valid for ${stryMutAct_9fa48("479") ? exp + iat : (stryCov_9fa48("479"), exp - iat)} s`), stryMutAct_9fa48("480") ? {} : (stryCov_9fa48("480"), {
            issuer,
            claims
          }));
        }
      }
      return stryMutAct_9fa48("481") ? {} : (stryCov_9fa48("481"), {
        ok: stryMutAct_9fa48("482") ? false : (stryCov_9fa48("482"), true),
        issuer,
        claims,
        expiresAt: stryMutAct_9fa48("483") ? exp / 1000 : (stryCov_9fa48("483"), exp * 1000)
      });
    }
  }
}

/** jose's and our errors as reasons. jose checks the signature before the claims, so claims it reports are verified. */
function refusal(error: unknown, issuer: TrustedIssuer): Verification {
  if (stryMutAct_9fa48("484")) {
    {}
  } else {
    stryCov_9fa48("484");
    if (stryMutAct_9fa48("486") ? false : stryMutAct_9fa48("485") ? true : (stryCov_9fa48("485", "486"), error instanceof IssuerUnavailableError)) return fail(stryMutAct_9fa48("487") ? "" : (stryCov_9fa48("487"), 'issuer_unavailable'), error.message, stryMutAct_9fa48("488") ? {} : (stryCov_9fa48("488"), {
      issuer
    }));
    if (stryMutAct_9fa48("490") ? false : stryMutAct_9fa48("489") ? true : (stryCov_9fa48("489", "490"), error instanceof UnknownKeyError)) return fail(stryMutAct_9fa48("491") ? "" : (stryCov_9fa48("491"), 'token_unknown_key'), error.message, stryMutAct_9fa48("492") ? {} : (stryCov_9fa48("492"), {
      issuer
    }));
    if (stryMutAct_9fa48("494") ? false : stryMutAct_9fa48("493") ? true : (stryCov_9fa48("493", "494"), error instanceof errors.JWTExpired)) {
      if (stryMutAct_9fa48("495")) {
        {}
      } else {
        stryCov_9fa48("495");
        return fail(stryMutAct_9fa48("496") ? "" : (stryCov_9fa48("496"), 'token_expired'), error.message, stryMutAct_9fa48("497") ? {} : (stryCov_9fa48("497"), {
          issuer,
          claims: error.payload
        }));
      }
    }
    if (stryMutAct_9fa48("499") ? false : stryMutAct_9fa48("498") ? true : (stryCov_9fa48("498", "499"), error instanceof errors.JWTClaimValidationFailed)) {
      if (stryMutAct_9fa48("500")) {
        {}
      } else {
        stryCov_9fa48("500");
        const more = stryMutAct_9fa48("501") ? {} : (stryCov_9fa48("501"), {
          issuer,
          claims: error.payload
        });
        if (stryMutAct_9fa48("504") ? error.claim !== 'aud' : stryMutAct_9fa48("503") ? false : stryMutAct_9fa48("502") ? true : (stryCov_9fa48("502", "503", "504"), error.claim === (stryMutAct_9fa48("505") ? "" : (stryCov_9fa48("505"), 'aud')))) return fail(stryMutAct_9fa48("506") ? "" : (stryCov_9fa48("506"), 'token_wrong_audience'), error.message, more);
        if (stryMutAct_9fa48("509") ? error.claim === 'nbf' || error.reason === 'check_failed' : stryMutAct_9fa48("508") ? false : stryMutAct_9fa48("507") ? true : (stryCov_9fa48("507", "508", "509"), (stryMutAct_9fa48("511") ? error.claim !== 'nbf' : stryMutAct_9fa48("510") ? true : (stryCov_9fa48("510", "511"), error.claim === (stryMutAct_9fa48("512") ? "" : (stryCov_9fa48("512"), 'nbf')))) && (stryMutAct_9fa48("514") ? error.reason !== 'check_failed' : stryMutAct_9fa48("513") ? true : (stryCov_9fa48("513", "514"), error.reason === (stryMutAct_9fa48("515") ? "" : (stryCov_9fa48("515"), 'check_failed')))))) {
          if (stryMutAct_9fa48("516")) {
            {}
          } else {
            stryCov_9fa48("516");
            return fail(stryMutAct_9fa48("517") ? "" : (stryCov_9fa48("517"), 'token_not_yet_valid'), error.message, more);
          }
        }
        return fail(stryMutAct_9fa48("518") ? "" : (stryCov_9fa48("518"), 'token_invalid'), error.message, more);
      }
    }
    if (stryMutAct_9fa48("520") ? false : stryMutAct_9fa48("519") ? true : (stryCov_9fa48("519", "520"), error instanceof errors.JWKSMultipleMatchingKeys)) {
      if (stryMutAct_9fa48("521")) {
        {}
      } else {
        stryCov_9fa48("521");
        return fail(stryMutAct_9fa48("522") ? "" : (stryCov_9fa48("522"), 'token_invalid'), stryMutAct_9fa48("523") ? "" : (stryCov_9fa48("523"), 'the token names no "kid" and several keys match'), stryMutAct_9fa48("524") ? {} : (stryCov_9fa48("524"), {
          issuer
        }));
      }
    }
    if (stryMutAct_9fa48("526") ? false : stryMutAct_9fa48("525") ? true : (stryCov_9fa48("525", "526"), error instanceof errors.JOSEError)) return fail(stryMutAct_9fa48("527") ? "" : (stryCov_9fa48("527"), 'token_invalid'), error.message, stryMutAct_9fa48("528") ? {} : (stryCov_9fa48("528"), {
      issuer
    }));
    throw error;
  }
}