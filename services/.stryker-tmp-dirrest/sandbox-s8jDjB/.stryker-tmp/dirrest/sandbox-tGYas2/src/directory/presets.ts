// @ts-nocheck
// 
// Defaults per directory flavour. Every value can be overridden by its LDAP_* variable.
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
export type PresetName = 'openldap' | 'activedirectory' | 'freeipa';
export interface Preset {
  readonly userFilter: string;
  readonly usernameAttribute: string;
  readonly groupFilter: string;
  readonly groupNameAttribute: string;
}
export const PRESETS: Readonly<Record<PresetName, Preset>> = stryMutAct_9fa48("102") ? {} : (stryCov_9fa48("102"), {
  openldap: stryMutAct_9fa48("103") ? {} : (stryCov_9fa48("103"), {
    userFilter: stryMutAct_9fa48("104") ? "" : (stryCov_9fa48("104"), '(&(objectClass=inetOrgPerson)(uid={username}))'),
    usernameAttribute: stryMutAct_9fa48("105") ? "" : (stryCov_9fa48("105"), 'uid'),
    groupFilter: stryMutAct_9fa48("106") ? "" : (stryCov_9fa48("106"), '(&(objectClass=groupOfNames)(member={dn}))'),
    groupNameAttribute: stryMutAct_9fa48("107") ? "" : (stryCov_9fa48("107"), 'cn')
  }),
  activedirectory: stryMutAct_9fa48("108") ? {} : (stryCov_9fa48("108"), {
    // sAMAccountName or UPN; `DOMAIN\user` is reduced to `user` before the search (normalizeLogin).
    userFilter: stryMutAct_9fa48("109") ? "" : (stryCov_9fa48("109"), '(&(objectCategory=person)(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))'),
    usernameAttribute: stryMutAct_9fa48("110") ? "" : (stryCov_9fa48("110"), 'sAMAccountName'),
    groupFilter: stryMutAct_9fa48("111") ? "" : (stryCov_9fa48("111"), '(&(objectClass=group)(member={dn}))'),
    groupNameAttribute: stryMutAct_9fa48("112") ? "" : (stryCov_9fa48("112"), 'cn')
  }),
  freeipa: stryMutAct_9fa48("113") ? {} : (stryCov_9fa48("113"), {
    userFilter: stryMutAct_9fa48("114") ? "" : (stryCov_9fa48("114"), '(&(objectClass=posixAccount)(uid={username}))'),
    usernameAttribute: stryMutAct_9fa48("115") ? "" : (stryCov_9fa48("115"), 'uid'),
    groupFilter: stryMutAct_9fa48("116") ? "" : (stryCov_9fa48("116"), '(&(objectClass=groupOfNames)(member={dn}))'),
    groupNameAttribute: stryMutAct_9fa48("117") ? "" : (stryCov_9fa48("117"), 'cn')
  })
});
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

// 1.2.840.113556.1.4.1941 // LDAP_MATCHING_RULE_IN_CHAIN: AD resolves transitive membership server-side.
export const IN_CHAIN_MEMBER = stryMutAct_9fa48("118") ? "" : (stryCov_9fa48("118"), '(member:1.2.840.113556.1.4.1941:={dn})');

/**
 * How a login name is reduced before the directory search (and the cache key): AD's down-level
 * `DOMAIN\user` → `user`, and ASCII letters lower-cased, because AD compares sAMAccountName and
 * userPrincipalName case-insensitively: `ALICE@EXAMPLE.TEST` is the same account as `alice@example.test`
 * and must find the same cache entry instead of binding again. Only ASCII: other case mappings (e.g.
 * Turkish dotted I) differ between JavaScript and AD, and a miss merely costs one bind.
 */
export function normalizeLogin(preset: PresetName, login: string): string {
  if (stryMutAct_9fa48("119")) {
    {}
  } else {
    stryCov_9fa48("119");
    if (stryMutAct_9fa48("122") ? preset === 'activedirectory' : stryMutAct_9fa48("121") ? false : stryMutAct_9fa48("120") ? true : (stryCov_9fa48("120", "121", "122"), preset !== (stryMutAct_9fa48("123") ? "" : (stryCov_9fa48("123"), 'activedirectory')))) return login;
    const slash = login.indexOf(stryMutAct_9fa48("124") ? "" : (stryCov_9fa48("124"), '\\'));
    const name = (stryMutAct_9fa48("127") ? slash > 0 || slash < login.length - 1 : stryMutAct_9fa48("126") ? false : stryMutAct_9fa48("125") ? true : (stryCov_9fa48("125", "126", "127"), (stryMutAct_9fa48("130") ? slash <= 0 : stryMutAct_9fa48("129") ? slash >= 0 : stryMutAct_9fa48("128") ? true : (stryCov_9fa48("128", "129", "130"), slash > 0)) && (stryMutAct_9fa48("133") ? slash >= login.length - 1 : stryMutAct_9fa48("132") ? slash <= login.length - 1 : stryMutAct_9fa48("131") ? true : (stryCov_9fa48("131", "132", "133"), slash < (stryMutAct_9fa48("134") ? login.length + 1 : (stryCov_9fa48("134"), login.length - 1)))))) ? stryMutAct_9fa48("135") ? login : (stryCov_9fa48("135"), login.slice(stryMutAct_9fa48("136") ? slash - 1 : (stryCov_9fa48("136"), slash + 1))) : login;
    return name.replace(stryMutAct_9fa48("138") ? /[^A-Z]+/g : stryMutAct_9fa48("137") ? /[A-Z]/g : (stryCov_9fa48("137", "138"), /[A-Z]+/g), stryMutAct_9fa48("139") ? () => undefined : (stryCov_9fa48("139"), letters => stryMutAct_9fa48("140") ? letters.toUpperCase() : (stryCov_9fa48("140"), letters.toLowerCase())));
  }
}