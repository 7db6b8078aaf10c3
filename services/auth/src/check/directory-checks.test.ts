import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capturedReport } from '../../test/support/log-capture.ts';
import { loadConfig } from '../config.ts';
import type { PresetName } from '../directory/presets.ts';
import { checkPreset } from './directory-checks.ts';
import type { ServerInfo } from './directory-probe.ts';
import { EXIT } from './report.ts';

function presetCheck(preset: PresetName, server: ServerInfo): { code: number; text: string } {
  const config = loadConfig({
    LDAP_PRESET: preset,
    LDAP_URL: 'ldap://127.0.0.1',
    LDAP_USER_BASE_DN: 'dc=example,dc=test',
    LDAP_GROUP_BASE_DN: 'dc=example,dc=test',
    AUTH_PUSH_GROUPS: 'pushers',
  });
  const { report, text } = capturedReport();
  checkPreset(config, server, report);
  return { code: report.exitCode, text: text() };
}

const ad: ServerInfo = { kind: 'activedirectory', description: 'Samba Team 4.19', namingContexts: [] };
const openldap: ServerInfo = { kind: 'openldap', description: 'OpenLDAP', namingContexts: [] };
const ds389: ServerInfo = { kind: '389ds', description: '389 Project 389-Directory/2.4', namingContexts: [] };
const unknown: ServerInfo = { kind: 'unknown', description: 'unknown server', namingContexts: [] };

describe('checkPreset', () => {
  it('names the preset that fits the server when LDAP_PRESET does not', () => {
    const cases: [PresetName, ServerInfo, string][] = [
      [
        'activedirectory',
        openldap,
        'LDAP_PRESET=activedirectory, but the server is OpenLDAP: set LDAP_PRESET=openldap',
      ],
      [
        'activedirectory',
        ds389,
        'LDAP_PRESET=activedirectory, but the server is 389 Directory Server (FreeIPA): set LDAP_PRESET=freeipa',
      ],
      [
        'openldap',
        ad,
        'LDAP_PRESET=openldap, but the server is Active Directory: set LDAP_PRESET=activedirectory',
      ],
      [
        'freeipa',
        ad,
        'LDAP_PRESET=freeipa, but the server is Active Directory: set LDAP_PRESET=activedirectory',
      ],
    ];
    for (const [preset, server, message] of cases) {
      const r = presetCheck(preset, server);
      assert.equal(r.code, EXIT.misconfigured, r.text);
      assert.ok(r.text.includes(`  FAIL  ${message}\n`), r.text);
    }
  });

  it('accepts a preset that fits, or a server it cannot tell', () => {
    const cases: [PresetName, ServerInfo][] = [
      ['activedirectory', ad],
      ['openldap', openldap],
      ['freeipa', ds389],
      ['openldap', ds389],
      ['freeipa', openldap],
      ['openldap', unknown],
      ['activedirectory', unknown],
    ];
    for (const [preset, server] of cases) {
      const r = presetCheck(preset, server);
      assert.equal(r.code, EXIT.ok, `${preset} on ${server.kind}: ${r.text}`);
    }
  });

  it('says what the server calls itself, and what kind that is when the name does not say', () => {
    const cases: [ServerInfo, string][] = [
      [openldap, 'server: OpenLDAP'],
      [{ ...ad, description: 'Active Directory' }, 'server: Active Directory'],
      [ad, 'server: Samba Team 4.19 (Active Directory)'],
      [ds389, 'server: 389 Project 389-Directory/2.4 (389 Directory Server (FreeIPA))'],
      [unknown, 'server: unknown server (an LDAP server of unknown kind)'],
    ];
    for (const [server, line] of cases)
      assert.ok(presetCheck('openldap', server).text.startsWith(`  info  ${line}\n`));
  });
});
