// Starts the real sidecar (services/auth/dist/main.js, as the container does) on loopback ports.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, waitForPort } from './process.ts';
import type { Server } from './process.ts';

// By package name, not by path. The stack does not declare the dependency: the sidecar's tests depend on
// the stack, and a declared edge back would make a cycle in the workspace graph (turbo.json orders the build).
export const SIDECAR_MAIN = fileURLToPath(import.meta.resolve('@registry-ldap-auth/auth'));

export interface Sidecar {
  readonly url: string;
  readonly metricsUrl: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly logFile: string;
  readonly server: Server;
  /** The audit and operational log so far, one parsed JSON object per line. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Raw stdout + stderr so far. */
  logText(): Promise<string>;
  stop(): Promise<void>;
}

/** `env` adds to (and overrides) a minimal environment; the parent's environment is not inherited. */
export async function startSidecar(
  env: Record<string, string>,
  options: { logDir?: string } = {},
): Promise<Sidecar> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const dir = options.logDir ?? mkdtempSync(join(tmpdir(), 'sidecar-'));
  const logFile = join(dir, `sidecar-${port}.log`);
  const server = startServer('sidecar', process.execPath, [SIDECAR_MAIN], logFile, {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      ...env,
    },
  });
  await waitForPort('127.0.0.1', port, 20_000, server);
  // The sidecar writes its log in batches, at least every 100 ms (services/auth/src/main.ts).
  const logText = async (): Promise<string> => {
    if (server.child.exitCode === null) await sleep(150);
    return readFile(logFile, 'utf8');
  };
  return {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    port,
    metricsPort,
    logFile,
    server,
    logText,
    async logLines() {
      return (await logText())
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    stop: () => server.stop(),
  };
}

export const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/** Asks the decision endpoint the way nginx does. */
export function decide(
  sidecar: Pick<Sidecar, 'url'>,
  method: string,
  uri: string,
  authorization?: string,
): Promise<Response> {
  return fetch(`${sidecar.url}/auth`, {
    headers: {
      'X-Original-Method': method,
      'X-Original-URI': uri,
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
  });
}
