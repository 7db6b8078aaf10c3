import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoSettings, describeSettings } from './demo-settings.ts';

describe('demo settings', () => {
  it("passes the sidecar's own variables through and leaves the rest", () => {
    const s = demoSettings(
      { LDAP_URL: 'ldaps://dc.corp', AUTH_PUSH_GROUPS: 'devs', LOCKOUT_MAX_FAILURES: '5', HOME: '/root' },
      '/repo',
    );
    assert.deepEqual(s.overrides, {
      LDAP_URL: 'ldaps://dc.corp',
      AUTH_PUSH_GROUPS: 'devs',
      LOCKOUT_MAX_FAILURES: '5',
      LOCKOUT_ADDRESS_MAX_FAILURES: '100',
    });
    assert.equal(s.ownDirectory, true);
  });

  it('uses the built-in directory without LDAP_URL, in <repo>/.stack with nginx on 5043', () => {
    const s = demoSettings({ AUTH_PUSH_GROUPS: 'registry-users' }, '/repo');
    assert.equal(s.ownDirectory, false);
    assert.equal(s.port, 5043);
    assert.equal(s.stateDir, '/repo/.stack');
    assert.equal(s.logDir, '/repo/.stack/logs');
  });

  it('gives the one demo address (127.0.0.1) room for typos, unless the environment says otherwise', () => {
    assert.equal(demoSettings({}, '/repo').overrides['LOCKOUT_ADDRESS_MAX_FAILURES'], '100');
    const own = demoSettings({ LOCKOUT_ADDRESS_MAX_FAILURES: '7' }, '/repo');
    assert.equal(own.overrides['LOCKOUT_ADDRESS_MAX_FAILURES'], '7');
  });

  it('refuses a DEMO_PORT that is not a port', () => {
    assert.throws(() => demoSettings({ DEMO_PORT: '80a' }, '/repo'), /DEMO_PORT must be a port/);
    assert.throws(() => demoSettings({ DEMO_PORT: '65535' }, '/repo'), /DEMO_PORT must be a port/);
  });

  it('masks every password and leaves *_FILE paths visible', () => {
    assert.deepEqual(
      describeSettings({
        PATH: '/bin',
        LDAP_BIND_PASSWORD: 'hunter2',
        LDAP_BIND_PASSWORD_FILE: '/run/secrets/ldap',
        LDAP_URL: 'ldap://x',
      }),
      ['LDAP_BIND_PASSWORD=********', 'LDAP_BIND_PASSWORD_FILE=/run/secrets/ldap', 'LDAP_URL=ldap://x'],
    );
  });
});
