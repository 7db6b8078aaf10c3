// @ts-nocheck
// 
// The one seam between decisions and the directory. Unit tests fake this interface; everything below it
// (ldap-directory.ts and friends) is tested against a real slapd and a real Samba AD.
import type { ServerEvent } from './servers.ts';

export interface Group {
  /** The value of LDAP_GROUP_NAME_ATTRIBUTE (cn by default). */
  readonly name: string;
  readonly dn: string;
}

export interface Identity {
  readonly username: string;
  readonly dn: string;
  readonly groups: readonly Group[];
}

export interface UserEntry {
  readonly dn: string;
  /** The canonical username (LDAP_USERNAME_ATTRIBUTE), whatever form the client logged in with. */
  readonly username: string;
}

export interface Directory {
  /** Exactly one entry matches `login`, or this throws CredentialsRejectedError (unknown / ambiguous user). */
  findUser(login: string): Promise<UserEntry>;
  /** Binds as the user on a connection of its own; throws CredentialsRejectedError when the directory says no. */
  verifyPassword(user: UserEntry, password: string): Promise<void>;
  resolveGroups(user: UserEntry): Promise<Group[]>;
  /** Resolves when the directory answers a search as the service account (readiness). */
  checkHealth(): Promise<void>;
  /**
   * True while the directory is known to be down (every server failed recently): a decision that could
   * be answered from a stale cache entry need not wait for it. Optional: fakes may leave it out.
   */
  knownDown?(): boolean;
  /** Connects to every configured server once, to keep the per-server state current (periodic probe). */
  probeServers?(): Promise<void>;
  /** Re-reads the rotating files (LDAP_BIND_PASSWORD_FILE, LDAP_CA_FILE): SIGHUP. */
  reload?(): void;
  close(): Promise<void>;
}

export type LdapOperation = 'bind' | 'search';
export type OperationOutcome = 'success' | 'rejected' | 'error';

export interface DirectoryObserver {
  operation(operation: LdapOperation, outcome: OperationOutcome, seconds: number): void;
  /** A configured server went down (skipped, failover) or came back. */
  serverState?(event: ServerEvent): void;
  /** Operational news for the log (rotation, misconfiguration), never with a secret in it. */
  notice?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}
