// @ts-nocheck
// 
// 
// One decision per auth subrequest: parse, fold the login, check the lockout, answer from the cache or ask
// the directory (concurrent identical checks share one directory round trip), then apply the policy.
import { performance } from 'node:perf_hooks';
import { parseBasicAuth } from './basic-auth.ts';
import { DEFAULT_DECISION_TIMEOUT_MS } from './config.ts';
import type { DecisionCache, Verdict } from './decision-cache.ts';
import type { Directory, Identity, UserEntry } from './directory/directory.ts';
import { CredentialsRejectedError, DirectoryUnavailableError } from './directory/errors.ts';
import { Attempt, Lockout, isBusy } from './lockout.ts';
import type { Busy, Lock, LockKind } from './lockout.ts';
import { foldLogin } from './login-fold.ts';
import { decideToken } from './oidc/token-authenticator.ts';
import type { TokenAuthenticator } from './oidc/token-authenticator.ts';
import type { Policy } from './policy.ts';
import type { Reason } from './reasons.ts';
import { requiredAccess } from './registry-scope.ts';
import type { Access } from './registry-scope.ts';

export interface DecisionRequest {
  readonly authorization: string | undefined;
  readonly method: string | undefined;
  readonly uri: string | undefined;
  /** The registry request's Content-Type, as the proxy forwards it. */
  readonly contentType?: string | undefined;
  readonly clientIp: string;
}

/**
 * Where the credential verdict came from; `token` when a job token was verified for this request, `none`
 * when the request was settled before that.
 */
export type DecisionSource = 'cache' | 'directory' | 'stale' | 'token' | 'none';

export interface Decision {
  readonly reason: Reason;
  readonly source: DecisionSource;
  /** The username as the client sent it (for the audit of failures). */
  readonly login?: string;
  readonly identity?: Identity;
  readonly access?: readonly Access[];
  /** Set on directory_unavailable and internal_error, for the operator's log. */
  readonly error?: string;
  /** Set on locked_out: whether the account or the client address is locked. */
  readonly lock?: LockKind;
  /** Why a request was refused before any credential check (invalid_request, form_body). */
  readonly detail?: string;
  /** Set on internal_error: what was thrown, for the operator's log (with its stack). */
  readonly fault?: unknown;
}

type Outcome =
  | { readonly verdict: Verdict }
  | { readonly unavailable: DirectoryUnavailableError }
  | { readonly locked: Lock };

export interface DeciderOptions {
  readonly directory: Directory;
  readonly cache: DecisionCache;
  readonly lockout: Lockout;
  readonly policy: Policy;
  /** Reduces a login to the form the directory searches for (AD: `DOMAIN\user` → `user`). */
  readonly normalizeLogin?: (login: string) => string;
  /** CI job tokens: the Basic username that carries one instead of a password (OIDC_CONFIG_FILE). */
  readonly tokens?: TokenAuthenticator | undefined;
  /**
   * Directory verifications in flight at once (each opens a connection for the user's bind); more wait
   * their turn, so a burst of distinct credentials cannot flood the directory with connections.
   */
  readonly maxConcurrentVerifications?: number;
  /** Verifications that may wait for a slot; beyond that a decision fails at once (503). */
  readonly maxQueuedVerifications?: number;
  /**
   * The most a decision may wait for the directory, queueing included (DECISION_TIMEOUT_MS); then it is
   * answered as an outage (503, or a stale entry), well before nginx gives up on the subrequest.
   */
  readonly decisionTimeoutMs?: number;
}

export class Decider {
  readonly #o: DeciderOptions;
  readonly #inflight = new Map<string, Promise<Outcome>>();
  readonly #slots: Slots;

  constructor(options: DeciderOptions) {
    this.#o = options;
    this.#slots = new Slots(
      options.maxConcurrentVerifications ?? Number.POSITIVE_INFINITY,
      options.maxQueuedVerifications ?? Number.POSITIVE_INFINITY,
    );
  }

  /**
   * Synchronous when the answer needs no directory round trip (malformed input, lockout, a fresh cache
   * entry): that is nearly every request of a push or pull, and skipping the promise hops is measurable.
   */
  decide(request: DecisionRequest): Decision | Promise<Decision> {
    const { method, uri } = request;
    if (method === undefined || uri === undefined || method === '' || uri === '') {
      return { reason: 'proxy_misconfigured', source: 'none' };
    }
    // The scope is known before the credentials are checked, so every answer names its action; an
    // invalid request is still challenged first when it carries no usable credentials.
    const scope = requiredAccess(method, uri, request.contentType);
    const access = scope.ok ? { access: scope.access } : {};
    if (request.authorization === undefined) return { ...access, reason: 'no_credentials', source: 'none' };
    const credentials = parseBasicAuth(request.authorization);
    if (credentials === undefined) return { ...access, reason: 'malformed_credentials', source: 'none' };
    const base = { ...access, login: credentials.username };
    if (credentials.password === '') return { ...base, reason: 'empty_password', source: 'none' };
    if (!scope.ok) {
      return { login: credentials.username, reason: scope.denial, source: 'none', detail: scope.why };
    }
    const context = { login: credentials.username, access: scope.access };
    const { cache, lockout, tokens } = this.#o;
    if (tokens !== undefined && credentials.username === tokens.username) {
      return decideToken(tokens, credentials.password, context, () => {
        lockout.recordAddressFailure(request.clientIp);
      });
    }
    const login = this.#fold(credentials.username);

    const key = cache.key(login, credentials.password);
    const cached = cache.lookup(key);
    // Checked before any answer, the cache's included, and whatever the password: a locked account answers
    // locked_out to right and wrong passwords alike, so the cache is no oracle while it is locked.
    const lock = lockout.lockOf(cached?.verdict.account ?? lockout.accountOf(login), request.clientIp);
    if (lock !== undefined) return { ...context, reason: 'locked_out', source: 'none', lock: lock.kind };
    if (cached?.fresh === true) return this.#conclude(context, cached.verdict, 'cache');
    // stale-if-error: a verified entry past its TTL is honoured only because the directory cannot be asked;
    // once it is known to be down, without queueing behind requests that wait for it.
    if (cached?.verdict.kind === 'verified' && this.#o.directory.knownDown?.() === true)
      return this.#conclude(context, cached.verdict, 'stale');
    const { outcome, joined } = this.#verifyWithin(key, login, credentials.password, request.clientIp);
    return outcome.then(
      (o): Decision => {
        if ('locked' in o)
          return { ...context, reason: 'locked_out', source: 'directory', lock: o.locked.kind };
        if ('verdict' in o) {
          // Whoever shares another request's round trip is held to the lock for its own address.
          const held = joined ? lockout.lockOf(o.verdict.account, request.clientIp) : undefined;
          if (held !== undefined)
            return { ...context, reason: 'locked_out', source: 'directory', lock: held.kind };
          return this.#conclude(context, o.verdict, 'directory');
        }
        if (cached?.verdict.kind === 'verified') return this.#conclude(context, cached.verdict, 'stale');
        const { unavailable } = o;
        return {
          ...context,
          reason: unavailable.misconfigured ? 'directory_misconfigured' : 'directory_unavailable',
          source: 'directory',
          error: redact(unavailable.message, credentials.password),
        };
      },
      (thrown: unknown): Decision => {
        // A defect, not an outage: answered 500 with who asked for what, and the thrown error for the log,
        // the password cut out wherever the defect quotes it ("reading '<password>'").
        const fault = withoutSecret(thrown, credentials.password);
        const message = fault instanceof Error ? fault.message : String(fault);
        return { ...context, reason: 'internal_error', source: 'directory', error: message, fault };
      },
    );
  }

  /** The login as the directory search and every key see it: folded, then reduced by the preset. */
  #fold(username: string): string {
    const folded = foldLogin(username);
    return this.#o.normalizeLogin?.(folded) ?? folded;
  }

  #conclude(
    context: { login: string; access: readonly Access[] },
    verdict: Verdict,
    source: DecisionSource,
  ): Decision {
    if (verdict.kind === 'rejected') return { ...context, reason: verdict.reason, source };
    const granted = this.#o.policy.allows(verdict.identity, context.access);
    return { ...context, identity: verdict.identity, reason: granted ? 'granted' : 'not_granted', source };
  }

  /** #verifyOnce, answered as an outage if it takes longer than decisionTimeoutMs. */
  #verifyWithin(
    key: string,
    login: string,
    password: string,
    address: string,
  ): { outcome: Promise<Outcome>; joined: boolean } {
    const { outcome: pending, joined } = this.#verifyOnce(key, login, password, address);
    const ms = this.#o.decisionTimeoutMs;
    if (ms === undefined) return { outcome: pending, joined };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        resolve({
          unavailable: new DirectoryUnavailableError(`the directory did not answer within ${ms} ms`),
        });
      }, ms);
    });
    const outcome = Promise.race([pending, expired]).finally(() => {
      clearTimeout(timer);
    });
    return { outcome, joined };
  }

  /** Concurrent checks of the same credentials wait for the first one's directory round trip. */
  #verifyOnce(
    key: string,
    login: string,
    password: string,
    address: string,
  ): { outcome: Promise<Outcome>; joined: boolean } {
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return { outcome: pending, joined: true };
    const outcome = this.#slots
      .run(() => this.#verify(key, login, password, address), this.#o.decisionTimeoutMs)
      .catch((error: unknown): Outcome => {
        if (error instanceof DirectoryUnavailableError) return { unavailable: error };
        throw error;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, outcome);
    return { outcome, joined: false };
  }

  /**
   * Search, then bind, with the attempt counted from the start: its place against the address is taken
   * before the search and against the account (the entry found) before the bind, so parallel guesses stop
   * at the limit. Failures count against the entry, whatever form of its name was typed.
   */
  async #verify(key: string, login: string, password: string, address: string): Promise<Outcome> {
    const { directory, cache, lockout } = this.#o;
    const waitUntil = performance.now() + (this.#o.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS);
    const attempt = await whenReserved(() => lockout.begin(address), waitUntil);
    if (attempt === EXPIRED) return { unavailable: busy() };
    if (!(attempt instanceof Attempt)) return { locked: attempt };
    try {
      let user: UserEntry;
      try {
        user = await directory.findUser(login);
      } catch (error) {
        if (!(error instanceof CredentialsRejectedError)) throw error;
        // No entry (or several): the folded login is all there is to count against.
        const account = Lockout.loginKey(login);
        const verdict: Verdict = { kind: 'rejected', reason: error.reason, account };
        cache.store([key], verdict);
        lockout.fail(attempt, account, login);
        return { verdict };
      }
      const account = Lockout.accountKey(user.dn);
      lockout.learn(login, account);
      const refused = await whenReserved(() => lockout.admit(attempt, account, user.username), waitUntil);
      if (refused === EXPIRED) return { unavailable: busy() };
      if (refused !== undefined) return { locked: refused };
      // The key of the canonical name, so `alice`, `alice@example.test` and `EXAMPLE\alice` share one entry.
      const canonical = this.#fold(user.username);
      const canonicalKey = canonical === login ? key : cache.key(canonical, password);
      const keys = canonicalKey === key ? [key] : [key, canonicalKey];
      if (canonicalKey !== key) {
        // Another login form of an entry checked recently (`alice` before `alice@example.test`): the search
        // proved it is the same entry, the canonical key proves the same password. No second bind, and one
        // negative-cache entry for every form of the account.
        const known = cache.lookup(canonicalKey);
        if (known?.fresh === true) {
          cache.store([key], known.verdict);
          return { verdict: known.verdict };
        }
      }
      try {
        await directory.verifyPassword(user, password);
      } catch (error) {
        if (!(error instanceof CredentialsRejectedError)) throw error;
        const verdict: Verdict = { kind: 'rejected', reason: error.reason, account };
        cache.store(keys, verdict);
        lockout.fail(attempt);
        lockout.learn(login, account); // now that it counts: its next attempt is refused before a search
        return { verdict };
      }
      const groups = await directory.resolveGroups(user);
      const verdict: Verdict = {
        kind: 'verified',
        identity: { username: user.username, dn: user.dn, groups },
        account,
      };
      cache.store(keys, verdict);
      lockout.succeed(attempt);
      return { verdict };
    } catch (error) {
      if (error instanceof DirectoryUnavailableError) return { unavailable: error };
      throw error;
    } finally {
      lockout.release(attempt); // counts for nothing unless settled above
    }
  }
}

/** `text` with every occurrence of `secret` replaced. */
function redact(text: string, secret: string): string {
  return secret === '' || !text.includes(secret) ? text : text.split(secret).join('[redacted]');
}

/**
 * What was thrown, fit for the log: an error whose message or stack quotes `secret` is copied (same class,
 * so the log still names it) with the secret cut out of both; anything else is returned as it is.
 */
function withoutSecret(thrown: unknown, secret: string): unknown {
  if (!(thrown instanceof Error)) return redact(String(thrown), secret);
  const stack = thrown.stack ?? '';
  if (redact(thrown.message, secret) === thrown.message && redact(stack, secret) === stack) return thrown;
  const copy = Object.create(Object.getPrototypeOf(thrown) as object) as Error;
  Object.defineProperties(copy, {
    message: { value: redact(thrown.message, secret), writable: true, configurable: true },
    stack: { value: redact(stack, secret), writable: true, configurable: true },
  });
  return copy;
}

const EXPIRED = Symbol('expired');

/**
 * Takes a lockout reservation, waiting while the limit is taken by attempts still in flight (Busy) and
 * asking again each time one settles; EXPIRED once `waitUntil` (performance.now()) has passed.
 */
async function whenReserved<T>(reserve: () => T | Busy, waitUntil: number): Promise<T | typeof EXPIRED> {
  for (;;) {
    const reservation = reserve();
    if (!isBusy(reservation)) return reservation;
    const left = waitUntil - performance.now();
    if (left <= 0) return EXPIRED;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, left);
    });
    await Promise.race([reservation.freed, expired]);
    clearTimeout(timer);
  }
}

/** No place freed up in time: an outage-like answer (503), never locked_out, since nothing has failed. */
function busy(): DirectoryUnavailableError {
  return new DirectoryUnavailableError(
    'too many directory checks in flight for this account or address; none settled in time',
  );
}

/**
 * A counting semaphore: at most `max` tasks run at once, at most `maxWaiting` wait, in arrival order. A
 * task that cannot wait (queue full) or waited `waitMs` without a slot fails with DirectoryUnavailableError
 * and never runs: nobody would be waiting for its answer.
 */
class Slots {
  readonly #max: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(max: number, maxWaiting: number) {
    this.#max = max;
    this.#maxWaiting = maxWaiting;
  }

  async run<T>(task: () => Promise<T>, waitMs?: number): Promise<T> {
    if (this.#running >= this.#max) await this.#wait(waitMs);
    else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next(); // the slot passes straight to the next task
    }
  }

  #wait(waitMs: number | undefined): Promise<void> {
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new DirectoryUnavailableError(`${this.#waiting.length} directory verifications already waiting`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const start = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (waitMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.#waiting.indexOf(start);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new DirectoryUnavailableError(`no directory slot came free within ${waitMs} ms`));
        }, waitMs);
      }
      this.#waiting.push(start);
    });
  }
}
