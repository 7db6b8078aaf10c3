// @ts-nocheck
// 
// 
// OIDC_CONFIG_FILE and OIDC_USERNAME, read through the same Reader as every other variable, so their
// problems are reported with the rest at start.
import { readFileSync } from 'node:fs';
import type { Reader } from '../env-reader.ts';
import { parseRulesFile } from './rules-file.ts';
import type { ReadCa, TrustedIssuer } from './rules-file.ts';

export interface OidcConfig {
  /** The Basic username under which the password is a job token. */
  readonly username: string;
  readonly file: string;
  readonly issuers: readonly TrustedIssuer[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const readCa: ReadCa = (file) => {
  try {
    const certs = readFileSync(file, 'utf8').match(PEM_CERT) ?? [];
    return certs.length > 0 ? { certs } : { problem: `${file} holds no PEM certificate` };
  } catch (error) {
    return { problem: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
};

/** Undefined when OIDC_CONFIG_FILE is not set: job tokens are then not accepted at all. */
export function readOidcConfig(r: Reader): OidcConfig | undefined {
  const username = r.string('OIDC_USERNAME', 'oidc');
  // RFC 7617 §2: the user-id cannot hold a colon or control characters.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (username.includes(':') || username.length > 64 || /[\u0000-\u001f\u007f]/.test(username)) {
    r.problems.push('OIDC_USERNAME must be at most 64 characters, without ":" or control characters');
  }
  const file = r.raw('OIDC_CONFIG_FILE');
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    r.problems.push(
      `OIDC_CONFIG_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return undefined;
  }
  const { issuers, problems } = parseRulesFile(text, readCa);
  for (const problem of problems) r.problems.push(`OIDC_CONFIG_FILE ${file}: ${problem}`);
  return { username, file, issuers };
}
