// Real sockets on loopback against the limits of createLimitedServer, with short limits so every wait is
// bounded: each test ends on an event (a close, an answer) or fails at its deadline.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_LIMITS, createLimitedServer } from './http-server.ts';
import type { HttpLimits } from './http-server.ts';

const LIMITS: HttpLimits = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 1000,
  checkIntervalMs: 50,
};
const DEADLINE_MS = 5_000;
const REQUEST = 'GET /auth HTTP/1.1\r\nHost: sidecar\r\n\r\n';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server !== undefined) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
  server = undefined;
});

async function start(limits: Partial<HttpLimits> = {}, delayMs = 0): Promise<number> {
  server = createLimitedServer(
    (_req, res) => {
      setTimeout(() => res.writeHead(200, ['Content-Length', '0']).end(), delayMs);
    },
    { ...LIMITS, ...limits },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

interface Client {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with what the server sent when the server closes the connection; rejects at the deadline. */
  closed(): Promise<string>;
  /** Resolves when the server's data holds `count` answers. */
  answers(count: number): Promise<string>;
}

async function client(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {
    // A reset from the server is one way to be closed; 'close' follows and is what the tests wait for.
  });
  // Not events.once: it rejects on 'error', and a reset is an expected way to be closed here.
  const closing = new Promise<string>((resolve) =>
    socket.once('close', () => {
      resolve(data);
    }),
  );
  const deadline = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => {
          reject(new Error(`${what} within ${DEADLINE_MS} ms`));
        }, DEADLINE_MS).unref(),
      ),
    ]);
  // A connection past the cap may be reset before 'connect' is even seen; either way it is set up.
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closing]);
  return {
    socket,
    received: () => data,
    closed: () => deadline(closing, 'the server closes the connection'),
    answers: (count) =>
      deadline(
        (async () => {
          while ((data.match(/^HTTP\/1\.1 /gm) ?? []).length < count)
            await new Promise<void>((resolve) => waiters.push(resolve));
          return data;
        })(),
        `${count} answer(s)`,
      ),
  };
}

/** Sends the request line and then one header byte at a time, each after `everyMs`, until closed. */
function trickle(c: Client, everyMs: number): void {
  c.socket.write('GET /auth HTTP/1.1\r\nHost: sidecar\r\nX-Slow: ');
  const timer = setInterval(() => {
    if (c.socket.destroyed || c.socket.writableEnded) clearInterval(timer);
    else c.socket.write('a');
  }, everyMs);
  c.socket.once('close', () => {
    clearInterval(timer);
  });
}

describe('the decision port’s HTTP limits', () => {
  it('answers 408 and closes connections that trickle their headers past the headers timeout, while serving others', async () => {
    const port = await start();
    const slow = await Promise.all(Array.from({ length: 50 }, () => client(port)));
    for (const c of slow) trickle(c, 50);
    const fast = await client(port);
    fast.socket.write(REQUEST);
    assert.match(await fast.answers(1), /^HTTP\/1\.1 200 /, 'a well-behaved request is answered meanwhile');
    const closedWith = await Promise.all(slow.map((c) => c.closed()));
    for (const data of closedWith) assert.match(data, /^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing after the headers timeout', async () => {
    const port = await start();
    const silent = await client(port);
    assert.match(await silent.closed(), /^HTTP\/1\.1 408 /);
  });

  it('keeps an idle keep-alive connection (nginx’s pool) open past the headers timeout', async () => {
    const port = await start();
    const pooled = await client(port);
    pooled.socket.write(REQUEST);
    await pooled.answers(1);
    // Idle from here on. A connection opened now that sends nothing is closed after the headers timeout:
    // by then the pooled one has been idle at least as long.
    const silent = await client(port);
    await silent.closed();
    assert.equal(pooled.socket.destroyed, false, 'the idle pooled connection is still open');
    pooled.socket.write(REQUEST);
    assert.match(await pooled.answers(2), /HTTP\/1\.1 200 [^]*HTTP\/1\.1 200 /);
  });

  it('answers a decision that takes longer than the request timeout (the timeout bounds receiving, not deciding)', async () => {
    const port = await start({}, LIMITS.requestTimeoutMs * 2);
    const c = await client(port);
    c.socket.write(REQUEST);
    assert.match(await c.answers(1), /^HTTP\/1\.1 200 /);
  });

  it('closes connections past the cap at once, and accepts new ones when others have gone', async () => {
    const port = await start({ maxConnections: 5, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const held = await Promise.all(Array.from({ length: 5 }, () => client(port)));
    const refused = await client(port);
    refused.socket.write(REQUEST);
    assert.equal(await refused.closed(), '', 'closed without an answer');
    const [first] = held;
    assert.ok(first);
    first.socket.destroy();
    // The server counts the connection gone once it sees the close; until then a new one is still refused.
    for (let attempt = 0; ; attempt++) {
      const next = await client(port);
      next.socket.write(REQUEST);
      const answered = await Promise.race([
        next.answers(1).then(() => true),
        next.closed().then(() => false),
      ]);
      if (answered) break;
      assert.ok(attempt < 50, 'a connection is accepted again after one of the five closed');
    }
  });
});

describe('DEFAULT_LIMITS (what main.ts listens with)', () => {
  it("keeps an idle connection longer than nginx's upstream keepalive_timeout (60 s), so nginx closes first", () => {
    const server = createLimitedServer(() => undefined, { ...DEFAULT_LIMITS, maxConnections: 64 });
    assert.ok(server.keepAliveTimeout > 60_000, `${server.keepAliveTimeout} ms`);
  });

  it('bounds the headers and the whole request, the headers first, and checks more often than either', () => {
    const server = createLimitedServer(() => undefined, { ...DEFAULT_LIMITS, maxConnections: 64 });
    assert.ok(server.headersTimeout > 0 && server.requestTimeout > 0, 'both bounded');
    assert.ok(server.headersTimeout <= server.requestTimeout);
    assert.ok(DEFAULT_LIMITS.checkIntervalMs > 0 && DEFAULT_LIMITS.checkIntervalMs < server.headersTimeout);
    assert.equal(server.maxConnections, 64);
  });
});
