// Two phases of the scale benchmark through nginx: a burst of many distinct users (cold, then the same users
// warm), counting what each costs the directory, and a soak of mixed traffic watching the sidecar for
// growth in memory, descriptors and directory connections.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { scaleUser } from './scale-directory.ts';
import type { Client, Reply } from './scale-load.ts';
import {
  basicAuth,
  connectionsTo,
  metricSum,
  percentile,
  pool,
  procStats,
  sampleConnections,
  statusCounts,
} from './scale-load.ts';
import { ldapOpsSince, logOffset } from './slapd-ops.ts';

export const MANIFEST = '/v2/bench/small/manifests/v1';
export const ACCEPT = { Accept: 'application/vnd.oci.image.manifest.v1+json' };

export interface BurstOptions {
  client: Client;
  slapd: Slapd;
  sidecar: Sidecar;
  users: number;
  /** Requests each user sends at once (a client fetching several things in parallel). */
  perUser: number;
  concurrency: number;
  deadline: number;
}

export interface BurstResult {
  users: number;
  requests: number;
  seconds: number;
  decisionsPerSecond: number;
  p50: number;
  p99: number;
  statuses: string;
  userBinds: number;
  serviceBinds: number;
  searches: number;
  /** Connections slapd accepted (its ACCEPT lines) in the window. */
  accepted: number;
  /** Highest number of established connections to slapd's port seen by `ss` (sampled every 50 ms). */
  peakConnections: number;
  samples: number;
  /** Decisions the sidecar made in the window, by source, from its duration histogram. */
  bySource: string;
}

const isHealthProbe = (s: { base: string; scope: number }): boolean =>
  s.scope === 0 && s.base === seed.peopleDn;

function bySource(before: string, after: string): string {
  const counts = (text: string): Map<string, number> =>
    new Map(
      [...text.matchAll(/^registry_auth_decision_duration_seconds_count\{source="(\w+)"\} (\d+)$/gm)].map(
        (m) => [m[1] ?? '?', Number(m[2])],
      ),
    );
  const b = counts(before);
  return [...counts(after)]
    .map(([source, n]) => [source, n - (b.get(source) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([source, n]) => `${source} ×${n}`)
    .join(', ');
}

const metrics = async (sidecar: Sidecar): Promise<string> =>
  (await fetch(`${sidecar.metricsUrl}/metrics`)).text();

/** Every user sends `perUser` manifest GETs at once; users go `concurrency` at a time. */
export async function burst(o: BurstOptions): Promise<BurstResult> {
  const port = Number(new URL(o.slapd.url).port);
  const offset = await logOffset(o.slapd.logFile);
  const metricsBefore = await metrics(o.sidecar);
  const sampler = sampleConnections('127.0.0.1', port, 50, o.deadline - performance.now());
  const replies: Reply[] = [];
  const started = performance.now();
  const done = await pool(o.users, o.concurrency, o.deadline, async (i) => {
    const { uid, password } = scaleUser(i);
    const headers = { ...ACCEPT, Authorization: basicAuth(uid, password) };
    const batch = await Promise.all(
      Array.from({ length: o.perUser }, () => o.client.send(MANIFEST, { headers })),
    );
    replies.push(...batch);
  });
  const seconds = (performance.now() - started) / 1000;
  const { peak, samples } = await sampler.stop();
  const ops = await ldapOpsSince(o.slapd.logFile, offset);
  const log = (await readFile(o.slapd.logFile)).subarray(offset).toString('utf8');
  const serviceBinds = ops.binds.filter((dn) => dn.toLowerCase() === seed.service.dn.toLowerCase()).length;
  const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
  return {
    users: done,
    requests: replies.length,
    seconds,
    decisionsPerSecond: replies.length / seconds,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    statuses: statusCounts(replies),
    userBinds: ops.binds.length - serviceBinds,
    serviceBinds,
    searches: ops.searches.filter((s) => !isHealthProbe(s)).length,
    accepted: [...log.matchAll(/ ACCEPT from /g)].length,
    peakConnections: peak,
    samples,
    bySource: bySource(metricsBefore, await metrics(o.sidecar)),
  };
}

export interface SoakOptions {
  client: Client;
  slapd: Slapd;
  sidecar: Sidecar;
  users: number;
  seconds: number;
  rps: number;
  concurrency: number;
  /** Seconds between samples of memory, descriptors and connections. */
  sampleEvery: number;
}

export interface SoakSample {
  at: number;
  rssBytes: number;
  fds: number;
  ldapConnections: number;
  heapUsedBytes: number;
}

export interface SoakResult {
  requests: number;
  statuses: string;
  errors: number;
  samples: SoakSample[];
  /** After the traffic stopped and the sidecar sat idle for a moment. */
  idle: SoakSample;
  /** slapd's ACCEPT and `closed` lines in the window: opened minus closed is what stayed open. */
  ldapOpened: number;
  ldapClosed: number;
}

async function sample(o: SoakOptions, at: number): Promise<SoakSample> {
  const pid = o.sidecar.server.child.pid ?? 0;
  const { rssBytes, fds } = await procStats(pid);
  const ldapConnections = await connectionsTo('127.0.0.1', Number(new URL(o.slapd.url).port));
  const heapUsedBytes = metricSum(await metrics(o.sidecar), 'nodejs_heap_size_used_bytes');
  return { at, rssBytes, fds, ldapConnections, heapUsedBytes };
}

// Out of every 20 requests: 12 manifest GETs, 2 HEADs, 2 `GET /v2/` by random generated users (cached,
// or verified again once their entry's TTL passed), 1 push attempt (403: not a pusher), 1 request without
// credentials (401), 2 wrong passwords (401) from one of 4 other loopback addresses, which the per-address
// lockout soon locks (never the address the others come from), so its state is exercised too.
function soakRequest(o: SoakOptions, k: number): Promise<Reply> {
  const { uid, password } = scaleUser(Math.floor(Math.random() * o.users));
  const auth = (pw: string) => ({ Authorization: basicAuth(uid, pw) });
  switch (k % 20) {
    case 12:
    case 13:
      return o.client.send(MANIFEST, { method: 'HEAD', headers: { ...ACCEPT, ...auth(password) } });
    case 14:
    case 15:
      return o.client.send('/v2/', { headers: auth(password) });
    case 16:
      return o.client.send('/v2/bench/small/blobs/uploads/', { method: 'POST', headers: auth(password) });
    case 17:
      return o.client.send('/v2/', {});
    case 18:
    case 19:
      return o.client.send('/v2/', { headers: auth(`wrong-${k}`), localAddress: `127.0.0.${2 + (k % 4)}` });
    default:
      return o.client.send(MANIFEST, { headers: { ...ACCEPT, ...auth(password) } });
  }
}

/** Paced mixed traffic for `seconds`, memory/descriptors/connections sampled every `sampleEvery` seconds. */
export async function soak(o: SoakOptions): Promise<SoakResult> {
  const offset = await logOffset(o.slapd.logFile);
  const samples = [await sample(o, 0)];
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const state = { stop: false }; // set once the traffic ends; read by the sampling loop
  const stopped = (): boolean => state.stop; // a call: not narrowed across the await below
  const sampling = (async () => {
    for (let n = 1; !stopped() && performance.now() < deadline + 5000; n++) {
      await sleep(Math.max(0, started + n * o.sampleEvery * 1000 - performance.now()));
      if (!stopped()) samples.push(await sample(o, (performance.now() - started) / 1000));
    }
  })();
  const replies: Reply[] = [];
  let errors = 0;
  await pool(Math.ceil(o.seconds * o.rps), o.concurrency, deadline, async (k) => {
    await sleep(Math.max(0, started + (k * 1000) / o.rps - performance.now()));
    try {
      const reply = await soakRequest(o, k);
      // Latencies are not what a soak measures: keep only the status.
      replies.push({ status: reply.status, ms: 0 });
    } catch {
      errors++; // counted and reported: a soak that loses requests says so instead of stopping
    }
  });
  state.stop = true;
  await sampling;
  await sleep(2000); // idle: in-flight directory work and keep-alive timers settle
  const idle = await sample(o, (performance.now() - started) / 1000);
  const log = (await readFile(o.slapd.logFile)).subarray(offset).toString('utf8');
  return {
    requests: replies.length,
    statuses: statusCounts(replies),
    errors,
    samples,
    idle,
    ldapOpened: [...log.matchAll(/ ACCEPT from /g)].length,
    ldapClosed: [...log.matchAll(/ fd=\d+ closed/g)].length,
  };
}
