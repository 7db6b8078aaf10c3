// An outsider's attacks through nginx on the real registry, against the lockout (counters dropped for
// accounts that only succeed, the entry's DN as its key), the group lists the decision cache shares
// between users, and the internal_error answer. What counts is what the registry stored and served and
// what reached slapd, not only what the sidecar said. Every request comes from 127.0.0.1, so the
// per-address limit is raised: these tests are about the account.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { authAs, basic, creds, startE2e } from './support/fixture.ts';
import type { E2e } from './support/fixture.ts';

const FAULT = fileURLToPath(new URL('./support/fault-quotes-password.ts', import.meta.url));
const { alice, bob, dave } = seed.users;

void describe(
  'attacks on the lockout, the shared group lists and internal_error',
  { timeout: 180_000 },
  () => {
    let e2e: E2e;
    let teardown: (() => Promise<void>) | undefined;
    let image: OciImage;

    before(async () => {
      ({ e2e, teardown } = await startE2e({
        sidecarEnv: {
          LOCKOUT_MAX_FAILURES: '3',
          LOCKOUT_ADDRESS_MAX_FAILURES: '1000',
          NODE_OPTIONS: `--import=${FAULT}`,
        },
      }));
      image = await buildOciImage(join(e2e.work, 'image'), { tag: 'v1', layerSizes: [2048] });
    });
    after(async () => {
      await teardown?.();
    });

    const storage = (): Promise<string[]> => e2e.stack.registry.storageFiles();
    const startUpload = (repo: string, authorization: string) =>
      e2e.stack.request('POST', `/v2/${repo}/blobs/uploads/`, {
        headers: { Authorization: authorization, 'Content-Length': '0' },
      });

    void test('users who share one cached group list, or have another, get only their own rights', async () => {
      // alice (registry-pushers) pushes: her identity and group list are cached.
      const push = await e2e.skopeo.push(image, `${e2e.stack.host}/team/app:v1`, creds('alice'));
      assert.equal(push.code, 0, push.stderr);
      const stored = await storage();
      // bob and pobrien share one list (registry-users), carol has none, alice's is cached: none may push.
      for (const name of ['bob', 'pobrien', 'carol', 'bob', 'carol'] as const) {
        const res = await startUpload('team/app', authAs(name)['Authorization'] ?? '');
        assert.equal(res.status, 403, `${name} may not push`);
        const denied = await e2e.skopeo.push(image, `${e2e.stack.host}/team/${name}:v1`, creds(name));
        assert.notEqual(denied.code, 0, `${name}'s push went through`);
      }
      assert.deepEqual(await storage(), stored, 'the refused pushes wrote nothing');
      // Pulls: the two who share the list may, carol (no group) may not, after each other's cached answers.
      for (const name of ['bob', 'carol', 'pobrien', 'carol'] as const) {
        const res = await e2e.stack.request('GET', '/v2/team/app/tags/list', { headers: authAs(name) });
        assert.equal(res.status, name === 'carol' ? 403 : 200, name);
        if (res.status === 200) assert.match(res.body.toString(), /"v1"/);
      }
    });

    void test("guesses in alternating spellings between the attacker's own good logins lock alice: her cached password pushes nothing", async () => {
      const { stack } = e2e;
      const login = (user: string, password: string) =>
        stack.request('GET', '/v2/', { headers: { Authorization: basic(user, password) } });
      // alice's right password is cached as verified (previous test); the attacker, bob, logs in himself in
      // between guesses, each in another spelling of alice's login.
      const spellings = ['Alice', ' alice', 'ａｌｉｃｅ'];
      for (const [i, spelling] of spellings.entries()) {
        assert.equal((await login(bob.uid, bob.password)).status, 200);
        assert.equal((await login(spelling, `guess-${i}`)).status, 401, spelling);
      }
      const binds = await stack.slapd.countBinds(alice.dn);
      const stored = await storage();
      for (const spelling of [alice.uid, ...spellings]) {
        assert.equal((await login(spelling, alice.password)).status, 401, `${spelling} is locked`);
        const res = await startUpload('team/app', basic(spelling, alice.password));
        assert.equal(res.status, 401, `${spelling} may not start an upload`);
      }
      const push = await e2e.skopeo.push(image, `${stack.host}/team/locked:v1`, creds('alice'));
      assert.notEqual(push.code, 0, 'the locked account pushed');
      assert.deepEqual(await storage(), stored, 'nothing was written for the locked account');
      assert.equal(await stack.slapd.countBinds(alice.dn), binds, 'no bind as alice while locked');
      const audit = (await stack.sidecar.logLines()).filter(
        (l) => l['msg'] === 'decision' && l['reason'] === 'locked_out',
      );
      assert.ok(audit.length >= 5, `${audit.length} locked_out audit lines`);
    });

    void test('30 concurrent guesses in 5 spellings of bob, who just verified (no counters kept): at most 3 binds, then locked', async () => {
      const { stack } = e2e;
      // bob's logins above verified: his counters were dropped, and no alias of a spelling is kept.
      const spellings = ['bob', 'Bob', ' bob', 'ｂｏｂ', 'BOB  '];
      const before = await stack.slapd.countBinds(bob.dn);
      const passwords = [...Array.from({ length: 29 }, (_, i) => `guess-${i}`), bob.password];
      const answers = await Promise.all(
        passwords.map((password, i) =>
          stack.request('GET', '/v2/team/app/tags/list', {
            headers: { Authorization: basic(spellings[i % spellings.length] ?? '', password) },
          }),
        ),
      );
      const binds = (await stack.slapd.countBinds(bob.dn)) - before;
      assert.ok(binds > 0 && binds <= 3, `${binds} binds as bob reached slapd`);
      assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([401]));
      for (const spelling of spellings) {
        const res = await stack.request('GET', '/v2/team/app/tags/list', {
          headers: { Authorization: basic(spelling, bob.password) },
        });
        assert.equal(res.status, 401, `${spelling}: nothing is served to the locked account`);
      }
      assert.equal((await stack.slapd.countBinds(bob.dn)) - before, binds, 'no bind once locked');
    });

    void test("a defect that quotes dave's password: 500, nothing stored, and no log line holds the password", async () => {
      const { stack } = e2e;
      const stored = await storage();
      for (const password of [dave.password, 'Tr0ub4dor&3']) {
        const res = await startUpload('team/app', basic(dave.uid, password));
        assert.equal(res.status, 500);
      }
      assert.deepEqual(await storage(), stored);
      const lines = await stack.sidecar.logLines();
      const text = JSON.stringify(lines);
      assert.equal(text.includes(dave.password), false, "dave's password is in the sidecar's log");
      assert.equal(text.includes('Tr0ub4dor&3'), false, 'a guessed password is in the log');
      const audit = lines.filter((l) => l['msg'] === 'decision' && l['user'] === dave.uid);
      assert.deepEqual(
        audit.map((l) => [l['reason'], l['error']]),
        [
          ['internal_error', "Cannot read properties of undefined (reading '[redacted]')"],
          ['internal_error', "Cannot read properties of undefined (reading '[redacted]')"],
        ],
      );
      assert.equal((await stack.sidecar.logText()).includes(dave.password), false, 'nor in its raw output');
    });
  },
);
