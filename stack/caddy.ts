// Debian's Caddy running the reference config (caddy/Caddyfile) in front of the registry and the sidecar,
// on loopback, with its state in a temp dir, stopped by pid: the forward_auth counterpart of nginx.ts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, waitForPort } from './process.ts';
import type { Server } from './process.ts';
import { watchLog } from './credentials.ts';

export const CADDYFILE = fileURLToPath(new URL('../caddy/Caddyfile', import.meta.url));

export interface CaddyOptions {
  registryPort: number;
  /** The sidecar's decision port (`PORT`); the sidecar must trust 127.0.0.1 (its default TRUSTED_PROXIES). */
  authPort: number;
  tls: { cert: string; key: string };
  listenPort?: number;
}

export interface Caddy {
  readonly url: string;
  readonly port: number;
  /** JSON lines, one per request. */
  readonly accessLog: string;
  /** Caddy's own stdout + stderr. */
  readonly logFile: string;
  /** The access log so far, one parsed object per line. */
  accessLogEntries(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startCaddy(options: CaddyOptions): Promise<Caddy> {
  const dir = await mkdtemp(join(tmpdir(), 'caddy-'));
  const port = options.listenPort ?? (await freePort());
  const accessLog = join(dir, 'access.log');
  const logFile = join(dir, 'caddy.log');
  // The Caddyfile's {$NAME} placeholders; Caddy's data and config dirs (autosave.json) stay in `dir`.
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    SITE_ADDRESS: `https://127.0.0.1:${port}`,
    BIND: '127.0.0.1',
    TLS_CERT: options.tls.cert,
    TLS_KEY: options.tls.key,
    REGISTRY_UPSTREAM: `127.0.0.1:${options.registryPort}`,
    AUTH_UPSTREAM: `127.0.0.1:${options.authPort}`,
    ACCESS_LOG: accessLog,
  };
  const server: Server = startServer(
    'caddy',
    'caddy',
    ['run', '--config', CADDYFILE, '--adapter', 'caddyfile'],
    logFile,
    { env, cwd: dir },
  );
  try {
    await waitForPort('127.0.0.1', port, 15_000, server);
  } catch (error) {
    await server.stop();
    const log = await readFile(logFile, 'utf8').catch(() => '(no log)');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`caddy did not start: ${(error as Error).message}\n${log}`, { cause: error });
  }
  const unwatch = [watchLog(accessLog), watchLog(logFile)];
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    accessLog,
    logFile,
    async accessLogEntries() {
      const text = await readFile(accessLog, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async stop() {
      await server.stop();
      for (const forget of unwatch) forget();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
