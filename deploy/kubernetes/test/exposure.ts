// Which container port each Service reaches, and whether from outside the cluster: a Service selects pods
// by label and names a target port by number or by the container port's name.
import type { IIoK8sApimachineryPkgApisMetaV1LabelSelector as LabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IService } from 'kubernetes-models/v1/Service';
import type { K8sObject } from './render.ts';

export interface Exposure {
  readonly service: string;
  readonly workload: string;
  readonly container: string;
  readonly port: number;
  /** Reachable from outside the cluster: LoadBalancer, NodePort, externalIPs or ExternalName. */
  readonly external: boolean;
}

/** matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) against a pod's labels. */
export function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
  return byLabel && byExpression;
}

const workloads = (objects: readonly K8sObject[]): IDeployment[] =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as unknown as IDeployment[];

/** The names of the workloads whose pods `selector` selects. */
export function podsSelectedBy(objects: readonly K8sObject[], selector: LabelSelector | undefined): string[] {
  return workloads(objects)
    .filter((w) => matches(selector, w.spec?.template.metadata?.labels ?? {}))
    .map((w) => w.metadata?.name ?? '');
}

export function exposures(objects: readonly K8sObject[]): Exposure[] {
  const services = objects.filter((o) => o.kind === 'Service') as unknown as IService[];
  const found: Exposure[] = [];
  for (const service of services) {
    const spec = service.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    const external =
      type === 'LoadBalancer' ||
      type === 'NodePort' ||
      type === 'ExternalName' ||
      (spec.externalIPs ?? []).length > 0;
    const selector = spec.selector;
    if (selector === undefined) continue; // no pods of ours behind it (an ExternalName points elsewhere)
    for (const w of workloads(objects)) {
      if (!matches({ matchLabels: selector }, w.spec?.template.metadata?.labels ?? {})) continue;
      for (const port of spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const c of w.spec?.template.spec?.containers ?? []) {
          for (const p of c.ports ?? []) {
            if (p.containerPort === target || (p.name !== undefined && p.name === target)) {
              found.push({
                service: service.metadata?.name ?? '',
                workload: w.metadata?.name ?? '',
                container: c.name,
                port: p.containerPort,
                external,
              });
            }
          }
        }
      }
    }
  }
  return found;
}
