// The whole native stack as a user meets it: seeded slapd → sidecar → nginx (TLS, auth_request) → registry,
// all on 127.0.0.1. Shared by `npm run demo`, the e2e tests and the benchmark, so every knob is an option.
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueServerCert, NO_STDIN } from './certs.ts';
import type { Pki } from './certs.ts';
import { startNginx } from './nginx.ts';
import type { Nginx } from './nginx.ts';
import { assertPortFree, run } from './process.ts';
import { sendRequest } from './https-request.ts';
import type { StackReply, StackRequestOptions } from './https-request.ts';
import { startRegistry } from './registry.ts';
import type { Registry } from './registry.ts';
import { startSidecar } from './sidecar.ts';
import type { Sidecar } from './sidecar.ts';
import { seed, startSlapd } from './slapd.ts';
import type { Slapd, SlapdOptions } from './slapd.ts';

export interface StackOptions {
  /** Parent of the run dir (nginx's certificate, the sidecar log); default os.tmpdir(). The run dir is removed by stop(). */
  stateDir?: string;
  /** Keep the CA here (`ca.pem`, `ca.key`) and reuse it across runs; by default a fresh CA inside the run dir. */
  caDir?: string;
  /** nginx's TLS port on 127.0.0.1 (the demo uses 5043); default a free port. */
  nginxPort?: number;
  nginxWorkers?: number | 'auto';
  /** Edits nginx's rendered site config (see NginxOptions.editSite). */
  nginxEditSite?: (site: string) => string;
  /** storage.delete.enabled on the registry (default false, as the registry ships). */
  registryDelete?: boolean;
  /** Keep the registry's images here across runs (the demo); temporary by default. */
  registryStorageDir?: string;
  /** Added to (and overriding) the sidecar's environment below. */
  sidecarEnv?: Record<string, string>;
  /** The seeded slapd's options; `false`: no directory of ours, sidecarEnv names one (the demo against yours). */
  slapd?: SlapdOptions | false;
  /** Fixed ports for the sidecar's decision and metrics listeners on 127.0.0.1; default free ports. */
  sidecarPorts?: { port: number; metricsPort: number };
  /** Every server writes its log here, where stop() leaves it (the demo); default their temp dirs. */
  logDir?: string;
}

export type { StackReply, StackRequestOptions };

export interface Stack {
  /** `https://127.0.0.1:PORT`: nginx, the only way in. */
  readonly url: string;
  /** `127.0.0.1:PORT`, the registry host in image references (`<host>/team/app:v1`). */
  readonly host: string;
  /** PEM of the CA that signed nginx's certificate (SANs: localhost, 127.0.0.1). */
  readonly caCert: string;
  /** True when this run created the CA (first run, or the kept one was about to expire). */
  readonly caCreated: boolean;
  /** nginx's certificate and key (SANs: localhost, 127.0.0.1), for another front proxy on loopback. */
  readonly tls: { readonly cert: string; readonly key: string };
  readonly runDir: string;
  /** The sidecar's /metrics, never exposed through nginx. */
  readonly metricsUrl: string;
  readonly ports: { nginx: number; registry: number; sidecar: number; metrics: number; ldap: number };
  readonly logs: {
    nginxAccess: string;
    nginxError: string;
    sidecar: string;
    registry: string;
    slapd: string;
  };
  readonly slapd: Slapd;
  readonly registry: Registry;
  readonly sidecar: Sidecar;
  readonly nginx: Nginx;
  /** One HTTPS request through nginx, TLS verified against caCert, no connection reuse. */
  request(method: string, path: string, options?: StackRequestOptions): Promise<StackReply>;
  /** Stops nginx, the sidecar, the registry and slapd (in that order) and removes their temp dirs. */
  stop(): Promise<void>;
}

/** A stack whose sidecar asks a directory that is not ours (`slapd: false`). */
export type StackWithoutSlapd = Omit<Stack, 'slapd' | 'logs' | 'ports'> & {
  readonly slapd: undefined;
  readonly logs: Omit<Stack['logs'], 'slapd'>;
  readonly ports: Omit<Stack['ports'], 'ldap'>;
};

/** The sidecar's configuration for the seeded directory (stack/seed/openldap.ldif). */
export function sidecarEnvFor(slapd: Slapd): Record<string, string> {
  return {
    LDAP_URL: slapd.url,
    LDAP_BIND_DN: seed.service.dn,
    LDAP_BIND_PASSWORD: seed.service.password,
    LDAP_USER_BASE_DN: seed.peopleDn,
    LDAP_GROUP_BASE_DN: seed.groupsDn,
    // dave is a pusher only through cn=registry-ci inside cn=registry-pushers.
    LDAP_NESTED_GROUPS: 'true',
    AUTH_PUSH_GROUPS: seed.groups.pushers.cn,
    // Deleting with real clients needs pull too: `skopeo delete` (and crane, regctl) first read the manifest.
    AUTH_PULL_GROUPS: `${seed.groups.users.cn},${seed.groups.pushers.cn},${seed.groups.admins.cn}`,
    AUTH_DELETE_GROUPS: seed.groups.admins.cn,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false; // absent (or unreadable): the caller creates it, and that write reports real problems
  }
}

/** The CA kept in `dir`, or a new one when there is none or it expires within a day (certs.ts signs for 30 days). */
async function loadOrCreateCa(dir: string): Promise<{ pki: Pki; created: boolean }> {
  const pki: Pki = { dir, caCert: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key') };
  if ((await exists(pki.caCert)) && (await exists(pki.caKey))) {
    try {
      await run('openssl', ['x509', '-checkend', '86400', '-noout', '-in', pki.caCert], NO_STDIN);
      return { pki, created: false };
    } catch {
      // Expiring or unreadable: replaced below, and `created` tells the demo to say so.
      await Promise.all([pki.caCert, pki.caKey].map((f) => rm(f, { force: true })));
    }
  }
  return { pki: await createCa(dir, 'registry-ldap-auth stack CA'), created: true };
}

/**
 * An open port is not proof: another process may hold a fixed port. A 401 with the Basic challenge over
 * TLS verified against our CA proves it is our nginx, and that nginx reaches our sidecar.
 */
async function probe(send: Stack['request']): Promise<void> {
  const res = await send('GET', '/v2/');
  const challenge = res.headers['www-authenticate'] ?? '';
  if (res.status !== 401 || !challenge.startsWith('Basic ')) {
    throw new Error(`GET /v2/ through nginx answered ${res.status} (${challenge}), not the sidecar's 401`);
  }
}

export function startStack(options?: StackOptions & { slapd?: SlapdOptions }): Promise<Stack>;
export function startStack(options: StackOptions & { slapd: false }): Promise<StackWithoutSlapd>;
export async function startStack(options: StackOptions = {}): Promise<Stack | StackWithoutSlapd> {
  const parent = options.stateDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const runDir = await mkdtemp(join(parent, 'stack-'));
  // Undone in reverse order by stop(), and by a start that fails half-way.
  const undo: (() => Promise<void>)[] = [() => rm(runDir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'stopping the stack failed');
  };

  try {
    for (const port of [options.nginxPort, options.sidecarPorts?.port, options.sidecarPorts?.metricsPort]) {
      if (port !== undefined) await assertPortFree(port);
    }
    const logDir = options.logDir === undefined ? {} : { logDir: options.logDir };
    if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
    const { pki, created } = await loadOrCreateCa(options.caDir ?? join(runDir, 'ca'));
    const tls = await issueServerCert(pki, 'nginx', {
      dns: ['localhost'],
      ips: ['127.0.0.1'],
      outDir: join(runDir, 'tls'),
    });
    const ca = await readFile(pki.caCert);

    const slapd = options.slapd === false ? undefined : await startSlapd({ ...options.slapd, ...logDir });
    if (slapd) undo.push(() => slapd.destroy());
    const registry = await startRegistry({
      deleteEnabled: options.registryDelete ?? false,
      ...(options.registryStorageDir === undefined ? {} : { storageDir: options.registryStorageDir }),
      ...logDir,
    });
    undo.push(() => registry.stop());
    const sidecar = await startSidecar(
      { ...(slapd ? sidecarEnvFor(slapd) : {}), ...options.sidecarEnv },
      { logDir: options.logDir ?? runDir, ...options.sidecarPorts },
    );
    undo.push(async () => {
      await sidecar.stop();
      if (options.logDir === undefined) sidecar.forgetLog(); // its log lives in runDir, removed last
    });
    const nginx = await startNginx({
      registryPort: registry.port,
      authPort: sidecar.port,
      tls,
      ...(options.nginxPort === undefined ? {} : { listenPort: options.nginxPort }),
      ...(options.nginxWorkers === undefined ? {} : { workerProcesses: options.nginxWorkers }),
      ...(options.nginxEditSite === undefined ? {} : { editSite: options.nginxEditSite }),
      ...logDir,
    });
    undo.push(() => nginx.stop());

    const request: Stack['request'] = (method, path, requestOptions = {}) =>
      sendRequest(new URL(path, nginx.url), ca, method, requestOptions);
    await probe(request);

    const common: StackWithoutSlapd = {
      url: nginx.url,
      host: `127.0.0.1:${nginx.port}`,
      caCert: pki.caCert,
      caCreated: created,
      tls,
      runDir,
      metricsUrl: `${sidecar.metricsUrl}/metrics`,
      ports: {
        nginx: nginx.port,
        registry: registry.port,
        sidecar: sidecar.port,
        metrics: sidecar.metricsPort,
      },
      logs: {
        nginxAccess: nginx.accessLog,
        nginxError: nginx.errorLog,
        sidecar: sidecar.logFile,
        registry: registry.logFile,
      },
      slapd: undefined,
      registry,
      sidecar,
      nginx,
      request,
      stop,
    };
    if (!slapd) return common;
    return {
      ...common,
      ports: { ...common.ports, ldap: Number(new URL(slapd.url).port) },
      logs: { ...common.logs, slapd: slapd.logFile },
      slapd,
    };
  } catch (error) {
    await stop().catch(() => {
      // The start error is the one worth reporting; stopAll() in the caller's `after` catches stragglers.
    });
    throw error;
  }
}
