// The log check itself must be able to fail: each kind of leak it promises to find, it finds.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoSecretsInLogs, basic, remember, watchLog } from './credentials.ts';

void test('assertNoSecretsInLogs finds every form of a credential a test sent, and refuses to prove nothing', async () => {
  const log = join(mkdtempSync(join(tmpdir(), 'credentials-test-')), 'server.log');
  const header = basic('mallory', 'Sent-Only-Once-9');
  remember('skopeo-user', 'Via-Skopeo-Creds-7');
  writeFileSync(log, '{"msg":"decision","user":"mallory","result":"unauthenticated"}\n');
  const unwatch = watchLog(log);
  await assertNoSecretsInLogs(); // a clean log passes

  const leaks: [string, RegExp][] = [
    ['the password a test sent: Sent-Only-Once-9', /holds a secret/],
    [`its Authorization token: ${header.slice('Basic '.length)}`, /holds a secret/],
    [`the base64 of the password: ${Buffer.from('Sent-Only-Once-9').toString('base64')}`, /holds a secret/],
    ['a password given to skopeo: Via-Skopeo-Creds-7', /holds a secret/],
    ['a seeded password never sent: service-password', /holds a secret/],
    ["anyone else's header: Basic Zm9vOmJhcg==", /Authorization value/],
    ['', /is empty/],
  ];
  for (const [line, error] of leaks) {
    writeFileSync(log, line === '' ? '' : `${line}\n`);
    await assert.rejects(assertNoSecretsInLogs(), error, line);
  }
  unwatch();
  await assert.rejects(assertNoSecretsInLogs(), /no log is watched/);
});
