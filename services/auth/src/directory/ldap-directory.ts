// The Directory over LDAP (ldapts): search as the pooled service account, then bind as the user on a
// connection of its own that is closed right after. Referrals are never chased.
import { performance } from 'node:perf_hooks';
import type { Client, Entry } from 'ldapts';
import {
  ConfidentialityRequiredError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  ResultCodeError,
  StrongAuthRequiredError,
} from 'ldapts';
import type { LdapConfig } from './ldap-config.ts';
import { closeQuietly, connectTo, connectionUrl, openConnection, openDeadlineMs } from './connection.ts';
import type { ConnectionSettings } from './connection.ts';
import type {
  Directory,
  DirectoryObserver,
  Group,
  LdapOperation,
  OperationOutcome,
  UserEntry,
} from './directory.ts';
import {
  CredentialsRejectedError,
  DirectoryUnavailableError,
  asUnavailable,
  classifyTransportError,
  classifyUserBindError,
} from './errors.ts';
import { ConnectionPool } from './pool.ts';
import { RotatingSecrets } from './secrets.ts';
import type { ReloadResult } from './secrets.ts';
import { ServerSet } from './servers.ts';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Bounds for the client-side walk of nested groups (OpenLDAP has no transitive matching rule).
const MAX_NESTING_DEPTH = 8;
const MAX_GROUPS = 1000;
const DNS_PER_FILTER = 64;

function firstString(entry: Entry, attribute: string): string | undefined {
  // Entry keys keep the server's spelling of the attribute name; match it case-insensitively.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Turns a service-account failure into an error that names its cause and the variable to fix. */
function serviceError(error: unknown, base?: { dn: string; variable: string }): DirectoryUnavailableError {
  if (error instanceof DirectoryUnavailableError) return error;
  if (error instanceof StrongAuthRequiredError || error instanceof ConfidentialityRequiredError) {
    return new DirectoryUnavailableError(
      'the directory refuses simple binds without transport encryption (resultCode ' +
        `${error.code}): use an ldaps:// LDAP_URL or set LDAP_START_TLS=true`,
      { cause: error, kind: 'tls_required' },
    );
  }
  if (error instanceof NoSuchObjectError && base !== undefined) {
    return new DirectoryUnavailableError(`${base.variable} does not exist in the directory: ${base.dn}`, {
      cause: error,
      kind: 'base_dn_missing',
      variable: base.variable,
    });
  }
  if (error instanceof InvalidDNSyntaxError && base !== undefined) {
    return new DirectoryUnavailableError(`${base.variable} is not a valid DN: ${base.dn}`, {
      cause: error,
      kind: 'base_dn_invalid',
      variable: base.variable,
    });
  }
  return asUnavailable(error);
}

const isAnswer = (error: unknown): boolean => error instanceof ResultCodeError;

// A server that failed is skipped this long, then probed again (in the background, or by one request when
// every server is down).
const SERVER_RETRY_MS = 2000;
// How often the background prober looks for a server due for its retry.
const PROBE_TICK_MS = 500;

export class LdapDirectory implements Directory {
  readonly #config: LdapConfig;
  readonly #observer: DirectoryObserver;
  readonly #servers: ServerSet;
  readonly #secrets: RotatingSecrets;
  readonly #pool: ConnectionPool;
  readonly #prober: NodeJS.Timeout;

  constructor(config: LdapConfig, observer: DirectoryObserver) {
    this.#config = config;
    this.#observer = observer;
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
    this.#pool = new ConnectionPool(() => this.#openServiceConnection(), {
      max: config.poolSize,
      acquireTimeoutMs: config.timeoutMs,
      isAnswer,
      accept: (client) => {
        const url = connectionUrl(client);
        return url === undefined || this.#servers.isUp(url);
      },
      onBroken: (client, error) => {
        const url = connectionUrl(client);
        // A search that timed out or lost its connection: the server stopped answering.
        if (url !== undefined) this.#servers.failed(url, errorText(error));
      },
    });
    this.#prober = setInterval(() => void this.#probeDue(), PROBE_TICK_MS);
    this.#prober.unref();
  }

  async findUser(login: string): Promise<UserEntry> {
    const c = this.#config;
    // `login` is already in the form the directory knows (the decider applies presets.normalizeLogin).
    const filter = c.userFilter.fill({ username: login, dn: '' });
    // sizeLimit 2: one entry is the answer, a second one is all we need to know it is ambiguous.
    const entries = await this.#search(c.userBaseDn, filter, [c.usernameAttribute], 2);
    const [entry, ...others] = entries;
    if (entry === undefined) throw new CredentialsRejectedError('unknown_user');
    if (others.length > 0) throw new CredentialsRejectedError('ambiguous_user');
    return { dn: entry.dn, username: firstString(entry, c.usernameAttribute) ?? login };
  }

  async verifyPassword(user: UserEntry, password: string): Promise<void> {
    // An empty password would be an RFC 4513 §5.1.2 unauthenticated bind, which some servers answer with
    // success. The authenticator refuses it earlier; this is the last line.
    if (password === '') throw new CredentialsRejectedError('invalid_password', 'empty password');
    const client = await this.#timed('bind', () =>
      this.#open((cl) => cl.bind(user.dn, password)).catch((error: unknown) => {
        throw classifyUserBindError(error);
      }),
    );
    closeQuietly(client);
  }

  async resolveGroups(user: UserEntry): Promise<Group[]> {
    const c = this.#config;
    const found = new Map<string, Group>();
    let frontier = [user.dn];
    const walk = c.nestedGroups && !c.nestedInFilter;
    for (let depth = 0; frontier.length > 0 && depth < (walk ? MAX_NESTING_DEPTH : 1); depth++) {
      const next: string[] = [];
      for (let i = 0; i < frontier.length; i += DNS_PER_FILTER) {
        const members = frontier.slice(i, i + DNS_PER_FILTER);
        const parts = members.map((dn) => c.groupFilter.fill({ dn, username: user.username }));
        const filter = parts.length === 1 ? (parts[0] ?? '') : `(|${parts.join('')})`;
        for (const entry of await this.#search(c.groupBaseDn, filter, [c.groupNameAttribute], MAX_GROUPS)) {
          const key = entry.dn.toLowerCase();
          if (found.has(key) || found.size >= MAX_GROUPS) continue;
          found.set(key, { dn: entry.dn, name: firstString(entry, c.groupNameAttribute) ?? entry.dn });
          next.push(entry.dn);
        }
      }
      frontier = next;
    }
    return [...found.values()];
  }

  async checkHealth(): Promise<void> {
    await this.#search(this.#config.userBaseDn, '(objectClass=*)', ['1.1'], 1, 'base');
  }

  knownDown(): boolean {
    return this.#servers.allDown;
  }

  async probeServers(): Promise<void> {
    await Promise.all(this.#config.urls.map((url) => this.#probe(url)));
  }

  reload(): void {
    const result = this.#secrets.reloadAll();
    this.#reloaded(result, 'SIGHUP');
  }

  async close(): Promise<void> {
    clearInterval(this.#prober);
    await this.#pool.close();
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
      if (isAnswer(error)) this.#servers.succeeded(url);
      else {
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
    };
  }

  #serviceBind(client: Client): Promise<void> {
    // Without a service account, an explicit anonymous bind still proves the connection works.
    return client.bind(this.#config.bindDn ?? '', this.#secrets.bindPassword ?? '');
  }

  /**
   * openConnection with the current CA; when a server certificate does not verify, LDAP_CA_FILE is re-read
   * and, if it changed (the certificate was renewed), the connection is tried once more.
   */
  async #open(authenticate: (client: Client) => Promise<void>): Promise<Client> {
    const ca = this.#secrets.ca;
    try {
      return await openConnection(this.#servers, this.#settings(), authenticate, isAnswer);
    } catch (error) {
      if (!(error instanceof DirectoryUnavailableError) || error.kind !== 'certificate_untrusted')
        throw error;
      const result = this.#secrets.reloadCa();
      this.#reloaded(result, 'the server certificate did not verify');
      if (this.#secrets.ca === ca) throw error;
      // The servers that failed on the old CA are tried again with the new one.
      for (const url of this.#config.urls) this.#servers.succeeded(url);
      return openConnection(this.#servers, this.#settings(), authenticate, isAnswer);
    }
  }

  async #openServiceConnection(): Promise<Client> {
    return this.#timed('bind', async () => {
      const password = this.#secrets.bindPassword;
      try {
        return await this.#open((client) => this.#serviceBind(client));
      } catch (error) {
        if (!(error instanceof InvalidCredentialsError)) throw serviceError(error);
        // The service account's password may have been rotated: re-read the file, and retry once if it
        // changed (here or in a concurrent attempt) since this attempt began.
        this.#reloaded(this.#secrets.reloadBindPassword(), 'the directory rejected the service bind');
        if (this.#secrets.bindPassword === password) throw this.#bindRejected(error);
        try {
          return await this.#open((client) => this.#serviceBind(client));
        } catch (retryError) {
          if (retryError instanceof InvalidCredentialsError) throw this.#bindRejected(retryError);
          throw serviceError(retryError);
        }
      }
    });
  }

  #bindRejected(error: InvalidCredentialsError): DirectoryUnavailableError {
    const variable = this.#config.bindDn === undefined ? 'LDAP_BIND_DN' : this.#secrets.bindPasswordVariable;
    return new DirectoryUnavailableError(
      `the directory rejected the service account's bind (LDAP_BIND_DN ${this.#config.bindDn ?? '(anonymous)'}): ` +
        `check ${variable}`,
      { cause: error, kind: 'bind_rejected', variable },
    );
  }

  #reloaded(result: ReloadResult, trigger: string): void {
    for (const problem of result.problems) this.#observer.notice?.('error', problem, { trigger });
    if (result.changed.length === 0) return;
    this.#pool.drain();
    this.#observer.notice?.('info', `re-read ${result.changed.join(' and ')}: new connections use it`, {
      trigger,
      changed: result.changed,
    });
  }

  async #search(
    base: string,
    filter: string,
    attributes: string[],
    sizeLimit: number,
    scope: 'base' | 'sub' = 'sub',
  ) {
    try {
      return await this.#pool.use((client) =>
        this.#timed('search', async () => {
          const { searchEntries } = await client.search(base, {
            scope,
            filter,
            attributes,
            sizeLimit,
            derefAliases: 'never',
            timeLimit: Math.ceil(this.#config.timeoutMs / 1000),
          });
          return searchEntries; // searchReferences (referrals) are deliberately ignored, never followed
        }),
      );
    } catch (error) {
      if (error instanceof CredentialsRejectedError || error instanceof DirectoryUnavailableError)
        throw error;
      const variable = base === this.#config.userBaseDn ? 'LDAP_USER_BASE_DN' : 'LDAP_GROUP_BASE_DN';
      throw serviceError(error, { dn: base, variable });
    }
  }

  async #timed<T>(operation: LdapOperation, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let outcome: OperationOutcome = 'error';
    try {
      const result = await fn();
      outcome = 'success';
      return result;
    } catch (error) {
      if (error instanceof CredentialsRejectedError) outcome = 'rejected';
      throw error;
    } finally {
      this.#observer.operation(operation, outcome, (performance.now() - start) / 1000);
    }
  }
}
