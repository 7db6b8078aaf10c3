// The real service over the fake directory, listening on loopback: the set-up of the unit tests that
// drive the auth endpoint and the operator's port from outside.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditSink } from '../../src/audit-log.ts';
import { loadConfig } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import type { Directory, DirectoryObserver } from '../../src/directory/directory.ts';
import { createLoggers } from '../../src/logger.ts';
import { createService } from '../../src/service.ts';
import type { Service } from '../../src/service.ts';
import { LogCapture } from './log-capture.ts';

/** A valid configuration with nothing but what loadConfig requires, plus `env`. */
export function fakeConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    LDAP_URL: 'ldap://127.0.0.1:1', // never dialled: the directory is the fake
    LDAP_USER_BASE_DN: 'dc=example,dc=test',
    AUTH_PUSH_GROUPS: 'registry-pushers',
    AUTH_PULL_GROUPS: 'registry-users',
    ...env,
  });
}

export interface FakeService {
  readonly service: Service;
  /** The auth endpoint's server, for what a test counts on it (open connections). */
  readonly authServer: Server;
  /** Base URLs of the auth endpoint and of the operator's port. */
  readonly authBase: string;
  readonly metricsBase: string;
  /** The observer the service gave the directory: what LdapDirectory reports through. */
  readonly observer: DirectoryObserver;
  readonly log: AuditSink;
  readonly close: () => void;
}

/** Starts the service over `directory`, with `config` (default fakeConfig()) and logging to `log`. */
export async function serveFake<L extends AuditSink = LogCapture>(
  directory: Directory,
  { config = fakeConfig(), log }: { config?: Config; log?: L } = {},
): Promise<FakeService & { readonly log: L }> {
  const sink = log ?? (new LogCapture() as AuditSink as L);
  let observer: DirectoryObserver | undefined;
  const service = createService(config, createLoggers('info', sink), (o) => {
    observer = o;
    return directory;
  });
  if (observer === undefined) throw new Error('createService built no directory');
  const auth = createServer(service.authListener).listen(0, '127.0.0.1');
  const metrics = service.metricsApp.listen(0, '127.0.0.1');
  await Promise.all([once(auth, 'listening'), once(metrics, 'listening')]);
  const base = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    service,
    authServer: auth,
    authBase: base(auth),
    metricsBase: base(metrics),
    observer,
    log: sink,
    close: () => {
      // fetch keeps its connections for reuse: closed here, so the test process ends without waiting.
      for (const server of [auth, metrics]) {
        server.close();
        server.closeAllConnections();
      }
    },
  };
}
