// @ts-nocheck
// 
// One service-account connection to one LDAP server, for the questions the configuration check asks:
// what kind of server is this, does a DN exist, what does a filter find. Below the directory seam:
// tested against a real slapd (test/check.test.ts).
import type { Client, Entry } from 'ldapts';
import { InvalidDNSyntaxError, NoSuchObjectError, ResultCodeError } from 'ldapts';
import type { LdapConfig } from '../directory/ldap-config.ts';
import { closeQuietly, connectTo } from '../directory/connection.ts';
import { classifyTransportError } from '../directory/errors.ts';
import { serverLabel } from '../directory/servers.ts';

export type ServerKind = 'activedirectory' | 'openldap' | '389ds' | 'unknown';

export interface ServerInfo {
  readonly kind: ServerKind;
  /** How the server describes itself, for the report ("OpenLDAP", "Samba Team …"). */
  readonly description: string;
  /** The naming contexts it serves (rootDSE namingContexts), where a lost base DN may be looked for. */
  readonly namingContexts: readonly string[];
}

export type DnState = 'exists' | 'missing' | 'malformed';

// 1.2.840.113556.1.4.800 // LDAP_CAP_ACTIVE_DIRECTORY_OID: every AD DC (and Samba AD) lists it.
const AD_CAPABILITY = '1.2.840.113556.1.4.800';

function values(entry: Entry | undefined, attribute: string): string[] {
  if (entry === undefined) return [];
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => v.toString());
}

export function firstValue(entry: Entry, attribute: string): string | undefined {
  return values(entry, attribute)[0];
}

export class DirectoryProbe {
  readonly url: string;
  readonly #client: Client;
  readonly #timeLimit: number;

  private constructor(url: string, client: Client, timeoutMs: number) {
    this.url = url;
    this.#client = client;
    this.#timeLimit = Math.ceil(timeoutMs / 1000);
  }

  /**
   * Connects to `url` alone (no failover: each server is checked on its own) and binds as the service
   * account. Throws the server's answer (a ResultCodeError) as is, and a transport failure as
   * DirectoryUnavailableError with the original error as its cause.
   */
  static async connect(config: LdapConfig, url: string): Promise<DirectoryProbe> {
    try {
      const client = await connectTo(url, config, (c) =>
        c.bind(config.bindDn ?? '', config.bindPassword ?? ''),
      );
      return new DirectoryProbe(url, client, config.timeoutMs);
    } catch (error) {
      if (error instanceof ResultCodeError) throw error;
      throw classifyTransportError(error, serverLabel(url));
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    const [dse] = await this.search('', '(objectClass=*)', ['*', '+', 'supportedCapabilities'], 1, 'base');
    const classes = values(dse, 'objectClass').map((c) => c.toLowerCase());
    const vendor = [...values(dse, 'vendorName'), ...values(dse, 'vendorVersion')].join(' ');
    const namingContexts = values(dse, 'namingContexts');
    if (values(dse, 'supportedCapabilities').includes(AD_CAPABILITY))
      return { kind: 'activedirectory', description: vendor || 'Active Directory', namingContexts };
    if (classes.includes('openldaprootdse'))
      return { kind: 'openldap', description: vendor || 'OpenLDAP', namingContexts };
    if (/389/.test(vendor)) return { kind: '389ds', description: vendor, namingContexts };
    return { kind: 'unknown', description: vendor || 'unknown server', namingContexts };
  }

  async dnState(dn: string): Promise<DnState> {
    try {
      await this.search(dn, '(objectClass=*)', ['1.1'], 1, 'base');
      return 'exists';
    } catch (error) {
      if (error instanceof NoSuchObjectError) return 'missing';
      if (error instanceof InvalidDNSyntaxError) return 'malformed';
      throw error;
    }
  }

  async search(
    base: string,
    filter: string,
    attributes: string[],
    sizeLimit: number,
    scope: 'base' | 'sub' = 'sub',
  ): Promise<Entry[]> {
    const { searchEntries } = await this.#client.search(base, {
      scope,
      filter,
      attributes,
      sizeLimit,
      derefAliases: 'never',
      timeLimit: this.#timeLimit,
    });
    return searchEntries;
  }

  close(): Promise<void> {
    closeQuietly(this.#client);
    return Promise.resolve();
  }
}
