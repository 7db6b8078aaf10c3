// @ts-nocheck
// What the LDAP directory needs to know, as config.ts reads it from the environment. It lives with the
// directory so that the directory depends on nothing above it.
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
import type { FilterTemplate } from './filter-template.ts';
import type { PresetName } from './presets.ts';
export interface LdapConfig {
  readonly preset: PresetName;
  readonly urls: readonly string[];
  readonly startTls: boolean;
  /** PEM certificates from LDAP_CA_FILE; undefined means the system's trust store. */
  readonly ca: readonly string[] | undefined;
  /** LDAP_CA_FILE, re-read when the server's certificate stops verifying and on SIGHUP. */
  readonly caFile: string | undefined;
  readonly tlsInsecure: boolean;
  readonly bindDn: string | undefined;
  readonly bindPassword: string | undefined;
  /** LDAP_BIND_PASSWORD_FILE, re-read when the directory rejects the service bind and on SIGHUP. */
  readonly bindPasswordFile: string | undefined;
  readonly userBaseDn: string;
  readonly userFilter: FilterTemplate;
  readonly usernameAttribute: string;
  readonly groupBaseDn: string;
  readonly groupFilter: FilterTemplate;
  readonly groupNameAttribute: string;
  readonly nestedGroups: boolean;
  /** Set when the group filter itself resolves nesting (AD's in-chain rule): no client-side walk. */
  readonly nestedInFilter: boolean;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly poolSize: number;
}

/** The PEM certificates in a bundle, in order (LDAP_CA_FILE). */
export function pemCertificates(pem: string): string[] {
  if (stryMutAct_9fa48("95")) {
    {}
  } else {
    stryCov_9fa48("95");
    return stryMutAct_9fa48("96") ? pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) && [] : (stryCov_9fa48("96"), pem.match(stryMutAct_9fa48("100") ? /-----BEGIN CERTIFICATE-----[\s\s]+?-----END CERTIFICATE-----/g : stryMutAct_9fa48("99") ? /-----BEGIN CERTIFICATE-----[\S\S]+?-----END CERTIFICATE-----/g : stryMutAct_9fa48("98") ? /-----BEGIN CERTIFICATE-----[^\s\S]+?-----END CERTIFICATE-----/g : stryMutAct_9fa48("97") ? /-----BEGIN CERTIFICATE-----[\s\S]-----END CERTIFICATE-----/g : (stryCov_9fa48("97", "98", "99", "100"), /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) ?? (stryMutAct_9fa48("101") ? ["Stryker was here"] : (stryCov_9fa48("101"), [])));
  }
}