// @ts-nocheck
// 
// A small pool of service-account connections, reused across searches. A connection that fails is
// dropped, never returned, so the pool heals by itself after a directory restart; a wait for a free
// connection is bounded; drain() retires every connection (credentials or CA rotated).
import type { Client } from 'ldapts';
import { closeQuietly, isUsable } from './connection.ts';
import { DirectoryUnavailableError } from './errors.ts';

export interface PoolOptions {
  readonly max: number;
  /** How long a caller may wait for a connection to come free. */
  readonly acquireTimeoutMs: number;
  /** Errors that are the server's answer: the connection is fine and the operation is not retried. */
  readonly isAnswer: (error: unknown) => boolean;
  /** False for an idle connection that should not be used (its server is known to be down). */
  readonly accept?: (client: Client) => boolean;
  /** A pooled connection failed (timed out, closed): the server it talks to may be down. */
  readonly onBroken?: (client: Client, error: unknown) => void;
}

type Waiter = (client: Client | undefined) => void;

export class ConnectionPool {
  readonly #open: () => Promise<Client>;
  readonly #o: PoolOptions;
  readonly #idle: Client[] = [];
  readonly #busy = new Set<Client>();
  /** In use when drain() was called: closed instead of returned. */
  readonly #retired = new WeakSet<Client>();
  readonly #waiters: Waiter[] = [];
  #count = 0;
  #closed = false;

  constructor(open: () => Promise<Client>, options: PoolOptions) {
    this.#open = open;
    this.#o = options;
  }

  /**
   * Runs `fn` on a pooled connection. If `fn` fails other than with the server's answer on a connection that
   * had been idle (the server may have closed it while it waited), it is retried once on a new connection.
   */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const { client, reused } = await this.#acquire();
    try {
      const result = await fn(client);
      this.#release(client);
      return result;
    } catch (error) {
      if (this.#o.isAnswer(error)) {
        this.#release(client);
        throw error;
      }
      this.#discard(client);
      this.#o.onBroken?.(client, error);
      if (!reused || this.#closed) throw error;
    }
    const fresh = await this.#create();
    try {
      const result = await fn(fresh);
      this.#release(fresh);
      return result;
    } catch (error) {
      if (this.#o.isAnswer(error)) {
        this.#release(fresh);
      } else {
        this.#discard(fresh);
        this.#o.onBroken?.(fresh, error);
      }
      throw error;
    }
  }

  get size(): number {
    return this.#count;
  }

  /** Closes idle connections now and busy ones when they are released: new ones use new settings. */
  drain(): void {
    for (const client of this.#busy) this.#retired.add(client);
    for (const client of this.#idle.splice(0)) {
      this.#count--;
      closeQuietly(client);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    this.drain();
    await Promise.resolve();
  }

  async #acquire(): Promise<{ client: Client; reused: boolean }> {
    const deadline = Date.now() + this.#o.acquireTimeoutMs;
    for (;;) {
      if (this.#closed) throw new Error('connection pool is closed');
      for (let client = this.#idle.pop(); client !== undefined; client = this.#idle.pop()) {
        if (isUsable(client) && (this.#o.accept?.(client) ?? true)) {
          this.#busy.add(client);
          return { client, reused: true };
        }
        this.#count--;
        closeQuietly(client);
      }
      if (this.#count < this.#o.max) return { client: await this.#create(), reused: false };
      const client = await this.#wait(deadline - Date.now());
      if (client !== undefined) {
        this.#busy.add(client);
        return { client, reused: true };
      }
      // a slot was freed, or the pool closed: look again
    }
  }

  #wait(ms: number): Promise<Client | undefined> {
    return new Promise<Client | undefined>((resolve, reject) => {
      const waiter: Waiter = (client) => {
        clearTimeout(timer);
        resolve(client);
      };
      const timer = setTimeout(
        () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(
            new DirectoryUnavailableError(
              `no LDAP connection came free within ${this.#o.acquireTimeoutMs} ms ` +
                `(all ${this.#o.max} of LDAP_POOL_SIZE busy)`,
            ),
          );
        },
        Math.max(0, ms),
      );
      this.#waiters.push(waiter);
    });
  }

  async #create(): Promise<Client> {
    this.#count++;
    try {
      const client = await this.#open();
      this.#busy.add(client);
      return client;
    } catch (error) {
      this.#count--;
      this.#wakeOne(undefined);
      throw error;
    }
  }

  #release(client: Client): void {
    this.#busy.delete(client);
    if (this.#closed || this.#retired.has(client) || !isUsable(client)) {
      this.#count--;
      closeQuietly(client);
      this.#wakeOne(undefined);
    } else if (!this.#wakeOne(client)) {
      this.#idle.push(client);
    }
  }

  #discard(client: Client): void {
    this.#busy.delete(client);
    this.#count--;
    closeQuietly(client);
    this.#wakeOne(undefined);
  }

  /** Hands `client` (or, with undefined, a free slot) to the oldest waiter. */
  #wakeOne(client: Client | undefined): boolean {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return false;
    waiter(client);
    return true;
  }
}
