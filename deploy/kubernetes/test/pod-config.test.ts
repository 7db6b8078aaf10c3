// What each overlay gives the front pod's two processes is a configuration they accept: the sidecar's
// environment passes the sidecar's own check (the one that makes it exit before listening), and nginx's
// environment fills the reference template into a config that `nginx -t` accepts. Mounted files (secret,
// CA, certificate) are stood in by temporary ones.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@registry-ldap-auth/auth/src/config.ts';
import { createCa, issueServerCert } from '@registry-ldap-auth/stack/certs';
import { mainConfig, renderTemplate } from '@registry-ldap-auth/stack/nginx';
import type { TemplateValues } from '@registry-ldap-auth/stack/nginx';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { promisify } from 'node:util';
import { OVERLAYS, find, render } from './render.ts';

describe('the front pod configuration of each overlay', () => {
  let dir: string;
  let files: Map<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8s-config-'));
    const password = join(dir, 'bind-password');
    await writeFile(password, 'not-a-real-password\n');
    const pki = await createCa(join(dir, 'ca'), 'stand-in CA');
    const tls = await issueServerCert(pki, 'registry', { dns: ['registry.example.com'] });
    files = new Map([
      ['LDAP_BIND_PASSWORD_FILE', password],
      ['LDAP_CA_FILE', pki.caCert],
      ['TLS_CERT', tls.cert],
      ['TLS_KEY', tls.key],
    ]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const overlay of OVERLAYS) {
    it(`overlays/${overlay}: the sidecar's environment is a valid sidecar configuration`, async () => {
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

    it(`overlays/${overlay}: nginx's environment fills the reference template into a config nginx accepts`, async () => {
      const objects = await render(overlay);
      const front = find(objects, 'Deployment', 'registry-front') as unknown as IDeployment;
      const nginx = front.spec?.template.spec?.containers.find((c) => c.name === 'nginx');
      assert.ok(nginx);
      const env: Record<string, string> = {};
      for (const e of nginx.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        const value = ref ? find(objects, 'ConfigMap', ref.name ?? '').data?.[ref.key] : e.value;
        assert.ok(value !== undefined, `${e.name} has no value`);
        env[e.name] = value;
      }
      const template = Object.values(
        objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nginx-template'))?.data ??
          {},
      )[0];
      assert.ok(template !== undefined);
      // The image's envsubst step substitutes only the names NGINX_ENVSUBST_FILTER admits: all of them.
      const placeholders = [...new Set([...template.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1] ?? ''))];
      const filter = new RegExp(env['NGINX_ENVSUBST_FILTER'] ?? '^$');
      assert.deepEqual(
        placeholders.filter((p) => !filter.test(p) || env[p] === undefined),
        [],
      );
      // The files the pod mounts, and an upstream nginx -t can resolve here (the Service name cannot be).
      const values = { ...env } as unknown as TemplateValues;
      for (const [name, path] of files)
        if (name in values) (values as unknown as Record<string, string>)[name] = path;
      values.REGISTRY_UPSTREAM = values.REGISTRY_UPSTREAM.replace(/^registry:/, '127.0.0.1:');
      const prefix = join(dir, overlay);
      // /dev/stdout is the container's log; here the test's stdout is a socket, which nginx cannot open.
      values.ACCESS_LOG = join(prefix, 'access.log');
      await mkdir(join(prefix, 'temp'), { recursive: true });
      const site = join(prefix, 'registry.conf');
      await writeFile(site, renderTemplate(template, values));
      const conf = join(prefix, 'nginx.conf');
      const errorLog = join(prefix, 'error.log');
      await writeFile(conf, mainConfig(prefix, errorLog, site, 1));
      const result = await promisify(execFile)('nginx', [
        '-t',
        '-p',
        `${prefix}/`,
        '-e',
        errorLog,
        '-c',
        conf,
      ]).catch((error: unknown) => error as { stderr: string });
      assert.match(result.stderr, /test is successful/, await readFile(errorLog, 'utf8').catch(() => ''));
    });
  }
});
