// @ts-nocheck
// 
// 
// The configured LDAP servers and what is known of each: up, or down until a retry time. A server that
// fails to connect (refused, timed out, black-holed, TLS refused) is skipped by new connections until its
// retry time, then probed again, so only the request that found it dead pays for it. When every server is
// down, requests fail at once instead of each waiting out the connect timeout (a circuit breaker per
// server); one caller at a time may then try a due server (half-open), the others keep failing fast.

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
  try {
    const parsed = new URL(url);
    const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
    const port = parsed.port === '' ? (scheme === 'ldaps' ? '636' : '389') : parsed.port;
    return `${scheme}://${parsed.hostname}:${port}`;
  } catch {
    return 'invalid-url'; // config.ts refuses such URLs before anything is built
  }
}

export class ServerSet {
  readonly #servers: ServerState[];
  readonly #retryAfterMs: number;
  readonly #now: () => number;
  readonly #observer: ServerObserver;

  constructor(urls: readonly string[], options: ServerSetOptions, observer: ServerObserver) {
    this.#retryAfterMs = options.retryAfterMs;
    this.#now = options.now ?? Date.now;
    this.#observer = observer;
    this.#servers = urls.map((url) => ({
      url,
      label: serverLabel(url),
      up: true,
      retryAt: 0,
      probeUntil: 0,
      cause: undefined,
    }));
    for (const s of this.#servers) observer.serverState({ server: s.label, up: true });
  }

  /**
   * The URLs a new connection should try, in configured order: every server that is up. When none is,
   * at most one due server, claimed for this caller's probe for `probeMs` (the half-open trial); an empty
   * list means fail now.
   */
  candidates(probeMs: number): string[] {
    const up = this.#servers.filter((s) => s.up).map((s) => s.url);
    return up.length > 0 ? up : this.claimDue(probeMs, 1);
  }

  /** Claims up to `max` down servers whose retry time has come (for a probe); returns their URLs. */
  claimDue(probeMs: number, max = Number.POSITIVE_INFINITY): string[] {
    const now = this.#now();
    const claimed: string[] = [];
    for (const s of this.#servers) {
      if (claimed.length >= max) break;
      if (s.up || now < s.retryAt || now < s.probeUntil) continue;
      s.probeUntil = now + probeMs;
      claimed.push(s.url);
    }
    return claimed;
  }

  /** The server answered (a bind or search result of any kind). */
  succeeded(url: string): void {
    const s = this.#find(url);
    if (s === undefined || s.up) return;
    s.up = true;
    s.retryAt = 0;
    s.probeUntil = 0;
    s.cause = undefined;
    this.#observer.serverState({ server: s.label, up: true });
  }

  /** The server could not be reached or did not answer in time: skip it for a while. */
  failed(url: string, error: string, cause?: unknown): void {
    const s = this.#find(url);
    if (s === undefined) return;
    const now = this.#now();
    s.retryAt = now + this.#retryAfterMs;
    s.probeUntil = 0;
    s.cause = cause;
    if (!s.up) return;
    s.up = false;
    const failover = this.#servers.find((other) => other.up)?.label;
    this.#observer.serverState({ server: s.label, up: false, error, ...(failover ? { failover } : {}) });
  }

  isUp(url: string): boolean {
    return this.#find(url)?.up ?? false;
  }

  /** True while no server is up: requests fail fast. */
  get allDown(): boolean {
    return this.#servers.every((s) => !s.up);
  }

  /** The last failure of each server that is down, in configured order. */
  causes(): unknown[] {
    return this.#servers.filter((s) => !s.up).map((s) => s.cause);
  }

  /** Milliseconds until the next down server may be probed (0 when one is due or all are up). */
  nextRetryInMs(): number {
    const down = this.#servers.filter((s) => !s.up);
    if (down.length === 0) return 0;
    return Math.max(0, Math.min(...down.map((s) => s.retryAt)) - this.#now());
  }

  /** URL → label, for logs. */
  label(url: string): string {
    return this.#find(url)?.label ?? serverLabel(url);
  }

  /** Every server with its state, for logs and tests. */
  snapshot(): { server: string; up: boolean }[] {
    return this.#servers.map((s) => ({ server: s.label, up: s.up }));
  }

  #find(url: string): ServerState | undefined {
    return this.#servers.find((s) => s.url === url);
  }
}
