// Starts the real sidecar (services/auth/dist/main.js, as the container does) on loopback ports.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, waitFor, waitForPort } from './process.ts';
import type { Server } from './process.ts';
import { watchLog } from './credentials.ts';

// The one Basic-header helper (credentials.ts), re-exported beside decide() for the sidecar's tests.
export { basic } from './credentials.ts';

// By package name, not by path. The stack does not declare the dependency: the sidecar's tests depend on
// the stack, and a declared edge back would make a cycle in the workspace graph (turbo.json orders the build).
export const SIDECAR_MAIN = fileURLToPath(import.meta.resolve('@registry-ldap-auth/auth'));

const FLUSH_MARKER = 'log-flush-marker';
let markers = 0;

export interface Sidecar {
  readonly url: string;
  readonly metricsUrl: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly logFile: string;
  /** The environment it runs with (PATH, its ports, and what the caller passed). */
  readonly env: Readonly<Record<string, string>>;
  readonly server: Server;
  /** The audit and operational log so far, one parsed JSON object per line. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Raw stdout + stderr so far. */
  logText(): Promise<string>;
  /** Resolves once every line the sidecar has logged so far is in logFile (it writes in batches). */
  flushed(): Promise<void>;
  /** Takes logFile off the log check, for an owner about to delete it (its logDir). */
  forgetLog(): void;
  stop(): Promise<void>;
}

/** `env` adds to (and overrides) a minimal environment; the parent's environment is not inherited. */
export async function startSidecar(
  env: Record<string, string>,
  options: {
    logDir?: string;
    port?: number;
    metricsPort?: number;
    /** Node's own options before the script, as the image's command line gives them. */
    nodeArgs?: readonly string[];
  } = {},
): Promise<Sidecar> {
  const port = options.port ?? (await freePort());
  const metricsPort = options.metricsPort ?? (await freePort());
  const dir = options.logDir ?? mkdtempSync(join(tmpdir(), 'sidecar-'));
  const logFile = join(dir, `sidecar-${port}.log`);
  const fullEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    ...env,
  };
  const server = startServer(
    'sidecar',
    process.execPath,
    [...(options.nodeArgs ?? []), SIDECAR_MAIN],
    logFile,
    {
      env: fullEnv,
    },
  );
  await waitForPort('127.0.0.1', port, 20_000, server);
  const url = `http://127.0.0.1:${port}`;
  // The sidecar writes its log in batches (every 100 ms, and on exit). A decision for a marker repository,
  // with credentials that do not parse so nothing reaches the directory or a lockout, is logged after
  // everything before it: once its line is in the file, so is every earlier one.
  const flushed = async (): Promise<void> => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return; // flushed on exit
    const marker = `${FLUSH_MARKER}-${++markers}`;
    await decide({ url }, 'GET', `/v2/${marker}/tags/list`, 'Basic !');
    await waitFor(
      async () => (await readFile(logFile, 'utf8')).includes(marker),
      10_000,
      `log line ${marker}`,
    );
  };
  const forgetLog = watchLog(logFile, { flush: flushed }); // kept after stop(): the log outlives the process
  const logText = async (): Promise<string> => {
    await flushed();
    const text = await readFile(logFile, 'utf8');
    return text
      .split('\n')
      .filter((line) => !line.includes(FLUSH_MARKER))
      .join('\n');
  };
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    port,
    metricsPort,
    logFile,
    env: fullEnv,
    server,
    logText,
    flushed,
    forgetLog,
    async logLines() {
      return (await logText())
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    stop: () => server.stop(),
  };
}

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
