// What kind of server the configuration check thinks it talks to, read from a real root DSE: a slapd that
// describes itself as Active Directory does (AD's capability OID, a vendor name), against the presets.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';
import { loadConfig } from '../src/config.ts';
import { checkPreset } from '../src/check/directory-checks.ts';
import { DirectoryProbe } from '../src/check/directory-probe.ts';
import { EXIT, Report } from '../src/check/report.ts';
import { openldapEnv } from './support/openldap-env.ts';

// LDAP_CAP_ACTIVE_DIRECTORY_OID, listed by every AD DC (and Samba AD) in supportedCapabilities. OpenLDAP's
// schema has no supportedCapabilities: defined here under OpenLDAP's experimental arc (…4203.666), as a
// user attribute (slapd defines no operational ones from its configuration).
const AD_CAPABILITY = '1.2.840.113556.1.4.800';
const SUPPORTED_CAPABILITIES =
  "( 1.3.6.1.4.1.4203.666.11.99 NAME 'supportedCapabilities' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )";

let adLike: Slapd;

before(async () => {
  adLike = await startSlapd({
    rootDse: {
      attributeTypes: [SUPPORTED_CAPABILITIES],
      attributes: [
        'supportedCapabilities: 1.2.840.113556.1.4.1670',
        `supportedCapabilities: ${AD_CAPABILITY}`,
        'vendorName: Samba Team',
        'vendorVersion: 4.19.5',
      ],
    },
  });
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await adLike.destroy();
  }
});

describe('--check: the kind of server, from its root DSE', () => {
  it('recognises Active Directory by its capability and tells an openldap preset to change', async () => {
    const config = loadConfig(openldapEnv(adLike));
    const probe = await DirectoryProbe.connect(config.ldap, adLike.url);
    try {
      const server = await probe.serverInfo();
      assert.deepEqual(server, {
        kind: 'activedirectory',
        description: 'Samba Team 4.19.5',
        namingContexts: [seed.baseDn],
      });
      let text = '';
      const report = new Report(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            text += chunk.toString();
            done();
          },
        }),
      );
      checkPreset(config, server, report);
      assert.equal(report.exitCode, EXIT.misconfigured);
      assert.equal(
        text,
        '  info  server: Samba Team 4.19.5 (Active Directory)\n' +
          '  FAIL  LDAP_PRESET=openldap, but the server is Active Directory: set LDAP_PRESET=activedirectory\n',
      );
    } finally {
      await probe.close();
    }
  });
});
