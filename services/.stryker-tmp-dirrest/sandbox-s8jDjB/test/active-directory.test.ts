// @ts-nocheck
// The `activedirectory` preset through the real sidecar process against a real Active Directory: a Samba 4
// AD DC provisioned for this file in its own network namespace (stack/samba-ad.ts). What the DC did is
// read from the DC itself (its authentication audit, badPwdCount, lockoutTime), not from the sidecar.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidCredentialsError } from 'ldapts';
import { SPECIAL_ACCOUNTS, startSambaAd } from '@registry-ldap-auth/stack/samba-ad';
import type { SambaAd } from '@registry-ldap-auth/stack/samba-ad';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import {
  adBinds,
  adEnv,
  bindError,
  createUser,
  decideAudited,
  enableBindAudit,
  lockoutState,
  metric,
  serviceSearch,
} from './support/active-directory.ts';
import { runCheck } from './support/run-check.ts';

const PUSH = ['PUT', '/v2/team/app/manifests/v1'] as const;
const PULL = ['GET', '/v2/team/app/tags/list'] as const;
let ad: SambaAd;
let sidecar: Sidecar;
// Undone in reverse order, also when `before` failed half-way.
const cleanups: (() => Promise<void>)[] = [];

/** A sidecar of its own (fresh cache and lockout counters), stopped in `after`. */
async function sidecarWith(overrides: Record<string, string> = {}): Promise<Sidecar> {
  const s = await startSidecar(adEnv(ad, overrides));
  cleanups.push(() => s.stop());
  return s;
}

const user = (login: string) => {
  const u = ad.users[login];
  assert.ok(u, `no seeded user ${login}`);
  return u;
};

before(async () => {
  ad = await startSambaAd();
  cleanups.push(() => ad.destroy());
  await enableBindAudit(ad);
  // Shared by the tests below, whose refusals all come from 127.0.0.1: the per-address lockout must not
  // end them. The lockout tests start sidecars of their own with the defaults or explicit limits.
  sidecar = await sidecarWith({ LOCKOUT_MAX_FAILURES: '1000' });
});
after(async () => {
  try {
    await assertNoSecretsInLogs(); // before the servers and their logs are removed
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
});

describe('login forms: sAMAccountName, UPN, DOMAIN\\user', () => {
  const forms = ['alice@example.test', 'alice', 'ALICE@EXAMPLE.TEST', 'EXAMPLE\\alice', 'example\\Alice'];

  /**
   * Logs in with each form in turn on a fresh sidecar; returns where each verdict came from and how many
   * successful binds as alice the DC saw meanwhile.
   */
  async function loginAll(order: readonly string[]): Promise<{ sources: unknown[]; binds: number }> {
    const s = await sidecarWith();
    const before = (await adBinds(ad, 'alice')).ok;
    const sources: unknown[] = [];
    for (const login of order) {
      const { res, line } = await decideAudited(s, ...PUSH, basic(login, user('alice').password));
      assert.equal(res.status, 200, login);
      assert.equal(res.headers.get('x-auth-user'), 'alice', login);
      assert.equal(res.headers.get('x-auth-groups'), 'registry-pushers', login);
      assert.equal(line['user'], 'alice', login);
      sources.push(line['source']);
    }
    const hits = sources.filter((source) => source === 'cache').length;
    assert.equal(await metric(s, 'registry_auth_cache_hits_total'), hits);
    return { sources, binds: (await adBinds(ad, 'alice')).ok - before };
  }

  it('every form answers 200 as alice, and after the first one none binds again', async () => {
    const { sources, binds } = await loginAll(forms);
    assert.deepEqual(sources, ['directory', 'cache', 'cache', 'cache', 'cache']);
    assert.equal(binds, 1, 'binds as alice that reached the DC');
  });

  it('starting from the sAMAccountName, a UPN costs one search but no further bind', async () => {
    const { sources, binds } = await loginAll(['alice', 'alice@example.test', 'ALICE@EXAMPLE.TEST']);
    // The UPN is resolved by a search (source: directory); the canonical entry proves the password.
    assert.deepEqual([sources, binds], [['directory', 'directory', 'cache'], 1]);
  });
});

describe('account states AD reports in the bind error (data XXX)', () => {
  // The reason each AD bind error code must become (directory/errors.ts), as the docs promise operators.
  const reasons: Record<(typeof SPECIAL_ACCOUNTS)[keyof typeof SPECIAL_ACCOUNTS], string> = {
    '533': 'account_disabled',
    '701': 'account_expired',
    '773': 'password_must_change',
    '532': 'password_expired',
    '775': 'account_locked',
  };
  for (const [login, code] of Object.entries(SPECIAL_ACCOUNTS)) {
    const reason = reasons[code];
    it(`${login} (data ${code}) with the right password: 401, ${reason} in the audit line and the metric`, async () => {
      const { res, line } = await decideAudited(sidecar, ...PULL, basic(login, user(login).password));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.equal(line['user'], login);
      assert.equal(line['reason'], reason);
      assert.equal(line['result'], 'unauthenticated');
      assert.equal(line['source'], 'directory');
      assert.equal(await metric(sidecar, `registry_auth_rejections_total{reason="${reason}"}`), 1);
    });
  }

  it('a locked account is account_locked whatever the password (AD says 775 to any)', async () => {
    const { res, line } = await decideAudited(sidecar, ...PULL, basic('locked-user', 'Not-The-Pass1!'));
    assert.equal(res.status, 401);
    assert.equal(line['reason'], 'account_locked');
  });

  it('a disabled account with a wrong password is just a wrong password (AD says 533 only to the right one)', async () => {
    const { res, line } = await decideAudited(sidecar, ...PULL, basic('disabled-user', 'Not-The-Pass1!'));
    assert.equal(res.status, 401);
    assert.equal(line['reason'], 'invalid_password');
  });
});

describe('AD account lockout (domain threshold 3)', () => {
  it('ten requests with the same wrong password cost AD one failed bind; the account stays usable', async () => {
    assert.equal(ad.lockoutThreshold, 3);
    const password = 'Lockme-Pass1!';
    await createUser(ad, 'lockme', password);
    const s = await sidecarWith();
    const verdicts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { res, line } = await decideAudited(s, ...PULL, basic('lockme', 'Wrong-Pass1!'));
      assert.equal(res.status, 401, `attempt ${i + 1}`);
      verdicts.push(`${String(line['reason'])} from ${String(line['source'])}`);
    }
    assert.deepEqual(verdicts, [
      'invalid_password from directory',
      ...Array<string>(9).fill('invalid_password from cache'),
    ]);
    assert.deepEqual((await adBinds(ad, 'lockme')).statuses, ['NT_STATUS_WRONG_PASSWORD']);
    assert.deepEqual(await lockoutState(ad, 'lockme'), { badPwdCount: 1, lockoutTime: 0 });

    const ok = await decide(s, 'GET', '/v2/', basic('lockme', password));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-auth-user'), 'lockme');
    assert.equal(await bindError(ad, 'lockme@example.test', password), undefined, 'a direct bind works');
  });

  it('control: three distinct wrong passwords straight against AD do lock an account', async () => {
    const password = 'Lockctl-Pass1!';
    const dn = await createUser(ad, 'lockctl', password);
    for (const wrong of ['Wrong-Pass1!', 'Wrong-Pass2!', 'Wrong-Pass3!']) {
      const error = await bindError(ad, dn, wrong);
      assert.ok(error instanceof InvalidCredentialsError && /data 52e,/.test(error.message));
    }
    const locked = await bindError(ad, dn, password);
    assert.ok(locked instanceof InvalidCredentialsError && /data 775,/.test(locked.message));
    assert.ok((await lockoutState(ad, 'lockctl')).lockoutTime > 0);
    const { res, line } = await decideAudited(sidecar, 'GET', '/v2/', basic('lockctl', password));
    assert.equal(res.status, 401);
    assert.equal(line['reason'], 'account_locked');
  });

  it('distinct wrong passwords: LOCKOUT_MAX_FAILURES below the threshold stops them before AD locks', async () => {
    const password = 'Guessme-Pass1!';
    await createUser(ad, 'guessme', password);
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: String(ad.lockoutThreshold - 1) });
    const reasons: unknown[] = [];
    for (let i = 1; i <= 6; i++) {
      const { res, line } = await decideAudited(s, ...PULL, basic('guessme', `Wrong-Pass${i}!`));
      assert.equal(res.status, 401);
      reasons.push(line['reason']);
    }
    assert.deepEqual(reasons, [
      'invalid_password',
      'invalid_password',
      ...Array<string>(4).fill('locked_out'),
    ]);
    assert.equal((await adBinds(ad, 'guessme')).failed, 2);
    assert.deepEqual(await lockoutState(ad, 'guessme'), { badPwdCount: 2, lockoutTime: 0 });
    assert.equal(await bindError(ad, 'guessme@example.test', password), undefined, 'AD did not lock it');
  });

  it('wrong passwords typed as sAMAccountName, UPN and DOMAIN\\user add up on one account: AD sees LOCKOUT_MAX_FAILURES of them', async () => {
    const password = 'Formsme-Pass1!';
    await createUser(ad, 'formsme', password);
    const s = await sidecarWith({ LOCKOUT_MAX_FAILURES: String(ad.lockoutThreshold - 1) });
    const reasons: unknown[] = [];
    for (const [i, login] of ['formsme', 'FormsMe@Example.TEST', 'EXAMPLE\\formsme', ' formsme '].entries()) {
      const { res, line } = await decideAudited(s, ...PULL, basic(login, `Wrong-Pass${i}!`));
      assert.equal(res.status, 401);
      reasons.push(line['reason']);
    }
    assert.deepEqual(reasons, ['invalid_password', 'invalid_password', 'locked_out', 'locked_out']);
    assert.equal((await adBinds(ad, 'formsme')).failed, 2);
    assert.deepEqual(await lockoutState(ad, 'formsme'), { badPwdCount: 2, lockoutTime: 0 });
  });
});

describe('groups: nested through LDAP_MATCHING_RULE_IN_CHAIN, named by cn or by DN', () => {
  const groupsOf = (res: Response) => (res.headers.get('x-auth-groups') ?? '').split(',').sort();

  it('dave pushes through registry-ci, which is a member of registry-pushers', async () => {
    const res = await decide(sidecar, ...PUSH, basic('dave', user('dave').password));
    assert.equal(res.status, 200);
    assert.deepEqual(groupsOf(res), ['registry-ci', 'registry-pushers']);
  });

  it('alice (CN "Alice Anders", not her login) pushes; bob pulls but may not push; carol may not pull', async () => {
    assert.equal((await decide(sidecar, ...PUSH, basic('alice', user('alice').password))).status, 200);
    assert.equal((await decide(sidecar, ...PULL, basic('bob', user('bob').password))).status, 200);
    assert.equal((await decide(sidecar, ...PUSH, basic('bob', user('bob').password))).status, 403);
    assert.equal((await decide(sidecar, 'GET', '/v2/', basic('carol', user('carol').password))).status, 200);
    assert.equal((await decide(sidecar, ...PULL, basic('carol', user('carol').password))).status, 403);
  });

  const byDn: [string, string, { todo?: string }][] = [
    ['one DN, as copied from AD', 'CN=registry-pushers,CN=Users,DC=example,DC=test', {}],
    [
      'a DN and a cn, separated by ";"',
      'CN=registry-pushers,CN=Users,DC=example,DC=test; registry-admins',
      {},
    ],
  ];
  for (const [name, groups, options] of byDn) {
    it(`AUTH_PUSH_GROUPS by DN (${name}): dave and alice push, bob does not`, options, async () => {
      const s = await sidecarWith({ AUTH_PUSH_GROUPS: groups });
      assert.equal((await decide(s, ...PUSH, basic('dave', user('dave').password))).status, 200);
      assert.equal((await decide(s, ...PUSH, basic('alice', user('alice').password))).status, 200);
      assert.equal((await decide(s, ...PUSH, basic('bob', user('bob').password))).status, 403);
    });
  }
});

describe('transport: LDAPS, StartTLS, and a cleartext bind AD refuses', () => {
  const alicePush = (s: Sidecar) => decide(s, ...PUSH, basic('alice', user('alice').password));
  const readyz = async (s: Sidecar) => {
    const res = await fetch(`${s.metricsUrl}/readyz`);
    return { status: res.status, body: await res.text() };
  };

  it('LDAPS verified with the domain CA (LDAP_CA_FILE)', async () => {
    assert.equal((await alicePush(sidecar)).status, 200);
    assert.equal((await readyz(sidecar)).status, 200);
  });

  it('LDAPS without the domain CA fails closed: 503, never 401', async () => {
    const s = await sidecarWith({ LDAP_CA_FILE: '' });
    assert.equal((await alicePush(s)).status, 503);
    assert.deepEqual(JSON.parse((await readyz(s)).body), {
      status: 'not_ready',
      reason: 'certificate_untrusted',
      variable: 'LDAP_CA_FILE',
    });
  });

  it('StartTLS on 389 (LDAP_START_TLS=true), the service account named by its UPN', async () => {
    const s = await sidecarWith({
      LDAP_URL: ad.ldapUrl,
      LDAP_START_TLS: 'true',
      LDAP_BIND_DN: 'svc-registry@example.test',
    });
    assert.equal((await alicePush(s)).status, 200);
    assert.equal((await readyz(s)).status, 200);
  });

  it('a cleartext simple bind on 389: /readyz 503 and the startup log name the fix', async () => {
    const s = await sidecarWith({ LDAP_URL: ad.ldapUrl });
    const ready = await readyz(s);
    assert.equal(ready.status, 503);
    const fix = /resultCode 8.*ldaps:\/\/.*LDAP_START_TLS=true/;
    // /readyz names the cause and the variable; the text with the fix is in the log.
    assert.deepEqual(JSON.parse(ready.body), {
      status: 'not_ready',
      reason: 'tls_required',
      variable: 'LDAP_START_TLS',
    });
    const notReady = (await s.logLines()).find((l) => l['msg'] === 'not ready');
    assert.match(String(notReady?.['error']), fix);
    const res = await alicePush(s);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('www-authenticate'), null, 'a refused transport is not a wrong password');
    const startup = (await s.logLines()).find((l) => l['msg'] === 'directory health check failed');
    assert.match(String(startup?.['error']), fix);
  });
});

describe('referrals are never chased', () => {
  it('a search at the domain root gets continuation references, and logins neither resolve nor follow them', async () => {
    // The DC really does answer a root search with references to ldaps://example.test/… .
    const root = await serviceSearch(ad, ad.baseDn, '(sAMAccountName=alice)');
    assert.deepEqual(root.dns, [user('alice').dn]);
    assert.ok(
      root.references.some((r) => r.startsWith('ldaps://example.test/')),
      String(root.references),
    );

    // NODE_DEBUG=net makes Node log every name lookup ("connect: find host") and every connect target.
    const s = await sidecarWith({ LDAP_USER_BASE_DN: ad.baseDn, NODE_DEBUG: 'net' });
    for (const login of ['alice', 'dave']) {
      const res = await decide(s, ...PUSH, basic(login, user(login).password));
      assert.equal(res.status, 200, login);
    }
    const log = await s.logText();
    assert.doesNotMatch(log, /connect: find host/, 'the sidecar resolved a host name');
    const targets = new Set([...log.matchAll(/attempting to connect to (\S+) /g)].map((m) => m[1]));
    assert.deepEqual([...targets], [`${ad.netns.nsIp}:636`]);
  });
});

describe('--check against Active Directory', () => {
  it('recognises the DC as Active Directory and resolves every group, exit 0', async () => {
    const r = await runCheck(adEnv(ad));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /info +server: .*\(Active Directory\)|info +server: Active Directory/);
    assert.match(r.stdout, /ok +AUTH_PUSH_GROUPS: registry-pushers → CN=registry-pushers,/i);
  });

  it('names LDAP_PRESET=activedirectory when the openldap preset meets AD, exit 4', async () => {
    const r = await runCheck(adEnv(ad, { LDAP_PRESET: 'openldap' }));
    assert.equal(r.status, 4, r.stdout);
    assert.match(
      r.stdout,
      /FAIL +LDAP_PRESET=openldap, but the server is Active Directory: set LDAP_PRESET=activedirectory/,
    );
  });

  it('--user dave: his groups through the in-chain rule, and the push they grant', async () => {
    const r = await runCheck(adEnv(ad), ['--user', 'EXAMPLE\\dave'], `${user('dave').password}\n`);
    assert.equal(r.status, 0, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(`ok +found ${user('dave').dn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'),
    );
    assert.match(r.stdout, /canonical name \(sAMAccountName\): dave/);
    assert.match(r.stdout, /groups \(\d+, nested included\): .*registry-pushers/);
    assert.match(r.stdout, /push +sample\/app: allowed/);
  });
});
