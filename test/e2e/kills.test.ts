// Processes killed outright (SIGKILL) under traffic through real nginx, the real registry and skopeo: slapd
// in the middle of a 20-layer push, and the sidecar itself under load. What counts is what clients got
// and what the registry wrote: never a 2xx without a verification, nothing half-written.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';
import { authAs, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

// Short directory timeouts: an outage costs a second, not the defaults' several.
const SIDECAR_ENV = { LDAP_TIMEOUT_MS: '1000', LDAP_CONNECT_TIMEOUT_MS: '500', DECISION_TIMEOUT_MS: '3000' };

let e2e: E2e;
let teardown: () => Promise<void>;
before(async () => {
  ({ e2e, teardown } = await startE2e({ sidecarEnv: SIDECAR_ENV }));
});
after(async () => {
  await teardown();
});

/** Polls `check` every 20 ms until it holds; rejects naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Access-log lines of `user`'s requests: ` - user [time] "METHOD path HTTP/1.1" status `. */
async function requestsBy(user: string): Promise<{ line: string; status: number }[]> {
  return (await e2e.stack.nginx.accessLogLines())
    .filter((l) => l.includes(` - ${user} [`))
    .map((line) => ({ line, status: Number(/" (\d{3}) /.exec(line)?.[1]) }));
}

describe('slapd killed (SIGKILL) during a 20-layer push', () => {
  it('the verified user finishes from the cache; an unverified one fails closed; no 2xx without verification', async () => {
    const { stack, skopeo, work } = e2e;
    // alice verified (and cached) before the push; dave (a pusher through a nested group) never was.
    assert.equal((await stack.request('GET', '/v2/', { headers: authAs('alice') })).status, 200);
    const image = await buildOciImage(join(work, 'twenty'), {
      tag: 'v1',
      layerSizes: Array.from({ length: 20 }, () => 256 * 1024),
    });
    const other = await buildOciImage(join(work, 'other'), { tag: 'v1', layerSizes: [1024] });
    await skopeo.clearBlobInfoCache();

    const push = skopeo.push(image, `${stack.host}/team/twenty:v1`, creds('alice'));
    // Kill slapd once the push is under way: its first blob upload went through nginx.
    await until(
      "alice's first blob upload",
      async () =>
        (await stack.nginx.accessLogLines()).some((l) =>
          /"PATCH \/v2\/team\/twenty\/blobs\/uploads\//.test(l),
        ),
      60_000,
    );
    const pid = Number((await readFile(join(stack.slapd.dir, 'slapd.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const blobsDone = (await stack.nginx.accessLogLines()).filter((l) =>
      /"PUT \/v2\/team\/twenty\/blobs\/uploads\/\S+ HTTP\/1\.1" 201 /.test(l),
    ).length;
    assert.ok(blobsDone < 20, `the kill came mid-push (${blobsDone} of 20 layers stored)`);
    await stack.slapd.stop(); // reaps it
    const pushed = await push;
    assert.equal(pushed.code, 0, `alice's push finished from the cache: ${pushed.stderr}`);

    const refused = await skopeo.push(other, `${stack.host}/team/dave:v1`, creds('dave'));
    assert.notEqual(refused.code, 0, 'dave, never verified, cannot push while the directory is down');
    assert.deepEqual(
      (await requestsBy('dave')).filter((r) => r.status >= 200 && r.status < 300),
      [],
      'no request of dave got a 2xx',
    );
    assert.ok(
      !(await stack.registry.repositories()).includes('team/dave'),
      'nothing of dave reached the registry',
    );
    const daveDecisions = (await stack.sidecar.logLines()).filter(
      (l) => l['msg'] === 'decision' && l['user'] === 'dave',
    );
    assert.ok(daveDecisions.length > 0);
    assert.ok(
      daveDecisions.every((l) => l['result'] !== 'allow'),
      'the sidecar never allowed dave without verifying him',
    );

    // The pushed image is whole: pulled back with alice's cached credentials.
    const pulled = await skopeo.pull(`${stack.host}/team/twenty:v1`, join(work, 'pulled'), creds('alice'));
    assert.equal(pulled.code, 0, pulled.stderr);
    await stack.slapd.start();
  });
});

describe('the sidecar killed (SIGKILL) under load through nginx', () => {
  it('every request in the window gets a 5xx, never a 2xx; after a restart traffic flows; nothing half-written', async () => {
    const { stack } = e2e;
    let replacement: Sidecar | undefined;
    const results: { phase: 'down'; status: number; what: string }[] = [];
    let phase: 'up' | 'down' | 'restarted' = 'up';
    let running = true;
    // Four clients in a loop: alice pulling the API root, bob trying to start an upload he may not make,
    // alice starting uploads she may make.
    const client = async (
      what: string,
      method: string,
      path: string,
      who: 'alice' | 'bob',
    ): Promise<void> => {
      while (running) {
        const at = phase;
        const { status } = await stack.request(method, path, { headers: authAs(who), timeoutMs: 10_000 });
        if (at === 'down' && phase === 'down') results.push({ phase: 'down', status, what });
      }
    };
    const load = [
      client('alice GET /v2/', 'GET', '/v2/', 'alice'),
      client('alice GET /v2/', 'GET', '/v2/', 'alice'),
      client('bob POST upload', 'POST', '/v2/team/bob-upload/blobs/uploads/', 'bob'),
      client('alice POST upload', 'POST', '/v2/team/alice-upload/blobs/uploads/', 'alice'),
    ];
    try {
      await until('load under way', async () => (await requestsBy('alice')).length > 20, 30_000);
      const killed = new Promise((resolve) => stack.sidecar.server.child.once('exit', resolve));
      stack.sidecar.server.child.kill('SIGKILL');
      await killed;
      phase = 'down';
      await until('requests during the outage', () => Promise.resolve(results.length >= 40), 30_000);
      phase = 'restarted';
      replacement = await startSidecar(
        { ...sidecarEnvFor(stack.slapd), ...SIDECAR_ENV },
        { port: stack.ports.sidecar, metricsPort: stack.ports.metrics },
      );
      await until(
        'traffic flowing again',
        async () => (await stack.request('GET', '/v2/', { headers: authAs('alice') })).status === 200,
        20_000,
      );
      running = false;
      await Promise.all(load);

      const ok = results.filter((r) => r.status < 500);
      assert.deepEqual(ok, [], 'every request while the sidecar was down got a 5xx');
      for (let i = 0; i < 10; i++) {
        assert.equal((await stack.request('GET', '/v2/', { headers: authAs('alice') })).status, 200);
      }
      assert.equal(
        (await stack.request('POST', '/v2/team/bob-upload/blobs/uploads/', { headers: authAs('bob') }))
          .status,
        403,
        'bob is refused again, by a decision',
      );
      const files = await stack.registry.storageFiles();
      assert.deepEqual(
        files.filter((f) => f.includes('bob-upload')),
        [],
        'no upload of bob was ever started in the registry',
      );
    } finally {
      running = false;
      await Promise.allSettled(load);
      await replacement?.stop();
    }
  });
});
