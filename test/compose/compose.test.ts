// compose/docker-compose.yml as shipped, up for real on podman (compose/local/ swaps only the images that
// cannot be pulled here), and used the way a user would: skopeo through the published nginx.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildImages, composeUp, leftovers } from '@registry-ldap-auth/stack/compose';
import type { ComposeStack, Service } from '@registry-ldap-auth/stack/compose';
import { createNetns } from '@registry-ldap-auth/stack/netns';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import type { OciImage } from '@registry-ldap-auth/stack/oci-image';
import { freePort, waitFor } from '@registry-ldap-auth/stack/process';
import { createSkopeo, readPulledImage } from '@registry-ldap-auth/stack/skopeo';
import type { Credentials, Skopeo } from '@registry-ldap-auth/stack/skopeo';
import { seed } from '@registry-ldap-auth/stack/slapd';

const PROJECT = 'rla-compose-test';
const REFUSED = /denied|forbidden|403/i;
const creds = (name: 'alice' | 'bob'): Credentials => ({
  username: seed.users[name].uid,
  password: seed.users[name].password,
});

async function inspect(
  stack: ComposeStack,
  format: string,
  name: string,
  kind = 'container',
): Promise<string> {
  const result = await stack.podman([kind, 'inspect', '--format', format, name]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

void describe('the compose deployment on podman', { timeout: 900_000 }, () => {
  let stack: ComposeStack | undefined;
  let skopeo: Skopeo | undefined;
  let work: string;
  let image: OciImage;
  const up = (): ComposeStack => {
    assert.ok(stack, 'the stack is not up');
    return stack;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'compose-e2e-'));
    // Built first, ports chosen after: a build can take minutes, and a port free before it may not be after.
    await buildImages(['nginx', 'registry', 'auth', 'openldap', 'prometheus']);
    stack = await composeUp({
      build: false,
      project: PROJECT,
      registryPort: await freePort(),
      monitoring: true,
      prometheusPort: await freePort(),
    });
    skopeo = await createSkopeo(stack.caFile);
    image = await buildOciImage(join(work, 'oci'), { tag: 'v1', layerSizes: [1 << 20, 12_345, 1] });
  });
  after(async () => {
    await stack?.destroy();
    await skopeo?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  const ref = (repo: string): string => `${up().host}/${repo}`;
  /** The last lines of the services a request passes through, for assertion messages. */
  const recentLogs = async (): Promise<string> => {
    const parts = await Promise.all(
      (['nginx', 'auth', 'openldap'] as const).map(async (service) => {
        const lines = (await up().logs(service)).trimEnd().split('\n');
        return `--- ${service}\n${lines.slice(-15).join('\n')}`;
      }),
    );
    return parts.join('\n');
  };
  const pushed = (img: OciImage): string[] => [img.config.digest, ...img.layers.map((l) => l.digest)];

  void test('GET /v2/ without credentials: 401 with WWW-Authenticate and Docker-Distribution-Api-Version', async () => {
    const res = await up().request('GET', '/v2/');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Registry realm", charset="UTF-8"');
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  void test('alice pushes an image and pulls back the same digests; the registry volume holds its blobs', async () => {
    const push = await skopeo!.push(image, ref('team/app:v1'), creds('alice'));
    assert.equal(push.code, 0, push.stderr + (await recentLogs()));
    const pull = await skopeo!.pull(ref('team/app:v1'), join(work, 'alice-pull'), creds('alice'));
    assert.equal(pull.code, 0, pull.stderr);
    const { manifest } = await readPulledImage(join(work, 'alice-pull'));
    assert.deepEqual([manifest.config.digest, ...manifest.layers.map((l) => l.digest)], pushed(image));
    const files = await up().volumeFiles('registry-data');
    for (const digest of pushed(image)) {
      const hex = digest.replace(/^sha256:/, '');
      assert.ok(
        files.some((f) => f.endsWith(`/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`)),
        `${digest} is not in the registry volume`,
      );
    }
  });

  void test("bob pulls alice's image; his push is refused and the registry volume is unchanged", async () => {
    const pull = await skopeo!.pull(ref('team/app:v1'), join(work, 'bob-pull'), creds('bob'));
    assert.equal(pull.code, 0, pull.stderr);
    const { manifest } = await readPulledImage(join(work, 'bob-pull'));
    assert.deepEqual([manifest.config.digest, ...manifest.layers.map((l) => l.digest)], pushed(image));

    await skopeo!.clearBlobInfoCache(); // a real upload attempt, not a cross-repo mount
    const before = await up().volumeFiles('registry-data');
    const push = await skopeo!.push(image, ref('team/bobs:v1'), creds('bob'));
    assert.notEqual(push.code, 0, 'bob pushed');
    assert.match(push.stderr, REFUSED);
    assert.deepEqual(
      await up().volumeFiles('registry-data'),
      before,
      'the refused push wrote to the registry',
    );
  });

  void test('only nginx publishes a port: the registry, the sidecar and the directory are on the internal network alone', async () => {
    const s = up();
    assert.equal(await inspect(s, '{{.Internal}}', `${PROJECT}_backend`, 'network'), 'true');
    const published = async (service: Service): Promise<string[]> =>
      Object.entries(
        JSON.parse(await inspect(s, '{{json .NetworkSettings.Ports}}', s.container(service))) as Record<
          string,
          { HostIp: string; HostPort: string }[] | null
        >,
      ).flatMap(([port, bindings]) =>
        (bindings ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`),
      );
    const networks = async (service: Service): Promise<string[]> =>
      Object.keys(
        JSON.parse(await inspect(s, '{{json .NetworkSettings.Networks}}', s.container(service))) as object,
      ).sort();
    assert.deepEqual(await published('nginx'), [`0.0.0.0:${s.port}->443/tcp`]);
    for (const service of ['registry', 'auth', 'openldap'] as const) {
      assert.deepEqual(await published(service), [], `${service} publishes a port`);
      assert.deepEqual(await networks(service), [`${PROJECT}_backend`], `${service} is on another network`);
    }
  });

  void test('the sidecar container runs as a non-root user on a read-only root filesystem and its HEALTHCHECK reports healthy', async () => {
    const s = up();
    const auth = s.container('auth');
    assert.equal(await inspect(s, '{{.HostConfig.ReadonlyRootfs}}', auth), 'true');
    const id = await s.podman(['exec', auth, 'id', '-u']);
    assert.equal(id.stdout.trim(), '1000');
    const write = await s.podman(['exec', auth, 'sh', '-c', 'echo x > /app/written']);
    assert.notEqual(write.code, 0, 'wrote to the root filesystem');
    assert.match(write.stderr, /Read-only file system/);
    const check = await s.podman(['healthcheck', 'run', auth]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(await inspect(s, '{{.State.Health.Status}}', auth), 'healthy');
  });

  void test("the sidecar's audit line carries the client's own address, not nginx's", async () => {
    const s = up();
    const client = await createNetns('rla-compose');
    try {
      // curl from the namespace to the published port on the host's end of the pair; --resolve keeps
      // the name the certificate is for.
      const res = await client.exec('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '20',
        '--cacert',
        s.caFile,
        '--resolve',
        `localhost:${s.port}:${client.hostIp}`,
        '--user',
        `${seed.users.alice.uid}:${seed.users.alice.password}`,
        `https://localhost:${s.port}/v2/`,
      ]);
      assert.equal(res.stdout, '200', await recentLogs());
      const fromClient = async (): Promise<Record<string, unknown> | undefined> =>
        (await s.logs('auth'))
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l['msg'] === 'decision' && l['client_ip'] === client.nsIp);
      await waitFor(
        async () => (await fromClient()) !== undefined,
        10_000,
        'an audit line from the namespace',
        250,
      );
      const line = (await fromClient()) ?? {};
      assert.equal(line['user'], 'alice');
      assert.equal(line['result'], 'allow');
      assert.match(await s.logs('nginx'), new RegExp(`^${client.nsIp.replaceAll('.', '\\.')} - alice `, 'm'));
    } finally {
      await client.destroy();
    }
  });

  void test("Prometheus (--profile monitoring) reports the sidecar's target up", async () => {
    const s = up();
    let scrapeUrl = '';
    await waitFor(
      async () => {
        const res = await fetch(`${s.prometheusUrl}/api/v1/targets`).catch(() => undefined);
        if (!res?.ok) return false;
        const body = (await res.json()) as {
          data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] };
        };
        const target = body.data.activeTargets.find((t) => t.labels.job === 'registry-auth');
        scrapeUrl = target?.scrapeUrl ?? '';
        return target?.health === 'up';
      },
      60_000,
      'the registry-auth target up',
      500,
    );
    assert.equal(scrapeUrl, 'http://auth:9090/metrics');
  });

  void test('destroy (compose down -v) removes every container, network and volume, and the port closes', async () => {
    const s = up();
    stack = undefined;
    await s.destroy();
    assert.deepEqual(await leftovers(PROJECT), []);
    await assert.rejects(s.request('GET', '/v2/', { timeoutMs: 5000 }));
  });
});
