// The compose deployment (compose/docker-compose.yml as shipped) on this machine's container runtime:
// podman behind its Docker-compatible API, driven by docker-compose, with compose/local/'s override for
// the images that cannot be pulled here. Used by `npm run compose:up` / `compose:down` and the tests.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { assertPortFree, execute, run, startServer, waitFor } from './process.ts';
import type { RunResult, Server } from './process.ts';
import { sendRequest } from './https-request.ts';
import type { StackReply, StackRequestOptions } from './https-request.ts';

export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
export const COMPOSE_DIR = join(REPO_DIR, 'compose');
export const CA_FILE = join(COMPOSE_DIR, 'certs', 'ca.crt');
/** The project name of `npm run compose:up` / `compose:down`. */
export const DEFAULT_PROJECT = 'registry-ldap-auth';
const FILES = ['-f', 'docker-compose.yml', '-f', 'local/docker-compose.local.yml'];
const CORE_SERVICES = ['nginx', 'registry', 'auth', 'openldap'] as const;
export type Service = (typeof CORE_SERVICES)[number] | 'prometheus';

export interface ComposeOptions {
  /** docker-compose's project name (container, network and volume prefix); default DEFAULT_PROJECT. */
  project?: string;
  /** nginx's published port (REGISTRY_PORT); default 5043. */
  registryPort?: number;
  /** Also start Prometheus (the `monitoring` profile) on 127.0.0.1:prometheusPort. */
  monitoring?: boolean;
  /** PROMETHEUS_PORT; default 9091. */
  prometheusPort?: number;
  /** Progress lines (build and start-up take a while); default silent. */
  log?: (line: string) => void;
  /** Build the images first (default true); false when buildImages() just did. */
  build?: boolean;
}

export interface ComposeStack {
  readonly project: string;
  /** `https://127.0.0.1:PORT`: nginx, the only published service besides Prometheus. */
  readonly url: string;
  /** `127.0.0.1:PORT`, the registry host in image references. */
  readonly host: string;
  readonly port: number;
  /** The CA that signed nginx's certificate (compose/make-certs.sh). */
  readonly caFile: string;
  /** `http://127.0.0.1:PORT` when started with `monitoring`. */
  readonly prometheusUrl: string | undefined;
  /** The container of a service (`<project>_<service>_1`). */
  container(service: Service): string;
  /** One HTTPS request through nginx, TLS verified against caFile. */
  request(method: string, path: string, options?: StackRequestOptions): Promise<StackReply>;
  /** `podman …`, reported rather than thrown. */
  podman(args: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** stdout + stderr of a service's container so far. */
  logs(service: Service): Promise<string>;
  /** Every file under a named volume of the project (`registry-data`), relative to the volume. */
  volumeFiles(volume: string): Promise<string[]>;
  /** `docker-compose down --volumes`: removes the containers, networks and volumes, then stops the API service. */
  destroy(): Promise<void>;
  /** Leaves the stack running, stops the API service and the health-check runs (`compose:up`). */
  detach(): Promise<void>;
}

/** podman's Docker-compatible API on a socket of our own, as our child (stopped by pid). */
async function startApiService(): Promise<{ socket: string; server: Server; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'podman-api-'));
  const socket = join(dir, 'podman.sock');
  // setpriv --pdeathsig: the service goes with us if this process dies without stopping it.
  const args = ['--pdeathsig', 'TERM', '--', 'podman', 'system', 'service', '--time=0', `unix://${socket}`];
  const server = startServer('podman system service', 'setpriv', args, join(dir, 'service.log'));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (server.child.exitCode !== null) {
      const log = await readFile(server.logFile, 'utf8').catch(() => '');
      throw new Error(`podman system service exited ${server.child.exitCode}: ${log}`);
    }
    if (await accepts(socket)) return { socket, server, dir };
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`podman system service did not listen on ${socket} within 20 s`);
    }
    await sleep(100);
  }
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

const podman = (args: readonly string[], timeoutMs = 60_000): Promise<RunResult> =>
  execute('podman', args, { timeoutMs });

async function projectContainers(project: string): Promise<string[]> {
  const { stdout } = await run(
    'podman',
    ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'],
    { timeoutMs: 30_000 },
  );
  return stdout.split('\n').filter(Boolean);
}

/**
 * podman schedules health checks with systemd timers, and there is no systemd here: a container would stay
 * `starting` and `depends_on: service_healthy` would wait forever. This runs every container's check every
 * two seconds, which is what the timers would do, until the returned function is called.
 */
function runHealthChecks(project: string): () => Promise<void> {
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      for (const name of await projectContainers(project).catch(() => [])) {
        // A container without a HEALTHCHECK, or one not running yet, fails this: that is fine.
        await podman(['healthcheck', 'run', name], 15_000);
      }
      await sleep(2000, undefined, { signal: stop.signal }).catch(() => undefined); // aborted: the loop ends
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}

function composeRunner(project: string, socket: string, env: Record<string, string>) {
  return (args: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> =>
    run('docker-compose', ['-p', project, ...FILES, ...args], {
      cwd: COMPOSE_DIR,
      // COMPOSE_DOCKER_CLI_BUILD=0: build through the API; the `docker` CLI it would use otherwise is not
      // on these machines.
      env: { ...process.env, DOCKER_HOST: `unix://${socket}`, COMPOSE_DOCKER_CLI_BUILD: '0', ...env },
      timeoutMs,
    });
}

/** The sidecar's image as compose builds it (`auth`'s `image:`). */
export const SIDECAR_IMAGE = 'registry-ldap-auth:dev';

/** Builds the images of `services` (base images first) without starting anything. */
export async function buildImages(
  services: readonly Service[],
  log: (line: string) => void = () => undefined,
): Promise<void> {
  log('base images (compose/local/base-images.sh)');
  await run('bash', [join(COMPOSE_DIR, 'local', 'base-images.sh')], { cwd: REPO_DIR, timeoutMs: 600_000 });
  // compose reads the secret files even to build.
  log('certificates and secrets (compose/make-certs.sh)');
  await run('bash', [join(COMPOSE_DIR, 'make-certs.sh')], { timeoutMs: 60_000 });
  const api = await startApiService();
  try {
    log(`build: ${services.join(', ')}`);
    const profile = services.includes('prometheus') ? ['--profile', 'monitoring'] : [];
    await composeRunner('build', api.socket, {})([...profile, 'build', ...services], 1_200_000);
  } finally {
    await api.server.stop();
    await rm(api.dir, { recursive: true, force: true });
  }
}

/** Builds what is needed and starts the stack; resolves once nginx answers /v2/ with the sidecar's 401. */
export async function composeUp(options: ComposeOptions = {}): Promise<ComposeStack> {
  const project = options.project ?? DEFAULT_PROJECT;
  const port = options.registryPort ?? 5043;
  const prometheusPort = options.prometheusPort ?? 9091;
  const monitoring = options.monitoring ?? false;
  const log = options.log ?? (() => undefined);
  await assertPortFree(port);
  if (monitoring) await assertPortFree(prometheusPort);

  const services: Service[] = [...CORE_SERVICES, ...(monitoring ? (['prometheus'] as const) : [])];
  if (options.build ?? true) await buildImages(services, log);
  const api = await startApiService();
  const compose = composeRunner(project, api.socket, {
    REGISTRY_PORT: String(port),
    PROMETHEUS_PORT: String(prometheusPort),
  });
  const profile = monitoring ? ['--profile', 'monitoring'] : [];
  // Named services: other services of the monitoring profile may use images that cannot be built here.
  let stopHealthChecks: (() => Promise<void>) | undefined;

  const stopApi = async (): Promise<void> => {
    await stopHealthChecks?.();
    stopHealthChecks = undefined;
    await api.server.stop();
    await rm(api.dir, { recursive: true, force: true });
  };
  const down = async (): Promise<void> => {
    try {
      await compose(
        ['--profile', 'monitoring', 'down', '--volumes', '--remove-orphans', '--timeout', '10'],
        180_000,
      );
    } finally {
      await stopApi();
    }
  };

  const ca = await readFile(CA_FILE);
  const url = `https://127.0.0.1:${port}`;
  const request: ComposeStack['request'] = (method, path, requestOptions = {}) =>
    sendRequest(new URL(path, url), ca, method, requestOptions);

  try {
    log('up (the directory seeds itself on first start)');
    stopHealthChecks = runHealthChecks(project);
    await compose([...profile, 'up', '-d', ...services], 300_000);
    await waitForSidecar401(request, 60_000);
    // Ready means the sidecar reaches the directory (/readyz), not only that it listens.
    const readyz = `fetch('http://127.0.0.1:9090/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
    await waitFor(
      async () => (await podman(['exec', `${project}_auth_1`, 'node', '-e', readyz], 15_000)).code === 0,
      90_000,
      'the sidecar to reach the directory (/readyz)',
      1000,
    );
  } catch (error) {
    const logs = await Promise.all(
      (await projectContainers(project).catch(() => [])).map(
        async (name) => `--- ${name}\n${(await podman(['logs', '--tail', '30', name])).stderr}`,
      ),
    );
    await down().catch(() => undefined); // the start error is the one worth reporting
    throw new Error(`compose up failed: ${String(error)}\n${logs.join('\n')}`, { cause: error });
  }

  const container = (service: Service): string => `${project}_${service}_1`;
  return {
    project,
    url,
    host: `127.0.0.1:${port}`,
    port,
    caFile: CA_FILE,
    prometheusUrl: monitoring ? `http://127.0.0.1:${prometheusPort}` : undefined,
    container,
    request,
    podman,
    async logs(service) {
      const result = await podman(['logs', container(service)]);
      return result.stdout + result.stderr;
    },
    async volumeFiles(volume) {
      const { stdout } = await run('podman', [
        'volume',
        'inspect',
        `${project}_${volume}`,
        '--format',
        '{{.Mountpoint}}',
      ]);
      const root = stdout.trim();
      const entries = await readdir(root, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => relative(root, join(e.parentPath, e.name)))
        .sort();
    },
    destroy: down,
    detach: stopApi,
  };
}

/** nginx up, the sidecar behind it answering: the 401 with the Basic challenge. */
async function waitForSidecar401(request: ComposeStack['request'], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await request('GET', '/v2/', { timeoutMs: 5000 });
      if (res.status === 401 && String(res.headers['www-authenticate']).startsWith('Basic ')) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new Error(`nginx did not answer GET /v2/ with the sidecar's 401 within ${timeoutMs} ms (${last})`);
}

/** `compose:down` for a project started elsewhere: removes its containers, networks and volumes; returns what is left. */
export async function composeDown(project = DEFAULT_PROJECT): Promise<string[]> {
  const api = await startApiService();
  try {
    await composeRunner(
      project,
      api.socket,
      {},
    )(['--profile', 'monitoring', 'down', '--volumes', '--remove-orphans', '--timeout', '10'], 180_000);
  } finally {
    await api.server.stop();
    await rm(api.dir, { recursive: true, force: true });
  }
  return leftovers(project);
}

/** Containers, networks and volumes of `project` that still exist. */
export async function leftovers(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const lists = await Promise.all([
    run('podman', ['ps', '-a', '--filter', label, '--format', 'container {{.Names}}']),
    run('podman', ['network', 'ls', '--filter', label, '--format', 'network {{.Name}}']),
    run('podman', ['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}']),
  ]);
  return lists.flatMap(({ stdout }) => stdout.split('\n').filter(Boolean));
}
