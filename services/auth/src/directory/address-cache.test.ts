// The address cache with a scripted resolver and clock: one lookup serves connections for FRESH_MS, a
// failed or slow lookup falls back to the last answer (reported once), and without a usable last answer
// the resolver's error is what the connection gets.
import assert from 'node:assert/strict';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AddressCache, FRESH_MS, RETRY_MS, STALE_MS, WAIT_MS } from './address-cache.ts';
import type { Resolve } from './address-cache.ts';

const A: LookupAddress[] = [{ address: '192.0.2.10', family: 4 }];
const B: LookupAddress[] = [
  { address: '192.0.2.20', family: 4 },
  { address: '2001:db8::20', family: 6 },
];

const dnsError = (code: string): Error => Object.assign(new Error(`getaddrinfo ${code} ldap.test`), { code });

interface Script {
  cache: AddressCache;
  calls: { hostname: string; options: LookupOptions }[];
  stale: { hostname: string; error: string }[];
  clock: { now: number };
  /** What the next lookups do: an answer, an error, or 'hang' (settled later with `settle`). */
  next: (LookupAddress[] | Error | 'hang')[];
  settle: (answer: LookupAddress[] | Error) => void;
}

function script(): Script {
  const clock = { now: 1_000_000 };
  const calls: Script['calls'] = [];
  const stale: Script['stale'] = [];
  const next: Script['next'] = [];
  let hanging: ((answer: LookupAddress[] | Error) => void) | undefined;
  const resolve: Resolve = (hostname, options) => {
    calls.push({ hostname, options });
    const step = next.shift();
    assert.ok(step !== undefined, 'an unexpected lookup');
    if (step === 'hang') {
      return new Promise((res, rej) => {
        hanging = (answer) => {
          if (answer instanceof Error) rej(answer);
          else res(answer);
        };
      });
    }
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  };
  const cache = new AddressCache({
    resolve,
    now: () => clock.now,
    onStale: (hostname, error) => stale.push({ hostname, error: (error as Error).message }),
  });
  return {
    cache,
    calls,
    stale,
    clock,
    next,
    settle: (answer) => {
      assert.ok(hanging, 'no lookup is hanging');
      hanging(answer);
    },
  };
}

/** Heap in use after a full garbage collection. */
async function heapUsed(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await new Promise((r) => setImmediate(r)); // let what the last turn released go
  gc();
  return process.memoryUsage().heapUsed;
}

/** What lookup() calls back with, for net.connect's `options`. */
const lookupOnce = (cache: AddressCache, options: LookupOptions): Promise<unknown[]> =>
  new Promise((resolve) => {
    cache.lookup('ldap.test', options, (...args) => {
      resolve(args);
    });
  });

void describe('AddressCache', () => {
  void it('one lookup serves every connection while its answer is fresh; then it asks again', async () => {
    const s = script();
    s.next.push(A, B);
    assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    s.clock.now += FRESH_MS - 1;
    assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    assert.equal(s.calls.length, 1);
    s.clock.now += 1;
    assert.deepEqual(await s.cache.addresses('ldap.test'), B, 'a changed answer is used once it comes');
    assert.equal(s.calls.length, 2);
    assert.deepEqual(s.stale, []);
  });

  void it('asks for every address, passing the family and hints it was given; each is cached apart', async () => {
    const s = script();
    s.next.push(B, A);
    await s.cache.addresses('ldap.test', { family: 0, hints: 1024 });
    await s.cache.addresses('ldap.test', { family: 4 });
    await s.cache.addresses('ldap.test', { family: 4 });
    assert.deepEqual(s.calls, [
      { hostname: 'ldap.test', options: { family: 0, hints: 1024, all: true } },
      { hostname: 'ldap.test', options: { family: 4, hints: 0, all: true } },
    ]);
  });

  void it('concurrent connections share one lookup', async () => {
    const s = script();
    s.next.push('hang');
    const waiting = [s.cache.addresses('ldap.test'), s.cache.addresses('ldap.test')];
    s.settle(A);
    assert.deepEqual(await Promise.all(waiting), [A, A]);
    assert.equal(s.calls.length, 1);
  });

  void it('a failed lookup connects to the last answer, reported once until a lookup succeeds', async () => {
    const s = script();
    s.next.push(A, dnsError('EAI_AGAIN'), dnsError('ESERVFAIL'), B, dnsError('ETIMEOUT'));
    await s.cache.addresses('ldap.test');
    s.clock.now += FRESH_MS;
    assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    s.clock.now += RETRY_MS - 1;
    assert.deepEqual(await s.cache.addresses('ldap.test'), A, 'within RETRY_MS of the failure');
    assert.equal(s.calls.length, 2, 'asked again within RETRY_MS of a failure');
    s.clock.now += 1;
    assert.deepEqual(await s.cache.addresses('ldap.test'), A, 'asked again, failed again');
    assert.deepEqual(s.stale, [{ hostname: 'ldap.test', error: 'getaddrinfo EAI_AGAIN ldap.test' }]);
    s.clock.now += RETRY_MS;
    assert.deepEqual(await s.cache.addresses('ldap.test'), B, 'the resolver is back');
    s.clock.now += FRESH_MS;
    assert.deepEqual(await s.cache.addresses('ldap.test'), B);
    assert.equal(s.stale.length, 2, 'a new streak of failures is reported again');
    assert.equal(s.calls.length, 5);
  });

  void it('a name with no address (ENOTFOUND, ENODATA) is final: the last address is not used, and forgotten', async () => {
    for (const code of ['ENOTFOUND', 'ENODATA']) {
      const s = script();
      s.next.push(A, dnsError(code), dnsError('EAI_AGAIN'));
      await s.cache.addresses('ldap.test');
      s.clock.now += FRESH_MS;
      await assert.rejects(s.cache.addresses('ldap.test'), new RegExp(code));
      s.clock.now += 1;
      await assert.rejects(s.cache.addresses('ldap.test'), /EAI_AGAIN/, 'the forgotten address came back');
      assert.deepEqual(s.stale, []);
    }
  });

  void it('a resolver that throws fails like one that rejects; a rejection that is not an Error reaches net.connect as one', async () => {
    const calls: number[] = [];
    let fail: () => never = () => {
      throw dnsError('EAI_AGAIN');
    };
    const clock = { now: 0 };
    const cache = new AddressCache({
      now: () => clock.now,
      resolve: () => {
        calls.push(clock.now);
        return calls.length === 1 ? Promise.resolve(A) : fail();
      },
    });
    await cache.addresses('ldap.test');
    clock.now += FRESH_MS;
    assert.deepEqual(await cache.addresses('ldap.test'), A);
    const bare = new AddressCache({
      resolve: () =>
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is being tested
        Promise.reject('not an Error'),
    });
    const [error] = await lookupOnce(bare, { all: true });
    assert.ok(error instanceof Error);
    assert.match(error.message, /DNS lookup of ldap\.test failed: not an Error/);
    fail = () => {
      throw new TypeError('resolver defect');
    };
    const [thrown] = await lookupOnce(new AddressCache({ resolve: () => fail() }), {});
    assert.match(String(thrown), /resolver defect/);
  });

  void it('a slow lookup: the connection waits WAIT_MS, then takes the last answer; later ones do not wait', async () => {
    const s = script();
    s.next.push(A, 'hang');
    await s.cache.addresses('ldap.test');
    s.clock.now += FRESH_MS;
    const started = performance.now();
    assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    const waited = performance.now() - started;
    assert.ok(waited >= WAIT_MS - 5, `served after ${waited} ms, before WAIT_MS`);
    assert.match(s.stale[0]?.error ?? '', /no answer within 500 ms/);
    s.clock.now += WAIT_MS; // the lookup has been running longer than WAIT_MS: no new wait
    const nextTurn = new Promise((r) => {
      setImmediate(() => {
        r('waited again for the same slow lookup');
      });
    });
    assert.deepEqual(await Promise.race([s.cache.addresses('ldap.test'), nextTurn]), A);
    assert.equal(s.calls.length, 2, 'the slow lookup is not started twice');
    s.settle(B); // it answers in the end: the next connection uses the new answer
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await s.cache.addresses('ldap.test'), B);
    assert.equal(s.calls.length, 2);
  });

  void it('once the wait is over, connections served the last answer do not pile up on a hung lookup', async () => {
    const s = script();
    s.next.push(A, 'hang');
    await s.cache.addresses('ldap.test');
    s.clock.now += FRESH_MS;
    await s.cache.addresses('ldap.test'); // waits WAIT_MS, then the last answer
    s.clock.now += WAIT_MS;
    const before = await heapUsed();
    for (let i = 0; i < 20_000; i++) assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    const grown = (await heapUsed()) - before;
    // Each one kept about 1 kB (its race with the lookup) for as long as the lookup ran: 20 MB here.
    assert.ok(grown < 4 * 1024 * 1024, `the heap grew by ${grown} bytes for connections long served`);
    assert.equal(s.calls.length, 2);
  });

  void it('an empty answer is no address: net.connect never gets an empty list, nor the last answer', async () => {
    const s = script();
    s.next.push([], A, []);
    // Node's happy eyeballs (lookup with `all`) throws on an empty list: an unhandled rejection here.
    const [error] = await lookupOnce(s.cache, { all: true });
    assert.match(String(error), /no address for ldap\.test/);
    assert.deepEqual(await s.cache.addresses('ldap.test'), A);
    s.clock.now += FRESH_MS;
    await assert.rejects(s.cache.addresses('ldap.test'), { code: 'ENODATA' });
    assert.deepEqual(s.stale, []);
  });

  void it('without a last answer, or one older than STALE_MS, the lookup error is the answer', async () => {
    const s = script();
    s.next.push(dnsError('ENOTFOUND'), A, dnsError('EAI_AGAIN'));
    await assert.rejects(s.cache.addresses('ldap.test'), /ENOTFOUND/);
    await s.cache.addresses('ldap.test');
    s.clock.now += STALE_MS + 1;
    await assert.rejects(s.cache.addresses('ldap.test'), /EAI_AGAIN/);
    assert.deepEqual(s.stale, []);
  });

  void it('right after a failed lookup, an answer older than STALE_MS is not served either', async () => {
    const s = script();
    s.next.push(A, dnsError('EAI_AGAIN'), dnsError('EAI_AGAIN'));
    await s.cache.addresses('ldap.test');
    s.clock.now += STALE_MS - 1;
    assert.deepEqual(await s.cache.addresses('ldap.test'), A, 'stale, within STALE_MS');
    s.clock.now += 2; // within RETRY_MS of that failure, but past STALE_MS
    await assert.rejects(s.cache.addresses('ldap.test'), /EAI_AGAIN/);
  });

  void it('by default asks the system resolver, as net.connect would', async () => {
    const addresses = await new AddressCache().addresses('localhost');
    assert.ok(
      addresses.some((a) => a.address === '127.0.0.1' || a.address === '::1'),
      JSON.stringify(addresses),
    );
  });

  void it("lookup() answers in net.connect's two forms: every address, or the first with its family", async () => {
    const s = script();
    s.next.push(B, dnsError('ENOTFOUND'));
    const call = (options: LookupOptions) => lookupOnce(s.cache, options);
    assert.deepEqual(await call({ all: true }), [null, B]);
    assert.deepEqual(await call({}), [null, '192.0.2.20', 4]);
    const [error] = await call({ family: 6 });
    assert.match(String(error), /ENOTFOUND/);
  });
});
