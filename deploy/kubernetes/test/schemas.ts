// The Kubernetes and prometheus-operator schemas, from the kubernetes-models packages (the API's OpenAPI
// definitions and the operator's CRDs as compiled validators), by apiVersion and kind.
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import type { K8sObject } from './render.ts';

interface Model {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: never): { validate(): void };
}

// Each kind the overlays may render, by apiVersion/kind; anything else fails the test (unvalidated).
const MODELS: readonly Model[] = [
  coreV1.Namespace,
  coreV1.ConfigMap,
  coreV1.Secret,
  coreV1.Service,
  coreV1.PersistentVolumeClaim,
  coreV1.ServiceAccount,
  appsV1.Deployment,
  appsV1.StatefulSet,
  policyV1.PodDisruptionBudget,
  autoscalingV2.HorizontalPodAutoscaler,
  networkingV1.NetworkPolicy,
  monitoringV1.ServiceMonitor,
  monitoringV1.PodMonitor,
  monitoringV1.PrometheusRule,
];
const byType = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

/** The schema's complaint about `object`, or undefined when it is valid. */
export function schemaError(object: K8sObject): string | undefined {
  const Model = byType.get(`${object.apiVersion}/${object.kind}`);
  if (Model === undefined) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
