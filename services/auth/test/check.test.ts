// `main.js --check` as an operator runs it, against a real slapd: the command line (arguments, the password
// from stdin or a terminal) and one run per exit code. What each report line says is checked in-process,
// where mutation testing sees it: test/check-inprocess.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@registry-ldap-auth/stack/process';
import { SIDECAR_MAIN, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';
import { runCheck } from './support/run-check.ts';

let slapd: Slapd;

before(async () => {
  slapd = await startSlapd();
});
after(async () => {
  await slapd.destroy();
});

/** The check with the seeded directory's environment plus `env`. */
const check = (env: Record<string, string>, args: string[] = [], stdin = '') =>
  runCheck({ ...openldapEnv(slapd), ...env }, args, stdin);

describe('--check', () => {
  it('passes the seeded configuration with exit 0 and resolves every group to its DN', async () => {
    const r = await check({});
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`ok +AUTH_PUSH_GROUPS: registry-pushers → ${seed.groups.pushers.dn}`));
    assert.match(r.stdout, new RegExp(`ok +AUTH_DELETE_GROUPS: registry-admins → ${seed.groups.admins.dn}`));
    assert.match(r.stdout, /all checks passed \(exit 0\)/);
  });

  it('names a misspelt group in AUTH_PUSH_GROUPS and the group it was meant to be, exit 4', async () => {
    const r = await check({ AUTH_PUSH_GROUPS: 'registry-pusher' });
    assert.equal(r.status, 4);
    assert.match(
      r.stdout,
      /FAIL +AUTH_PUSH_GROUPS: "registry-pusher" matches no group .*did you mean registry-pushers\?/,
    );
  });

  it('warns about a misspelt variable with exit 1 and names the real one', async () => {
    const r = await check({ LDAP_NESTED_GROUP: 'true' });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /warn +LDAP_NESTED_GROUP is set but not read .*did you mean LDAP_NESTED_GROUPS\?/);
  });

  it('exits 3 when no server can be reached', async () => {
    const r = await check({ LDAP_URL: 'ldap://127.0.0.1:1' });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /FAIL +ldap:\/\/127\.0\.0\.1:1: cannot connect/);
  });

  it('exits 2 with every problem named when the configuration does not load', async () => {
    const r = await check({ LDAP_USER_BASE_DN: '', CACHE_TTL_SECONDS: 'soon' });
    assert.equal(r.status, 2);
    assert.match(r.stdout, /FAIL +LDAP_USER_BASE_DN is required/);
    assert.match(r.stdout, /FAIL +CACHE_TTL_SECONDS must be a whole number/);
  });
});

describe('--check --user', () => {
  const { alice, bob } = seed.users;

  it("prints the user's DN, canonical name, groups and decisions, the password read from stdin", async () => {
    const r = await check({}, ['--user', 'BOB', '--repository', 'team/app'], `${bob.password}\n`);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`ok +found ${bob.dn}\\n +canonical name \\(uid\\): bob`));
    assert.match(r.stdout, /groups \(1, nested included\): registry-users/);
    assert.match(r.stdout, /pull +team\/app: allowed/);
    assert.match(r.stdout, /push +team\/app: denied \(may: AUTH_PUSH_GROUPS \(registry-pushers\)\)/);
    assert.ok(!(r.stdout + r.stderr).includes(bob.password), 'the password is never printed');
  });

  it('asks for the password on a terminal without echoing it', async () => {
    // script(1) runs the check on a pseudo-terminal; the password is typed once the prompt is shown.
    const command = [process.execPath, SIDECAR_MAIN, '--check', '--user', 'bob'].join(' ');
    const env = { PATH: process.env['PATH'] ?? '', ...openldapEnv(slapd) };
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes('password for bob: '), 20_000, 'the password prompt');
    child.stdin.write(`${bob.password}\r`);
    const [status] = (await once(child, 'exit')) as [number | null];
    assert.equal(status, 0, out);
    assert.match(out, /ok +password accepted/);
    assert.ok(!out.includes(bob.password), 'the typed password is not echoed');
  });

  it('exits 5 on a wrong password', async () => {
    const r = await check({}, ['--user', 'alice'], 'not-alices-password\n');
    assert.equal(r.status, 5);
    assert.match(r.stdout, /FAIL +alice: the directory refused the password \(invalid_password\)/);
  });

  it('refuses a password given as an argument, exit 64, before reading anything', async () => {
    const r = await check({}, ['--user', 'alice', `--password=${alice.password}`]);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /the password is never an argument/);
    assert.equal(r.stdout, '');
  });
});

describe('start-up', () => {
  it('logs a warning naming a misspelt variable and the real one, and runs', async () => {
    const sidecar = await startSidecar(openldapEnv(slapd, { LDAP_NESTED_GROUP: 'true' }));
    try {
      const warnings = (await sidecar.logLines()).filter((l) => l['level'] === 'warn');
      assert.ok(
        warnings.some((l) =>
          /LDAP_NESTED_GROUP is set but not read .*did you mean LDAP_NESTED_GROUPS\?/.test(String(l['msg'])),
        ),
        JSON.stringify(warnings),
      );
    } finally {
      await sidecar.stop();
    }
  });
});
