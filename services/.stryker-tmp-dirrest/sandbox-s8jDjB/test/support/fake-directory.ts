// @ts-nocheck
// The only fake in the project: an in-memory Directory for unit tests of everything above the seam.
export { basic } from '@registry-ldap-auth/stack/credentials';
import type { Directory, UserEntry } from '../../src/directory/directory.ts';
import { CredentialsRejectedError, DirectoryUnavailableError } from '../../src/directory/errors.ts';
import type { RejectionReason } from '../../src/directory/errors.ts';
import type { Group } from '../../src/directory/directory.ts';

export interface FakeUser {
  readonly password: string;
  readonly groups: readonly string[];
  /** Other logins that resolve to this user (e.g. a UPN). */
  readonly aliases?: readonly string[];
  /** A directory-side refusal even with the right password (e.g. account_disabled). */
  readonly refusal?: RejectionReason;
}

export class FakeDirectory implements Directory {
  readonly users: Map<string, FakeUser>;
  /** Calls per method, to prove what reached the directory. */
  readonly calls = { findUser: 0, verifyPassword: 0, resolveGroups: 0, checkHealth: 0 };
  available = true;
  /** Delay before each answer, so concurrent requests really overlap. */
  latencyMs = 0;
  /** Password checks in flight now, and the most there ever were at once. */
  binding = 0;
  maxBinding = 0;
  #held: Promise<void> | undefined;

  /** Holds every answer until the returned function is called, so a test can see what piles up. */
  hold(): () => void {
    let release = (): void => undefined;
    this.#held = new Promise<void>((resolve) => {
      release = () => {
        this.#held = undefined;
        resolve();
      };
    });
    return release;
  }

  constructor(users: Record<string, FakeUser>) {
    this.users = new Map(Object.entries(users));
  }

  async findUser(login: string): Promise<UserEntry> {
    this.calls.findUser++;
    await this.#answer();
    for (const [username, user] of this.users) {
      if (username === login.toLowerCase() || user.aliases?.includes(login))
        return { username, dn: `uid=${username},ou=people` };
    }
    throw new CredentialsRejectedError('unknown_user');
  }

  async verifyPassword(user: UserEntry, password: string): Promise<void> {
    this.calls.verifyPassword++;
    this.binding++;
    this.maxBinding = Math.max(this.maxBinding, this.binding);
    try {
      await this.#answer();
    } finally {
      this.binding--;
    }
    const entry = this.users.get(user.username);
    if (entry?.password !== password) throw new CredentialsRejectedError('invalid_password');
    if (entry.refusal !== undefined) throw new CredentialsRejectedError(entry.refusal);
  }

  async resolveGroups(user: UserEntry): Promise<Group[]> {
    this.calls.resolveGroups++;
    await this.#answer();
    return (this.users.get(user.username)?.groups ?? []).map((name) => ({
      name,
      dn: `cn=${name},ou=groups`,
    }));
  }

  async checkHealth(): Promise<void> {
    this.calls.checkHealth++;
    await this.#answer();
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  async #answer(): Promise<void> {
    if (this.#held !== undefined) await this.#held;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (!this.available) throw new DirectoryUnavailableError('connect ECONNREFUSED 127.0.0.1:389');
  }
}
