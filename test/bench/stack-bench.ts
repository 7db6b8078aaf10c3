// `npm run bench`: the whole stack measured through nginx over HTTPS on 127.0.0.1. Four nginx variants in
// one process share one registry — no auth, nginx `auth_basic` with bcrypt, the reference config with
// the sidecar (credentials warm in its cache), and the reference config with auth_request answered by a
// node:http server that says 200 to everything (the floor of any Node.js auth service on this machine) —
// measured in interleaved rounds; then the LDAP cost of one cold many-layer push. It reports targets met
// or missed and fails only when it could not measure.
// Usage: node test/bench/stack-bench.ts [--seconds 3] [--rounds 3] [--connections 16] [--layers 20]
// The sidecar runs Node as the container image does (its NODE_OPTIONS and command-line options);
// SIDECAR_NODE_OPTIONS and SIDECAR_NODE_ARGS replace them, e.g. to profile it under this load:
//   SIDECAR_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCa, issueServerCert, NO_STDIN } from '@registry-ldap-auth/stack/certs';
import { buildOciImage, MEDIA_TYPES } from '@registry-ldap-auth/stack/oci-image';
import { run } from '@registry-ldap-auth/stack/process';
import { startHttp200 } from '@registry-ldap-auth/stack/http-200';
import { startRegistry } from '@registry-ldap-auth/stack/registry';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { createSkopeo } from '@registry-ldap-auth/stack/skopeo';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';
import { measureColdPush } from './cold-push.ts';
import { abHead, wrkGet } from './load.ts';
import type { LoadOptions, LoadResult } from './load.ts';
import { startVariantNginx, VARIANTS } from './nginx-variants.ts';
import type { Variant } from './nginx-variants.ts';
import { LABELS, ratioTable, roundLine, throughputTable } from './report.ts';
import type { EndpointResults } from './report.ts';
import { countByDn } from './slapd-ops.ts';
import { boundedRun } from './bounded-run.ts';
import { sidecarNodeEnv } from './sidecar-node-options.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    layers: { type: 'string', default: '20' },
  },
});
function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer 1..${max}`);
  return n;
}
const SECONDS = positive('seconds', values.seconds, 30);
const ROUNDS = positive('rounds', values.rounds, 10);
const CONNECTIONS = positive('connections', values.connections, 256);
const LAYERS = positive('layers', values.layers, 100);
const LAYER_BYTES = 64 * 1024;
const COLD_TARGETS = { binds: 2, searches: 3 } as const;
const atMost = (value: number, target: number): string => (value <= target ? 'met' : 'MISSED');
// A hard stop whatever hangs: set-up and the cold push take well under a minute, each load run its
// duration plus tool start-up and TLS handshakes.
const BUDGET_MS = 90_000 + ROUNDS * 3 * VARIANTS.length * (SECONDS + 2) * 1000;

const { alice } = seed.users;
const AUTHORIZATION = basic(alice.uid, alice.password);
const MANIFEST = '/v2/bench/small/manifests/v1';
const ACCEPT = { Accept: MEDIA_TYPES.manifest };

// Undone in reverse order on success, failure, Ctrl-C or the time budget; at most once.
const { undo: onCleanup, cleanup } = boundedRun(BUDGET_MS, `${BUDGET_MS / 1000} s`);

/** One request through nginx with TLS verified against our CA: the status, to check each variant works. */
function status(url: string, method: string, headers: Record<string, string>, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.once('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.once('error', reject);
    req.end();
  });
}

/** Every variant serves the image with credentials; the two with auth refuse without them. */
async function checkVariants(urls: Record<Variant, string>, ca: Buffer): Promise<void> {
  const auth = { Authorization: AUTHORIZATION };
  for (const v of VARIANTS) {
    const got = [
      await status(`${urls[v]}/v2/`, 'GET', auth, ca),
      await status(`${urls[v]}${MANIFEST}`, 'GET', { ...auth, ...ACCEPT }, ca),
      await status(`${urls[v]}${MANIFEST}`, 'HEAD', { ...auth, ...ACCEPT }, ca),
      await status(`${urls[v]}/v2/`, 'GET', {}, ca),
    ];
    const want = [200, 200, 200, v === 'none' || v === 'floor' ? 200 : 401];
    if (got.join() !== want.join()) {
      throw new Error(`${LABELS[v]}: GET /v2/, GET/HEAD manifest, anonymous GET /v2/ answered ${got.join()}`);
    }
  }
}

interface Endpoint {
  name: string;
  path: string;
  headers: Record<string, string>;
  tool: (url: string, options: LoadOptions) => Promise<LoadResult>;
}

const ENDPOINTS: readonly Endpoint[] = [
  { name: 'GET /v2/', path: '/v2/', headers: {}, tool: wrkGet },
  { name: 'GET manifest', path: MANIFEST, headers: ACCEPT, tool: wrkGet },
  { name: 'HEAD manifest', path: MANIFEST, headers: ACCEPT, tool: abHead },
];

// Linux clock ticks per second (USER_HZ), the unit of utime and stime in /proc/<pid>/stat.
const USER_HZ = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (fields 14 and 15). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** Rounds × endpoints × variants, the variant order rotated each round so none always runs first. */
async function measure(
  urls: Record<Variant, string>,
  pids: { sidecar: number; floor: number },
): Promise<{
  results: Map<string, EndpointResults>;
  invalid: number;
  /**
   * CPU seconds and requests of the auth process over all `sidecar` and all `floor` runs: what a decision
   * costs against what a bare 200 costs, less noisy than req/s.
   */
  cpu: Record<'sidecar' | 'floor', { seconds: number; requests: number }>;
}> {
  const results = new Map<string, EndpointResults>(
    ENDPOINTS.map((e) => [e.name, { none: [], bcrypt: [], sidecar: [], floor: [] }]),
  );
  let invalid = 0;
  const cpu = { sidecar: { seconds: 0, requests: 0 }, floor: { seconds: 0, requests: 0 } };
  for (let round = 1; round <= ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length] ?? 'none');
    for (const endpoint of ENDPOINTS) {
      const byVariant: Partial<Record<Variant, LoadResult>> = {};
      for (const v of order) {
        // The same request bytes for every variant: `no auth` gets (and ignores) the header too.
        const headers = { ...endpoint.headers, Authorization: AUTHORIZATION };
        const options = { connections: CONNECTIONS, seconds: SECONDS, headers };
        const auth = v === 'sidecar' || v === 'floor' ? v : undefined;
        const cpuBefore = auth ? await cpuSeconds(pids[auth]) : 0;
        const result = await endpoint.tool(`${urls[v]}${endpoint.path}`, options);
        if (auth) {
          cpu[auth].seconds += (await cpuSeconds(pids[auth])) - cpuBefore;
          cpu[auth].requests += result.requests;
        }
        if (result.non2xx + result.errors > 0) invalid++;
        byVariant[v] = result;
        results.get(endpoint.name)?.[v].push(result);
      }
      console.log(roundLine(endpoint.name, round, byVariant));
    }
  }
  return { results, invalid, cpu };
}

async function main(): Promise<number> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'stack-bench-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  // nginx's workers run as `nobody` when we are root: their directory (temp paths, htpasswd) is 0755.
  const nginxDir = await mkdtemp(join(tmpdir(), 'stack-bench-nginx-'));
  onCleanup(() => rm(nginxDir, { recursive: true, force: true }));

  const pki = await createCa(join(dir, 'ca'), 'stack-bench CA');
  const tls = await issueServerCert(pki, 'nginx', { dns: ['localhost'], ips: ['127.0.0.1'], outDir: dir });
  const ca = await readFile(pki.caCert);
  const htpasswd = join(nginxDir, 'htpasswd');
  // The Docker docs recipe; htpasswd's default bcrypt cost (5).
  await run('htpasswd', ['-B', '-b', '-c', htpasswd, alice.uid, alice.password], NO_STDIN);
  await chmod(htpasswd, 0o644);

  const slapd = await startSlapd();
  onCleanup(() => slapd.destroy());
  const registry = await startRegistry();
  onCleanup(() => registry.stop());
  const node = await sidecarNodeEnv();
  console.log(node.line);
  const sidecar = await startSidecar(
    { ...sidecarEnvFor(slapd), ...node.env },
    { logDir: dir, nodeArgs: node.args },
  );
  onCleanup(() => sidecar.stop());
  const floor = await startHttp200('node:http 200', join(dir, 'floor.log'));
  onCleanup(() => floor.stop());
  const nginx = await startVariantNginx({
    dir: nginxDir,
    registryPort: registry.port,
    authPort: sidecar.port,
    floorAuthPort: floor.port,
    tls,
    htpasswd,
  });
  onCleanup(() => nginx.stop());
  const skopeo = await createSkopeo(pki.caCert);
  onCleanup(() => skopeo.destroy());

  // The target of the manifest requests, pushed as alice through the sidecar variant: that also puts her
  // credentials in the sidecar's cache.
  const small = await buildOciImage(join(dir, 'small-image'), { tag: 'v1', layerSizes: [4096] });
  const pushed = await skopeo.push(small, `127.0.0.1:${nginx.ports.sidecar}/bench/small:v1`, {
    username: alice.uid,
    password: alice.password,
  });
  if (pushed.code !== 0) throw new Error(`pushing the small image failed:\n${pushed.stderr}`);
  await checkVariants(nginx.urls, ca);

  // Warm-up: JIT of the sidecar, TLS session cache, keepalive pools; not measured.
  for (const v of VARIANTS) {
    const headers = { Authorization: AUTHORIZATION };
    await wrkGet(`${nginx.urls[v]}/v2/`, { connections: CONNECTIONS, seconds: 1, headers });
  }

  console.log(
    `\nstack benchmark through nginx (TLS, 127.0.0.1), ${ROUNDS} interleaved rounds × ${SECONDS} s per run, ` +
      `${CONNECTIONS} keep-alive connections; GET: wrk -t1, HEAD: ab -k -i; node ${process.version}\n`,
  );
  const pids = { sidecar: sidecar.server.child.pid ?? 0, floor: floor.pid };
  const { results, invalid, cpu } = await measure(nginx.urls, pids);
  console.log(`\nmedians over ${ROUNDS} rounds:\n${throughputTable(results)}`);
  console.log(`\nthroughput ratios (median of per-round ratios):\n${ratioTable(results)}`);
  const perRequest = (c: { seconds: number; requests: number }): number => (c.seconds / c.requests) * 1e6;
  const perDecision = perRequest(cpu.sidecar);
  console.log(
    `\nsidecar CPU per decision through nginx (cached, audit line included): ${perDecision.toFixed(0)} µs ` +
      `over ${cpu.sidecar.requests} requests, i.e. ${((perDecision * 1000) / 1e4).toFixed(0)} % of one core ` +
      `per 1000 req/s; the node:http 200 floor: ${perRequest(cpu.floor).toFixed(0)} µs per request over ` +
      `${cpu.floor.requests}; the registry and nginx share the same 2 cores`,
  );
  if (invalid > 0) console.log(`\nINVALID: ${invalid} runs had non-2xx answers or errors (see the rounds)`);
  else console.log('\nevery load run: non-2xx 0, errors 0');

  const cold = await measureColdPush({
    slapd,
    registryPort: registry.port,
    tls,
    skopeo,
    dir,
    layers: LAYERS,
    layerBytes: LAYER_BYTES,
  });
  const binds = cold.push.binds.length;
  const searches = cold.push.searches.length;
  console.log(
    [
      '',
      `cold push: ${LAYERS} layers × ${LAYER_BYTES / 1024} KiB as alice through nginx (reference config), ` +
        'fresh sidecar (empty cache, LDAP_NESTED_GROUPS=true), skopeo blob-info cache cleared',
      `  skopeo exit ${cold.exitCode} in ${(cold.durationMs / 1000).toFixed(1)} s`,
      `  HTTP requests (nginx access log): ${cold.httpRequests} (${cold.statuses.join(', ')})`,
      `  auth subrequests (sidecar decisions): ${cold.decisions.total} ` +
        `(by source of the verdict: ${cold.decisions.bySource.join(', ')})`,
      `  LDAP binds during the push: ${binds} (target ≤ ${COLD_TARGETS.binds}: ` +
        `${atMost(binds, COLD_TARGETS.binds)})  ${countByDn(cold.push.binds).join(', ')}`,
      `  LDAP searches during the push: ${searches} (target ≤ ${COLD_TARGETS.searches}: ` +
        `${atMost(searches, COLD_TARGETS.searches)})`,
      ...cold.push.searches.map((s) => `    base="${s.base}" scope=${s.scope} filter="${s.filter}"`),
      ...(cold.healthSearches.length > 0
        ? [`  (+ ${cold.healthSearches.length} periodic health-probe searches in that window, not counted)`]
        : []),
      `  before the push, the fresh sidecar's start-up: binds ${countByDn(cold.startup.binds).join(', ') || 'none'}; ` +
        `searches ${cold.startup.searches.length}`,
    ].join('\n'),
  );
  if (cold.exitCode !== 0) console.log(`  the push FAILED:\n${cold.stderr}`);

  console.log(
    `\nfinished in ${((performance.now() - started) / 1000).toFixed(0)} s. Two cores are shared by the load ` +
      'generator, nginx, the registry, slapd and the sidecar (and whatever else runs): differences under ' +
      '~20 % in a single round are noise.',
  );
  return invalid > 0 || cold.exitCode !== 0 ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`stack benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanup();
}
process.exit(code);
