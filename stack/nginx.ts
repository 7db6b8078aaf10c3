// Debian's nginx running the reference config (nginx/registry.conf.template) in front of the registry and
// the sidecar, on loopback, with every path of its own in a temp dir, stopped by pid.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, waitForPort } from './process.ts';
import type { Server } from './process.ts';
import { watchLog } from './credentials.ts';

export const NGINX_TEMPLATE = new URL('../nginx/registry.conf.template', import.meta.url);

/** The placeholders of the template; the official nginx image fills the same names from its environment. */
export interface TemplateValues {
  LISTEN: string;
  SERVER_NAME: string;
  TLS_CERT: string;
  TLS_KEY: string;
  REGISTRY_UPSTREAM: string;
  AUTH_UPSTREAM: string;
  ACCESS_LOG: string;
}

export interface NginxOptions {
  registryPort: number;
  /** The sidecar's decision port (`PORT`); a closed port is a valid test of "sidecar down". */
  authPort: number;
  tls: { cert: string; key: string };
  listenPort?: number;
  /** Default `auto` (one per core). */
  workerProcesses?: number | 'auto';
  /** Changes the rendered site config: for tests of what the sidecar does behind a less careful proxy. */
  editSite?: (site: string) => string;
  /** Write nginx-access.log and nginx-error.log here, where stop() leaves them; default the prefix. */
  logDir?: string;
}

export interface Nginx {
  readonly url: string;
  readonly port: number;
  readonly accessLog: string;
  readonly errorLog: string;
  readonly prefix: string;
  /** Where nginx would spool request bodies; stays empty while proxy_request_buffering is off. */
  readonly clientBodyTempDir: string;
  readonly configFile: string;
  /** Lines written to the access log so far. */
  accessLogLines(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Fills `${NAME}` placeholders like envsubst does for defined variables, and fails on any left over:
 * an unfilled `${TLS_CERT}` would otherwise surface as a confusing nginx error.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  const filled = template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (match, name: string) =>
    Object.hasOwn(values, name) ? values[name as keyof TemplateValues] : match,
  );
  const left = /\$\{?[A-Z][A-Z0-9_]*\}?/.exec(filled);
  if (left) throw new Error(`nginx template: placeholder ${left[0]} has no value`);
  return filled;
}

/**
 * The main config the official image would provide, with every compiled-in Debian path (/var/lib/nginx,
 * /run/nginx.pid) moved into `prefix`, so runs are independent and need no system directories.
 */
export function mainConfig(
  prefix: string,
  errorLog: string,
  siteConfig: string,
  workers: number | 'auto',
): string {
  const temp = (name: string) => join(prefix, 'temp', name);
  return [
    '# Written by the stack for one run.',
    'daemon off;',
    `worker_processes ${workers};`,
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${errorLog} notice;`,
    'events { worker_connections 1024; }',
    'http {',
    `  client_body_temp_path ${temp('client_body')};`,
    `  proxy_temp_path ${temp('proxy')};`,
    `  fastcgi_temp_path ${temp('fastcgi')};`,
    `  uwsgi_temp_path ${temp('uwsgi')};`,
    `  scgi_temp_path ${temp('scgi')};`,
    '  default_type application/octet-stream;',
    '  sendfile on;',
    '  tcp_nodelay on;',
    '  keepalive_timeout 65;',
    `  include ${siteConfig};`,
    '}',
    '',
  ].join('\n');
}

/**
 * Starts nginx in the foreground on `configFile` (paths under `prefix`) and waits until every port in
 * `ports` listens; on failure it stops nginx and throws with nginx's error log.
 */
export async function runNginx(
  name: string,
  prefix: string,
  configFile: string,
  errorLog: string,
  ports: readonly number[],
): Promise<Server> {
  // -e: errors before the config is read would otherwise go to the compiled-in path.
  const server = startServer(
    name,
    'nginx',
    ['-p', `${prefix}/`, '-e', errorLog, '-c', configFile],
    join(prefix, 'nginx.out'),
  );
  try {
    for (const port of ports) await waitForPort('127.0.0.1', port, 10_000, server);
  } catch (error) {
    await server.stop();
    const log = await readFile(errorLog, 'utf8').catch(() => '(no error log)');
    throw new Error(`${name} did not start: ${(error as Error).message}\n${log}`, { cause: error });
  }
  return server;
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'nginx-'));
  // Run as root, nginx's workers drop to `nobody`: they must reach the temp dirs under prefix (nginx
  // creates and chowns those itself). The TLS key and the logs are opened by the master, as us.
  await chmod(prefix, 0o755);
  await mkdir(join(prefix, 'temp'));
  const port = options.listenPort ?? (await freePort());
  const accessLog =
    options.logDir === undefined ? join(prefix, 'access.log') : join(options.logDir, 'nginx-access.log');
  const errorLog =
    options.logDir === undefined ? join(prefix, 'error.log') : join(options.logDir, 'nginx-error.log');
  const siteConfig = join(prefix, 'registry.conf');
  const configFile = join(prefix, 'nginx.conf');
  const site = renderTemplate(await readFile(NGINX_TEMPLATE, 'utf8'), {
    LISTEN: `127.0.0.1:${port}`,
    SERVER_NAME: '127.0.0.1 localhost',
    TLS_CERT: options.tls.cert,
    TLS_KEY: options.tls.key,
    REGISTRY_UPSTREAM: `127.0.0.1:${options.registryPort}`,
    AUTH_UPSTREAM: `127.0.0.1:${options.authPort}`,
    ACCESS_LOG: accessLog,
  });
  await writeFile(siteConfig, options.editSite?.(site) ?? site);
  await writeFile(configFile, mainConfig(prefix, errorLog, siteConfig, options.workerProcesses ?? 'auto'));

  let server: Server;
  try {
    server = await runNginx('nginx', prefix, configFile, errorLog, [port]);
  } catch (error) {
    await rm(prefix, { recursive: true, force: true });
    throw error;
  }

  const unwatchAccess = watchLog(accessLog);
  const unwatchError = watchLog(errorLog, { optional: true });
  const unwatch = (): void => {
    unwatchAccess();
    unwatchError();
  };
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    accessLog,
    errorLog,
    prefix,
    clientBodyTempDir: join(prefix, 'temp', 'client_body'),
    configFile,
    async accessLogLines() {
      const text = await readFile(accessLog, 'utf8').catch(() => '');
      return text.split('\n').filter((line) => line !== '');
    },
    async stop() {
      await server.stop();
      unwatch();
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
