// A defect inside the sidecar (internal_error) as a client meets it through nginx: the real sidecar runs
// with a fault loaded (support/fault-in-groups.ts: dave's group lookup throws a TypeError). The client gets
// the registry's JSON 500, nothing reaches the registry, nothing is cached, the audit and the operational
// log say what happened, and the same process goes on serving everyone else.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { authAs, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const FAULT = fileURLToPath(new URL('./support/fault-in-groups.ts', import.meta.url));

void describe('internal_error through nginx', { timeout: 60_000 }, () => {
  let e2e: E2e;
  let teardown: (() => Promise<void>) | undefined;

  before(async () => {
    ({ e2e, teardown } = await startE2e({ sidecarEnv: { NODE_OPTIONS: `--import=${FAULT}` } }));
  });
  after(async () => {
    await teardown?.();
  });

  void test('dave gets a JSON 500 for a push he may make, and the registry receives nothing', async () => {
    const { stack } = e2e;
    const storedBefore = await stack.registry.storageFiles();
    const bindsBefore = await stack.slapd.countBinds(seed.users.dave.dn);
    for (const attempt of [1, 2]) {
      const res = await stack.request('POST', '/v2/team/app/blobs/uploads/', {
        headers: { ...authAs('dave'), 'Content-Length': '0' },
      });
      assert.equal(res.status, 500, `attempt ${attempt}`);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      const body = JSON.parse(res.body.toString('utf8')) as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
      assert.equal(res.headers['www-authenticate'], undefined, 'a 500 is not a challenge');
    }
    assert.deepEqual(await stack.registry.storageFiles(), storedBefore, 'no upload was started');
    // Not cached: the second attempt verified the password against the directory again.
    assert.equal(await stack.slapd.countBinds(seed.users.dave.dn), bindsBefore + 2);

    const lines = await stack.sidecar.logLines();
    const decisions = lines.filter((l) => l['msg'] === 'decision' && l['user'] === 'dave');
    assert.deepEqual(
      decisions.map((l) => [l['reason'], l['result'], l['action']]),
      [
        ['internal_error', 'error', 'push'],
        ['internal_error', 'error', 'push'],
      ],
    );
    const failures = lines.filter((l) => l['msg'] === 'decision failed unexpectedly');
    assert.equal(failures.length, 2, 'the operational log has each failure');
    const err = failures[0]?.['err'] as { type?: string; message?: string; stack?: string } | undefined;
    assert.equal(err?.type, 'TypeError');
    assert.match(err.stack ?? '', /fault-in-groups/, 'with the stack trace that finds the defect');
  });

  void test('the same sidecar process goes on serving everyone else', async () => {
    const { stack } = e2e;
    const pid = stack.sidecar.server.child.pid;
    const res = await stack.request('GET', '/v2/team/app/tags/list', { headers: authAs('alice') });
    assert.equal(res.status, 404, 'past auth: the registry has no team/app (NAME_UNKNOWN)');
    assert.equal(stack.sidecar.server.child.exitCode, null);
    assert.equal(stack.sidecar.server.child.pid, pid);
    const metrics = await (await fetch(`${stack.sidecar.metricsUrl}/metrics`)).text();
    assert.match(metrics, /^registry_auth_decisions_total\{action="push",result="error"\} 2$/m);
  });
});
