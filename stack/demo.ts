// `npm run demo`: the whole stack in the foreground with nginx on https://localhost:5043, and the commands
// to try it with docker or skopeo. The CA lives in .stack/ (git-ignored) so trusting it once lasts across
// runs; Ctrl-C or SIGTERM stops everything this started.
import { copyFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { stopAll } from './process.ts';
import { seed } from './slapd.ts';
import { startStack } from './stack.ts';
import type { Stack } from './stack.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const STATE_DIR = join(REPO_ROOT, '.stack');
const PORT = 5043;
const HOST = `localhost:${PORT}`;
const STOP_TIMEOUT_MS = 20_000;
// Every demo request comes from 127.0.0.1: with the default per-address limit (LOCKOUT_MAX_FAILURES, 10),
// ten typos by anyone would lock that one address, and every demo user with it, for five minutes. One
// person typing needs room; the per-user limit still locks a user after ten wrong passwords.
const DEMO_SIDECAR_ENV = { LOCKOUT_ADDRESS_MAX_FAILURES: '100' };

const USERS: readonly [keyof typeof seed.users, string][] = [
  ['alice', 'pusher (registry-pushers): push and pull'],
  ['bob', 'reader (registry-users): pull only'],
  ['dave', 'pusher through a nested group (registry-ci inside registry-pushers)'],
  ['carol', 'in no group: may log in, nothing else'],
  ['erin', 'admin (registry-admins): may delete manifests, not pull'],
];

function banner(stack: Stack, certDir: string, caFile: string): string {
  const { alice, bob } = seed.users;
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const users = USERS.map(
    ([name, role]) => `  ${name.padEnd(6)} ${seed.users[name].password.padEnd(16)} ${role}`,
  );
  return [
    '',
    `registry-ldap-auth demo: https://${HOST}  (nginx → sidecar → slapd; registry behind nginx)`,
    '',
    `CA certificate (${stack.caCreated ? 'created now' : 'kept from an earlier run'}): ${caFile}`,
    '  trust it for docker:',
    `    sudo mkdir -p /etc/docker/certs.d/${HOST} && sudo cp ${caFile} /etc/docker/certs.d/${HOST}/ca.crt`,
    `  for skopeo: --cert-dir ${rel(certDir)}  (copy: --src-cert-dir / --dest-cert-dir ${rel(certDir)})`,
    `  for curl:   --cacert ${rel(caFile)}`,
    '',
    'Users (user / password / what the LDAP groups allow):',
    ...users,
    '',
    'Try (docker):',
    `  echo ${alice.password} | docker login ${HOST} -u alice --password-stdin`,
    `  docker pull busybox && docker tag busybox ${HOST}/demo/busybox:1 && docker push ${HOST}/demo/busybox:1`,
    `  docker logout ${HOST} && echo ${bob.password} | docker login ${HOST} -u bob --password-stdin`,
    `  docker pull ${HOST}/demo/busybox:1          # bob may pull; his push would be denied`,
    'Try (skopeo):',
    `  skopeo copy --dest-cert-dir ${rel(certDir)} --dest-creds alice:${alice.password} \\`,
    `    docker://docker.io/library/busybox:latest docker://${HOST}/demo/busybox:1`,
    `  skopeo copy --src-cert-dir ${rel(certDir)} --src-creds bob:${bob.password} \\`,
    `    docker://${HOST}/demo/busybox:1 dir:/tmp/busybox`,
    `  skopeo list-tags --cert-dir ${rel(certDir)} --creds bob:${bob.password} docker://${HOST}/demo/busybox`,
    '',
    `Metrics: ${stack.metricsUrl}   (the sidecar's; never served through nginx)`,
    `Logs:    sidecar ${stack.logs.sidecar}`,
    `         nginx   ${stack.logs.nginxAccess}  ${stack.logs.nginxError}`,
    `         registry ${stack.logs.registry}   slapd ${stack.logs.slapd}`,
    '',
    'Ctrl-C stops everything; the CA and the pushed images stay in .stack/ for the next run.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let stopping: Promise<void> | undefined;
  const starting = startStack({
    stateDir: STATE_DIR,
    caDir: join(STATE_DIR, 'ca'),
    nginxPort: PORT,
    registryDelete: true,
    registryStorageDir: join(STATE_DIR, 'registry'),
    sidecarEnv: DEMO_SIDECAR_ENV,
  });

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
      .then((stack) => stack.stop())
      .catch((error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
      })
      .then(() => stopAll())
      .then(() => {
        process.stdout.write('stopped\n');
        process.exit(0);
      });
  };
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });

  let stack: Stack;
  try {
    stack = await starting;
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
  const certDir = join(STATE_DIR, 'certs.d', HOST);
  await mkdir(certDir, { recursive: true });
  const caFile = join(certDir, 'ca.crt');
  await copyFile(stack.caCert, caFile);
  process.stdout.write(banner(stack, certDir, caFile));
}

await main();
