// What kind of server the configuration check thinks it talks to, read from a real root DSE: slapds that
// describe themselves as Active Directory does (AD's capability OID, a vendor name) or as 389 Directory
// Server does (its vendor, no OpenLDAP object class), read with and without the vendor, or not at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { assertNoSecretsInLogs } from '@registry-ldap-auth/stack/credentials';
import { loadConfig } from '../src/config.ts';
import { checkBases, checkPreset } from '../src/check/directory-checks.ts';
import { DirectoryProbe } from '../src/check/directory-probe.ts';
import type { ServerInfo } from '../src/check/directory-probe.ts';
import { EXIT } from '../src/check/report.ts';
import { capturedReport } from './support/log-capture.ts';
import { openldapEnv, withoutEmpty } from './support/openldap-env.ts';

// LDAP_CAP_ACTIVE_DIRECTORY_OID, listed by every AD DC (and Samba AD) in supportedCapabilities. OpenLDAP's
// schema has no supportedCapabilities: defined here under OpenLDAP's experimental arc (…4203.666), as a
// user attribute (slapd defines no operational ones from its configuration).
const AD_CAPABILITY = '1.2.840.113556.1.4.800';
const SUPPORTED_CAPABILITIES =
  "( 1.3.6.1.4.1.4203.666.11.99 NAME 'supportedCapabilities' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )";

// The vendor is shown to the service account only: anonymous clients get none.
const VENDOR_FOR_SERVICE_ONLY = [
  `to dn.base="" attrs=vendorName,vendorVersion by dn.exact="${seed.service.dn}" read by * none`,
  'to dn.base="" by * read',
];

let adLike: Slapd;
let ds389Like: Slapd;

before(async () => {
  [adLike, ds389Like] = await Promise.all([
    startSlapd({
      rootDse: {
        attributeTypes: [SUPPORTED_CAPABILITIES],
        attributes: [
          'supportedCapabilities: 1.2.840.113556.1.4.1670',
          `supportedCapabilities: ${AD_CAPABILITY}`,
          'vendorName: Samba Team',
          'vendorVersion: 4.19.5',
        ],
      },
      frontendAccess: VENDOR_FOR_SERVICE_ONLY,
    }),
    startSlapd({
      rootDse: { attributes: ['vendorName: 389 Project', 'vendorVersion: 389-Directory/2.4.5'] },
      // The service account may search objectClass but not read it, so nothing says OpenLDAP; anonymous
      // clients get no root DSE at all.
      frontendAccess: [
        `to dn.base="" attrs=objectClass by dn.exact="${seed.service.dn}" search by * none`,
        `to dn.base="" by dn.exact="${seed.service.dn}" read by * none`,
      ],
    }),
  ]);
});
after(async () => {
  try {
    await assertNoSecretsInLogs();
  } finally {
    await Promise.all([adLike.destroy(), ds389Like.destroy()]);
  }
});

/** What the check reads from the root DSE and says about it, as the service account or anonymously. */
async function serverKind(
  slapd: Slapd,
  as: 'service' | 'anonymous',
): Promise<{ server: ServerInfo; code: number; text: string }> {
  const anonymous = as === 'anonymous' ? { LDAP_BIND_DN: '', LDAP_BIND_PASSWORD: '' } : {};
  const config = loadConfig(withoutEmpty(openldapEnv(slapd, anonymous)));
  const probe = await DirectoryProbe.connect(config.ldap, slapd.url);
  try {
    const server = await probe.serverInfo();
    const { report, text } = capturedReport();
    checkPreset(config, server, report);
    return { server, code: report.exitCode, text: text() };
  } finally {
    await probe.close();
  }
}

describe('--check: the kind of server, from its root DSE', () => {
  it('recognises Active Directory by its capability and tells an openldap preset to change', async () => {
    const r = await serverKind(adLike, 'service');
    assert.deepEqual(r.server, {
      kind: 'activedirectory',
      description: 'Samba Team 4.19.5',
      namingContexts: [seed.baseDn],
    });
    assert.equal(r.code, EXIT.misconfigured);
    assert.equal(
      r.text,
      '  info  server: Samba Team 4.19.5 (Active Directory)\n' +
        '  FAIL  LDAP_PRESET=openldap, but the server is Active Directory: set LDAP_PRESET=activedirectory\n',
    );
  });

  it('names the kind when the server gives no vendor, and says so when it cannot tell', async () => {
    const cases: [Slapd, 'service' | 'anonymous', ServerInfo][] = [
      [
        adLike,
        'anonymous',
        { kind: 'activedirectory', description: 'Active Directory', namingContexts: [seed.baseDn] },
      ],
      [
        ds389Like,
        'service',
        { kind: '389ds', description: '389 Project 389-Directory/2.4.5', namingContexts: [seed.baseDn] },
      ],
      // No root DSE: nothing to tell, and no naming context to look for a lost base DN in.
      [ds389Like, 'anonymous', { kind: 'unknown', description: 'unknown server', namingContexts: [] }],
    ];
    for (const [slapd, as, expected] of cases) {
      const r = await serverKind(slapd, as);
      assert.deepEqual(r.server, expected, `${expected.description} (${as})`);
    }
  });

  it('names no naming contexts for a missing base DN when the server shows none', async () => {
    const env: Record<string, string> = openldapEnv(ds389Like, {
      LDAP_USER_BASE_DN: `ou=staff,${seed.baseDn}`,
    });
    delete env['LDAP_BIND_DN'];
    delete env['LDAP_BIND_PASSWORD'];
    const config = loadConfig(env);
    const probe = await DirectoryProbe.connect(config.ldap, ds389Like.url);
    try {
      const { report, text } = capturedReport();
      // Anonymous clients see neither the root DSE nor the entries: both bases look missing.
      assert.deepEqual(await checkBases(config, probe, await probe.serverInfo(), report), {
        users: false,
        groups: false,
      });
      assert.equal(
        text(),
        `  FAIL  LDAP_USER_BASE_DN=ou=staff,${seed.baseDn} does not exist on the server\n` +
          `  FAIL  LDAP_GROUP_BASE_DN=${seed.groupsDn} does not exist on the server\n`,
      );
    } finally {
      await probe.close();
    }
  });
});
