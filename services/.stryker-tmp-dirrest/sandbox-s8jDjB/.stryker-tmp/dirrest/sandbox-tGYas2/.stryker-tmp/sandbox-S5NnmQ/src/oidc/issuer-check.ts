// @ts-nocheck
// 
// 
// The configuration check's section for OIDC_CONFIG_FILE: each trusted issuer's discovery document and
// JWKS fetched exactly as the service fetches them (its CA, its deadlines), so a wrong issuer URL, a
// missing ca_file or a blocked egress shows up before the first CI job fails.
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
import { EXIT } from '../check/report.ts';
import type { Report } from '../check/report.ts';
import { IssuerKeys } from './issuer-keys.ts';
import type { OidcConfig } from './oidc-config.ts';
export async function checkIssuers(oidc: OidcConfig, report: Report): Promise<void> {
  if (stryMutAct_9fa48("71")) {
    {}
  } else {
    stryCov_9fa48("71");
    const count = oidc.issuers.length;
    report.info(stryMutAct_9fa48("73") ? `` : (stryCov_9fa48("73"), `${count} trusted issuer${(stryMutAct_9fa48("76") ? count !== 1 : stryMutAct_9fa48("75") ? false : stryMutAct_9fa48("74") ? true : (stryCov_9fa48("74", "75", "76"), count === 1)) ? stryMutAct_9fa48("77") ? "Stryker was here!" : (stryCov_9fa48("77"), '') : stryMutAct_9fa48("78") ? "" : (stryCov_9fa48("78"), 's')} in ${oidc.file}; tokens log in as ${oidc.username}`));
    await Promise.all(oidc.issuers.map(async issuer => {
      if (stryMutAct_9fa48("79")) {
        {}
      } else {
        stryCov_9fa48("79");
        let failure: string | undefined;
        const keys = new IssuerKeys(stryMutAct_9fa48("80") ? {} : (stryCov_9fa48("80"), {
          issuer: issuer.issuer,
          ca: issuer.ca,
          onFetch: (outcome, error) => {
            if (stryMutAct_9fa48("81")) {
              {}
            } else {
              stryCov_9fa48("81");
              if (stryMutAct_9fa48("84") ? outcome !== 'error' : stryMutAct_9fa48("83") ? false : stryMutAct_9fa48("82") ? true : (stryCov_9fa48("82", "83", "84"), outcome === (stryMutAct_9fa48("85") ? "" : (stryCov_9fa48("85"), 'error')))) failure = stryMutAct_9fa48("86") ? error?.message && 'fetch failed' : (stryCov_9fa48("86"), (stryMutAct_9fa48("87") ? error.message : (stryCov_9fa48("87"), error?.message)) ?? (stryMutAct_9fa48("88") ? "" : (stryCov_9fa48("88"), 'fetch failed')));
            }
          }
        }));
        await keys.prefetch();
        if (stryMutAct_9fa48("91") ? failure === undefined : stryMutAct_9fa48("90") ? false : stryMutAct_9fa48("89") ? true : (stryCov_9fa48("89", "90", "91"), failure !== undefined)) {
          if (stryMutAct_9fa48("92")) {
            {}
          } else {
            stryCov_9fa48("92");
            report.fail(stryMutAct_9fa48("94") ? `` : (stryCov_9fa48("94"), `${issuer.name}: the keys of ${issuer.issuer} cannot be fetched: ${failure}${(stryMutAct_9fa48("97") ? issuer.ca !== undefined : stryMutAct_9fa48("96") ? false : stryMutAct_9fa48("95") ? true : (stryCov_9fa48("95", "96", "97"), issuer.ca === undefined)) ? stryMutAct_9fa48("98") ? "" : (stryCov_9fa48("98"), ' (a private CA needs ca_file)') : stryMutAct_9fa48("99") ? "Stryker was here!" : (stryCov_9fa48("99"), '')}`), EXIT.misconfigured);
          }
        } else if (stryMutAct_9fa48("102") ? keys.keyCount !== 0 : stryMutAct_9fa48("101") ? false : stryMutAct_9fa48("100") ? true : (stryCov_9fa48("100", "101", "102"), keys.keyCount === 0)) {
          if (stryMutAct_9fa48("103")) {
            {}
          } else {
            stryCov_9fa48("103");
            report.fail(stryMutAct_9fa48("105") ? `` : (stryCov_9fa48("105"), `${issuer.name}: ${issuer.issuer} publishes no public signing key`), EXIT.misconfigured);
          }
        } else {
          if (stryMutAct_9fa48("106")) {
            {}
          } else {
            stryCov_9fa48("106");
            report.ok((stryMutAct_9fa48("108") ? `` : (stryCov_9fa48("108"), `${issuer.name}: ${issuer.issuer}: ${keys.keyCount} signing key${(stryMutAct_9fa48("111") ? keys.keyCount !== 1 : stryMutAct_9fa48("110") ? false : stryMutAct_9fa48("109") ? true : (stryCov_9fa48("109", "110", "111"), keys.keyCount === 1)) ? stryMutAct_9fa48("112") ? "Stryker was here!" : (stryCov_9fa48("112"), '') : stryMutAct_9fa48("113") ? "" : (stryCov_9fa48("113"), 's')}, `)) + (stryMutAct_9fa48("114") ? `` : (stryCov_9fa48("114"), `audience ${issuer.audiences.join(stryMutAct_9fa48("115") ? "" : (stryCov_9fa48("115"), ' or '))}, ${issuer.rules.length} rule${(stryMutAct_9fa48("118") ? issuer.rules.length !== 1 : stryMutAct_9fa48("117") ? false : stryMutAct_9fa48("116") ? true : (stryCov_9fa48("116", "117", "118"), issuer.rules.length === 1)) ? stryMutAct_9fa48("119") ? "Stryker was here!" : (stryCov_9fa48("119"), '') : stryMutAct_9fa48("120") ? "" : (stryCov_9fa48("120"), 's')}`)));
          }
        }
      }
    }));
  }
}