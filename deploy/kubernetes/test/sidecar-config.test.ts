// The environment each overlay gives the sidecar passes the sidecar's own configuration check (the one
// that makes it exit before listening), with the mounted files (secret, CA) stood in by temporary ones.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@registry-ldap-auth/auth/src/config.ts';
import { createCa } from '@registry-ldap-auth/stack/certs';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { OVERLAYS, find, render } from './render.ts';

describe('the sidecar environment of each overlay', () => {
  let dir: string;
  let files: Map<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8s-config-'));
    const password = join(dir, 'bind-password');
    await writeFile(password, 'not-a-real-password\n');
    const { caCert } = await createCa(join(dir, 'ca'), 'stand-in directory CA');
    files = new Map([
      ['LDAP_BIND_PASSWORD_FILE', password],
      ['LDAP_CA_FILE', caCert],
    ]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const overlay of OVERLAYS) {
    it(`overlays/${overlay}: is a valid sidecar configuration`, async () => {
      const objects = await render(overlay);
      const front = find(objects, 'Deployment', 'registry-front') as unknown as IDeployment;
      const auth = front.spec?.template.spec?.containers.find((c) => c.name === 'auth');
      assert.ok(auth);
      const env: Record<string, string> = {};
      for (const source of auth.envFrom ?? []) {
        const name = source.configMapRef?.name;
        assert.ok(name !== undefined, 'envFrom other than a ConfigMap');
        Object.assign(env, find(objects, 'ConfigMap', name).data);
      }
      for (const e of auth.env ?? []) {
        assert.ok(e.value !== undefined, `${e.name} comes from elsewhere`);
        env[e.name] = e.value;
      }
      for (const [name, path] of files) if (env[name] !== undefined) env[name] = path;
      const config = loadConfig(env);
      assert.equal(config.host, '127.0.0.1');
      assert.ok(config.ldap.urls.length > 0);
    });
  }
});
