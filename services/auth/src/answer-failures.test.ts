// The answer path when something around the decision fails: the client hangs up while the directory is
// still deciding, the audit line cannot be written, a header cannot be. Each is one request's loss, never
// the process's, and leaves nothing open behind it. The directory is the fake, held to keep a decision
// in flight.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { FakeDirectory, basic } from '../test/support/fake-directory.ts';
import { fakeConfig, serveFake } from '../test/support/serve-fake.ts';
import { waitFor } from '../test/support/wait.ts';
import type { Config } from './config.ts';

const DEADLINE_MS = 10_000;

const config = fakeConfig({
  AUTH_REALM: 'Example registry',
  TRUSTED_PROXIES: 'loopback',
});

/** A log destination that keeps parsed lines; `refuse` decides which lines it throws on instead. */
function logSink(refuse: (line: string) => boolean = () => false) {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    audits: () => lines.filter((l) => l['msg'] === 'decision'),
    operational: () => lines.filter((l) => l['msg'] !== 'decision'),
    write(chunk: string): boolean {
      for (const line of chunk.split('\n').filter(Boolean)) {
        if (refuse(line)) throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      return true;
    },
  };
}

async function serve(directory: FakeDirectory, sink: ReturnType<typeof logSink>, cfg: Config = config) {
  const { authServer, authBase, metricsBase, close } = await serveFake(directory, { config: cfg, log: sink });
  return {
    url: `${authBase}/auth`,
    connections: () =>
      new Promise<number>((resolve, reject) => {
        authServer.getConnections((error, count) => {
          if (error) reject(error);
          else resolve(count);
        });
      }),
    metric: async (series: string): Promise<number> => {
      const text = await (await fetch(`${metricsBase}/metrics`)).text();
      const value = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1];
      return Number(value ?? 0);
    },
    close,
  };
}

const nginx = (user: string, password: string, uri = '/v2/app/tags/list'): Record<string, string> => ({
  'X-Original-Method': 'GET',
  'X-Original-URI': uri,
  'X-Real-IP': '192.0.2.7',
  Authorization: basic(user, password),
});

/** Sends a decision request and hangs up before the answer; resolves once the request is sent. */
async function askAndHangUp(url: string, headers: Record<string, string>): Promise<() => void> {
  const req = request(url, { headers });
  req.on('error', () => undefined); // the hang-up below is this client's own doing
  req.end();
  await once(req, 'socket');
  return () => {
    req.destroy();
  };
}

describe('a client that hangs up while its decision is with the directory', () => {
  it('costs nothing: the decision finishes and is audited, nothing stays open, the next one is answered', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
      bob: { password: 'bob-password', groups: ['registry-users'] },
    });
    const sink = logSink();
    const service = await serve(directory, sink);
    try {
      const release = directory.hold();
      const hangUps = [
        await askAndHangUp(service.url, nginx('alice', 'alice-password')),
        await askAndHangUp(service.url, nginx('bob', 'wrong-password')),
      ];
      await waitFor('both searches at the directory', () => directory.calls.findUser >= 2, DEADLINE_MS, 10);
      for (const hangUp of hangUps) hangUp();
      await waitFor(
        'the server to see both hang-ups',
        async () => (await service.connections()) === 0,
        DEADLINE_MS,
        10,
      );
      release();
      await waitFor('both decisions audited', () => sink.audits().length >= 2, DEADLINE_MS, 10);
      assert.deepEqual(
        sink
          .audits()
          .map((l) => [l['user'], l['reason'], l['client_ip']])
          .sort(),
        [
          ['alice', 'granted', '192.0.2.7'],
          ['bob', 'invalid_password', '192.0.2.7'],
        ],
      );
      assert.deepEqual(sink.operational(), [], 'nothing went wrong that the operator must hear of');
      assert.equal(directory.binding, 0, 'no password check left in flight');
      assert.equal(await service.connections(), 0);
      // The verdicts were kept: the same credentials are answered from the cache.
      const binds = directory.calls.verifyPassword;
      assert.equal((await fetch(service.url, { headers: nginx('alice', 'alice-password') })).status, 200);
      assert.equal(directory.calls.verifyPassword, binds);
      assert.equal(await service.metric('registry_auth_decisions_total{action="pull",result="allow"}'), 2);
    } finally {
      service.close();
    }
  });
});

describe('an audit line that cannot be written', () => {
  it('still answers the decision, counts it, and logs the loss once per decision', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
    });
    // stdout gone (EPIPE) for decision lines; the operational log still gets through.
    const sink = logSink((line) => line.includes('"msg":"decision"'));
    const service = await serve(directory, sink);
    try {
      const granted = await fetch(service.url, { headers: nginx('alice', 'alice-password') });
      assert.equal(granted.status, 200);
      assert.equal(granted.headers.get('x-auth-user'), 'alice');
      const refused = await fetch(service.url, { headers: nginx('alice', 'wrong') });
      assert.equal(refused.status, 401);
      assert.equal(
        refused.headers.get('www-authenticate'),
        'Basic realm="Example registry", charset="UTF-8"',
      );
      assert.deepEqual(
        sink
          .operational()
          .map((l) => [
            l['level'],
            l['msg'],
            l['reason'],
            (l['err'] as { message?: string } | undefined)?.message,
          ]),
        [
          ['error', 'writing the audit line failed', 'granted', 'write EPIPE'],
          ['error', 'writing the audit line failed', 'invalid_password', 'write EPIPE'],
        ],
      );
      assert.equal(await service.metric('registry_auth_decisions_total{action="pull",result="allow"}'), 1);
      assert.equal(
        await service.metric('registry_auth_decisions_total{action="pull",result="unauthenticated"}'),
        1,
      );
    } finally {
      service.close();
    }
  });
});

describe('a header that cannot be written', () => {
  it('answers 500 and audits internal_error with who asked for what, counted as an error', async () => {
    const directory = new FakeDirectory({
      alice: { password: 'alice-password', groups: ['registry-users'] },
    });
    const sink = logSink();
    // loadConfig refuses such a realm at start; this reaches past it to prove the answer path holds.
    const service = await serve(directory, sink, { ...config, realm: 'Régistry\u0001' });
    try {
      const res = await fetch(service.url, { headers: nginx('alice', 'wrong') });
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('www-authenticate'), null);
      assert.deepEqual(
        sink
          .audits()
          .map((l) => [
            l['user'],
            l['action'],
            l['repository'],
            l['result'],
            l['reason'],
            l['source'],
            l['level'],
          ]),
        [['alice', 'pull', 'app', 'error', 'internal_error', 'directory', 'error']],
      );
      assert.deepEqual(
        sink.operational().map((l) => [l['level'], l['msg'], l['reason']]),
        [['error', 'answering a decision failed', 'invalid_password']],
      );
      assert.equal(await service.metric('registry_auth_decisions_total{action="pull",result="error"}'), 1);
      assert.equal(await service.metric('registry_auth_rejections_total{reason="internal_error"}'), 1);
    } finally {
      service.close();
    }
  });
});
