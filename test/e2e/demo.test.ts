// `npm run demo` as a newcomer meets it: started as a process, its printed commands run as printed (skopeo
// and curl, no internet), then Ctrl-C; the logs must still be there afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@registry-ldap-auth/stack/process';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';

const DEMO = fileURLToPath(new URL('../../stack/demo.ts', import.meta.url));
const START_DEADLINE_MS = 90_000;
const COMMAND_DEADLINE_MS = 60_000;

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false; // in use: try another base port
  } finally {
    server.close();
  }
}

/** A port whose next two are free as well (nginx, the sidecar's decision and metrics ports). */
async function threeFreePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port < 65533 && (await portFree(port + 1)) && (await portFree(port + 2))) return port;
  }
  throw new Error('no three consecutive free ports');
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Demo {
  readonly process: ChildProcess;
  readonly state: string;
  /** The lines the banner offers to run (skopeo and curl), trimmed. */
  readonly commands: string[];
  output(): string;
  /** Runs a printed line with bash, as a user pasting it would, with `env` added. */
  run(line: string, env?: Record<string, string>): Ran;
  /** The printed line carrying `marker`. */
  find(marker: string): string;
  stop(): Promise<void>;
}

async function startDemo(env: Record<string, string>): Promise<Demo> {
  const state = await mkdtemp(join(tmpdir(), 'demo-'));
  // skopeo as root keeps a blob-info cache shared by every run: the printed commands get their own.
  const clientEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    _CONTAINERS_ROOTLESS_UID: '1000',
    XDG_DATA_HOME: join(state, 'client-data'),
    XDG_RUNTIME_DIR: join(state, 'client-run'),
    REGISTRY_AUTH_FILE: join(state, 'client-auth.json'),
  };
  const port = await threeFreePorts();
  const child = spawn(process.execPath, [DEMO], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      DEMO_PORT: String(port),
      DEMO_STATE_DIR: state,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(state, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${output}`);
        return output.includes('Ctrl-C stops everything');
      },
      START_DEADLINE_MS,
      'the demo banner',
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const commands = output
    .split('\n')
    .filter((l) => /^ {2}(skopeo|curl) /.test(l))
    .map((l) => l.trim());
  return {
    process: child,
    state,
    commands,
    output: () => output,
    run(line, extra = {}) {
      const r = spawnSync('bash', ['-c', line], {
        env: { ...clientEnv, ...extra },
        encoding: 'utf8',
        timeout: COMMAND_DEADLINE_MS,
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    find(marker) {
      const line = commands.find((c) => c.includes(marker));
      assert.ok(line, `the demo prints a command containing "${marker}"`);
      return line;
    },
    stop,
  };
}

void describe('npm run demo', { timeout: 240_000 }, () => {
  let demo: Demo;
  const find = (marker: string): string => demo.find(marker);
  const runPrinted = (line: string): Ran => demo.run(line);

  before(async () => {
    demo = await startDemo({});
  });
  after(async () => {
    await demo.stop();
  });

  void test('prints absolute paths only, and masks the service password', () => {
    for (const line of demo.commands) {
      for (const path of line.match(/(?:oci:|--[a-z-]*cert-dir )(\S+)/g) ?? []) {
        assert.match(path, /(?:oci:|dir )\//, `absolute: ${path}`);
      }
    }
    assert.match(demo.output(), /LDAP_BIND_PASSWORD=\*{8}/);
    assert.ok(!demo.output().includes('service-password'), 'the service password is not printed');
  });

  void test("alice pushes the demo's own image with the printed skopeo command (no internet)", () => {
    const r = runPrinted(find('# alice pushes'));
    assert.equal(r.code, 0, r.stderr);
  });

  void test('bob pulls it with the printed command', async () => {
    const r = runPrinted(find('# bob pulls'));
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(demo.state, 'pulled', 'index.json'), 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    assert.ok(index.manifests.some((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'hello'));
  });

  void test("bob's push is denied, in words", () => {
    const r = runPrinted(find('# bob may not push'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /denied/);
  });

  void test('the printed curl gets 200 from the decision endpoint with X-Auth-User', () => {
    const r = runPrinted(find('curl -si'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.match(r.stdout, /^X-Auth-User: alice\r?$/im);
  });

  void test('erin deletes it with the printed skopeo delete; then it is gone', () => {
    const r = runPrinted(find('# erin deletes'));
    assert.equal(r.code, 0, r.stderr);
    const again = runPrinted(find('# bob pulls'));
    assert.notEqual(again.code, 0, 'the deleted image can no longer be pulled');
    assert.match(again.stderr, /manifest unknown/i);
  });

  void test('Ctrl-C stops the demo with exit 0 and the logs stay in <state>/logs', async () => {
    const exited = once(demo.process, 'exit');
    demo.process.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, demo.output());
    const logs = join(demo.state, 'logs');
    const files = (await readdir(logs)).sort();
    for (const name of ['nginx-access.log', 'nginx-error.log', 'registry.log', 'slapd.log']) {
      assert.ok(files.includes(name), `${name} in ${files.join(', ')}`);
    }
    const sidecarLog = files.find((f) => f.startsWith('sidecar-'));
    assert.ok(sidecarLog, 'the sidecar log is kept');
    const decisions = await readFile(join(logs, sidecarLog), 'utf8');
    assert.match(decisions, /"user":"erin","action":"delete".*"result":"allow"/);
    assert.match(
      await readFile(join(logs, 'nginx-access.log'), 'utf8'),
      /DELETE \/v2\/demo\/hello\/manifests\//,
    );
  });
});

void describe('npm run demo against your own directory (LDAP_URL set)', { timeout: 240_000 }, () => {
  let slapd: Slapd;
  let demo: Demo;
  // The printed commands take "$REGISTRY_USER"; with user:password in it nothing prompts.
  const alice = { REGISTRY_USER: `alice:${seed.users.alice.password}` };

  before(async () => {
    slapd = await startSlapd(); // stands in for your directory: the demo starts none of its own
    demo = await startDemo(sidecarEnvFor(slapd));
  });
  after(async () => {
    await demo.stop();
    await slapd.destroy();
  });

  void test('runs the configuration check first, then says whose directory it asks', () => {
    assert.match(demo.output(), /all checks passed \(exit 0\)/);
    assert.match(
      demo.output(),
      new RegExp(`sidecar → your directory \\(${slapd.url.replace(/[./]/g, '\\$&')}\\)`),
    );
    assert.doesNotMatch(demo.output(), /alice-password/, 'no seeded password is offered');
  });

  void test('a user of that directory pushes and pulls with the printed commands', () => {
    const push = demo.run(demo.find('--dest-creds "$REGISTRY_USER"'), alice);
    assert.equal(push.code, 0, push.stderr);
    const pull = demo.run(demo.find('--src-creds "$REGISTRY_USER"'), alice);
    assert.equal(pull.code, 0, pull.stderr);
  });

  void test('the printed curl reaches the sidecar, which asks that directory', () => {
    const r = demo.run(demo.find('curl -si'), alice);
    assert.match(r.stdout, /^X-Auth-User: alice\r?$/im);
  });

  void test('no slapd of its own: no slapd log among the kept logs', async () => {
    const exited = once(demo.process, 'exit');
    demo.process.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    const files = await readdir(join(demo.state, 'logs'));
    assert.ok(!files.includes('slapd.log'), files.join(', '));
    assert.ok(files.includes('registry.log'));
  });
});
