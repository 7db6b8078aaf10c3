// Opens LDAP connections: LDAP_URL entries tried in order (failover), LDAPS or StartTLS with certificates
// always verified unless LDAP_TLS_INSECURE, and both timeouts applied.
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { LdapConfig } from './ldap-config.ts';
import { asUnavailable } from './errors.ts';

export type ConnectionSettings = Pick<
  LdapConfig,
  'urls' | 'startTls' | 'ca' | 'tlsInsecure' | 'timeoutMs' | 'connectTimeoutMs'
>;

export function tlsOptions(settings: ConnectionSettings): ConnectionOptions {
  return {
    rejectUnauthorized: !settings.tlsInsecure,
    minVersion: 'TLSv1.2',
    ...(settings.ca ? { ca: [...settings.ca] } : {}),
  };
}

/**
 * Connects to the first URL that accepts, and runs `authenticate` on it (a bind). Errors that are the
 * server's answer (a ResultCodeError from `authenticate`) are final; transport failures move on to the
 * next URL. The last transport failure is thrown as DirectoryUnavailableError.
 */
export async function openConnection(
  settings: ConnectionSettings,
  authenticate: (client: Client) => Promise<void>,
  isAnswer: (error: unknown) => boolean,
): Promise<Client> {
  const tls = tlsOptions(settings);
  let lastError: unknown = new Error('no LDAP_URL');
  for (const url of settings.urls) {
    const client = new Client({
      url,
      timeout: settings.timeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      // ldapts speaks TLS from the first byte whenever tlsOptions is set, so only ldaps:// gets them;
      // StartTLS passes them to startTLS() instead.
      ...(/^ldaps:/i.test(url) ? { tlsOptions: tls } : {}),
      strictDN: false,
    });
    try {
      // A fresh options object each time (ldapts stores the socket in it), naming the server so the
      // certificate is checked against the URL's host rather than Node's default of localhost.
      if (settings.startTls)
        await client.startTLS({ ...tls, host: new URL(url).hostname.replace(/^\[|\]$/g, '') });
      await authenticate(client);
      return client;
    } catch (error) {
      await closeQuietly(client);
      if (isAnswer(error)) throw error;
      lastError = error;
    }
  }
  throw asUnavailable(lastError);
}

export async function closeQuietly(client: Client): Promise<void> {
  try {
    await client.unbind();
  } catch {
    // The connection is being thrown away; an unbind that fails on a dead socket changes nothing.
  }
}
