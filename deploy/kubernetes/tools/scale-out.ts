// How many LDAP binds a scaled-out deployment costs: replays a trace of pushes (N users, M layers each,
// R replicas, cache TTL) and counts the binds for two layouts:
//   per-pod   every front pod runs nginx + its own sidecar (deploy/kubernetes as shipped); the Service
//             spreads TCP connections over the pods, and each pod's sidecar caches on its own;
//   hashed    one sidecar Deployment behind nginx, `hash $http_authorization consistent`: every request
//             with the same credentials reaches the same sidecar, whichever nginx took the connection.
// Usage: node tools/scale-out.ts [--users 200] [--pushes-per-hour 3] [--layers 10] [--replicas 3]
//        [--ttl 300] [--hours 2] [--parallel 5] [--seed 1]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

export interface Scenario {
  /** Users who push during the trace, each with their own credentials. */
  readonly users: number;
  /** Pushes per user per hour (Poisson arrivals). */
  readonly pushesPerHour: number;
  /** Layers per pushed image; each is a HEAD, POST, PATCH, PUT (four decisions). */
  readonly layers: number;
  /** Front pods (per-pod) or sidecar pods (hashed). */
  readonly replicas: number;
  /** CACHE_TTL_SECONDS: a verified credential is reused this long after its bind. */
  readonly ttlSeconds: number;
  readonly hours: number;
  /** Layers a client uploads at once, each on its own connection (docker's max-concurrent-uploads: 5). */
  readonly parallelUploads: number;
  readonly seed: number;
}

export interface Result {
  readonly requests: number;
  readonly binds: { readonly perPod: number; readonly hashed: number };
  /** Binds per minute over the trace, and in its busiest minute. */
  readonly perMinute: {
    readonly perPod: { readonly mean: number; readonly peak: number };
    readonly hashed: { readonly mean: number; readonly peak: number };
  };
}

/** mulberry32: a small seeded generator, so a scenario always replays the same trace. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A request as the sidecar sees it: when, whose credentials, and which TCP connection carried it. */
interface Request {
  readonly at: number;
  readonly user: number;
  readonly connection: number;
}

/**
 * The trace: each push opens one connection for the ping and the manifest and `parallelUploads`
 * connections for the layers (a new client process per push, as in CI), spread over a few seconds.
 */
export function trace(s: Scenario): Request[] {
  const next = random(s.seed);
  const requests: Request[] = [];
  const end = s.hours * 3600;
  let connection = 0;
  for (let user = 0; user < s.users; user++) {
    // Exponential gaps: Poisson arrivals at pushesPerHour.
    for (let at = (-Math.log(1 - next()) * 3600) / s.pushesPerHour; at < end;) {
      const main = connection++;
      requests.push({ at, user, connection: main }, { at, user, connection: main }); // GET /v2/: 401, then 200
      const lanes = Math.max(1, Math.min(s.parallelUploads, s.layers));
      const first = connection;
      connection += lanes;
      for (let layer = 0; layer < s.layers; layer++) {
        const lane = first + (layer % lanes);
        const t = at + 0.1 + Math.floor(layer / lanes) * 0.5;
        for (let i = 0; i < 4; i++) requests.push({ at: t + i * 0.01, user, connection: lane });
      }
      requests.push({ at: at + 0.2 + Math.ceil(s.layers / lanes) * 0.5, user, connection: main }); // manifest
      at += (-Math.log(1 - next()) * 3600) / s.pushesPerHour;
    }
  }
  return requests.sort((x, y) => x.at - y.at);
}

/** Counts binds: a request binds when the sidecar it reaches has no fresh entry for its user. */
function countBinds(requests: readonly Request[], sidecarOf: (r: Request) => number, ttl: number): number[] {
  const expires = new Map<string, number>();
  const binds: number[] = [];
  for (const r of requests) {
    const key = `${sidecarOf(r)}:${r.user}`;
    if ((expires.get(key) ?? -Infinity) > r.at) continue;
    expires.set(key, r.at + ttl);
    binds.push(r.at);
  }
  return binds;
}

function perMinute(binds: readonly number[], hours: number): { mean: number; peak: number } {
  const minutes = new Array<number>(Math.ceil(hours * 60) + 1).fill(0);
  for (const at of binds) minutes[Math.floor(at / 60)] = (minutes[Math.floor(at / 60)] ?? 0) + 1;
  return { mean: binds.length / (hours * 60), peak: Math.max(...minutes) };
}

export function simulate(s: Scenario): Result {
  const requests = trace(s);
  const next = random(s.seed ^ 0x9e3779b9);
  // per-pod: kube-proxy picks a pod per connection, uniformly at random; the connection stays there.
  const podOf = new Map<number, number>();
  const perPod = countBinds(
    requests,
    (r) => {
      let pod = podOf.get(r.connection);
      if (pod === undefined) {
        pod = Math.floor(next() * s.replicas);
        podOf.set(r.connection, pod);
      }
      return pod;
    },
    s.ttlSeconds,
  );
  // hashed: the credentials pick the sidecar (ketama over a stable set of pods).
  const hashed = countBinds(requests, (r) => r.user % s.replicas, s.ttlSeconds);
  return {
    requests: requests.length,
    binds: { perPod: perPod.length, hashed: hashed.length },
    perMinute: { perPod: perMinute(perPod, s.hours), hashed: perMinute(hashed, s.hours) },
  };
}

/**
 * The closed form for a user who opens k connections within one TTL: each lands on one of R pods at
 * random, so the pods that must bind are R·(1 − (1 − 1/R)^k) on average, at most min(k, R); hashed
 * costs 1. Per minute, multiply by the users active in a TTL and divide by the TTL in minutes.
 */
export function expectedPodsTouched(replicas: number, connections: number): number {
  return replicas * (1 - (1 - 1 / replicas) ** connections);
}

const DEFAULTS: Scenario = {
  users: 200,
  pushesPerHour: 3,
  layers: 10,
  replicas: 3,
  ttlSeconds: 300,
  hours: 2,
  parallelUploads: 5,
  seed: 1,
};

function main(): void {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      'pushes-per-hour': { type: 'string' },
      layers: { type: 'string' },
      replicas: { type: 'string' },
      ttl: { type: 'string' },
      hours: { type: 'string' },
      parallel: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const num = (v: string | undefined, d: number): number => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}`);
    return n;
  };
  const s: Scenario = {
    users: num(values.users, DEFAULTS.users),
    pushesPerHour: num(values['pushes-per-hour'], DEFAULTS.pushesPerHour),
    layers: num(values.layers, DEFAULTS.layers),
    replicas: num(values.replicas, DEFAULTS.replicas),
    ttlSeconds: num(values.ttl, DEFAULTS.ttlSeconds),
    hours: num(values.hours, DEFAULTS.hours),
    parallelUploads: num(values.parallel, DEFAULTS.parallelUploads),
    seed: num(values.seed, DEFAULTS.seed),
  };
  const r = simulate(s);
  const k = Math.min(s.parallelUploads, s.layers) + 1;
  const out = [
    `${s.users} users, ${s.pushesPerHour} pushes/user/hour of ${s.layers} layers, ${s.replicas} replicas, ` +
      `TTL ${s.ttlSeconds} s, ${s.hours} h: ${r.requests} decisions`,
    `LDAP binds per minute   mean    peak   total`,
    `  per-pod sidecars   ${r.perMinute.perPod.mean.toFixed(1).padStart(7)} ${String(r.perMinute.perPod.peak).padStart(7)} ${String(r.binds.perPod).padStart(7)}`,
    `  hashed sidecars    ${r.perMinute.hashed.mean.toFixed(1).padStart(7)} ${String(r.perMinute.hashed.peak).padStart(7)} ${String(r.binds.hashed).padStart(7)}`,
    `  ratio              ${(r.binds.perPod / r.binds.hashed).toFixed(2).padStart(7)}   (formula, one push per TTL: ` +
      `${expectedPodsTouched(s.replicas, k).toFixed(2)} pods bind for ${k} connections)`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
