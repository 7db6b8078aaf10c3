// @ts-nocheck
// 
// The two settings that rotate without a restart: the service account's password (LDAP_BIND_PASSWORD_FILE)
// and the CA bundle (LDAP_CA_FILE). Read at start by config.ts, re-read here when the directory rejects the
// service bind or the server certificate stops verifying, and on SIGHUP. A file that cannot be read, or
// holds no certificate, keeps the previous value: a half-written file never replaces a working one.
import { readFileSync } from 'node:fs';
import { pemCertificates } from './ldap-config.ts';
import type { LdapConfig } from './ldap-config.ts';

export type RotatingSetting = 'LDAP_BIND_PASSWORD_FILE' | 'LDAP_CA_FILE';

export interface ReloadResult {
  readonly changed: readonly RotatingSetting[];
  /** Files that could not be used, with why (never their contents). */
  readonly problems: readonly string[];
}

export class RotatingSecrets {
  readonly #bindPasswordFile: string | undefined;
  readonly #caFile: string | undefined;
  readonly #read: (path: string) => string;
  #bindPassword: string | undefined;
  #ca: readonly string[] | undefined;

  constructor(
    config: Pick<LdapConfig, 'bindPassword' | 'bindPasswordFile' | 'ca' | 'caFile'>,
    read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  ) {
    this.#bindPasswordFile = config.bindPasswordFile;
    this.#caFile = config.caFile;
    this.#bindPassword = config.bindPassword;
    this.#ca = config.ca;
    this.#read = read;
  }

  get bindPassword(): string | undefined {
    return this.#bindPassword;
  }

  get ca(): readonly string[] | undefined {
    return this.#ca;
  }

  /** Where the bind password comes from, to name in messages. */
  get bindPasswordVariable(): string {
    return this.#bindPasswordFile === undefined ? 'LDAP_BIND_PASSWORD' : 'LDAP_BIND_PASSWORD_FILE';
  }

  reloadBindPassword(): ReloadResult {
    const file = this.#bindPasswordFile;
    if (file === undefined) return { changed: [], problems: [] };
    try {
      // The same rule as at start (env-reader.ts): one trailing newline is not part of the password.
      const password = this.#read(file).replace(/\r?\n$/, '');
      if (password === '') return { changed: [], problems: [`LDAP_BIND_PASSWORD_FILE: ${file} is empty`] };
      if (password === this.#bindPassword) return { changed: [], problems: [] };
      this.#bindPassword = password;
      return { changed: ['LDAP_BIND_PASSWORD_FILE'], problems: [] };
    } catch (error) {
      return { changed: [], problems: [`LDAP_BIND_PASSWORD_FILE: cannot read ${file} (${code(error)})`] };
    }
  }

  reloadCa(): ReloadResult {
    const file = this.#caFile;
    if (file === undefined) return { changed: [], problems: [] };
    try {
      const certs = pemCertificates(this.#read(file));
      if (certs.length === 0)
        return { changed: [], problems: [`LDAP_CA_FILE: ${file} holds no PEM certificate`] };
      const same =
        this.#ca !== undefined &&
        certs.length === this.#ca.length &&
        certs.every((c, i) => c === this.#ca?.[i]);
      if (same) return { changed: [], problems: [] };
      this.#ca = certs;
      return { changed: ['LDAP_CA_FILE'], problems: [] };
    } catch (error) {
      return { changed: [], problems: [`LDAP_CA_FILE: cannot read ${file} (${code(error)})`] };
    }
  }

  reloadAll(): ReloadResult {
    const results = [this.reloadBindPassword(), this.reloadCa()];
    return {
      changed: results.flatMap((r) => r.changed),
      problems: results.flatMap((r) => r.problems),
    };
  }
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}
