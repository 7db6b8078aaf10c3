// skopeo as the registry client of the tests: a real distribution-API client with no Docker engine.
// Every run is isolated from the host (policy, registries.conf, auth files, blob-info cache) and reports
// its exit status instead of throwing, so tests can assert refusals.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OciImage } from './oci-image.ts';
import { execute } from './process.ts';
import type { RunResult } from './process.ts';
import { remember } from './credentials.ts';

export interface Credentials {
  username: string;
  password: string;
}

/** How the run ended: exit code (null when killed, see `timedOut`), output, duration. */
export type SkopeoResult = RunResult;

export interface CopyOptions {
  srcCreds?: Credentials;
  destCreds?: Credentials;
  extraArgs?: readonly string[];
  /** Default 120 s; the process is killed after it. */
  timeoutMs?: number;
}

export interface Skopeo {
  /** State dir: cert dir, policy, blob-info cache. */
  readonly dir: string;
  /** `skopeo copy src dest` with TLS verified against the stack's CA and no retries. */
  copy(src: string, dest: string, options?: CopyOptions): Promise<SkopeoResult>;
  /** Pushes `image` to `docker://<target>` (`127.0.0.1:PORT/repo:tag`). */
  push(image: OciImage, target: string, creds?: Credentials, options?: CopyOptions): Promise<SkopeoResult>;
  /** Pulls `docker://<source>` into the `dir:` layout `destDir` (manifest.json plus one file per blob). */
  pull(source: string, destDir: string, creds?: Credentials, options?: CopyOptions): Promise<SkopeoResult>;
  /**
   * `skopeo delete docker://<target>`: it reads the manifest first (a pull) to learn its digest, then
   * DELETEs the manifest by digest, as docker-compatible clients do.
   */
  delete(target: string, creds?: Credentials, options?: CopyOptions): Promise<SkopeoResult>;
  /** Forgets which blobs skopeo has seen where, so the next push uploads instead of trying cross-repo mounts. */
  clearBlobInfoCache(): Promise<void>;
  destroy(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;

function credsArg(c: Credentials): string {
  // skopeo splits at the first colon, so a colon is allowed in the password but not in the username.
  if (c.username.includes(':')) throw new Error('skopeo cannot pass a username containing ":"');
  remember(c.username, c.password); // for the log check: skopeo sends these as an Authorization header
  return `${c.username}:${c.password}`;
}

/** The flags for one side of a copy: TLS trust for docker:// references, and credentials or explicitly none. */
function sideArgs(
  side: 'src' | 'dest',
  ref: string,
  certDir: string,
  creds: Credentials | undefined,
): string[] {
  if (!ref.startsWith('docker://')) return [];
  const args = [`--${side}-cert-dir`, certDir];
  args.push(...(creds ? [`--${side}-creds`, credsArg(creds)] : [`--${side}-no-creds`]));
  return args;
}

/** `caCert`: PEM of the CA that signed nginx's certificate. */
export async function createSkopeo(caCert: string): Promise<Skopeo> {
  const dir = await mkdtemp(join(tmpdir(), 'skopeo-'));
  const certDir = join(dir, 'certs');
  await mkdir(certDir);
  // containers/image reads *.crt in a cert dir as CAs (and *.cert/*.key as a client certificate).
  await copyFile(caCert, join(certDir, 'ca.crt'));
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const registriesConf = join(dir, 'registries.conf');
  await writeFile(registriesConf, '# empty: no mirrors, no short-name aliases from the host\n');
  const dataHome = join(dir, 'data');
  const runtimeDir = join(dir, 'run');
  await mkdir(runtimeDir, { mode: 0o700 });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // As root, containers/image keeps its blob-info cache in /var/lib/containers/cache, shared by every
    // run, and turns re-pushes into mount attempts. Rootless mode puts it under XDG_DATA_HOME.
    _CONTAINERS_ROOTLESS_UID: '1000',
    XDG_DATA_HOME: dataHome,
    XDG_RUNTIME_DIR: runtimeDir,
    // No credentials from the host's auth files: only what a test passes.
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    TMPDIR: dir,
  };

  async function copy(src: string, dest: string, options: CopyOptions = {}): Promise<SkopeoResult> {
    const args = [
      '--policy',
      policy,
      'copy',
      '--retry-times',
      '0',
      ...sideArgs('src', src, certDir, options.srcCreds),
      ...sideArgs('dest', dest, certDir, options.destCreds),
      ...(options.extraArgs ?? []),
      src,
      dest,
    ];
    return execute('skopeo', args, { env, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }

  return {
    dir,
    copy,
    push: (image, target, creds, options = {}) =>
      copy(image.ref, `docker://${target}`, { ...options, ...(creds ? { destCreds: creds } : {}) }),
    async pull(source, destDir, creds, options = {}) {
      await mkdir(destDir, { recursive: true });
      return copy(`docker://${source}`, `dir:${destDir}`, {
        ...options,
        ...(creds ? { srcCreds: creds } : {}),
      });
    },
    delete(target, creds, options = {}) {
      const args = [
        '--policy',
        policy,
        'delete',
        '--retry-times',
        '0',
        '--cert-dir',
        certDir,
        ...(creds ? ['--creds', credsArg(creds)] : ['--no-creds']),
        ...(options.extraArgs ?? []),
        `docker://${target}`,
      ];
      return execute('skopeo', args, { env, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    },
    async clearBlobInfoCache() {
      await rm(join(dataHome, 'containers', 'cache'), { recursive: true, force: true });
    },
    async destroy() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PulledImage {
  manifest: { mediaType?: string; config: { digest: string }; layers: { digest: string; size: number }[] };
}

/**
 * Reads a `dir:` layout written by `pull` and checks every blob file against its digest, so a test
 * comparing digests also knows the bytes arrived intact.
 */
export async function readPulledImage(dir: string): Promise<PulledImage> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as PulledImage['manifest'];
  for (const { digest } of [manifest.config, ...manifest.layers]) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, digest.replace(/^sha256:/, '')))) {
      hash.update(chunk as Buffer);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw new Error(`pulled blob ${digest} has digest ${actual}`);
  }
  return { manifest };
}
