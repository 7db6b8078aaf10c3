// @ts-nocheck
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerSet } from './directory/servers.ts';
import { createMetrics } from './metrics.ts';

describe('registry_auth_ldap_server_up', () => {
  it('follows each configured server: 1 while in use, 0 while skipped, no credentials in the label', async () => {
    const metrics = createMetrics(() => 0);
    const a = 'ldaps://svc:pw@dc1.corp.test';
    const b = 'ldap://dc2.corp.test:10389';
    const servers = new ServerSet([a, b], { retryAfterMs: 5000 }, metrics);
    const value = async (server: string) =>
      (await metrics.ldapServerUp.get()).values.find((v) => v.labels.server === server)?.value;

    assert.equal(await value('ldaps://dc1.corp.test:636'), 1);
    assert.equal(await value('ldap://dc2.corp.test:10389'), 1);
    servers.failed(a, 'connect ETIMEDOUT');
    assert.equal(await value('ldaps://dc1.corp.test:636'), 0);
    assert.equal(await value('ldap://dc2.corp.test:10389'), 1);
    servers.succeeded(a);
    assert.equal(await value('ldaps://dc1.corp.test:636'), 1);

    const text = await metrics.registry.metrics();
    assert.match(text, /^registry_auth_ldap_server_up\{server="ldaps:\/\/dc1\.corp\.test:636"\} 1$/m);
    assert.doesNotMatch(text, /svc|pw@/);
    assert.match(text, /^# TYPE registry_auth_ldap_up gauge$/m, 'the overall gauge stays');
  });
});
