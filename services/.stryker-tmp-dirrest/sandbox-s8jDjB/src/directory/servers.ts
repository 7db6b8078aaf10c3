// @ts-nocheck
// The configured LDAP servers and what is known of each: up, or down until a retry time. A server that
// fails to connect (refused, timed out, black-holed, TLS refused) is skipped by new connections until its
// retry time, then probed again, so only the request that found it dead pays for it. When every server is
// down, requests fail at once instead of each waiting out the connect timeout (a circuit breaker per
// server); one caller at a time may then try a due server (half-open), the others keep failing fast.
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
export interface ServerEvent {
  /** `ldaps://host:port`: see serverLabel(). */
  readonly server: string;
  readonly up: boolean;
  /** Why it went down. */
  readonly error?: string;
  /** When it went down: the first server still up, which takes over (undefined: none is). */
  readonly failover?: string;
}
export interface ServerObserver {
  /** A server changed state (also called once per server at construction, as up, with no `error`). */
  serverState(event: ServerEvent): void;
}
export interface ServerSetOptions {
  /** How long a failed server is skipped before it is probed again. */
  readonly retryAfterMs: number;
  readonly now?: () => number;
}
interface ServerState {
  readonly url: string;
  readonly label: string;
  up: boolean;
  /** While down: when it may be probed again. */
  retryAt: number;
  /** While down: a probe owns the server until then (half-open), so no one else tries it. */
  probeUntil: number;
  /** While down: what its last failure was (for an error that names the cause). */
  cause: unknown;
}

/**
 * `ldaps://host:port` of an LDAP URL: scheme, host and the effective port, never user information, so it
 * can name the server in logs and metric labels.
 */
export function serverLabel(url: string): string {
  if (stryMutAct_9fa48("141")) {
    {}
  } else {
    stryCov_9fa48("141");
    try {
      if (stryMutAct_9fa48("142")) {
        {}
      } else {
        stryCov_9fa48("142");
        const parsed = new URL(url);
        const scheme = stryMutAct_9fa48("143") ? parsed.protocol.replace(/:$/, '').toUpperCase() : (stryCov_9fa48("143"), parsed.protocol.replace(stryMutAct_9fa48("144") ? /:/ : (stryCov_9fa48("144"), /:$/), stryMutAct_9fa48("145") ? "Stryker was here!" : (stryCov_9fa48("145"), '')).toLowerCase());
        const port = (stryMutAct_9fa48("148") ? parsed.port !== '' : stryMutAct_9fa48("147") ? false : stryMutAct_9fa48("146") ? true : (stryCov_9fa48("146", "147", "148"), parsed.port === (stryMutAct_9fa48("149") ? "Stryker was here!" : (stryCov_9fa48("149"), '')))) ? (stryMutAct_9fa48("152") ? scheme !== 'ldaps' : stryMutAct_9fa48("151") ? false : stryMutAct_9fa48("150") ? true : (stryCov_9fa48("150", "151", "152"), scheme === (stryMutAct_9fa48("153") ? "" : (stryCov_9fa48("153"), 'ldaps')))) ? stryMutAct_9fa48("154") ? "" : (stryCov_9fa48("154"), '636') : stryMutAct_9fa48("155") ? "" : (stryCov_9fa48("155"), '389') : parsed.port;
        return stryMutAct_9fa48("156") ? `` : (stryCov_9fa48("156"), `${scheme}://${parsed.hostname}:${port}`);
      }
    } catch {
      if (stryMutAct_9fa48("157")) {
        {}
      } else {
        stryCov_9fa48("157");
        return stryMutAct_9fa48("158") ? "" : (stryCov_9fa48("158"), 'invalid-url'); // config.ts refuses such URLs before anything is built
      }
    }
  }
}
export class ServerSet {
  readonly #servers: ServerState[];
  readonly #retryAfterMs: number;
  readonly #now: () => number;
  readonly #observer: ServerObserver;
  constructor(urls: readonly string[], options: ServerSetOptions, observer: ServerObserver) {
    if (stryMutAct_9fa48("159")) {
      {}
    } else {
      stryCov_9fa48("159");
      this.#retryAfterMs = options.retryAfterMs;
      this.#now = stryMutAct_9fa48("160") ? options.now && Date.now : (stryCov_9fa48("160"), options.now ?? Date.now);
      this.#observer = observer;
      this.#servers = urls.map(stryMutAct_9fa48("161") ? () => undefined : (stryCov_9fa48("161"), url => stryMutAct_9fa48("162") ? {} : (stryCov_9fa48("162"), {
        url,
        label: serverLabel(url),
        up: stryMutAct_9fa48("163") ? false : (stryCov_9fa48("163"), true),
        retryAt: 0,
        probeUntil: 0,
        cause: undefined
      })));
      for (const s of this.#servers) observer.serverState(stryMutAct_9fa48("165") ? {} : (stryCov_9fa48("165"), {
        server: s.label,
        up: stryMutAct_9fa48("166") ? false : (stryCov_9fa48("166"), true)
      }));
    }
  }

  /**
   * The URLs a new connection should try, in configured order: every server that is up. When none is,
   * at most one due server, claimed for this caller's probe for `probeMs` (the half-open trial); an empty
   * list means fail now.
   */
  candidates(probeMs: number): string[] {
    if (stryMutAct_9fa48("167")) {
      {}
    } else {
      stryCov_9fa48("167");
      const up = stryMutAct_9fa48("168") ? this.#servers.map(s => s.url) : (stryCov_9fa48("168"), this.#servers.filter(stryMutAct_9fa48("169") ? () => undefined : (stryCov_9fa48("169"), s => s.up)).map(stryMutAct_9fa48("170") ? () => undefined : (stryCov_9fa48("170"), s => s.url)));
      return (stryMutAct_9fa48("174") ? up.length <= 0 : stryMutAct_9fa48("173") ? up.length >= 0 : stryMutAct_9fa48("172") ? false : stryMutAct_9fa48("171") ? true : (stryCov_9fa48("171", "172", "173", "174"), up.length > 0)) ? up : this.claimDue(probeMs, 1);
    }
  }

  /** Claims up to `max` down servers whose retry time has come (for a probe); returns their URLs. */
  claimDue(probeMs: number, max = Number.POSITIVE_INFINITY): string[] {
    if (stryMutAct_9fa48("175")) {
      {}
    } else {
      stryCov_9fa48("175");
      const now = this.#now();
      const claimed: string[] = stryMutAct_9fa48("176") ? ["Stryker was here"] : (stryCov_9fa48("176"), []);
      for (const s of this.#servers) {
        if (stryMutAct_9fa48("177")) {
          {}
        } else {
          stryCov_9fa48("177");
          if (stryMutAct_9fa48("181") ? claimed.length < max : stryMutAct_9fa48("180") ? claimed.length > max : stryMutAct_9fa48("179") ? false : stryMutAct_9fa48("178") ? true : (stryCov_9fa48("178", "179", "180", "181"), claimed.length >= max)) break;
          if (stryMutAct_9fa48("184") ? (s.up || now < s.retryAt) && now < s.probeUntil : stryMutAct_9fa48("183") ? false : stryMutAct_9fa48("182") ? true : (stryCov_9fa48("182", "183", "184"), (stryMutAct_9fa48("186") ? s.up && now < s.retryAt : stryMutAct_9fa48("185") ? false : (stryCov_9fa48("185", "186"), s.up || (stryMutAct_9fa48("189") ? now >= s.retryAt : stryMutAct_9fa48("188") ? now <= s.retryAt : stryMutAct_9fa48("187") ? false : (stryCov_9fa48("187", "188", "189"), now < s.retryAt)))) || (stryMutAct_9fa48("192") ? now >= s.probeUntil : stryMutAct_9fa48("191") ? now <= s.probeUntil : stryMutAct_9fa48("190") ? false : (stryCov_9fa48("190", "191", "192"), now < s.probeUntil)))) continue;
          s.probeUntil = stryMutAct_9fa48("193") ? now - probeMs : (stryCov_9fa48("193"), now + probeMs);
          if (stryMutAct_9fa48("194")) {
            ;
          } else {
            stryCov_9fa48("194");
            claimed.push(s.url);
          }
        }
      }
      return claimed;
    }
  }

  /** The server answered (a bind or search result of any kind). */
  succeeded(url: string): void {
    if (stryMutAct_9fa48("195")) {
      {}
    } else {
      stryCov_9fa48("195");
      const s = this.#find(url);
      if (stryMutAct_9fa48("198") ? s === undefined && s.up : stryMutAct_9fa48("197") ? false : stryMutAct_9fa48("196") ? true : (stryCov_9fa48("196", "197", "198"), (stryMutAct_9fa48("200") ? s !== undefined : stryMutAct_9fa48("199") ? false : (stryCov_9fa48("199", "200"), s === undefined)) || s.up)) return;
      s.up = stryMutAct_9fa48("201") ? false : (stryCov_9fa48("201"), true);
      s.retryAt = 0;
      s.probeUntil = 0;
      s.cause = undefined;
      this.#observer.serverState(stryMutAct_9fa48("203") ? {} : (stryCov_9fa48("203"), {
        server: s.label,
        up: stryMutAct_9fa48("204") ? false : (stryCov_9fa48("204"), true)
      }));
    }
  }

  /** The server could not be reached or did not answer in time: skip it for a while. */
  failed(url: string, error: string, cause?: unknown): void {
    if (stryMutAct_9fa48("205")) {
      {}
    } else {
      stryCov_9fa48("205");
      const s = this.#find(url);
      if (stryMutAct_9fa48("208") ? s !== undefined : stryMutAct_9fa48("207") ? false : stryMutAct_9fa48("206") ? true : (stryCov_9fa48("206", "207", "208"), s === undefined)) return;
      const now = this.#now();
      s.retryAt = stryMutAct_9fa48("209") ? now - this.#retryAfterMs : (stryCov_9fa48("209"), now + this.#retryAfterMs);
      s.probeUntil = 0;
      s.cause = cause;
      if (stryMutAct_9fa48("212") ? false : stryMutAct_9fa48("211") ? true : stryMutAct_9fa48("210") ? s.up : (stryCov_9fa48("210", "211", "212"), !s.up)) return;
      s.up = stryMutAct_9fa48("213") ? true : (stryCov_9fa48("213"), false);
      const failover = stryMutAct_9fa48("214") ? this.#servers.find(other => other.up).label : (stryCov_9fa48("214"), this.#servers.find(stryMutAct_9fa48("215") ? () => undefined : (stryCov_9fa48("215"), other => other.up))?.label);
      this.#observer.serverState(stryMutAct_9fa48("217") ? {} : (stryCov_9fa48("217"), {
        server: s.label,
        up: stryMutAct_9fa48("218") ? true : (stryCov_9fa48("218"), false),
        error,
        ...(failover ? stryMutAct_9fa48("219") ? {} : (stryCov_9fa48("219"), {
          failover
        }) : {})
      }));
    }
  }
  isUp(url: string): boolean {
    if (stryMutAct_9fa48("220")) {
      {}
    } else {
      stryCov_9fa48("220");
      return stryMutAct_9fa48("221") ? this.#find(url)?.up && false : (stryCov_9fa48("221"), (stryMutAct_9fa48("222") ? this.#find(url).up : (stryCov_9fa48("222"), this.#find(url)?.up)) ?? (stryMutAct_9fa48("223") ? true : (stryCov_9fa48("223"), false)));
    }
  }

  /** True while no server is up: requests fail fast. */
  get allDown(): boolean {
    if (stryMutAct_9fa48("224")) {
      {}
    } else {
      stryCov_9fa48("224");
      return stryMutAct_9fa48("225") ? this.#servers.some(s => !s.up) : (stryCov_9fa48("225"), this.#servers.every(stryMutAct_9fa48("226") ? () => undefined : (stryCov_9fa48("226"), s => stryMutAct_9fa48("227") ? s.up : (stryCov_9fa48("227"), !s.up))));
    }
  }

  /** The last failure of each server that is down, in configured order. */
  causes(): unknown[] {
    if (stryMutAct_9fa48("228")) {
      {}
    } else {
      stryCov_9fa48("228");
      return stryMutAct_9fa48("229") ? this.#servers.map(s => s.cause) : (stryCov_9fa48("229"), this.#servers.filter(stryMutAct_9fa48("230") ? () => undefined : (stryCov_9fa48("230"), s => stryMutAct_9fa48("231") ? s.up : (stryCov_9fa48("231"), !s.up))).map(stryMutAct_9fa48("232") ? () => undefined : (stryCov_9fa48("232"), s => s.cause)));
    }
  }

  /** Milliseconds until the next down server may be probed (0 when one is due or all are up). */
  nextRetryInMs(): number {
    if (stryMutAct_9fa48("233")) {
      {}
    } else {
      stryCov_9fa48("233");
      const down = stryMutAct_9fa48("234") ? this.#servers : (stryCov_9fa48("234"), this.#servers.filter(stryMutAct_9fa48("235") ? () => undefined : (stryCov_9fa48("235"), s => stryMutAct_9fa48("236") ? s.up : (stryCov_9fa48("236"), !s.up))));
      if (stryMutAct_9fa48("239") ? down.length !== 0 : stryMutAct_9fa48("238") ? false : stryMutAct_9fa48("237") ? true : (stryCov_9fa48("237", "238", "239"), down.length === 0)) return 0;
      return stryMutAct_9fa48("240") ? Math.min(0, Math.min(...down.map(s => s.retryAt)) - this.#now()) : (stryCov_9fa48("240"), Math.max(0, stryMutAct_9fa48("241") ? Math.min(...down.map(s => s.retryAt)) + this.#now() : (stryCov_9fa48("241"), (stryMutAct_9fa48("242") ? Math.max(...down.map(s => s.retryAt)) : (stryCov_9fa48("242"), Math.min(...down.map(stryMutAct_9fa48("243") ? () => undefined : (stryCov_9fa48("243"), s => s.retryAt))))) - this.#now())));
    }
  }

  /** URL → label, for logs. */
  label(url: string): string {
    if (stryMutAct_9fa48("244")) {
      {}
    } else {
      stryCov_9fa48("244");
      return stryMutAct_9fa48("245") ? this.#find(url)?.label && serverLabel(url) : (stryCov_9fa48("245"), (stryMutAct_9fa48("246") ? this.#find(url).label : (stryCov_9fa48("246"), this.#find(url)?.label)) ?? serverLabel(url));
    }
  }

  /** Every server with its state, for logs and tests. */
  snapshot(): {
    server: string;
    up: boolean;
  }[] {
    if (stryMutAct_9fa48("247")) {
      {}
    } else {
      stryCov_9fa48("247");
      return this.#servers.map(stryMutAct_9fa48("248") ? () => undefined : (stryCov_9fa48("248"), s => stryMutAct_9fa48("249") ? {} : (stryCov_9fa48("249"), {
        server: s.label,
        up: s.up
      })));
    }
  }
  #find(url: string): ServerState | undefined {
    if (stryMutAct_9fa48("250")) {
      {}
    } else {
      stryCov_9fa48("250");
      return this.#servers.find(stryMutAct_9fa48("251") ? () => undefined : (stryCov_9fa48("251"), s => stryMutAct_9fa48("254") ? s.url !== url : stryMutAct_9fa48("253") ? false : stryMutAct_9fa48("252") ? true : (stryCov_9fa48("252", "253", "254"), s.url === url)));
    }
  }
}