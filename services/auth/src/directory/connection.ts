// Opens LDAP connections: the servers of LDAP_URL tried in order (failover, skipping servers known to be
// down), LDAPS or StartTLS with certificates always verified unless LDAP_TLS_INSECURE, and every wait
// bounded: TCP and TLS connect (LDAP_CONNECT_TIMEOUT_MS), the StartTLS handshake (the same; ldapts has no
// timer of its own there), each operation (LDAP_TIMEOUT_MS), and the whole opening as a backstop.
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { Client } from 'ldapts';
import type { LookupFunction } from './address-cache.ts';
import type { LdapConfig } from './ldap-config.ts';
import { classifyTransportError, DirectoryUnavailableError } from './errors.ts';
import type { ServerSet } from './servers.ts';

export type ConnectionSettings = Pick<
  LdapConfig,
  'startTls' | 'tlsInsecure' | 'timeoutMs' | 'connectTimeoutMs'
> & {
  /** PEM certificates to trust (LDAP_CA_FILE, re-read on rotation); undefined: the system's store. */
  readonly ca: readonly string[] | undefined;
  /** How host names become addresses (address-cache.ts); undefined: the system resolver on each connect. */
  readonly lookup?: LookupFunction;
};

export function tlsOptions(settings: ConnectionSettings): ConnectionOptions {
  return {
    rejectUnauthorized: !settings.tlsInsecure,
    minVersion: 'TLSv1.2',
    ...(settings.ca ? { ca: [...settings.ca] } : {}),
  };
}

// Connections whose TLS socket closed after a StartTLS upgrade. ldapts keeps its close listener on the
// plain socket it started with, so such a client still says isConnected; this set says otherwise.
const closedAfterStartTls = new WeakSet<Client>();
const urlOfClient = new WeakMap<Client, string>();

/** Connected, and (after StartTLS) its TLS socket still open. */
export function isUsable(client: Client): boolean {
  return client.isConnected && !closedAfterStartTls.has(client);
}

/** The LDAP_URL entry a connection was opened to. */
export function connectionUrl(client: Client): string | undefined {
  return urlOfClient.get(client);
}

/** The whole opening (connect, StartTLS, bind) may take no longer than this. */
export function openDeadlineMs(settings: ConnectionSettings): number {
  return 2 * settings.connectTimeoutMs + 2 * settings.timeoutMs;
}

/**
 * Rejects with `onTimeout()` once `ms` have passed (and calls `cancel`); settles like `promise` otherwise.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  cancel?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cancel?.();
      reject(onTimeout());
    }, ms);
  });
  return Promise.race([promise, expired]).finally(() => {
    clearTimeout(timer);
  });
}

function startTlsClient(url: string, settings: ConnectionSettings): Client {
  let client: Client | undefined = undefined;
  const secure = (options: ConnectionOptions): TLSSocket => {
    const socket = tls.connect(options);
    const timer = setTimeout(() => {
      socket.destroy(new Error(`StartTLS handshake timed out after ${settings.connectTimeoutMs} ms`));
    }, settings.connectTimeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (client !== undefined) closedAfterStartTls.add(client);
    });
    return socket;
  };
  client = new Client({
    url,
    timeout: settings.timeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    strictDN: false,
    // Used by startTLS() for the upgrade (the plain connection goes through net.connect).
    createSecureConnection: secure as typeof tls.connect, // called as (options) only, by startTLS()
    ...plainConnection(settings),
  });
  return client;
}

/** ldapts dials with net.connect(port, host); this adds settings.lookup. */
function plainConnection(settings: ConnectionSettings): { createConnection?: typeof net.connect } {
  const { lookup } = settings;
  if (lookup === undefined) return {};
  const connect = (port: number, host: string): net.Socket => net.connect({ port, host, lookup });
  return { createConnection: connect as typeof net.connect }; // called as (port, host) only
}

/** ldapts dials ldaps:// with tls.connect(port, host, tlsOptions); this adds settings.lookup. */
function secureConnection(settings: ConnectionSettings): { createSecureConnection?: typeof tls.connect } {
  const { lookup } = settings;
  if (lookup === undefined) return {};
  const connect = (port: number, host: string, options: ConnectionOptions): TLSSocket =>
    tls.connect(port, host, { ...options, lookup });
  return { createSecureConnection: connect as typeof tls.connect }; // called as (port, host, options) only
}

function newClient(url: string, settings: ConnectionSettings): Client {
  if (settings.startTls) return startTlsClient(url, settings);
  const ldaps = /^ldaps:/i.test(url);
  return new Client({
    url,
    timeout: settings.timeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    // ldapts speaks TLS from the first byte whenever tlsOptions is set, so only ldaps:// gets them;
    // StartTLS passes them to startTLS() instead.
    ...(ldaps
      ? { tlsOptions: tlsOptions(settings), ...secureConnection(settings) }
      : plainConnection(settings)),
    strictDN: false,
  });
}

/** Connects to one server and runs `authenticate` (a bind), within openDeadlineMs. */
export async function connectTo(
  url: string,
  settings: ConnectionSettings,
  authenticate: (client: Client) => Promise<void>,
): Promise<Client> {
  const client = newClient(url, settings);
  urlOfClient.set(client, url);
  const steps = async (): Promise<Client> => {
    if (settings.startTls) {
      // A fresh options object each time (ldapts stores the socket in it), naming the server so the
      // certificate is checked against the URL's host rather than Node's default of localhost.
      await client.startTLS({ ...tlsOptions(settings), host: new URL(url).hostname.replace(/^\[|\]$/g, '') });
    }
    await authenticate(client);
    return client;
  };
  try {
    return await withDeadline(
      steps(),
      openDeadlineMs(settings),
      () => new Error(`opening the connection took longer than ${openDeadlineMs(settings)} ms`),
    );
  } catch (error) {
    closeQuietly(client);
    throw error;
  }
}

/**
 * Connects to the first server that accepts, skipping those known to be down, and runs `authenticate` on
 * it. An error that is the server's answer (`isAnswer`, e.g. a rejected bind) is final; a transport failure
 * marks that server down and moves on to the next. With no server left, DirectoryUnavailableError.
 */
export async function openConnection(
  servers: ServerSet,
  settings: ConnectionSettings,
  authenticate: (client: Client) => Promise<void>,
  isAnswer: (error: unknown) => boolean,
): Promise<Client> {
  const candidates = servers.candidates(openDeadlineMs(settings));
  if (candidates.length === 0) {
    // Fail fast, but keep the cause: a certificate that does not verify is not a network outage.
    const next = `the next is probed in ${Math.ceil(servers.nextRetryInMs() / 1000)} s`;
    const misconfigured = servers
      .causes()
      .find((c): c is DirectoryUnavailableError => c instanceof DirectoryUnavailableError && c.misconfigured);
    if (misconfigured !== undefined) {
      throw new DirectoryUnavailableError(`${misconfigured.message} (every LDAP server is down; ${next})`, {
        kind: misconfigured.kind,
        variable: misconfigured.variable,
      });
    }
    throw new DirectoryUnavailableError(`every LDAP server is down; ${next}`, { kind: 'unreachable' });
  }
  let lastError: DirectoryUnavailableError | undefined;
  for (const url of candidates) {
    try {
      const client = await connectTo(url, settings, authenticate);
      servers.succeeded(url);
      return client;
    } catch (error) {
      if (isAnswer(error)) {
        servers.succeeded(url); // it answered: up, whatever the answer was
        throw error;
      }
      lastError = classifyTransportError(error, servers.label(url));
      servers.failed(url, lastError.message, lastError);
    }
  }
  throw lastError ?? new DirectoryUnavailableError('no LDAP_URL', { kind: 'unreachable' });
}

/** Closes without waiting: an unbind on a dead socket would only wait for LDAP_TIMEOUT_MS. */
export function closeQuietly(client: Client): void {
  client.unbind().catch(() => {
    // The connection is being thrown away; an unbind that fails on a dead socket changes nothing.
  });
}
