// The distribution registry (Debian's docker-registry) on loopback with filesystem storage in a temp dir.
// It has no auth of its own: in the stack it is reachable only through nginx.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startServer, waitForPort } from './process.ts';
import { watchLog } from './credentials.ts';

export interface RegistryOptions {
  /** storage.delete.enabled: without it the registry answers DELETE with 405 whatever auth says. */
  deleteEnabled?: boolean;
  /** Keep images here, across restarts (the demo); by default a temporary directory removed on stop. */
  storageDir?: string;
  /** Write registry.log here, where stop() leaves it (the demo keeps its logs); default the temp dir. */
  logDir?: string;
}

export interface Registry {
  readonly url: string;
  readonly port: number;
  readonly storageDir: string;
  readonly logFile: string;
  /** Every file under storageDir, as paths relative to it, sorted. */
  storageFiles(): Promise<string[]>;
  /** Digests (`sha256:…`) of the blobs the registry has committed. */
  blobDigests(): Promise<string[]>;
  /** Repository names that have at least one manifest revision, layer link or upload. */
  repositories(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Every file under `dir` (relative, sorted); empty when `dir` does not exist yet. */
export async function listStorage(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

// Layout of the filesystem driver: docker/registry/v2/{blobs/sha256/ab/<hex>/data, repositories/<name>/…}.
const V2 = join('docker', 'registry', 'v2');

function blobDigestsOf(files: readonly string[]): string[] {
  const blob = new RegExp(`^${V2}/blobs/sha256/[0-9a-f]{2}/([0-9a-f]{64})/data$`);
  return files.flatMap((f) => {
    const hex = blob.exec(f)?.[1];
    return hex === undefined ? [] : [`sha256:${hex}`];
  });
}

function repositoriesOf(files: readonly string[]): string[] {
  // A name may contain slashes; it ends where the registry's own `_layers`/`_manifests`/`_uploads` begin.
  const repo = new RegExp(`^${V2}/repositories/(.+?)/_(?:layers|manifests|uploads)/`);
  const names = new Set(files.flatMap((f) => repo.exec(f)?.[1] ?? []));
  return [...names].sort();
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-'));
  const storageDir = options.storageDir ?? join(dir, 'storage');
  await mkdir(storageDir, { recursive: true });
  const port = await freePort();
  // JSON is YAML: no YAML writer needed.
  const config = {
    version: '0.1',
    log: { level: 'info', formatter: 'text' },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: options.deleteEnabled ?? false },
      // The purger would delete upload dirs mid-test; tests clean up by removing the temp dir.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${port}`,
      // Signs upload state; must be set so it is not a per-process random value (and not logged as one).
      secret: randomBytes(32).toString('hex'),
    },
  };
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFile = join(options.logDir ?? dir, 'registry.log');
  const server = startServer('docker-registry', 'docker-registry', ['serve', configFile], logFile);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForPort('127.0.0.1', port, 10_000, server);
    await waitForApi(url);
  } catch (error) {
    await server.stop();
    const log = await readFile(logFile, 'utf8').catch(() => '(no log)');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start: ${(error as Error).message}\n${log}`, { cause: error });
  }
  const unwatch = watchLog(logFile);
  return {
    url,
    port,
    storageDir,
    logFile,
    storageFiles: () => listStorage(storageDir),
    async blobDigests() {
      return blobDigestsOf(await listStorage(storageDir));
    },
    async repositories() {
      return repositoriesOf(await listStorage(storageDir));
    },
    async stop() {
      await server.stop();
      unwatch();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An open port could be another process that won the freePort() race: make sure it is the registry. */
async function waitForApi(url: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`registry at ${url} did not answer GET /v2/ with 200: ${last}`);
}
