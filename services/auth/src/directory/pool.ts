// A small pool of service-account connections, reused across searches. A connection that fails is
// dropped, never returned, so the pool heals by itself after a directory restart.
import type { Client } from 'ldapts';
import { closeQuietly } from './connection.ts';

export class ConnectionPool {
  readonly #open: () => Promise<Client>;
  readonly #max: number;
  readonly #idle: Client[] = [];
  readonly #waiters: ((client: Client | undefined) => void)[] = [];
  #count = 0;
  #closed = false;

  constructor(open: () => Promise<Client>, max: number) {
    this.#open = open;
    this.#max = max;
  }

  /**
   * Runs `fn` on a pooled connection. If `fn` fails on a connection that had been idle (the server may have
   * closed it while it waited), it is retried once on a new connection.
   */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const { client, reused } = await this.#acquire();
    try {
      const result = await fn(client);
      this.#release(client);
      return result;
    } catch (error) {
      this.#discard(client);
      if (!reused || this.#closed) throw error;
    }
    const fresh = await this.#create();
    try {
      const result = await fn(fresh);
      this.#release(fresh);
      return result;
    } catch (error) {
      this.#discard(fresh);
      throw error;
    }
  }

  get size(): number {
    return this.#count;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    await Promise.all(this.#idle.splice(0).map(closeQuietly));
  }

  async #acquire(): Promise<{ client: Client; reused: boolean }> {
    if (this.#closed) throw new Error('connection pool is closed');
    for (let client = this.#idle.pop(); client !== undefined; client = this.#idle.pop()) {
      if (client.isConnected) return { client, reused: true };
      this.#discard(client);
    }
    if (this.#count < this.#max) return { client: await this.#create(), reused: false };
    const client = await new Promise<Client | undefined>((resolve) => this.#waiters.push(resolve));
    if (client === undefined) return this.#acquire(); // a slot was freed, or the pool closed
    return { client, reused: true };
  }

  async #create(): Promise<Client> {
    this.#count++;
    try {
      return await this.#open();
    } catch (error) {
      this.#count--;
      this.#wakeOne(undefined);
      throw error;
    }
  }

  #release(client: Client): void {
    if (this.#closed) {
      this.#count--;
      void closeQuietly(client);
    } else if (!this.#wakeOne(client)) {
      this.#idle.push(client);
    }
  }

  #discard(client: Client): void {
    this.#count--;
    void closeQuietly(client);
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
