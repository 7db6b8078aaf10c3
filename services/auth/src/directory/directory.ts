// The one seam between decisions and the directory. Unit tests fake this interface; everything below it
// (ldap-directory.ts and friends) is tested against a real slapd and a real Samba AD.
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
  close(): Promise<void>;
}

export type LdapOperation = 'bind' | 'search';
export type OperationOutcome = 'success' | 'rejected' | 'error';

export interface DirectoryObserver {
  operation(operation: LdapOperation, outcome: OperationOutcome, seconds: number): void;
}
