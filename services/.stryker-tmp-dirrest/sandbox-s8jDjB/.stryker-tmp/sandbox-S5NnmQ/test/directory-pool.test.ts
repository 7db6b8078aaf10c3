// @ts-nocheck
// 
// The service-account connection pool (pool.ts) on its own, with real connections to a real slapd: reuse,
// the LDAP_POOL_SIZE bound, the bounded wait for a free connection, dead connections replaced, the one
// retry after a reused connection fails, drain and close. In-process, so mutation testing covers it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, NoSuchObjectError, ResultCodeError } from 'ldapts';
import { startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';
import { ConnectionPool } from '../src/directory/pool.ts';
import type { PoolOptions } from '../src/directory/pool.ts';
import { DirectoryUnavailableError } from '../src/directory/errors.ts';
import { waitFor } from './support/wait.ts';

let slapd: Slapd;
const pools: ConnectionPool[] = [];
const opened: Client[] = [];

before(async () => {
  slapd = await startSlapd();
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await Promise.all(opened.map((c) => c.unbind().catch(() => undefined)));
    await slapd.destroy();
  }
});

/** A connection bound as the service account, as the directory's pool opens them. */
async function openService(): Promise<Client> {
  const client = new Client({ url: slapd.url, timeout: 2000, connectTimeout: 1000 });
  opened.push(client);
  await client.bind(slapd.serviceDn, slapd.servicePassword);
  return client;
}

interface Harness {
  pool: ConnectionPool;
  /** Connections the pool asked for. */
  readonly opens: number;
  /** onBroken calls: the connection and the error. */
  readonly broken: [Client, unknown][];
}

function poolWith(options: Partial<PoolOptions> = {}, open: () => Promise<Client> = openService): Harness {
  let opens = 0;
  const broken: [Client, unknown][] = [];
  const pool = new ConnectionPool(
    async () => {
      opens++;
      return open();
    },
    {
      max: 2,
      acquireTimeoutMs: 5000,
      isAnswer: (error) => error instanceof ResultCodeError,
      onBroken: (client, error) => broken.push([client, error]),
      ...options,
    },
  );
  pools.push(pool);
  return {
    pool,
    get opens() {
      return opens;
    },
    broken,
  };
}

/** A promise and its resolve, to hold a connection busy until the test lets go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Runs `use` holding the connection until the returned `release` is called; `client` once it has one. */
function hold(pool: ConnectionPool): { client: Promise<Client>; release: () => void; done: Promise<Client> } {
  const g = gate();
  let got: (client: Client) => void = () => undefined;
  const client = new Promise<Client>((resolve) => {
    got = resolve;
  });
  const done = pool.use(async (c) => {
    got(c);
    await g.promise;
    return c;
  });
  return { client, release: g.open, done };
}

/** The connection itself, for tests that compare which one they got. */
const take = (client: Client): Promise<Client> => Promise.resolve(client);
const search = (client: Client) => client.search(slapd.baseDn, { scope: 'base', attributes: ['1.1'] });
const transportError = () => new Error('socket closed by the test');

describe('ConnectionPool against slapd', () => {
  it('reuses one connection for operations that follow each other', async () => {
    const h = poolWith();
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await h.pool.use(async (c) => (await search(c), c)));
    assert.equal(h.opens, 1);
    assert.equal(h.pool.size, 1);
    assert.equal(new Set(clients).size, 1);
  });

  it('opens at most max connections; a caller waits and gets the first one released', async () => {
    const h = poolWith({ max: 2 });
    const a = hold(h.pool);
    const b = hold(h.pool);
    const [ca, cb] = await Promise.all([a.client, b.client]);
    assert.notEqual(ca, cb);
    const c = hold(h.pool);
    assert.equal(h.opens, 2);
    assert.equal(h.pool.size, 2);
    a.release();
    assert.equal(await c.client, ca);
    await a.done;
    // The handed-over connection is not also idle: two callers at once still get two connections.
    const d = hold(h.pool);
    b.release();
    c.release();
    await Promise.all([b.done, c.done]);
    const e = hold(h.pool);
    const [cd, ce] = await Promise.all([d.client, e.client]);
    assert.notEqual(cd, ce);
    d.release();
    e.release();
    await Promise.all([d.done, e.done]);
    assert.equal(h.opens, 2);
    assert.equal(h.pool.size, 2);
  });

  it('a wait for a free connection ends after acquireTimeoutMs with DirectoryUnavailableError, and the pool recovers', async () => {
    const h = poolWith({ max: 1, acquireTimeoutMs: 200 });
    const a = hold(h.pool);
    const ca = await a.client;
    const late = h.pool.use(search);
    await assert.rejects(late, (error: unknown) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.equal(error.kind, 'unreachable');
      assert.equal(
        error.message,
        'no LDAP connection came free within 200 ms (all 1 of LDAP_POOL_SIZE busy)',
      );
      return true;
    });
    a.release();
    await a.done;
    // The caller that gave up is gone: the released connection is reused by the next one, not lost.
    assert.equal(await h.pool.use(take), ca);
    assert.equal(h.opens, 1);
  });

  it('a caller waiting for a connection gets the slot of one that failed to open', async () => {
    const g = gate();
    let calls = 0;
    const h = poolWith({ max: 1, acquireTimeoutMs: 4000 }, async () => {
      calls++;
      if (calls === 1) {
        await g.promise;
        throw transportError();
      }
      return openService();
    });
    const first = h.pool.use(search);
    const second = h.pool.use(take);
    g.open();
    await assert.rejects(first, /socket closed by the test/);
    assert.ok((await second) instanceof Client);
    assert.equal(h.pool.size, 1);
  });

  it('a caller waiting for a connection gets the slot of one that was discarded', async () => {
    const h = poolWith({ max: 1, acquireTimeoutMs: 4000 });
    const g = gate();
    const first = h.pool.use(async () => {
      await g.promise;
      throw transportError();
    });
    const second = h.pool.use(take);
    g.open();
    await assert.rejects(first, /socket closed by the test/);
    assert.ok((await second) instanceof Client);
    assert.equal(h.opens, 2);
    assert.equal(h.pool.size, 1);
  });

  it('an idle connection that died is closed and replaced, never handed out', async () => {
    const h = poolWith();
    const first = await h.pool.use(take);
    await first.unbind();
    const second = await h.pool.use(async (c) => (await search(c), c));
    assert.notEqual(second, first);
    assert.equal(h.opens, 2);
    assert.equal(h.pool.size, 1);
  });

  it('an idle connection that accept() refuses (its server is down) is replaced', async () => {
    const refused = new Set<Client>();
    const h = poolWith({ accept: (c) => !refused.has(c) });
    const first = await h.pool.use(take);
    refused.add(first);
    const second = await h.pool.use(take);
    assert.notEqual(second, first);
    assert.equal(h.pool.size, 1);
    await waitFor('the refused connection to be closed', () => !first.isConnected, 3000, 20);
  });

  it('a connection that died while in use is not returned to the pool', async () => {
    const h = poolWith();
    const first = await h.pool.use(async (c) => (await c.unbind(), c));
    assert.equal(h.pool.size, 0);
    const second = await h.pool.use(take);
    assert.notEqual(second, first);
    assert.equal(h.opens, 2);
  });

  it('an operation that fails on a reused connection is retried once on a new one, and onBroken names the old', async () => {
    const h = poolWith();
    const first = await h.pool.use(take);
    const error = transportError();
    const seen: Client[] = [];
    const result = await h.pool.use(async (c) => {
      seen.push(c);
      if (c === first) throw error;
      await search(c);
      return c;
    });
    assert.deepEqual(seen, [first, result]);
    assert.notEqual(result, first);
    assert.deepEqual(h.broken, [[first, error]]);
    assert.equal(h.opens, 2);
    assert.equal(h.pool.size, 1);
    await waitFor('the failed connection to be closed', () => !first.isConnected, 3000, 20);
    // The new connection is kept for the next operation.
    assert.equal(await h.pool.use(take), result);
  });

  it('an operation that fails on a new connection is not retried', async () => {
    const h = poolWith();
    let calls = 0;
    const error = transportError();
    await assert.rejects(
      h.pool.use(() => {
        calls++;
        return Promise.reject(error);
      }),
      (e) => e === error,
    );
    assert.equal(calls, 1);
    assert.equal(h.broken.length, 1);
    assert.equal(h.broken[0]?.[1], error);
    assert.equal(h.pool.size, 0);
  });

  it("the server's answer is passed on, the connection kept and the operation not retried", async () => {
    const h = poolWith();
    const first = await h.pool.use(take);
    let calls = 0;
    await assert.rejects(
      h.pool.use(async (c) => {
        calls++;
        return c.search(`ou=nowhere,${slapd.baseDn}`, { scope: 'base' });
      }),
      NoSuchObjectError,
    );
    assert.equal(calls, 1);
    assert.deepEqual(h.broken, []);
    assert.equal(await h.pool.use(take), first);
    assert.equal(h.opens, 1);
  });

  it('on the retry, an answer keeps the new connection and a transport failure drops it too', async () => {
    const h = poolWith();
    const first = await h.pool.use(take);
    const answered = h.pool.use(async (c) => {
      if (c === first) throw transportError();
      return c.search(`ou=nowhere,${slapd.baseDn}`, { scope: 'base' });
    });
    await assert.rejects(answered, NoSuchObjectError);
    assert.equal(h.pool.size, 1);
    assert.equal(h.broken.length, 1);
    const kept = await h.pool.use(take);
    assert.notEqual(kept, first);

    const error = transportError();
    await assert.rejects(
      h.pool.use(() => Promise.reject(error)),
      (e) => e === error,
    );
    assert.equal(h.broken.length, 3);
    assert.equal(h.pool.size, 0);
    assert.equal(h.opens, 3);
  });

  it('drain() closes idle connections now and a busy one when it is released', async () => {
    const h = poolWith();
    const a = hold(h.pool);
    const b = hold(h.pool);
    const [ca, cb] = await Promise.all([a.client, b.client]);
    a.release();
    await a.done; // ca idle, cb busy
    h.pool.drain();
    assert.equal(h.pool.size, 1); // the idle one is gone, the busy one still counts
    await waitFor('the idle connection to be closed', () => !ca.isConnected, 3000, 20);
    assert.equal(cb.isConnected, true);
    b.release();
    await b.done;
    assert.equal(h.pool.size, 0);
    await waitFor('the retired connection to be closed', () => !cb.isConnected, 3000, 20);
    const next = await h.pool.use(take);
    assert.ok(next !== ca && next !== cb);
    assert.equal(h.opens, 3);
  });

  it('a connection handed to a waiting caller is reused: retried on failure, retired by drain()', async () => {
    const h = poolWith({ max: 1 });
    const a = hold(h.pool);
    const ca = await a.client;
    const seen: Client[] = [];
    const waiting = h.pool.use((c) => {
      seen.push(c);
      return c === ca ? Promise.reject(transportError()) : Promise.resolve(c);
    });
    a.release();
    const fresh = await waiting;
    assert.deepEqual(seen, [ca, fresh]);
    assert.notEqual(fresh, ca);

    const b = hold(h.pool);
    assert.equal(await b.client, fresh);
    const c = hold(h.pool);
    b.release();
    assert.equal(await c.client, fresh);
    h.pool.drain();
    c.release();
    await c.done;
    assert.equal(h.pool.size, 0);
    assert.notEqual(await h.pool.use(take), fresh);
  });

  it('a caller waiting for a connection gets the slot of one closed on release', async () => {
    const h = poolWith({ max: 1, acquireTimeoutMs: 4000 });
    const a = hold(h.pool);
    const ca = await a.client;
    const waiting = h.pool.use(take);
    h.pool.drain();
    a.release();
    const next = await waiting;
    assert.notEqual(next, ca);
    assert.equal(h.pool.size, 1);
  });

  it('without onBroken, a failed operation is passed on as it was', async () => {
    const pool = new ConnectionPool(openService, {
      max: 1,
      acquireTimeoutMs: 1000,
      isAnswer: (error) => error instanceof ResultCodeError,
    });
    pools.push(pool);
    const first = await pool.use(take);
    const error = transportError();
    await assert.rejects(
      pool.use(() => Promise.reject(error)),
      (e) => e === error,
    );
    assert.equal(pool.size, 0);
    assert.notEqual(await pool.use(take), first);
  });

  it('close() fails waiting callers and later ones, and does not retry on a new connection', async () => {
    const h = poolWith({ max: 1 });
    const first = await h.pool.use(take);
    const a = hold(h.pool);
    assert.equal(await a.client, first);
    const waiting = h.pool.use(search);
    await h.pool.close();
    await assert.rejects(waiting, /connection pool is closed/);
    await assert.rejects(h.pool.use(search), /connection pool is closed/);
    a.release();
    await a.done;
    assert.equal(h.pool.size, 0);
    await waitFor('the released connection to be closed', () => !first.isConnected, 3000, 20);

    // Idle connections are closed too.
    const idle = poolWith();
    const ci = await idle.pool.use(take);
    await idle.pool.close();
    assert.equal(idle.pool.size, 0);
    await waitFor('the idle connection to be closed', () => !ci.isConnected, 3000, 20);

    const h2 = poolWith();
    const reused = await h2.pool.use(take);
    const error = transportError();
    await assert.rejects(
      h2.pool.use(async () => {
        await h2.pool.close();
        throw error;
      }),
      (e) => e === error,
    );
    assert.notEqual(reused, undefined);
    assert.equal(h2.opens, 1);
  });
});
