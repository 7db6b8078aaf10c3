// @ts-nocheck
// 
// Rotation without a restart, against a real slapd: the service account's password changes in the
// directory and in LDAP_BIND_PASSWORD_FILE; the directory's certificate is renewed under a new CA and
// LDAP_CA_FILE follows. The sidecar picks both up by itself (on a rejected bind or an unverifiable
// certificate, and on SIGHUP), logs it, and no user decision fails.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { run } from '@registry-ldap-auth/stack/process';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from './support/openldap-env.ts';
import { waitForLog } from './support/wait.ts';

const { alice, bob, carol, dave } = seed.users;
let slapd: Slapd;
let dir: string;

before(async () => {
  slapd = await startSlapd();
  dir = mkdtempSync(join(tmpdir(), 'rotation-'));
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await slapd.destroy();
  }
});

/** Sets the service account's password in slapd, as its administrator would (RFC 3062 password modify). */
async function setServicePassword(password: string): Promise<void> {
  await run(
    'ldappasswd',
    ['-x', '-H', slapd.url, '-D', slapd.adminDn, '-w', slapd.adminPassword, '-s', password, slapd.serviceDn],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LDAPNOINIT: '1' } },
  );
}

const decisionsOf = async (sidecar: Sidecar) =>
  (await sidecar.logLines()).filter((l) => l['msg'] === 'decision');

describe('LDAP_BIND_PASSWORD_FILE', () => {
  it('is re-read when the directory rejects the service bind, and on SIGHUP; no user decision fails', async () => {
    const file = join(dir, 'bind-password');
    writeFileSync(file, `${seed.service.password}\n`, { mode: 0o600 });
    const sidecar = await startSidecar(
      openldapEnv(slapd, { LDAP_BIND_PASSWORD: '', LDAP_BIND_PASSWORD_FILE: file }),
    );
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);

      // Rotated in the directory and in the file; a restart of slapd drops the pooled (already bound)
      // connections, so the next search needs a new service bind, which the old password no longer passes.
      await setServicePassword('rotated-once');
      writeFileSync(file, 'rotated-once\n');
      await slapd.stop();
      await slapd.start();
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(bob.uid, bob.password))).status, 200);
      await waitForLog(
        sidecar,
        (l) =>
          l['msg'] === 're-read LDAP_BIND_PASSWORD_FILE: new connections use it' &&
          l['trigger'] === 'the directory rejected the service bind',
        5000,
      );

      // SIGHUP: the file is read at once, before any bind is rejected; the pool starts over.
      await setServicePassword('rotated-twice');
      writeFileSync(file, 'rotated-twice\n');
      const before = (await sidecar.logLines()).length;
      sidecar.server.child.kill('SIGHUP');
      await waitForLog(
        sidecar,
        (l) =>
          l['msg'] === 're-read LDAP_BIND_PASSWORD_FILE: new connections use it' && l['trigger'] === 'SIGHUP',
        5000,
        before,
      );
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(carol.uid, carol.password))).status, 200);
      const rejected = (await sidecar.logLines())
        .slice(before)
        .filter((l) => l['trigger'] === 'the directory rejected the service bind');
      assert.deepEqual(rejected, [], 'after SIGHUP no service bind was rejected');

      assert.deepEqual(
        (await decisionsOf(sidecar)).map((l) => l['reason']),
        ['granted', 'granted', 'granted'],
        'no user decision failed',
      );
      assert.doesNotMatch(await sidecar.logText(), /rotated-(once|twice)/, 'the password is never logged');
    } finally {
      await sidecar.stop();
      await setServicePassword(seed.service.password);
    }
  });
});

describe('LDAP_CA_FILE', () => {
  it('is re-read when the renewed server certificate no longer verifies; no user decision fails', async () => {
    const caFile = join(dir, 'ca.pem');
    copyFileSync(slapd.caCert, caFile);
    const sidecar = await startSidecar(
      openldapEnv(slapd, { LDAP_URL: slapd.ldapsUrl, LDAP_CA_FILE: caFile }),
    );
    try {
      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(alice.uid, alice.password))).status, 200);

      // Renewed under a new CA: slapd's certificate and key files are replaced, slapd restarts, and the
      // new CA is put where LDAP_CA_FILE points.
      const newCa = await createCa(join(dir, 'new-ca'), 'Renewed directory CA');
      await issueServerCert(newCa, 'slapd', {
        dns: ['localhost'],
        ips: ['127.0.0.1'],
        outDir: join(slapd.dir, 'tls'),
      });
      await slapd.stop();
      await slapd.start();
      copyFileSync(newCa.caCert, caFile);

      assert.equal((await decide(sidecar, 'GET', '/v2/', basic(dave.uid, dave.password))).status, 200);
      await waitForLog(
        sidecar,
        (l) =>
          l['msg'] === 're-read LDAP_CA_FILE: new connections use it' &&
          l['trigger'] === 'the server certificate did not verify',
        5000,
      );
      assert.deepEqual(
        (await decisionsOf(sidecar)).map((l) => l['reason']),
        ['granted', 'granted'],
        'no user decision failed',
      );
    } finally {
      await sidecar.stop();
    }
  });
});
