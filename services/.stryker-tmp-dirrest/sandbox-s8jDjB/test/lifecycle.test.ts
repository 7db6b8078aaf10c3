// @ts-nocheck
// The process as an operator meets it: refusing bad configuration, stopping gracefully.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { execute, waitFor } from '@registry-ldap-auth/stack/process';
import { SIDECAR_MAIN, decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';

describe('start-up', () => {
  it('exits non-zero before listening, naming every bad variable', async () => {
    const result = await execute(process.execPath, [SIDECAR_MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        LDAP_URL: 'http://nope',
        PORT: 'x',
        CACHE_TTL_SECONDS: 'soon',
        AUTH_REALM: 'Registry \u00e9',
        MAX_CONNECTIONS: '0',
      },
      timeoutMs: 10_000,
    });
    assert.equal(result.code, 2);
    for (const name of [
      'LDAP_URL',
      'LDAP_USER_BASE_DN',
      'AUTH_PUSH_GROUPS',
      'PORT',
      'CACHE_TTL_SECONDS',
      'AUTH_REALM',
      'MAX_CONNECTIONS',
    ]) {
      assert.match(result.stderr, new RegExp(name), `stderr names ${name}`);
    }
    assert.equal(result.stdout, '');
  });

  it("names its version (the package's) and Node.js's in the start-up line", async () => {
    const sidecar = await startSidecar({
      LDAP_URL: 'ldap://127.0.0.1:1', // refused: the sidecar starts anyway and reports the directory down
      LDAP_USER_BASE_DN: 'dc=example,dc=test',
      AUTH_PUSH_GROUPS: 'registry-pushers',
    });
    try {
      const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      const started = (await sidecar.logLines()).find((l) => l['msg'] === 'registry-ldap-auth listening');
      assert.ok(started, 'a start-up line');
      assert.equal(started['version'], manifest.version);
      assert.equal(started['node_version'], process.versions.node);
    } finally {
      await sidecar.stop();
    }
  });

  it('warns at start when CACHE_MAX_ENTRIES could outgrow the heap limit in NODE_OPTIONS', async () => {
    const env = {
      LDAP_URL: 'ldap://127.0.0.1:1',
      LDAP_USER_BASE_DN: 'dc=example,dc=test',
      AUTH_PUSH_GROUPS: 'registry-pushers',
      NODE_OPTIONS: '--max-semi-space-size=1 --max-old-space-size=256',
    };
    const warned = async (entries: string): Promise<string[]> => {
      const sidecar = await startSidecar({ ...env, CACHE_MAX_ENTRIES: entries });
      try {
        return (await sidecar.logLines())
          .map((l) => String(l['msg']))
          .filter((msg) => msg.startsWith('CACHE_MAX_ENTRIES='));
      } finally {
        await sidecar.stop();
      }
    };
    assert.deepEqual(await warned('100000'), []);
    const [warning] = await warned('1000000');
    assert.match(
      warning ?? '',
      /^CACHE_MAX_ENTRIES=1000000 may need up to \d+ MiB of heap.*limit of 259 MiB/,
    );
  });
});

describe('the decision port', () => {
  it('holds at most MAX_CONNECTIONS connections: one more is closed without an answer', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const nowhere = `ldap://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close(); // a port nobody listens on: the directory is down, the port still opens
    const sidecar = await startSidecar({
      LDAP_URL: nowhere,
      LDAP_USER_BASE_DN: 'dc=example,dc=test',
      AUTH_PUSH_GROUPS: 'registry-pushers',
      MAX_CONNECTIONS: '3',
    });
    const sockets: net.Socket[] = [];
    const open = async (): Promise<{ socket: net.Socket; reply: Promise<string> }> => {
      const socket = net.connect(sidecar.port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined); // a reset is one way of being refused; 'close' follows
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
      const reply = new Promise<string>((resolve) => {
        socket.on('data', () => {
          if (data.includes('\r\n\r\n')) resolve(data);
        });
        socket.once('close', () => {
          resolve(data);
        });
      });
      await new Promise((resolve) => {
        socket.once('connect', resolve);
        socket.once('close', resolve);
      });
      return { socket, reply };
    };
    try {
      const held = [await open(), await open(), await open()];
      const extra = await open();
      extra.socket.write('GET /auth HTTP/1.1\r\nHost: sidecar\r\n\r\n');
      assert.equal(await extra.reply, '', 'the fourth connection is closed without an answer');
      const [first] = held;
      assert.ok(first);
      first.socket.write('GET /auth HTTP/1.1\r\nHost: sidecar\r\n\r\n');
      assert.match(await first.reply, /^HTTP\/1\.1 500 /, 'the held ones are served (no proxy headers: 500)');
    } finally {
      for (const s of sockets) s.destroy();
      await sidecar.stop();
    }
  });
});

describe('SIGTERM', () => {
  it('lets an in-flight request finish, then exits 0', async () => {
    // A directory that never answers keeps the request in flight for LDAP_TIMEOUT_MS.
    let connections = 0;
    const hole = net.createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
    });
    hole.listen(0, '127.0.0.1');
    await once(hole, 'listening');
    const sidecar = await startSidecar({
      LDAP_URL: `ldap://127.0.0.1:${(hole.address() as AddressInfo).port}`,
      LDAP_USER_BASE_DN: 'dc=example,dc=test',
      AUTH_PUSH_GROUPS: 'registry-pushers',
      LDAP_TIMEOUT_MS: '1500',
    });
    try {
      // In flight once the sidecar, asked, opens a connection to the directory for it.
      const before = connections;
      const inflight = decide(sidecar, 'GET', '/v2/', basic('alice', 'alice-password'));
      await waitFor(() => connections > before, 5000, 'the sidecar connecting to the directory');
      const exited = once(sidecar.server.child, 'exit');
      sidecar.server.child.kill('SIGTERM');
      assert.equal((await inflight).status, 503, 'the in-flight request got its answer');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      assert.match(await sidecar.logText(), /"msg":"stopped"/);
    } finally {
      await sidecar.stop();
      hole.close();
      await assertNoSecretsInLogs();
    }
  });
});
