// Child servers for tests, the demo and the benchmarks: started in the foreground as our own children,
// bound to loopback (or a test namespace), logged to a file, and stopped by pid.
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Server>();

/** Spawns `command` with stdout and stderr appended to `logFile`. */
export function startServer(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
  options: SpawnOptions = {},
): Server {
  // The child writes its log straight to the file: no parent process copying lines in between (it would
  // compete for CPU in benchmarks), and the log survives this process.
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], ...options });
  closeSync(fd);
  const exited = once(child, 'exit');
  const server: Server = {
    name,
    child,
    logFile,
    async stop(graceMs = 5000) {
      running.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(server);
  return server;
}

/** Stops every server this process started that is still running (for `after` hooks and Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** A TCP port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, host);
  await once(srv, 'listening');
  const address = srv.address();
  srv.close();
  await once(srv, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Waits for an event that can only be observed by looking: polls `condition` every `intervalMs` until it
 * holds, and rejects naming `what` once `timeoutMs` has passed.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs` or if `server` exits. */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs = 15_000,
  server?: Server,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server && server.child.exitCode !== null) {
      throw new Error(`${server.name} exited with ${server.child.exitCode} (log: ${server.logFile})`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${server?.name ?? 'server'} did not listen on ${host}:${port} within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

export interface RunOptions extends SpawnOptions {
  /** Written to stdin; without it stdin is /dev/null (a write to a child that already exited raises EPIPE). */
  input?: string;
  /** SIGKILL after this long (default: no limit); `timedOut` then says so. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * The one way the stack and the tests run a command to completion: reports how it ended instead of
 * throwing, so tests can assert refusals (skopeo, the sidecar's exit code). `run` throws instead.
 */
export function execute(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const { input, timeoutMs, ...spawnOptions } = options;
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...spawnOptions,
  });
  child.stdin?.on('error', () => {
    // The child may exit before reading all its input; its exit code says whether that mattered.
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.end(input);
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr, durationMs: performance.now() - started });
    });
  });
}

/** Runs a command to completion; rejects with its output when it exits non-zero or times out. */
export async function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const result = await execute(command, args, options);
  if (result.code !== 0) {
    const how = result.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : `exited ${result.code ?? result.signal}`;
    throw new Error(`${command} ${args.join(' ')} ${how}\n${result.stdout}\n${result.stderr}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

/** A fixed port held by someone else would make waitForPort() succeed against the wrong server. */
export async function assertPortFree(port: number): Promise<void> {
  const probeServer = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probeServer.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`127.0.0.1:${port} is already in use (${error.code ?? error.message})`));
    });
    probeServer.listen(port, '127.0.0.1', () => {
      probeServer.close(() => {
        resolve();
      });
    });
  });
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined; rejects after
 * `timeoutMs` with `what` and the last value seen (for "wait until Prometheus says firing").
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 250, describe = (): string => '' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const last = describe();
      throw new Error(`${what}: not within ${timeoutMs} ms${last === '' ? '' : ` (last: ${last})`}`);
    }
    await sleep(intervalMs);
  }
}
