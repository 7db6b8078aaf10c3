// The scale benchmark's instruments: a bounded pool of HTTP(S) requests with per-request latency, the
// resident memory and open descriptors of a process (/proc), and the number of TCP connections to a
// port (ss, sampled). Every loop here stops on a count and on a deadline, whichever comes first.
import { readFile, readdir } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '@registry-ldap-auth/stack/process';

export interface Reply {
  status: number;
  ms: number;
}

export interface Client {
  send(
    path: string,
    options: { method?: string; headers?: Record<string, string>; localAddress?: string },
  ): Promise<Reply>;
  close(): void;
}

/** A keep-alive client for one origin; HTTPS verified against `ca`. A request that takes 30 s fails. */
export function createClient(origin: string, connections: number, ca?: Buffer): Client {
  const https = origin.startsWith('https:');
  const agentOptions = { keepAlive: true, maxSockets: connections, maxFreeSockets: connections };
  const agent = https
    ? new HttpsAgent({ ...agentOptions, ...(ca ? { ca } : {}) })
    : new HttpAgent(agentOptions);
  const send = https ? httpsRequest : httpRequest;
  return {
    send(path, options) {
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const req = send(
          `${origin}${path}`,
          {
            method: options.method ?? 'GET',
            headers: options.headers ?? {},
            // A source address of its own means a keep-alive socket of its own: bypass the pool for it.
            ...(options.localAddress === undefined
              ? { agent }
              : { agent: false, localAddress: options.localAddress, ...(ca ? { ca } : {}) }),
            timeout: 30_000,
          },
          (res) => {
            res.resume();
            res.once('end', () => {
              resolve({ status: res.statusCode ?? 0, ms: performance.now() - started });
            });
          },
        );
        req.once('timeout', () => req.destroy(new Error(`${path} timed out`)));
        req.once('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight; stops starting new ones at
 * `deadline` (performance.now() ms). Resolves with how many were started.
 */
export async function pool(
  count: number,
  concurrency: number,
  deadline: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return next;
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);

/** `status ×count`, sorted by status. */
export function statusCounts(replies: readonly Reply[]): string {
  const counts = new Map<number, number>();
  for (const r of replies) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s} ×${n}`)
    .join(', ');
}

export interface ProcStats {
  rssBytes: number;
  fds: number;
}

/** VmRSS and the number of open descriptors of `pid` (Linux /proc). */
export async function procStats(pid: number): Promise<ProcStats> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  return { rssBytes: kb * 1024, fds: (await readdir(`/proc/${pid}/fd`)).length };
}

/** Established TCP connections whose remote end is 127.0.0.1:`port` (ss; `-H` no header line). */
export async function connectionsTo(host: string, port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Htn', 'state', 'established', 'dst', `${host}:${port}`]);
  return stdout.split('\n').filter((l) => l.trim() !== '').length;
}

export interface ConnectionSampler {
  /** Stops sampling; resolves with the highest count seen and the number of samples. */
  stop(): Promise<{ peak: number; samples: number }>;
}

/** Samples connectionsTo every `intervalMs` until stopped (or `maxMs` passed: it never runs unbounded). */
export function sampleConnections(
  host: string,
  port: number,
  intervalMs: number,
  maxMs: number,
): ConnectionSampler {
  const state = { stopped: false, peak: 0, samples: 0 };
  const until = performance.now() + maxMs;
  const loop = (async () => {
    while (!state.stopped && performance.now() < until) {
      state.peak = Math.max(state.peak, await connectionsTo(host, port));
      state.samples++;
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      state.stopped = true;
      await loop;
      return { peak: state.peak, samples: state.samples };
    },
  };
}

/** Sums a Prometheus text-format metric over all its series. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * `Basic …` (RFC 7617) for generated users. Not the stack's basic(): that one remembers every pair for the
 * tests' log check, which 100 000 users would only bloat; the sidecar's audit line carries no password.
 */
export const basicAuth = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
