// What the rendered overlays promise about security and exposure, checked object by object: restricted
// pods, nothing but nginx's TLS port reachable from outside the cluster, network policies that isolate
// the registry and the sidecar, and the probes, budgets and autoscaling a rollout relies on.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import { exposures, matches, podsSelectedBy } from './exposure.ts';
import { OVERLAYS, find, render } from './render.ts';
import type { K8sObject } from './render.ts';

/** The product's own workloads; overlays/demo adds a stand-in directory, checked apart. */
const PRODUCT = ['registry-front', 'registry'] as const;

const deployments = (objects: readonly K8sObject[]): IDeployment[] =>
  objects.filter((o) => o.kind === 'Deployment') as unknown as IDeployment[];
const deployment = (objects: readonly K8sObject[], name: string): IDeployment =>
  find(objects, 'Deployment', name) as unknown as IDeployment;
const containers = (d: IDeployment): IContainer[] => d.spec?.template.spec?.containers ?? [];
const container = (d: IDeployment, name: string): IContainer => {
  const c = containers(d).find((x) => x.name === name);
  assert.ok(c, `no container ${name} in ${d.metadata?.name}`);
  return c;
};
const env = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;

for (const overlay of OVERLAYS) {
  describe(`overlays/${overlay}: security and exposure`, () => {
    let objects: K8sObject[];
    before(async () => {
      objects = await render(overlay);
    });

    it('runs the front and registry pods non-root, read-only, without capabilities, seccomp RuntimeDefault', () => {
      for (const name of PRODUCT) {
        const spec = deployment(objects, name).spec?.template.spec;
        assert.ok(spec);
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
        assert.equal(spec.securityContext.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
        assert.equal(spec.automountServiceAccountToken, false, `${name}: service account token`);
        assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, `${name}: host namespaces`);
        assert.ok(!(spec.volumes ?? []).some((v) => v.hostPath), `${name}: hostPath volume`);
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          const sc = c.securityContext;
          const where = `${name}/${c.name}`;
          assert.equal(sc?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: capabilities.drop`);
          assert.equal(sc.capabilities.add, undefined, `${where}: capabilities.add`);
          assert.notEqual(sc.privileged, true, `${where}: privileged`);
          const uid = sc.runAsUser ?? spec.securityContext.runAsUser;
          assert.ok(uid !== undefined && uid > 0, `${where}: runs as uid ${uid}`);
        }
      }
    });

    it('gives every container CPU and memory requests and a memory limit', () => {
      for (const d of deployments(objects)) {
        for (const c of containers(d)) {
          const where = `${d.metadata?.name}/${c.name}`;
          assert.ok(c.resources?.requests?.['cpu'] !== undefined, `${where}: cpu request`);
          assert.ok(c.resources.requests['memory'] !== undefined, `${where}: memory request`);
          assert.ok(c.resources.limits?.['memory'] !== undefined, `${where}: memory limit`);
        }
      }
    });

    it('exposes nothing outside the cluster but nginx’s TLS port: not the registry, not the sidecar', () => {
      const outside = exposures(objects).filter((e) => e.external);
      for (const e of outside) {
        assert.deepEqual(
          [e.workload, e.container, e.port],
          ['registry-front', 'nginx', 8443],
          `${e.service} exposes ${e.workload}/${e.container}:${e.port}`,
        );
      }
      assert.equal(outside.length, overlay === 'production' ? 1 : 0);
      const registry = find(objects, 'Service', 'registry') as unknown as IService;
      assert.equal(registry.spec?.type, 'ClusterIP');
    });

    it('keeps the sidecar’s decision port on loopback, where only nginx in the same pod asks it', () => {
      const front = deployment(objects, 'registry-front');
      const auth = container(front, 'auth');
      assert.equal(env(auth, 'HOST'), '127.0.0.1');
      const port = Number(env(auth, 'PORT'));
      assert.ok(!(auth.ports ?? []).some((p) => p.containerPort === port), 'the decision port is declared');
      assert.equal(env(container(front, 'nginx'), 'AUTH_UPSTREAM'), `127.0.0.1:${port}`);
      assert.equal(env(auth, 'TRUSTED_PROXIES'), 'loopback');
      const everyPort = exposures(objects).map((e) => `${e.container}:${e.port}`);
      assert.ok(!everyPort.includes(`auth:${port}`), 'a Service targets the decision port');
    });

    it('probes liveness on /healthz and keeps pods ready through a directory outage (never /readyz)', () => {
      const auth = container(deployment(objects, 'registry-front'), 'auth');
      assert.equal(auth.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(auth.readinessProbe?.httpGet?.path, '/healthz');
      for (const d of deployments(objects)) {
        for (const c of containers(d)) {
          assert.ok(c.readinessProbe, `${d.metadata?.name}/${c.name}: no readiness probe`);
          assert.ok(c.livenessProbe, `${d.metadata?.name}/${c.name}: no liveness probe`);
          assert.notEqual(c.readinessProbe.httpGet?.path, '/readyz');
        }
      }
    });

    it('isolates every pod with network policies for both directions', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as INetworkPolicy[];
      for (const d of deployments(objects)) {
        const labels = d.spec?.template.metadata?.labels ?? {};
        const types = new Set(
          policies
            .filter((p) => matches(p.spec?.podSelector, labels))
            .flatMap((p) => p.spec?.policyTypes ?? []),
        );
        assert.deepEqual([...types].sort(), ['Egress', 'Ingress'], `${d.metadata?.name} is not isolated`);
      }
    });

    it('lets only the front pods reach the registry, and only Prometheus the sidecar’s metrics port', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as INetworkPolicy[];
      const front = { 'app.kubernetes.io/name': 'registry-front' };
      const registryLabels = deployment(objects, 'registry').spec?.template.metadata?.labels ?? {};
      const toRegistry = policies
        .filter((p) => matches(p.spec?.podSelector, registryLabels))
        .flatMap((p) => p.spec?.ingress ?? []);
      assert.ok(toRegistry.length > 0);
      for (const rule of toRegistry) {
        assert.deepEqual(
          rule.from,
          [{ podSelector: { matchLabels: front } }],
          'registry ingress from others',
        );
      }
      const frontLabels = deployment(objects, 'registry-front').spec?.template.metadata?.labels ?? {};
      const toFront = policies
        .filter((p) => matches(p.spec?.podSelector, frontLabels))
        .flatMap((p) => p.spec?.ingress ?? []);
      for (const rule of toFront) {
        const ports = (rule.ports ?? []).map((p) => p.port);
        if (rule.from === undefined) assert.deepEqual(ports, ['https'], 'open to all on more than https');
        else
          assert.ok(
            rule.from.every(
              (peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus',
            ),
          );
      }
    });

    it('lets the front pods out only to the registry, DNS and the directory', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as INetworkPolicy[];
      const frontLabels = deployment(objects, 'registry-front').spec?.template.metadata?.labels ?? {};
      const egress = policies
        .filter((p) => matches(p.spec?.podSelector, frontLabels))
        .flatMap((p) => p.spec?.egress ?? []);
      const ports = egress.flatMap((rule) => (rule.ports ?? []).map((p) => p.port)).sort();
      assert.deepEqual(ports, [...[5000, 53, 53], overlay === 'demo' ? 389 : 636].sort());
      for (const rule of egress) assert.ok(rule.to !== undefined && rule.to.length > 0, 'egress to anywhere');
    });

    it('keeps a front pod through voluntary disruptions and scales the front on CPU', () => {
      for (const name of PRODUCT) {
        const pdb = find(objects, 'PodDisruptionBudget', name) as unknown as IPodDisruptionBudget;
        const pods = podsSelectedBy(objects, pdb.spec?.selector);
        assert.deepEqual(pods, [name]);
      }
      assert.equal(
        (find(objects, 'PodDisruptionBudget', 'registry-front') as unknown as IPodDisruptionBudget).spec
          ?.minAvailable,
        1,
      );
      const hpa = find(
        objects,
        'HorizontalPodAutoscaler',
        'registry-front',
      ) as unknown as IHorizontalPodAutoscaler;
      assert.equal(hpa.spec.scaleTargetRef.name, 'registry-front');
      assert.ok((hpa.spec.minReplicas ?? 1) >= 2);
    });
  });
}

describe('the exposure check itself', () => {
  it('flags a registry or metrics Service made reachable from outside the cluster', async () => {
    const objects = await render('production');
    const mutate = (name: string, spec: Record<string, unknown>): K8sObject[] =>
      objects.map((o) =>
        o.kind === 'Service' && o.metadata.name === name ? { ...o, spec: { ...o.spec, ...spec } } : o,
      );
    const flagged = (objs: K8sObject[]) =>
      exposures(objs)
        .filter((e) => e.external && e.container !== 'nginx')
        .map((e) => `${e.service}->${e.container}:${e.port}`);
    assert.deepEqual(flagged(mutate('registry', { type: 'NodePort' })), ['registry->registry:5000']);
    assert.deepEqual(flagged(mutate('registry-auth-metrics', { type: 'LoadBalancer' })), [
      'registry-auth-metrics->auth:9090',
    ]);
    assert.deepEqual(flagged(mutate('registry', { externalIPs: ['203.0.113.5'] })), [
      'registry->registry:5000',
    ]);
  });
});

describe('overlays/demo: the stand-in directory', () => {
  it('starts as root only with the capabilities its entrypoint needs, otherwise locked down', async () => {
    const objects = await render('demo');
    const spec = deployment(objects, 'openldap').spec?.template.spec;
    assert.ok(spec);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(spec.automountServiceAccountToken, false);
    const sc = container(deployment(objects, 'openldap'), 'openldap').securityContext;
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    // Pod Security "baseline" allows exactly these among others; nothing beyond the entrypoint's needs.
    assert.deepEqual([...(sc.capabilities.add ?? [])].sort(), [
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'NET_BIND_SERVICE',
      'SETGID',
      'SETUID',
    ]);
  });
});

describe('namespaces', () => {
  it('production enforces Pod Security "restricted"; the demo warns at it', async () => {
    const label = 'pod-security.kubernetes.io/enforce';
    const production = find(await render('production'), 'Namespace', 'registry');
    assert.equal(production.metadata.labels?.[label], 'restricted');
    const demo = find(await render('demo'), 'Namespace', 'registry-demo');
    assert.equal(demo.metadata.labels?.['pod-security.kubernetes.io/warn'], 'restricted');
  });
});
