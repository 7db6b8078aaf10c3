// The schemas accept unknown fields (as the API server does without strict field validation), so a
// misspelt field would pass them silently. Every field name the packages' type declarations know, from all
// their types at once: a key in a rendered object that is none of them is a typo (`readOnlyRootFilesytem`).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { K8sObject } from './render.ts';

const PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/apimachinery',
  '@kubernetes-models/prometheus-operator',
];

// Maps whose keys are data, not fields.
const FREE_FORM = new Set([
  'labels',
  'annotations',
  'data',
  'stringData',
  'binaryData',
  'matchLabels',
  'nodeSelector',
  'requests',
  'limits',
]);

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : declarationFiles(path);
    return entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

let known: Set<string> | undefined;

export function knownFields(): Set<string> {
  if (known !== undefined) return known;
  known = new Set();
  for (const pkg of PACKAGES) {
    const root = dirname(fileURLToPath(import.meta.resolve(pkg)));
    for (const file of declarationFiles(root)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/^\s+"([^"]+)"\??:/gm))
        known.add(match[1] ?? '');
    }
  }
  return known;
}

/** The paths of keys in `object` that no declared type has (free-form maps skipped). */
export function unknownFields(object: K8sObject): string[] {
  const fields = knownFields();
  const found: string[] = [];
  const walk = (value: unknown, path: string, parentKey: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${path}[${i}]`, parentKey);
      });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    // A Service's selector is a plain map (a workload's is a LabelSelector with matchLabels).
    if (FREE_FORM.has(parentKey) || (object.kind === 'Service' && path === '.spec.selector')) return;
    for (const [key, v] of Object.entries(value)) {
      if (!fields.has(key)) found.push(`${path}.${key}`);
      walk(v, `${path}.${key}`, key);
    }
  };
  walk(object, '', '');
  return found;
}
