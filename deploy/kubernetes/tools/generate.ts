// Writes the copies kustomize needs under deploy/kubernetes from their one source in the repository:
// kustomize loads no file outside a kustomization's directory, so `files:` cannot point at ../nginx.
//   base/generated/registry.conf.template  <- nginx/registry.conf.template (verbatim)
//   base/generated/prometheus-rule.yaml    <- monitoring/alerts.yml (its groups in a PrometheusRule)
//   overlays/demo/generated/openldap.ldif  <- stack/seed/openldap.ldif (verbatim)
// `npm run generate -w deploy/kubernetes` writes them; test/generated.test.ts fails when one is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = new URL('../../../', import.meta.url);
const HERE = new URL('../', import.meta.url);

const header = (source: string): string =>
  `# Generated from ${source} by \`npm run generate -w deploy/kubernetes\`: edit the source, not this copy.\n`;

/** The Prometheus rule file's groups, unchanged, as the spec of a PrometheusRule (the same schema). */
export function prometheusRule(alertsYaml: string): string {
  const rules = parse(alertsYaml) as { groups?: unknown };
  if (!Array.isArray(rules.groups) || rules.groups.length === 0) {
    throw new Error('monitoring/alerts.yml has no rule groups');
  }
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'registry-auth' },
    spec: { groups: rules.groups },
  };
  return header('monitoring/alerts.yml') + stringify(object, { lineWidth: 0 });
}

/** Every generated file, by its path under deploy/kubernetes, with the content it must have. */
export async function generatedFiles(): Promise<Map<string, string>> {
  const source = (path: string) => readFile(new URL(path, ROOT), 'utf8');
  return new Map([
    ['base/generated/registry.conf.template', await source('nginx/registry.conf.template')],
    ['base/generated/prometheus-rule.yaml', prometheusRule(await source('monitoring/alerts.yml'))],
    ['overlays/demo/generated/openldap.ldif', await source('stack/seed/openldap.ldif')],
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, content] of await generatedFiles()) {
    await writeFile(new URL(path, HERE), content);
    process.stdout.write(`wrote deploy/kubernetes/${path}\n`);
  }
}
