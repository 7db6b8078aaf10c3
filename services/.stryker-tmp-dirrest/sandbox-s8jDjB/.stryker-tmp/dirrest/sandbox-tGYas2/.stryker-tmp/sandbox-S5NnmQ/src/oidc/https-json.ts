// @ts-nocheck
// 
// 
// GET a small JSON document over HTTPS (an issuer's discovery document or JWKS), with its own CA bundle,
// one deadline for the whole exchange and a size bound. node:https rather than fetch(): fetch cannot be
// given a CA bundle per request.
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
import { request } from 'node:https';
export interface HttpsJsonOptions {
  /** PEM certificates to trust instead of Node's default CAs (a self-hosted GitLab's private CA). */
  readonly ca?: readonly string[] | undefined;
  /** Deadline for connect, TLS, request and the whole body. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** The issuer could not be asked (network, TLS, timeout, status, not JSON): never a verdict on a token. */
export class IssuerFetchError extends Error {
  constructor(url: string, why: string) {
    if (stryMutAct_9fa48("0")) {
      {}
    } else {
      stryCov_9fa48("0");
      super(stryMutAct_9fa48("1") ? `` : (stryCov_9fa48("1"), `${url}: ${why}`));
      this.name = stryMutAct_9fa48("2") ? "" : (stryCov_9fa48("2"), 'IssuerFetchError');
    }
  }
}
export function getJson(url: string, options: HttpsJsonOptions): Promise<unknown> {
  if (stryMutAct_9fa48("3")) {
    {}
  } else {
    stryCov_9fa48("3");
    return new Promise((resolve, reject) => {
      if (stryMutAct_9fa48("4")) {
        {}
      } else {
        stryCov_9fa48("4");
        const fail = (why: string): void => {
          if (stryMutAct_9fa48("5")) {
            {}
          } else {
            stryCov_9fa48("5");
            if (stryMutAct_9fa48("6")) {
              ;
            } else {
              stryCov_9fa48("6");
              reject(new IssuerFetchError(url, why));
            }
          }
        };
        if (stryMutAct_9fa48("9") ? false : stryMutAct_9fa48("8") ? true : stryMutAct_9fa48("7") ? url.startsWith('https://') : (stryCov_9fa48("7", "8", "9"), !(stryMutAct_9fa48("10") ? url.endsWith('https://') : (stryCov_9fa48("10"), url.startsWith(stryMutAct_9fa48("11") ? "" : (stryCov_9fa48("11"), 'https://')))))) {
          if (stryMutAct_9fa48("12")) {
            {}
          } else {
            stryCov_9fa48("12");
            fail(stryMutAct_9fa48("14") ? "" : (stryCov_9fa48("14"), 'not an https:// URL'));
            return;
          }
        }
        const req = request(url, stryMutAct_9fa48("15") ? {} : (stryCov_9fa48("15"), {
          method: stryMutAct_9fa48("16") ? "" : (stryCov_9fa48("16"), 'GET'),
          headers: stryMutAct_9fa48("17") ? {} : (stryCov_9fa48("17"), {
            Accept: stryMutAct_9fa48("18") ? "" : (stryCov_9fa48("18"), 'application/json')
          }),
          ...((stryMutAct_9fa48("21") ? options.ca !== undefined : stryMutAct_9fa48("20") ? false : stryMutAct_9fa48("19") ? true : (stryCov_9fa48("19", "20", "21"), options.ca === undefined)) ? {} : stryMutAct_9fa48("22") ? {} : (stryCov_9fa48("22"), {
            ca: stryMutAct_9fa48("23") ? [] : (stryCov_9fa48("23"), [...options.ca])
          })),
          agent: stryMutAct_9fa48("24") ? true : (stryCov_9fa48("24"), false),
          signal: AbortSignal.timeout(options.timeoutMs)
        }), res => {
          if (stryMutAct_9fa48("25")) {
            {}
          } else {
            stryCov_9fa48("25");
            // No redirects: discovery and JWKS are fetched exactly where the issuer says they are.
            if (stryMutAct_9fa48("28") ? res.statusCode === 200 : stryMutAct_9fa48("27") ? false : stryMutAct_9fa48("26") ? true : (stryCov_9fa48("26", "27", "28"), res.statusCode !== 200)) {
              if (stryMutAct_9fa48("29")) {
                {}
              } else {
                stryCov_9fa48("29");
                if (stryMutAct_9fa48("30")) {
                  ;
                } else {
                  stryCov_9fa48("30");
                  res.resume();
                }
                fail(stryMutAct_9fa48("32") ? `` : (stryCov_9fa48("32"), `HTTP ${stryMutAct_9fa48("33") ? res.statusCode && 'no status' : (stryCov_9fa48("33"), res.statusCode ?? (stryMutAct_9fa48("34") ? "" : (stryCov_9fa48("34"), 'no status')))}`));
                return;
              }
            }
            const chunks: Buffer[] = stryMutAct_9fa48("35") ? ["Stryker was here"] : (stryCov_9fa48("35"), []);
            let size = 0;
            if (stryMutAct_9fa48("36")) {
              ;
            } else {
              stryCov_9fa48("36");
              res.on(stryMutAct_9fa48("37") ? "" : (stryCov_9fa48("37"), 'data'), (chunk: Buffer) => {
                if (stryMutAct_9fa48("38")) {
                  {}
                } else {
                  stryCov_9fa48("38");
                  stryMutAct_9fa48("39") ? size -= chunk.length : (stryCov_9fa48("39"), size += chunk.length);
                  if (stryMutAct_9fa48("43") ? size <= options.maxBytes : stryMutAct_9fa48("42") ? size >= options.maxBytes : stryMutAct_9fa48("41") ? false : stryMutAct_9fa48("40") ? true : (stryCov_9fa48("40", "41", "42", "43"), size > options.maxBytes)) {
                    if (stryMutAct_9fa48("44")) {
                      {}
                    } else {
                      stryCov_9fa48("44");
                      if (stryMutAct_9fa48("45")) {
                        ;
                      } else {
                        stryCov_9fa48("45");
                        req.destroy();
                      }
                      fail(stryMutAct_9fa48("47") ? `` : (stryCov_9fa48("47"), `larger than ${options.maxBytes} bytes`));
                      return;
                    }
                  }
                  if (stryMutAct_9fa48("48")) {
                    ;
                  } else {
                    stryCov_9fa48("48");
                    chunks.push(chunk);
                  }
                }
              });
            }
            res.once(stryMutAct_9fa48("50") ? "" : (stryCov_9fa48("50"), 'error'), error => {
              if (stryMutAct_9fa48("51")) {
                {}
              } else {
                stryCov_9fa48("51");
                if (stryMutAct_9fa48("52")) {
                  ;
                } else {
                  stryCov_9fa48("52");
                  fail(error.message);
                }
              }
            });
            if (stryMutAct_9fa48("53")) {
              ;
            } else {
              stryCov_9fa48("53");
              res.once(stryMutAct_9fa48("54") ? "" : (stryCov_9fa48("54"), 'end'), () => {
                if (stryMutAct_9fa48("55")) {
                  {}
                } else {
                  stryCov_9fa48("55");
                  try {
                    if (stryMutAct_9fa48("56")) {
                      {}
                    } else {
                      stryCov_9fa48("56");
                      if (stryMutAct_9fa48("57")) {
                        ;
                      } else {
                        stryCov_9fa48("57");
                        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
                      }
                    }
                  } catch {
                    if (stryMutAct_9fa48("58")) {
                      {}
                    } else {
                      stryCov_9fa48("58");
                      fail(stryMutAct_9fa48("60") ? "" : (stryCov_9fa48("60"), 'not JSON'));
                    }
                  }
                }
              });
            }
          }
        });
        if (stryMutAct_9fa48("61")) {
          ;
        } else {
          stryCov_9fa48("61");
          req.once(stryMutAct_9fa48("62") ? "" : (stryCov_9fa48("62"), 'error'), (error: NodeJS.ErrnoException) => {
            if (stryMutAct_9fa48("63")) {
              {}
            } else {
              stryCov_9fa48("63");
              fail((stryMutAct_9fa48("67") ? error.name !== 'AbortError' : stryMutAct_9fa48("66") ? false : stryMutAct_9fa48("65") ? true : (stryCov_9fa48("65", "66", "67"), error.name === (stryMutAct_9fa48("68") ? "" : (stryCov_9fa48("68"), 'AbortError')))) ? stryMutAct_9fa48("69") ? `` : (stryCov_9fa48("69"), `no answer within ${options.timeoutMs} ms`) : error.message);
            }
          });
        }
        if (stryMutAct_9fa48("70")) {
          ;
        } else {
          stryCov_9fa48("70");
          req.end();
        }
      }
    });
  }
}