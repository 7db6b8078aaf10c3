// The load generators: wrk for GET (single thread, keep-alive, latency histogram) and ApacheBench for HEAD,
// which wrk cannot do (it waits for a body a HEAD answer never has). Both against HTTPS, certificate not
// verified (the stack's own CA; correctness is checked separately before any load runs).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@registry-ldap-auth/stack/process';

export interface LoadOptions {
  connections: number;
  seconds: number;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p99ms: number;
  /** Answers outside 2xx (wrk counts 3xx too; none are expected here). */
  non2xx: number;
  /** Socket errors (wrk) or failed requests (ab: connect, receive, length, exceptions). */
  errors: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000 };

function headerArgs(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
}

function num(pattern: RegExp, text: string, fallback?: number): number {
  const match = pattern.exec(text)?.[1];
  if (match === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`load tool output has no ${String(pattern)}:\n${text}`);
  }
  return Number(match);
}

/** `wrk -t1` GET with keep-alive; p99 from `--latency`. */
export async function wrkGet(url: string, options: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency'];
  const { stdout } = await run('wrk', [...args, ...headerArgs(options.headers), url]);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)$/m.exec(stdout);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requests: num(/(\d+) requests in/, stdout),
    rps: num(/Requests\/sec:\s+([\d.]+)/, stdout),
    p99ms: p99 ? Number(p99[1]) * (UNIT_MS[p99[2] ?? ''] ?? NaN) : NaN,
    // wrk prints these lines only when the count is not zero.
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/, stdout, 0),
    errors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** `ab -k -i` (HEAD, HTTP/1.0 keep-alive) for `seconds`; p99 from the `-e` CSV (fractional ms). */
export async function abHead(url: string, options: LoadOptions): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ab-'));
  try {
    const csv = join(dir, 'percentiles.csv');
    // -t alone caps the run at 50000 requests; the -n after it lifts that cap so the time limit governs.
    const args = ['-k', '-i', '-q', `-c${options.connections}`, `-t${options.seconds}`, '-n10000000'];
    const { stdout } = await run('ab', [...args, '-e', csv, ...headerArgs(options.headers), url]);
    const p99 = /^99,([\d.]+)$/m.exec(await readFile(csv, 'utf8'));
    return {
      requests: num(/Complete requests:\s+(\d+)/, stdout),
      rps: num(/Requests per second:\s+([\d.]+)/, stdout),
      p99ms: p99 ? Number(p99[1]) : NaN,
      // ab prints this line only when the count is not zero.
      non2xx: num(/Non-2xx responses:\s+(\d+)/, stdout, 0),
      errors: num(/Failed requests:\s+(\d+)/, stdout),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
