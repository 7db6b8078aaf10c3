// The Directory over LDAP (ldapts): search as the pooled service account, then bind as the user on a
// connection of its own that is closed right after. Referrals are never chased.
import { performance } from 'node:perf_hooks';
import type { Entry } from 'ldapts';
import type { AddressCacheOptions } from './address-cache.ts';
import { closeQuietly } from './connection.ts';
import { Connector, isAnswer } from './connector.ts';
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
  classifyServiceError,
  classifyUserBindError,
} from './errors.ts';
import type { LdapConfig } from './ldap-config.ts';
import { ConnectionPool } from './pool.ts';

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

export class LdapDirectory implements Directory {
  readonly #config: LdapConfig;
  readonly #observer: DirectoryObserver;
  readonly #connector: Connector;
  readonly #pool: ConnectionPool;

  /** `dns`: how LDAP_URL's host names are looked up, and the clock (default: the system resolver). */
  constructor(
    config: LdapConfig,
    observer: DirectoryObserver,
    dns: Pick<AddressCacheOptions, 'resolve' | 'now'> = {},
  ) {
    this.#config = config;
    this.#observer = observer;
    this.#connector = new Connector(config, observer, dns);
    this.#pool = new ConnectionPool(() => this.#timed('bind', () => this.#connector.openService()), {
      max: config.poolSize,
      acquireTimeoutMs: config.timeoutMs,
      isAnswer,
      accept: (client) => this.#connector.usable(client),
      onBroken: (client, error) => {
        this.#connector.broken(client, error);
      },
    });
    this.#connector.onRotated = () => {
      this.#pool.drain();
    };
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
      this.#connector
        .open((cl) => cl.bind(user.dn, password))
        .catch((error: unknown) => {
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
    return this.#connector.allDown;
  }

  async probeServers(): Promise<void> {
    await this.#connector.probeServers();
  }

  reload(): void {
    this.#connector.reload();
  }

  async close(): Promise<void> {
    this.#connector.close();
    await this.#pool.close();
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
      throw classifyServiceError(error, { dn: base, variable });
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
