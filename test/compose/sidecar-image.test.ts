// The sidecar's image (services/auth/Dockerfile) as an operator runs it: read-only root filesystem,
// refusing bad configuration, stopping on SIGTERM with the decisions in flight answered.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildImages, SIDECAR_IMAGE } from '@registry-ldap-auth/stack/compose';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { execute, freePort, run, waitForPort } from '@registry-ldap-auth/stack/process';

const NAME = `rla-sidecar-image-${process.pid}`;
// The container's own configuration: a directory that accepts connections and never answers, so every
// decision stays in flight until LDAP_TIMEOUT_MS.
const LDAP_TIMEOUT_MS = 2000;

void describe('the sidecar image', { timeout: 900_000 }, () => {
  before(async () => {
    await buildImages(['auth']);
  });
  after(async () => {
    await execute('podman', ['rm', '--force', '--ignore', NAME], { timeoutMs: 30_000 });
  });

  void test('refuses bad configuration with exit code 2, naming the variables, on a read-only root filesystem', async () => {
    const result = await execute(
      'podman',
      ['run', '--rm', '--read-only', '-e', 'LDAP_URL=http://nope', '-e', 'PORT=x', SIDECAR_IMAGE],
      { timeoutMs: 60_000 },
    );
    assert.equal(result.code, 2, result.stderr);
    for (const name of ['LDAP_URL', 'LDAP_USER_BASE_DN', 'AUTH_PUSH_GROUPS', 'PORT']) {
      assert.match(result.stderr, new RegExp(name), `stderr names ${name}`);
    }
  });

  void test("SIGTERM: the decisions in flight are answered, then the container exits 0 within podman's 10 s grace", async (t) => {
    const hole = net.createServer((socket) => socket.on('error', () => undefined));
    const connected = once(hole, 'connection');
    hole.listen(0, '127.0.0.1');
    await once(hole, 'listening');
    const [port, metricsPort] = [await freePort(), await freePort()];
    try {
      // --network host: the container reaches the test's directory on loopback, the test its ports.
      await run(
        'podman',
        [
          'run',
          '--detach',
          '--name',
          NAME,
          '--network',
          'host',
          '--read-only',
          '--tmpfs',
          '/tmp',
          '-e',
          'HOST=127.0.0.1',
          '-e',
          `PORT=${port}`,
          '-e',
          'METRICS_HOST=127.0.0.1',
          '-e',
          `METRICS_PORT=${metricsPort}`,
          '-e',
          `LDAP_URL=ldap://127.0.0.1:${(hole.address() as AddressInfo).port}`,
          '-e',
          'LDAP_USER_BASE_DN=dc=example,dc=test',
          '-e',
          'AUTH_PUSH_GROUPS=registry-pushers',
          '-e',
          `LDAP_TIMEOUT_MS=${LDAP_TIMEOUT_MS}`,
          SIDECAR_IMAGE,
        ],
        { timeoutMs: 60_000 },
      );
      await waitForPort('127.0.0.1', port, 30_000);
      // Distinct users: concurrent checks of one credential would collapse into one.
      const inflight = ['alice', 'bob', 'carol'].map((user) =>
        fetch(`http://127.0.0.1:${port}/auth`, {
          headers: {
            'X-Original-Method': 'GET',
            'X-Original-URI': '/v2/',
            Authorization: basic(user, `${user}-password`),
          },
        }),
      );
      await connected; // the sidecar is talking to the directory: the decisions are in flight

      const started = performance.now();
      // SIGTERM, and SIGKILL only after 10 s: exit code 0 means the process stopped by itself.
      const stop = execute('podman', ['stop', '--time', '10', NAME], { timeoutMs: 60_000 });
      const answers = await Promise.all(inflight);
      const answered = performance.now() - started;
      assert.deepEqual(
        answers.map((r) => r.status),
        [503, 503, 503],
        'each in-flight decision got its answer (the directory never answered: 503)',
      );
      const stopped = await stop;
      assert.equal(stopped.code, 0, stopped.stderr);
      t.diagnostic(
        `podman stop to the last answer: ${Math.round(answered)} ms; to the exit: ${Math.round(performance.now() - started)} ms`,
      );
      const exit = await run('podman', ['inspect', '--format', '{{.State.ExitCode}}', NAME]);
      assert.equal(exit.stdout.trim(), '0');
      const logs = await execute('podman', ['logs', NAME]);
      assert.match(logs.stdout + logs.stderr, /"msg":"stopped"/);
    } finally {
      hole.close();
    }
  });
});
