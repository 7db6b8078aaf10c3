// Failed logins counted per account and per client address; past the limit within LOCKOUT_WINDOW_SECONDS
// the account or address is refused for LOCKOUT_DURATION_SECONDS without asking the directory.
//
// - Attempts are counted while in flight: a directory check reserves its place before the search (the
//   address) and before the bind (the account), and settles after, so parallel guesses cannot run past the
//   limit: at most LOCKOUT_MAX_FAILURES binds per account reach the directory in a window.
// - An account is the directory entry (its DN), so every form of one login shares one lock; a login no
//   entry matches is counted under its folded form.
// - Smart lockout: an address that verified the account against the directory within
//   LOCKOUT_FAMILIAR_SECONDS is "familiar". Failures from familiar addresses and from all others are
//   counted apart, so strangers who lock an account do not lock out the user at their own machine or the
//   CI runner that pushed a minute ago; guesses from anywhere else stay locked. A cache hit never makes
//   an address familiar, and never lifts a lock.
// - Only failures the directory itself reported count: a repeated wrong password answered from the
//   negative cache is not a new guess.
// - An IPv6 client is counted by its /64 (addressGroup): one host holds a whole /64 and may take any
//   address in it, so per-address counts would stop no one; a host whose privacy address changes stays
//   familiar.
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { KeyedHash } from './keyed-hash.ts';
import { LruMap } from './lru-map.ts';

export type LockKind = 'user' | 'address';

/**
 * The key a client address is counted and made familiar under: an IPv4 address itself, an IPv6 address's
 * /64 (`2001:db8:1:2::/64`), an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) or an IPv4 client's
 * translated one (`64:ff9b::192.0.2.1`) its IPv4 address.
 */
export function addressGroup(address: string): string {
  if (!address.includes(':') || !isIPv6(address)) return address;
  const h = ipv6Hextets(address);
  // ::ffff:0:0/96 (RFC 4291) and the translators' well-known 64:ff9b::/96 (RFC 6052) hold one IPv4 client
  // per address: by their /64, every IPv4 client of an IPv6-only service behind SIIT/NAT46 would be one.
  const mapped = h[0] === 0 && h[1] === 0 && h[5] === 0xffff;
  const nat64 = h[0] === 0x64 && h[1] === 0xff9b && h[5] === 0;
  if ((mapped || nat64) && h[2] === 0 && h[3] === 0 && h[4] === 0) {
    const [a = 0, b = 0] = [h[6], h[7]];
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return `${h
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (a zone index dropped, a trailing dotted quad read). */
function ipv6Hextets(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((x) => parseInt(x, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** Why an attempt is refused: the account or the address is locked until `until`. */
export interface Lock {
  readonly kind: LockKind;
  readonly until: number;
}

/**
 * The limit is reached by attempts still in flight, not by failures: no lock, so the caller waits until
 * one of them settles and asks again. Answering locked_out here would refuse a right password (many users
 * behind one address, a burst during an outage) with nothing having failed.
 */
export interface Busy {
  readonly kind: LockKind;
  /** Resolves when an attempt in flight on the same count settles. */
  readonly freed: Promise<void>;
}

export function isBusy(value: unknown): value is Busy {
  return typeof value === 'object' && value !== null && 'freed' in value;
}

/** A lock that has just started, for the operator's log and the lockout counter. */
export interface LockoutEvent {
  readonly kind: LockKind;
  /** The client address, or the username (canonical when the directory found the entry). */
  readonly subject: string;
  /** For a user lock: whether it holds against the addresses that verified the account recently or the rest. */
  readonly against?: 'familiar addresses' | 'other addresses';
  /** Epoch milliseconds. */
  readonly until: number;
}

export interface LockoutOptions {
  readonly maxFailures: number;
  /** Per client address; defaults to maxFailures. Raise it where many users share one address (NAT, CI). */
  readonly addressMaxFailures?: number;
  readonly windowSeconds: number;
  readonly durationSeconds: number;
  /** How long an address that verified an account stays familiar to it; 0 turns smart lockout off. */
  readonly familiarSeconds?: number;
  readonly maxKeys?: number;
  readonly now?: () => number;
  readonly onLock?: (event: LockoutEvent) => void;
}

class Counter {
  failures = 0;
  pending = 0;
  windowStart = 0;
  lockedUntil = 0;
  /** Callers that found the limit taken by attempts in flight, woken when one settles. */
  waiters: (() => void)[] = [];

  /** One attempt settled: every waiter asks again (those that lose the race wait again). */
  release(): void {
    this.pending--;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

interface AccountCounters {
  /** Failures from addresses that have not verified the account recently. */
  readonly others: Counter;
  /** Failures from addresses that have. */
  readonly familiar: Counter;
}

/** One directory check in flight: what it reserved, settled exactly once. */
export class Attempt {
  readonly address: string;
  readonly addressCounter: Counter | undefined;
  account: string | undefined;
  accountCounter: Counter | undefined;
  subject = '';
  settled = false;

  constructor(address: string, addressCounter: Counter | undefined) {
    this.address = address;
    this.addressCounter = addressCounter;
  }
}

const FAMILIAR_KEY_BYTES = 8;
/** Starts every login key; no DN does (an attribute type holds no ':'), so the two never meet. */
const LOGIN_PREFIX = 'login:';
/**
 * A login key holds a keyed hash of the login, not the login: a login is as long as nginx lets a header
 * be (about 6 000 characters), and a flood of made-up ones would otherwise fill the lockout's 100 000 keys
 * (and the aliases') with 6 KB each, past the heap limit. 128 bits, under a secret of this process, which
 * also keys the familiar table.
 */
const keys = new KeyedHash(randomBytes(32));
const LOGIN_KEY_BYTES = 16;

/** Nothing counted, nothing in flight, nobody waiting, not locked: the same as no counter at all. */
function idle(counter: Counter, now: number): boolean {
  return (
    counter.failures === 0 &&
    counter.pending === 0 &&
    counter.lockedUntil <= now &&
    counter.waiters.length === 0
  );
}

export class Lockout {
  /** Directory entries (DN keys). */
  readonly #accounts: LruMap<string, AccountCounters>;
  /**
   * Logins no entry matched (login keys), kept apart: a flood of made-up names, one per address (an IPv6
   * /64 has plenty), would otherwise push a locked entry out of its LRU and free it for new guesses.
   */
  readonly #logins: LruMap<string, AccountCounters>;
  readonly #addresses: LruMap<string, Counter>;
  /**
   * (account, address) → until when (in whole seconds) the address is familiar to the account. Keyed by 8
   * bytes of a keyed hash of the pair, and the time kept in seconds (a small integer, stored in the entry
   * itself): one is made for every verified login, and the DN and address as a string, with the time as
   * a boxed number, weighed 170 bytes an entry (17 MiB at 100 000 users) against about 60. Two pairs
   * sharing a key would need 2^64 tries against a secret the process never shows.
   */
  readonly #familiar: LruMap<string, number>;
  /** Login key of a folded login → account, learnt from searches, so a known account is refused before its search. */
  readonly #aliases: LruMap<string, string>;
  readonly #max: number;
  readonly #addressMax: number;
  readonly #windowMs: number;
  readonly #durationMs: number;
  readonly #familiarMs: number;
  readonly #now: () => number;
  readonly #onLock: (event: LockoutEvent) => void;

  constructor(options: LockoutOptions) {
    this.#max = options.maxFailures;
    this.#addressMax = options.addressMaxFailures ?? options.maxFailures;
    this.#windowMs = options.windowSeconds * 1000;
    this.#durationMs = options.durationSeconds * 1000;
    this.#familiarMs = (options.familiarSeconds ?? 0) * 1000;
    this.#now = options.now ?? Date.now;
    this.#onLock = options.onLock ?? (() => undefined);
    // Bounded, so a flood of distinct usernames or addresses cannot grow memory; the oldest go first.
    const max = options.maxKeys ?? 100_000;
    this.#accounts = new LruMap(max);
    this.#logins = new LruMap(max);
    this.#addresses = new LruMap(max);
    this.#familiar = new LruMap(max);
    this.#aliases = new LruMap(max);
  }

  /** The account of a directory entry: DNs are compared case-insensitively, as directories do. */
  static accountKey(dn: string): string {
    const lower = dn.toLowerCase();
    // A DN already in lower case (OpenLDAP's usual) is kept as the entry's own string, not as a copy: a
    // cached credential holds both (about 50 bytes each at 100 000).
    return lower === dn ? dn : lower;
  }

  /** The account of a login no entry matches (or not yet searched), in its folded form. */
  static loginKey(foldedLogin: string): string {
    return `${LOGIN_PREFIX}${keys.digest(foldedLogin, '', LOGIN_KEY_BYTES)}`;
  }

  /** The account a folded login was last found to be, or its login key. */
  accountOf(foldedLogin: string): string {
    const key = Lockout.loginKey(foldedLogin);
    return this.#aliases.get(key) ?? key;
  }

  /** The lock that refuses `account` tried from `address` now, if any (attempts in flight aside). */
  lockOf(account: string, clientAddress: string): Lock | undefined {
    const address = addressGroup(clientAddress);
    const now = this.#now();
    const byAddress = this.#addresses.get(address);
    if (byAddress !== undefined && byAddress.lockedUntil > now)
      return { kind: 'address', until: byAddress.lockedUntil };
    const counters = this.#counters(account).get(account);
    // Only a locked account pays for the familiarity lookup: this runs on every cached decision.
    if (
      counters === undefined ||
      (counters.others.lockedUntil <= now && counters.familiar.lockedUntil <= now)
    )
      return undefined;
    const counter = this.#select(counters, account, address, now);
    return counter.lockedUntil > now ? { kind: 'user', until: counter.lockedUntil } : undefined;
  }

  /** Reserves a place for a directory check from `address`, or says which lock (or busy limit) refuses it. */
  begin(clientAddress: string): Attempt | Lock | Busy {
    const address = addressGroup(clientAddress);
    if (this.#addressMax === 0) return new Attempt(address, undefined);
    const counter = this.#addressCounter(address);
    const refusal = this.#reserve(counter, this.#addressMax, 'address');
    return refusal ?? new Attempt(address, counter);
  }

  /** Reserves the attempt's place against `account` before its bind, or says which lock (or busy limit) refuses it. */
  admit(attempt: Attempt, account: string, subject: string): Lock | Busy | undefined {
    attempt.account = account;
    attempt.subject = subject;
    if (this.#max === 0) return undefined;
    const counter = this.#counterFor(account, attempt.address);
    const refusal = this.#reserve(counter, this.#max, 'user');
    if (refusal === undefined) attempt.accountCounter = counter;
    return refusal;
  }

  /**
   * The directory said no. Counts against the address and the admitted account, or, for a login that
   * matched no entry (never admitted), against `account`.
   */
  fail(attempt: Attempt, account?: string, subject?: string): void {
    if (!this.#settle(attempt)) return;
    const now = this.#now();
    if (attempt.addressCounter !== undefined)
      this.#count(attempt.addressCounter, this.#addressMax, now, {
        kind: 'address',
        subject: attempt.address,
      });
    if (this.#max === 0) return;
    let counter = attempt.accountCounter;
    let counted = attempt.account;
    if (counter === undefined && account !== undefined) {
      counter = this.#counterFor(account, attempt.address);
      counted = account;
      attempt.subject = subject ?? account;
    }
    if (counter === undefined || counted === undefined) return;
    const counters = this.#counters(counted).get(counted);
    const against = counters?.familiar === counter ? 'familiar addresses' : 'other addresses';
    this.#count(counter, this.#max, now, { kind: 'user', subject: attempt.subject, against });
  }

  /**
   * The directory verified the password: the address becomes familiar to the account, and the failures
   * counted against the familiar addresses are cleared (those of other addresses are not: one good login
   * must not hide guessing, and neither does it clear the address's own count).
   */
  succeed(attempt: Attempt): void {
    if (!this.#settle(attempt)) return;
    const { account, address } = attempt;
    if (account === undefined) return;
    const now = this.#now();
    if (this.#familiarMs > 0)
      this.#familiar.set(this.#familiarKey(account, address), Math.floor((now + this.#familiarMs) / 1000));
    const table = this.#counters(account);
    const counters = table.get(account);
    if (counters === undefined) return;
    const counter = this.#select(counters, account, address, now);
    if (counter.lockedUntil <= now) {
      counter.failures = 0;
      counter.windowStart = now;
    }
    // Counters with nothing left to count are dropped, so a verified account costs no memory here.
    if (idle(counters.others, now) && idle(counters.familiar, now)) table.delete(account);
  }

  /** The directory could not be asked: the attempt counts for nothing. Does nothing once settled. */
  release(attempt: Attempt): void {
    this.#settle(attempt);
  }

  /** A failure no directory check made (a refused CI job token): counted against the address alone. */
  recordAddressFailure(clientAddress: string): void {
    if (this.#addressMax === 0) return;
    const address = addressGroup(clientAddress);
    const counter = this.#addressCounter(address);
    this.#count(counter, this.#addressMax, this.#now(), { kind: 'address', subject: address });
  }

  /**
   * Remembers which account a folded login found, so its next attempt is refused before a search: only
   * for an account something counts against (a verified one has nothing to refuse).
   */
  learn(foldedLogin: string, account: string): void {
    if (!this.#counters(account).has(account)) return;
    const key = Lockout.loginKey(foldedLogin);
    if (this.#aliases.get(key) !== account) this.#aliases.set(key, account);
  }

  #addressCounter(address: string): Counter {
    let counter = this.#addresses.get(address);
    if (counter === undefined) {
      counter = new Counter();
      this.#addresses.set(address, counter);
    }
    return counter;
  }

  /** The LRU that holds `account`'s counters: its login key's or its entry's. */
  #counters(account: string): LruMap<string, AccountCounters> {
    return account.startsWith(LOGIN_PREFIX) ? this.#logins : this.#accounts;
  }

  #settle(attempt: Attempt): boolean {
    if (attempt.settled) return false;
    attempt.settled = true;
    attempt.addressCounter?.release();
    attempt.accountCounter?.release();
    return true;
  }

  #counterFor(account: string, address: string): Counter {
    const table = this.#counters(account);
    let counters = table.get(account);
    if (counters === undefined) {
      counters = { others: new Counter(), familiar: new Counter() };
      table.set(account, counters);
    }
    return this.#select(counters, account, address, this.#now());
  }

  /** The counter that failures of `account` from `address` count against. */
  #select(counters: AccountCounters, account: string, address: string, now: number): Counter {
    if (this.#familiarMs === 0) return counters.others;
    const until = this.#familiar.get(this.#familiarKey(account, address));
    return until !== undefined && until * 1000 > now ? counters.familiar : counters.others;
  }

  #familiarKey(account: string, address: string): string {
    return keys.digest(account, address, FAMILIAR_KEY_BYTES);
  }

  /** Takes a place on `counter`, or refuses: locked, or busy (failures and attempts in flight at the limit). */
  #reserve(counter: Counter, max: number, kind: LockKind): Lock | Busy | undefined {
    const now = this.#now();
    if (counter.lockedUntil > now) return { kind, until: counter.lockedUntil };
    const failures = now - counter.windowStart > this.#windowMs ? 0 : counter.failures;
    if (failures + counter.pending >= max) {
      return { kind, freed: new Promise<void>((resolve) => counter.waiters.push(resolve)) };
    }
    counter.pending++;
    return undefined;
  }

  #count(counter: Counter, max: number, now: number, event: Omit<LockoutEvent, 'until'>): void {
    if (now - counter.windowStart > this.#windowMs) {
      counter.failures = 0;
      counter.windowStart = now;
    }
    counter.failures++;
    if (counter.failures >= max && counter.lockedUntil <= now) {
      counter.lockedUntil = now + this.#durationMs;
      counter.failures = 0;
      counter.windowStart = now;
      this.#onLock({ ...event, until: counter.lockedUntil });
    }
  }
}
