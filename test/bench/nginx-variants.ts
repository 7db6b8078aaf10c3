// One nginx process serving the benchmark variants on their own TLS ports, all proxying to the same
// registry: the reference server block as shipped (auth_request to the sidecar), the same block with
// `auth_basic` + a bcrypt htpasswd instead, the same block with no auth at all, and the reference block
// with auth_request pointed at a node:http server that answers 200 to everything (`floor`: what any
// Node.js auth_request service costs before it checks anything). Deriving the two
// baselines from the reference template (rather than hand-writing them) keeps TLS, buffering and logging
// identical, so the only difference measured is the auth step.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NGINX_TEMPLATE, mainConfig, renderTemplate, runNginx } from '@registry-ldap-auth/stack/nginx';
import { freePort } from '@registry-ldap-auth/stack/process';

export const VARIANTS = ['none', 'bcrypt', 'sidecar', 'floor'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface VariantNginxOptions {
  /** A directory of its own, 0755 after this call: nginx's workers run as `nobody` when we are root. */
  dir: string;
  registryPort: number;
  authPort: number;
  /** The `floor` variant's auth_request upstream: a server answering 200 with no body to everything. */
  floorAuthPort: number;
  tls: { cert: string; key: string };
  /** htpasswd file for the `bcrypt` variant; must be readable by the workers. */
  htpasswd: string;
  workerProcesses?: number | 'auto';
}

export interface VariantNginx {
  /** `https://127.0.0.1:PORT` per variant. */
  readonly urls: Readonly<Record<Variant, string>>;
  readonly ports: Readonly<Record<Variant, number>>;
  readonly errorLog: string;
  stop(): Promise<void>;
}

const AUTH_REQUEST_LINE = /^( *)auth_request \/_auth;\n/m;
const SIDECAR_UPSTREAM = /^upstream auth_sidecar \{\n[^}]*\}\n/m;
const SIDECAR_PASS = 'proxy_pass http://auth_sidecar/';
const FLOOR_PASS = 'proxy_pass http://auth_floor/';

/** The reference server block with its `auth_request` line replaced for `variant`. */
function variantServer(serverBlock: string, variant: Variant, htpasswd: string): string {
  // Fail loudly if the template changes shape: a silently unchanged block would benchmark the sidecar
  // under the wrong name.
  const found = serverBlock.match(new RegExp(AUTH_REQUEST_LINE.source, 'gm'));
  if (found?.length !== 1) throw new Error('nginx template: expected exactly one `auth_request /_auth;`');
  if (variant === 'sidecar') return serverBlock;
  if (variant === 'floor') {
    if (!serverBlock.includes(SIDECAR_PASS)) throw new Error(`nginx template: no \`${SIDECAR_PASS}\``);
    return serverBlock.replaceAll(SIDECAR_PASS, FLOOR_PASS);
  }
  // The `auth_request_set` line stays: it declares $auth_user, which the shared log map reads; without
  // `auth_request` it never runs.
  return serverBlock.replace(AUTH_REQUEST_LINE, (_line, indent: string) =>
    variant === 'none'
      ? ''
      : // The Docker docs recipe (registry "native basic auth" with nginx): htpasswd -B.
        `${indent}auth_basic "Registry realm";\n${indent}auth_basic_user_file ${htpasswd};\n`,
  );
}

/** Splits the rendered template into its http-level prelude (upstreams, maps, log format) and the server. */
function splitTemplate(rendered: string): { prelude: string; server: string } {
  const at = rendered.search(/^server \{$/m);
  if (at < 0) throw new Error('nginx template: no top-level `server {` block');
  return { prelude: rendered.slice(0, at), server: rendered.slice(at) };
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; i < 50 && ports.size < count; i++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`no ${count} distinct free ports`);
  return [...ports];
}

export async function startVariantNginx(options: VariantNginxOptions): Promise<VariantNginx> {
  const { dir } = options;
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'temp'), { recursive: true });
  const template = await readFile(NGINX_TEMPLATE, 'utf8');
  const portList = await distinctPorts(VARIANTS.length);
  const ports = Object.fromEntries(VARIANTS.map((v, i) => [v, portList[i] ?? 0])) as Record<Variant, number>;

  let prelude = '';
  const floorUpstream: string[] = [];
  const servers: string[] = [];
  for (const variant of VARIANTS) {
    const rendered = splitTemplate(
      renderTemplate(template, {
        LISTEN: `127.0.0.1:${ports[variant]}`,
        SERVER_NAME: '127.0.0.1 localhost',
        TLS_CERT: options.tls.cert,
        TLS_KEY: options.tls.key,
        REGISTRY_UPSTREAM: `127.0.0.1:${options.registryPort}`,
        AUTH_UPSTREAM: `127.0.0.1:${variant === 'floor' ? options.floorAuthPort : options.authPort}`,
        ACCESS_LOG: join(dir, `access-${variant}.log`),
      }),
    );
    if (variant === 'floor') {
      // The reference upstream block (keepalive and all) under another name, for the floor server.
      const upstream = SIDECAR_UPSTREAM.exec(rendered.prelude)?.[0];
      if (upstream === undefined) throw new Error('nginx template: no `upstream auth_sidecar` block');
      floorUpstream.push(upstream.replace('upstream auth_sidecar', 'upstream auth_floor'));
    } else {
      prelude = rendered.prelude; // the same for these variants: upstreams and maps are defined once
    }
    servers.push(`# variant: ${variant}\n${variantServer(rendered.server, variant, options.htpasswd)}`);
  }
  const site = join(dir, 'variants.conf');
  await writeFile(site, [prelude, ...floorUpstream, ...servers].join('\n'));
  const configFile = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  await writeFile(configFile, mainConfig(dir, errorLog, site, options.workerProcesses ?? 'auto'));

  const server = await runNginx(
    'nginx (variants)',
    dir,
    configFile,
    errorLog,
    VARIANTS.map((v) => ports[v]),
  );
  const urls = Object.fromEntries(VARIANTS.map((v) => [v, `https://127.0.0.1:${ports[v]}`])) as Record<
    Variant,
    string
  >;
  return { urls, ports, errorLog, stop: () => server.stop() };
}
