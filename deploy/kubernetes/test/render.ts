// Renders an overlay with `kubectl kustomize` (as `kubectl apply -k` would) and parses the objects.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const OVERLAYS = ['demo', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export const KUBERNETES_DIR = fileURLToPath(new URL('../', import.meta.url));

/** A rendered object, typed just enough for the checks: everything else stays unknown. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export async function render(overlay: Overlay): Promise<K8sObject[]> {
  const dir = fileURLToPath(new URL(`../overlays/${overlay}`, import.meta.url));
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir], {
    maxBuffer: 16 << 20,
    timeout: 60_000,
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('kubectl is not installed: these tests render the overlays with `kubectl kustomize`');
    }
    throw error;
  });
  return parseAllDocuments(stdout).map((doc) => {
    if (doc.errors.length > 0)
      throw new Error(`kubectl kustomize printed invalid YAML: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject;
  });
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered overlay`);
  return found;
}
