// Every rendered object of every overlay against the Kubernetes and prometheus-operator schemas.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { OVERLAYS, render } from './render.ts';
import type { K8sObject } from './render.ts';
import { unknownFields } from './known-fields.ts';
import { schemaError } from './schemas.ts';

for (const overlay of OVERLAYS) {
  describe(`overlays/${overlay}: every object matches its schema`, () => {
    let objects: K8sObject[];
    before(async () => {
      objects = await render(overlay);
    });

    it('renders with kubectl kustomize', () => {
      assert.ok(objects.length >= 15, `only ${objects.length} objects`);
    });

    it('validates each object against the Kubernetes or prometheus-operator schema', () => {
      const problems = objects
        .map((o) => [`${o.kind}/${o.metadata.name}`, schemaError(o)] as const)
        .filter(([, error]) => error !== undefined);
      assert.deepEqual(problems, []);
    });

    it('uses no field name the schemas do not know (a typo would pass them)', () => {
      const unknown = objects.flatMap((o) =>
        unknownFields(o).map((path) => `${o.kind}/${o.metadata.name}${path}`),
      );
      assert.deepEqual(unknown, []);
    });
  });
}

describe('the schema check itself', () => {
  it('rejects what the API server would: a wrong type, a bad duration, an unknown kind', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        replicas: 'two',
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    };
    assert.match(schemaError(deployment) ?? '', /replicas must be integer/);
    const rule = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'r' },
      spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '2 minutes' }] }] },
    };
    assert.match(schemaError(rule) ?? '', /for must match pattern/);
    assert.match(schemaError({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }) ?? '', /no schema/);
  });

  it('names a misspelt field, and not the keys of labels or a Service selector', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', labels: { 'any-key': 'x' } },
      spec: { selector: { 'app.kubernetes.io/name': 'x' }, ports: [{ port: 1, tragetPort: 2 }] },
    };
    assert.deepEqual(unknownFields(service), ['.spec.ports[0].tragetPort']);
  });
});
