// One source each: the copies kustomize reads (tools/generate.ts) are what their sources say, and the
// rendered overlays carry them unchanged.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { generatedFiles } from '../tools/generate.ts';
import { OVERLAYS, find, render } from './render.ts';

const read = (path: string): Promise<string> =>
  readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('generated copies', () => {
  it('match what `npm run generate -w deploy/kubernetes` makes from their sources', async () => {
    for (const [path, content] of await generatedFiles()) {
      const committed = await readFile(new URL(`../${path}`, import.meta.url), 'utf8');
      assert.ok(
        committed === content,
        `deploy/kubernetes/${path} is stale: run npm run generate -w deploy/kubernetes`,
      );
    }
  });

  for (const overlay of OVERLAYS) {
    it(`overlays/${overlay}: the PrometheusRule holds monitoring/alerts.yml's groups, the nginx ConfigMap the template`, async () => {
      const objects = await render(overlay);
      const alerts = parse(await read('monitoring/alerts.yml')) as { groups: unknown };
      assert.deepEqual(find(objects, 'PrometheusRule', 'registry-auth').spec?.['groups'], alerts.groups);
      const nginx = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nginx-template'),
      );
      assert.equal(nginx?.data?.['default.conf.template'], await read('nginx/registry.conf.template'));
    });
  }

  it('overlays/demo: the directory is seeded from stack/seed/openldap.ldif', async () => {
    const seed = (await render('demo')).find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('openldap-seed'),
    );
    assert.equal(seed?.data?.['seed.ldif'], await read('stack/seed/openldap.ldif'));
  });
});
