// Makes connections to the directory for ldap-directory.ts: which servers to dial (servers.ts: failover,
// skipping and probing dead ones), with which settings (the rotating password and CA, secrets.ts), and the
// service account's bind with its retry after a rotation. The layer between the dialer (connection.ts) and
// the directory's operations.
import type { Client } from 'ldapts';
import { AddressCache, WAIT_MS } from './address-cache.ts';
import type { AddressCacheOptions } from './address-cache.ts';
import { InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { closeQuietly, connectTo, connectionUrl, openConnection, openDeadlineMs } from './connection.ts';
import type { ConnectionSettings } from './connection.ts';
import type { DirectoryObserver } from './directory.ts';
import { DirectoryUnavailableError, classifyServiceError, classifyTransportError } from './errors.ts';
import type { LdapConfig } from './ldap-config.ts';
import { RotatingSecrets } from './secrets.ts';
import type { ReloadResult } from './secrets.ts';
import { ServerSet } from './servers.ts';

export const isAnswer = (error: unknown): boolean => error instanceof ResultCodeError;

// A server that failed is skipped this long, then probed again (in the background, or by one request when
// every server is down).
const SERVER_RETRY_MS = 2000;
// How often the background prober looks for a server due for its retry.
const PROBE_TICK_MS = 500;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Connector {
  readonly #config: LdapConfig;
  readonly #observer: DirectoryObserver;
  readonly #servers: ServerSet;
  readonly #secrets: RotatingSecrets;
  readonly #prober: NodeJS.Timeout;
  readonly #addresses: AddressCache;
  /** Called when a rotated file changed: connections made with the old value should go. */
  onRotated: () => void = () => undefined;

  /** `dns`: how host names are looked up, and the clock (default: the system resolver; tests pass theirs). */
  constructor(
    config: LdapConfig,
    observer: DirectoryObserver,
    dns: Pick<AddressCacheOptions, 'resolve' | 'now'> = {},
  ) {
    this.#config = config;
    this.#observer = observer;
    this.#addresses = new AddressCache({
      ...dns,
      // The lookup counts against LDAP_CONNECT_TIMEOUT_MS (ldapts's timer runs while it waits): wait at most
      // half of it, or the last address would never be dialled in time and the server would be marked down.
      waitMs: Math.min(WAIT_MS, config.connectTimeoutMs / 2),
      onStale: (hostname, error) => {
        observer.notice?.(
          'warn',
          `DNS lookup of ${hostname} failed or is slow: connecting to its last address`,
          {
            hostname,
            error: errorText(error),
          },
        );
      },
    });
    this.#servers = new ServerSet(
      config.urls,
      { retryAfterMs: SERVER_RETRY_MS },
      {
        serverState: (event) => {
          observer.serverState?.(event);
        },
      },
    );
    this.#secrets = new RotatingSecrets(config);
    this.#prober = setInterval(() => void this.#probeDue(), PROBE_TICK_MS);
    this.#prober.unref();
  }

  /** True while every server is down. */
  get allDown(): boolean {
    return this.#servers.allDown;
  }

  /** False for a connection whose server is known to be down (the pool does not hand it out). */
  usable(client: Client): boolean {
    const url = connectionUrl(client);
    return url === undefined || this.#servers.isUp(url);
  }

  /** A pooled connection timed out or lost its socket: its server stopped answering. */
  broken(client: Client, error: unknown): void {
    const url = connectionUrl(client);
    if (url !== undefined) this.#servers.failed(url, errorText(error));
  }

  /**
   * A connection bound with `authenticate` (a user's bind), on the first server that answers. When a
   * server certificate does not verify, LDAP_CA_FILE is re-read and, if it changed (the certificate was
   * renewed), the connection is tried once more.
   */
  async open(authenticate: (client: Client) => Promise<void>): Promise<Client> {
    const ca = this.#secrets.ca;
    try {
      return await openConnection(this.#servers, this.#settings(), authenticate, isAnswer);
    } catch (error) {
      if (!(error instanceof DirectoryUnavailableError) || error.kind !== 'certificate_untrusted')
        throw error;
      this.#reloaded(this.#secrets.reloadCa(), 'the server certificate did not verify');
      if (this.#secrets.ca === ca) throw error;
      // The servers that failed on the old CA are tried again with the new one.
      for (const url of this.#config.urls) this.#servers.succeeded(url);
      return openConnection(this.#servers, this.#settings(), authenticate, isAnswer);
    }
  }

  /**
   * A connection bound as the service account. A rejected bind re-reads LDAP_BIND_PASSWORD_FILE and is
   * retried once if the password changed (here or in a concurrent attempt) since this attempt began.
   */
  async openService(): Promise<Client> {
    const password = this.#secrets.bindPassword;
    try {
      return await this.open((client) => this.#serviceBind(client));
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError)) throw classifyServiceError(error);
      this.#reloaded(this.#secrets.reloadBindPassword(), 'the directory rejected the service bind');
      if (this.#secrets.bindPassword === password) throw this.#bindRejected(error);
      try {
        return await this.open((client) => this.#serviceBind(client));
      } catch (retryError) {
        if (retryError instanceof InvalidCredentialsError) throw this.#bindRejected(retryError);
        throw classifyServiceError(retryError);
      }
    }
  }

  /** One connection and service bind to every server, to keep each one's state current. */
  async probeServers(): Promise<void> {
    await Promise.all(this.#config.urls.map((url) => this.#probe(url)));
  }

  /** SIGHUP: both rotating files. */
  reload(): void {
    this.#reloaded(this.#secrets.reloadAll(), 'SIGHUP');
  }

  close(): void {
    clearInterval(this.#prober);
  }

  /** Probes each down server whose retry time has come (the background half of the half-open state). */
  async #probeDue(): Promise<void> {
    const due = this.#servers.claimDue(openDeadlineMs(this.#settings()));
    await Promise.all(due.map((url) => this.#probe(url)));
  }

  /** One connection and service bind to `url`, closed at once; marks the server up or down. */
  async #probe(url: string): Promise<void> {
    try {
      const client = await connectTo(url, this.#settings(), (cl) => this.#serviceBind(cl));
      closeQuietly(client);
      this.#servers.succeeded(url);
    } catch (error) {
      if (isAnswer(error)) {
        this.#servers.succeeded(url);
      } else {
        const failure = classifyTransportError(error, this.#servers.label(url));
        this.#servers.failed(url, failure.message, failure);
      }
    }
  }

  #settings(): ConnectionSettings {
    const c = this.#config;
    return {
      startTls: c.startTls,
      tlsInsecure: c.tlsInsecure,
      timeoutMs: c.timeoutMs,
      connectTimeoutMs: c.connectTimeoutMs,
      ca: this.#secrets.ca,
      lookup: this.#addresses.lookup,
    };
  }

  #serviceBind(client: Client): Promise<void> {
    // Without a service account, an explicit anonymous bind still proves the connection works.
    return client.bind(this.#config.bindDn ?? '', this.#secrets.bindPassword ?? '');
  }

  #bindRejected(error: InvalidCredentialsError): DirectoryUnavailableError {
    const { bindDn } = this.#config;
    const variable = bindDn === undefined ? 'LDAP_BIND_DN' : this.#secrets.bindPasswordVariable;
    return new DirectoryUnavailableError(
      `the directory rejected the service account's bind (LDAP_BIND_DN ${bindDn ?? '(anonymous)'}): check ${variable}`,
      { cause: error, kind: 'bind_rejected', variable },
    );
  }

  #reloaded(result: ReloadResult, trigger: string): void {
    for (const problem of result.problems) this.#observer.notice?.('error', problem, { trigger });
    if (result.changed.length === 0) return;
    this.onRotated();
    this.#observer.notice?.('info', `re-read ${result.changed.join(' and ')}: new connections use it`, {
      trigger,
      changed: result.changed,
    });
  }
}
