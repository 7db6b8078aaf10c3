// @ts-nocheck
// 
// What the LDAP directory needs to know, as config.ts reads it from the environment. It lives with the
// directory so that the directory depends on nothing above it.
import type { FilterTemplate } from './filter-template.ts';
import type { PresetName } from './presets.ts';

export interface LdapConfig {
  readonly preset: PresetName;
  readonly urls: readonly string[];
  readonly startTls: boolean;
  /** PEM certificates from LDAP_CA_FILE; undefined means the system's trust store. */
  readonly ca: readonly string[] | undefined;
  /** LDAP_CA_FILE, re-read when the server's certificate stops verifying and on SIGHUP. */
  readonly caFile: string | undefined;
  readonly tlsInsecure: boolean;
  readonly bindDn: string | undefined;
  readonly bindPassword: string | undefined;
  /** LDAP_BIND_PASSWORD_FILE, re-read when the directory rejects the service bind and on SIGHUP. */
  readonly bindPasswordFile: string | undefined;
  readonly userBaseDn: string;
  readonly userFilter: FilterTemplate;
  readonly usernameAttribute: string;
  readonly groupBaseDn: string;
  readonly groupFilter: FilterTemplate;
  readonly groupNameAttribute: string;
  readonly nestedGroups: boolean;
  /** Set when the group filter itself resolves nesting (AD's in-chain rule): no client-side walk. */
  readonly nestedInFilter: boolean;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly poolSize: number;
}

/** The PEM certificates in a bundle, in order (LDAP_CA_FILE). */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
