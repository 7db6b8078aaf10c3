// The addresses of LDAP_URL's host names, for the connections connection.ts opens. Without it every new
// connection (one per user bind) asked the system resolver again, and one slow or lost DNS answer (glibc
// retries after 5 s, longer than LDAP_CONNECT_TIMEOUT_MS) failed the connection and marked a healthy server
// down. Here an answer is reused for FRESH_MS; after that a connection waits at most WAIT_MS for a new one
// and otherwise connects to the last address the resolver gave (serve-stale, as RFC 8767 lets resolvers
// do), for at most STALE_MS, asking again at most every RETRY_MS meanwhile. An answer that the name has no
// address (ENOTFOUND, ENODATA) is the resolver working, not failing: it is final, and the last address is
// forgotten. A certificate is still checked against the host name, never the address.
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';

/** An answer this young is used without asking the resolver. */
export const FRESH_MS = 30_000;
/** How long a connection waits for a new answer once the last one is no longer fresh. */
export const WAIT_MS = 500;
/** The last answer stands in for a failed or slow lookup at most this long after it was given. */
export const STALE_MS = 86_400_000;
/** After a failed lookup, connections take the last answer without asking again for this long. */
export const RETRY_MS = 1000;

/** Errors that say the name has no address: final, never answered with an older address. */
const FINAL = new Set(['ENOTFOUND', 'ENODATA']);
const isFinal = (error: unknown): boolean =>
  error instanceof Error && FINAL.has(String((error as NodeJS.ErrnoException).code));

export type Resolve = (hostname: string, options: LookupOptions & { all: true }) => Promise<LookupAddress[]>;

export interface AddressCacheOptions {
  /** The resolver (default: the system's, as net.connect uses it). */
  readonly resolve?: Resolve;
  /** A lookup failed or was slow, and the last answer is used instead; called once until one succeeds. */
  readonly onStale?: (hostname: string, error: unknown) => void;
  /** How long a connection waits for a new answer (default WAIT_MS). */
  readonly waitMs?: number;
  readonly now?: () => number;
}

/** net.connect's `lookup` option. */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

interface Answer {
  readonly addresses: LookupAddress[];
  readonly at: number;
}

interface Pending {
  readonly promise: Promise<LookupAddress[]>;
  readonly started: number;
}

const systemResolve: Resolve = (hostname, options) => dns.promises.lookup(hostname, options);

class SlowLookupError extends Error {}

const noAddress = (hostname: string): Error =>
  Object.assign(new Error(`no address for ${hostname}`), { code: 'ENODATA' });

export class AddressCache {
  readonly #resolve: Resolve;
  readonly #onStale: (hostname: string, error: unknown) => void;
  readonly #waitMs: number;
  readonly #now: () => number;
  readonly #answers = new Map<string, Answer>();
  /** When each key's last lookup failed, while the last answer stands in. */
  readonly #failedAt = new Map<string, number>();
  readonly #pending = new Map<string, Pending>();
  /** Keys whose last lookup failed and was reported: reported again only after one succeeds. */
  readonly #reported = new Set<string>();

  constructor(options: AddressCacheOptions = {}) {
    this.#resolve = options.resolve ?? systemResolve;
    this.#onStale = options.onStale ?? (() => undefined);
    this.#waitMs = options.waitMs ?? WAIT_MS;
    this.#now = options.now ?? Date.now;
  }

  /** For net.connect({ lookup }): answers in the form `options.all` asks for. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.addresses(hostname, options).then(
      (addresses) => {
        const [first] = addresses;
        if (options.all === true) callback(null, addresses);
        else if (first === undefined) callback(noAddress(hostname), '');
        else callback(null, first.address, first.family);
      },
      (error: unknown) => {
        callback(
          error instanceof Error ? error : new Error(`DNS lookup of ${hostname} failed: ${String(error)}`),
          '',
        );
      },
    );
  };

  /** The addresses to connect to for `hostname`. */
  async addresses(hostname: string, options: LookupOptions = {}): Promise<LookupAddress[]> {
    const query = { family: options.family ?? 0, hints: options.hints ?? 0, all: true as const };
    const key = `${String(query.family)}/${String(query.hints)}/${hostname}`;
    const last = this.#answers.get(key);
    const now = this.#now();
    if (last !== undefined && now - last.at < FRESH_MS) return last.addresses;
    const failedAt = this.#failedAt.get(key);
    if (
      last !== undefined &&
      failedAt !== undefined &&
      now - failedAt < RETRY_MS &&
      now - last.at <= STALE_MS
    )
      return last.addresses;
    const pending = this.#lookup(key, hostname, query);
    if (last === undefined || now - last.at > STALE_MS) return pending.promise;
    try {
      return await waitAtMost(pending.promise, pending.started + this.#waitMs - now, this.#waitMs);
    } catch (error) {
      if (isFinal(error)) throw error;
      if (!this.#reported.has(key)) {
        this.#reported.add(key);
        this.#onStale(hostname, error);
      }
      return last.addresses;
    }
  }

  /** One lookup per key at a time; its answer is kept whoever asked. */
  #lookup(key: string, hostname: string, query: LookupOptions & { all: true }): Pending {
    const running = this.#pending.get(key);
    if (running !== undefined) return running;
    // In a promise, so that a resolver that throws fails like one that rejects.
    const promise = new Promise<LookupAddress[]>((resolve) => {
      resolve(this.#resolve(hostname, query));
    })
      .then((addresses) => {
        // net.connect throws on an empty list (with `all`); getaddrinfo itself reports ENODATA instead.
        if (addresses.length === 0) throw noAddress(hostname);
        this.#answers.set(key, { addresses, at: this.#now() });
        this.#failedAt.delete(key);
        this.#reported.delete(key);
        return addresses;
      })
      .catch((error: unknown) => {
        if (isFinal(error)) {
          this.#answers.delete(key);
          this.#failedAt.delete(key);
        } else {
          this.#failedAt.set(key, this.#now());
        }
        throw error;
      })
      .finally(() => {
        this.#pending.delete(key);
      });
    promise.catch(() => undefined); // a caller that stopped waiting has served the last answer instead
    const pending = { promise, started: this.#now() };
    this.#pending.set(key, pending);
    return pending;
  }
}

/** Settles like `promise`, or rejects with SlowLookupError after `ms` (of a wait of `waitMs` in all). */
function waitAtMost<T>(promise: Promise<T>, ms: number, waitMs: number): Promise<T> {
  // Not even a race once the wait is over: each would stay attached to a lookup that may hang for minutes.
  if (ms <= 0) return Promise.reject(new SlowLookupError('lookup still running'));
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new SlowLookupError(`no answer within ${waitMs} ms`));
    }, ms);
  });
  return Promise.race([promise, slow]).finally(() => {
    clearTimeout(timer);
  });
}
