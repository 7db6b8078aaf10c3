// `npm run demo`: the whole stack in the foreground with nginx on https://localhost:5043, a tiny image made
// on the spot, and the commands that push and pull it (no internet needed). With LDAP_URL set, the sidecar
// asks your directory instead of the seeded slapd; every LDAP_* / AUTH_* / CACHE_* / LOCKOUT_* variable
// reaches it. The CA and the images live in .stack/ (git-ignored) so trusting the CA once lasts across
// runs; the logs stay in .stack/logs/ after Ctrl-C or SIGTERM, which stop everything this started.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { demoSettings, describeSettings } from './demo-settings.ts';
import type { DemoSettings } from './demo-settings.ts';
import { buildOciImage } from './oci-image.ts';
import type { OciImage } from './oci-image.ts';
import { stopAll } from './process.ts';
import { startPrometheus } from './prometheus.ts';
import { SIDECAR_MAIN } from './sidecar.ts';
import { seed } from './slapd.ts';
import { startStack } from './stack.ts';
import type { Stack, StackWithoutSlapd } from './stack.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const STOP_TIMEOUT_MS = 20_000;
// `npm run demo -- --monitoring`: also a Prometheus scraping the sidecar with monitoring/alerts.yml, every
// `for:` shortened so an alert shows within a minute.
const MONITORING = process.argv.includes('--monitoring');
const PROMETHEUS_PORT = 9091;
const DEMO_ALERT_FOR = '15s';
const DOCKER_PROBE_MS = 5_000;
const REPOSITORY = 'demo/hello';

const USERS: readonly [keyof typeof seed.users, string][] = [
  ['alice', 'pusher (registry-pushers): push and pull'],
  ['bob', 'reader (registry-users): pull only'],
  ['dave', 'pusher through a nested group (registry-ci inside registry-pushers)'],
  ['carol', 'in no group: may log in, nothing else'],
  ['erin', 'admin (registry-admins): may delete, and pull (a delete reads the manifest first)'],
];

/** True when `docker info` answers: a Docker engine (or a compatible API) is there to use. */
function dockerEngine(): boolean {
  const probe = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    stdio: 'ignore',
    timeout: DOCKER_PROBE_MS,
  });
  return probe.status === 0;
}

interface Commands {
  host: string;
  certDir: string;
  caFile: string;
  image: OciImage;
  pulled: string;
}

function skopeoLines(c: Commands, ownDirectory: boolean): string[] {
  const ref = `docker://${c.host}/${REPOSITORY}`;
  const to = `--dest-cert-dir ${c.certDir}`;
  const from = `--src-cert-dir ${c.certDir}`;
  if (ownDirectory) {
    return [
      `  skopeo copy ${to} --dest-creds "$REGISTRY_USER" ${c.image.ref} ${ref}:1`,
      `  skopeo copy ${from} --src-creds "$REGISTRY_USER" ${ref}:1 oci:${c.pulled}:hello`,
      `  skopeo list-tags --cert-dir ${c.certDir} --creds "$REGISTRY_USER" ${ref}`,
    ];
  }
  const { alice, bob, erin } = seed.users;
  return [
    `  skopeo copy ${to} --dest-creds alice:${alice.password} ${c.image.ref} ${ref}:1   # alice pushes`,
    `  skopeo copy ${from} --src-creds bob:${bob.password} ${ref}:1 oci:${c.pulled}:hello   # bob pulls`,
    `  skopeo copy ${to} --dest-creds bob:${bob.password} ${c.image.ref} ${ref}:bob   # bob may not push: denied`,
    `  skopeo list-tags --cert-dir ${c.certDir} --creds bob:${bob.password} ${ref}`,
    `  skopeo delete --cert-dir ${c.certDir} --creds erin:${erin.password} ${ref}:1   # erin deletes it`,
  ];
}

function dockerLines(c: Commands, ownDirectory: boolean): string[] {
  const login = ownDirectory
    ? `  docker login ${c.host} -u "$REGISTRY_USER"`
    : `  echo ${seed.users.alice.password} | docker login ${c.host} -u alice --password-stdin`;
  return [
    `  sudo mkdir -p /etc/docker/certs.d/${c.host} && sudo cp ${c.caFile} /etc/docker/certs.d/${c.host}/ca.crt`,
    login,
    `  docker pull ${c.host}/${REPOSITORY}:1   # the image pushed with skopeo above`,
    `  docker tag ${c.host}/${REPOSITORY}:1 ${c.host}/${REPOSITORY}:2 && docker push ${c.host}/${REPOSITORY}:2`,
  ];
}

function banner(stack: Stack | StackWithoutSlapd, settings: DemoSettings, c: Commands): string {
  const own = settings.ownDirectory;
  const directory = own ? `your directory (${settings.overrides['LDAP_URL'] ?? ''})` : 'the seeded slapd';
  const creds = own ? '"$REGISTRY_USER"' : `alice:${seed.users.alice.password}`;
  const lines = [
    '',
    `registry-ldap-auth demo: https://${c.host}  (nginx → sidecar → ${directory}; registry behind nginx)`,
    '',
    'The sidecar runs with (secrets masked; variables not listed take their defaults):',
    ...describeSettings(stack.sidecar.env).map((l) => `  ${l}`),
    '',
    `CA certificate (${stack.caCreated ? 'created now' : 'kept from an earlier run'}): ${c.caFile}`,
    `  for skopeo: --cert-dir ${c.certDir} (copy: --src-cert-dir / --dest-cert-dir)`,
    `  for curl:   --cacert ${c.caFile}`,
    '',
    ...(own
      ? [
          'Log in as one of your directory users; skopeo, curl and docker ask for the password:',
          '  export REGISTRY_USER=<your login>',
        ]
      : [
          'Users (user / password / what the LDAP groups allow):',
          ...USERS.map(
            ([name, role]) => `  ${name.padEnd(6)} ${seed.users[name].password.padEnd(16)} ${role}`,
          ),
        ]),
    '',
    `A tiny image, made now (no internet needed): ${c.image.ref}`,
    'Try (skopeo):',
    ...skopeoLines(c, own),
    ...(dockerEngine()
      ? ['Try (docker):', ...dockerLines(c, own)]
      : ['(docker: no engine answered `docker info`; with one, log in, pull and push the same way)']),
    'Ask the sidecar directly, as nginx does (200 with X-Auth-User and X-Auth-Groups):',
    `  curl -si -u ${creds} -H 'X-Original-Method: GET' -H 'X-Original-URI: /v2/' ${stack.sidecar.url}/auth`,
    '',
    `Metrics: ${stack.metricsUrl}   (the sidecar's; never served through nginx)`,
    `Logs (kept in ${settings.logDir} after Ctrl-C, replaced by the next run):`,
    `  sidecar ${stack.logs.sidecar}`,
    `  nginx   ${stack.logs.nginxAccess}  ${stack.logs.nginxError}`,
    `  registry ${stack.logs.registry}${stack.slapd ? `   slapd ${stack.slapd.logFile}` : ''}`,
    '',
    `Ctrl-C stops everything; the CA and the pushed images stay in ${settings.stateDir} for the next run.`,
    '',
  ];
  return lines.join('\n');
}

/** Against your directory: the configuration check first, so a wrong base DN or group is named up front. */
async function checkOwnDirectory(settings: DemoSettings): Promise<void> {
  const child = spawn(process.execPath, [SIDECAR_MAIN, '--check'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...settings.overrides },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== null && code >= 2) {
    process.stderr.write(
      `\nthe configuration check failed (exit ${code}): fix what it names, then run again\n`,
    );
    process.exit(code);
  }
}

async function main(): Promise<void> {
  const settings = demoSettings(process.env, REPO_ROOT);
  const host = `localhost:${settings.port}`;
  if (settings.ownDirectory) await checkOwnDirectory(settings);
  await rm(settings.logDir, { recursive: true, force: true });
  const options = {
    stateDir: settings.stateDir,
    caDir: join(settings.stateDir, 'ca'),
    nginxPort: settings.port,
    sidecarPorts: { port: settings.port + 1, metricsPort: settings.port + 2 },
    registryDelete: true,
    registryStorageDir: join(settings.stateDir, 'registry'),
    logDir: settings.logDir,
    sidecarEnv: settings.overrides,
  };
  let stopping: Promise<void> | undefined;
  const starting: Promise<Stack | StackWithoutSlapd> = settings.ownDirectory
    ? startStack({ ...options, slapd: false })
    : startStack(options);
  const monitoring = MONITORING
    ? starting.then((stack) =>
        startPrometheus({
          targets: [`127.0.0.1:${stack.ports.metrics}`],
          port: PROMETHEUS_PORT,
          alertFor: DEMO_ALERT_FOR,
        }),
      )
    : undefined;

  // Installed before the stack exists: a signal during start-up waits for it, then stops it, so no child
  // (nginx, the registry, the sidecar) is left behind.
  const shutdown = (signal: string): void => {
    if (stopping) return;
    process.stdout.write(`\n${signal}: stopping…\n`);
    const force = setTimeout(() => {
      process.stderr.write('did not stop in time\n');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    stopping = starting
      .then(async (stack) => {
        await monitoring?.then(
          (prometheus) => prometheus.stop(),
          () => undefined, // it did not start: stopAll() below ends whatever is left
        );
        await stack.stop();
      })
      .catch((error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
      })
      .then(() => stopAll())
      .then(() => {
        process.stdout.write(`stopped; the logs are in ${settings.logDir}\n`);
        process.exit(0);
      });
  };
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });

  let stack: Stack | StackWithoutSlapd;
  let prometheusUrl: string | undefined;
  try {
    stack = await starting;
    prometheusUrl = (await monitoring)?.url;
  } catch (error) {
    process.stderr.write(
      `the stack did not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await stopAll();
    process.exit(1);
  }
  if (stopping) return; // a signal came during start-up: the stack is being stopped, nothing to show
  // Stable paths shaped like docker's certs.d: a cert dir holding only ca.crt (a stray *.key there would
  // be taken for a client key by containers/image).
  const certDir = join(settings.stateDir, 'certs.d', host);
  await mkdir(certDir, { recursive: true });
  const caFile = join(certDir, 'ca.crt');
  await copyFile(stack.caCert, caFile);
  const imageDir = join(settings.stateDir, 'demo-image');
  await rm(imageDir, { recursive: true, force: true });
  const image = await buildOciImage(imageDir, { tag: '1', layerSizes: [1024] });
  const pulled = join(settings.stateDir, 'pulled');
  process.stdout.write(banner(stack, settings, { host, certDir, caFile, image, pulled }));
  if (prometheusUrl !== undefined) {
    process.stdout.write(
      [
        `Prometheus: ${prometheusUrl}  (scrapes the sidecar every second; monitoring/alerts.yml with every`,
        `            for: shortened to ${DEMO_ALERT_FOR}: see ${prometheusUrl}/alerts, docs/monitoring.md for the runbooks)`,
        '',
      ].join('\n'),
    );
  }
}

await main();
