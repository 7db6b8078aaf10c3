// The Grafana dashboard and the compose stack's Grafana provisioning, checked as files (Grafana itself cannot
// run here; test/live.test.ts evaluates every panel's expression against a real Prometheus).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DASHBOARD_FILE } from '@registry-ldap-auth/stack/prometheus';
import { dashboardPanels } from './dashboard.ts';
import type { Dashboard } from './dashboard.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const COMPOSE_DIR = join(REPO_ROOT, 'compose');
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const DATASOURCE = '${datasource}';

/** Every `uid` anywhere in a JSON value. */
function uids(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(uids);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    key === 'uid' && typeof v === 'string' ? [v] : uids(v),
  );
}

const yamlFile = (path: string): Record<string, unknown> =>
  parse(readFileSync(join(COMPOSE_DIR, path), 'utf8')) as Record<string, unknown>;

describe('monitoring/dashboards/registry-auth.json', () => {
  it('is a dashboard with a fixed uid, a title and a data source variable', () => {
    assert.equal(dashboard.uid, 'registry-ldap-auth');
    assert.ok(dashboard.title.length > 0);
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.deepEqual([variable?.type, variable?.query], ['datasource', 'prometheus']);
  });

  it('gives every panel at least one query, each with an expression', () => {
    const panels = dashboardPanels(dashboard);
    assert.ok(panels.length >= 15, `${panels.length} panels`);
    for (const panel of panels) {
      assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
      for (const target of panel.targets) assert.ok(target.expr.trim().length > 0, `${panel.title}: expr`);
      const refIds = panel.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${panel.title}: refIds unique`);
      assert.ok((panel.description ?? '').length > 20, `${panel.title} says what it shows`);
    }
  });

  it('uses the data source variable everywhere, never a hard-coded data source uid', () => {
    for (const panel of dashboardPanels(dashboard)) {
      assert.equal(panel.datasource?.uid, DATASOURCE, panel.title);
      for (const target of panel.targets) assert.equal(target.datasource?.uid, DATASOURCE, panel.title);
    }
    const others = uids(dashboard).filter((u) => u !== DATASOURCE && u !== dashboard.uid);
    assert.deepEqual(others, []);
  });

  it('has unique panel ids and panels that fit the 24-column grid', () => {
    const all = dashboard.panels;
    assert.equal(new Set(all.map((p) => p.id)).size, all.length);
    for (const { title, gridPos } of all) assert.ok(gridPos.x + gridPos.w <= 24, title);
  });

  it('shows the rows the README describes', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Decisions', 'Latency', 'Cache', 'Directory (LDAP)', 'Security', 'Process']);
    const readme = readFileSync(join(REPO_ROOT, 'docs', 'monitoring.md'), 'utf8');
    for (const row of rows) assert.ok(readme.includes(`**${row}**`), `docs/monitoring.md describes ${row}`);
  });
});

describe('compose: the monitoring profile', () => {
  interface Service {
    profiles?: string[];
    volumes?: string[];
  }
  const compose = yamlFile('docker-compose.yml') as { services: Record<string, Service> };
  const mounts = (service: string): Map<string, string> =>
    new Map(
      (compose.services[service]?.volumes ?? []).map((v) => {
        const [source = '', target = ''] = v.split(':');
        return [target, resolve(COMPOSE_DIR, source)];
      }),
    );

  it('has Prometheus load the project rule file and scrape the job the rules select', () => {
    const prometheus = yamlFile('prometheus.yml') as {
      rule_files: string[];
      scrape_configs: { job_name: string }[];
    };
    const [ruleFile = ''] = prometheus.rule_files;
    assert.equal(mounts('prometheus').get(ruleFile), join(REPO_ROOT, 'monitoring', 'alerts.yml'));
    assert.deepEqual(
      prometheus.scrape_configs.map((s) => s.job_name),
      ['registry-auth'],
    );
  });

  it('provisions Grafana with that Prometheus and the dashboard, from files that exist', () => {
    const grafana = mounts('grafana');
    assert.deepEqual(compose.services['grafana']?.profiles, ['monitoring']);
    for (const source of grafana.values()) assert.ok(existsSync(source), source);

    const datasources = yamlFile('grafana/datasources/prometheus.yml') as {
      apiVersion: number;
      datasources: { type: string; url: string; uid: string }[];
    };
    assert.equal(datasources.apiVersion, 1);
    assert.deepEqual(
      datasources.datasources.map((d) => [d.type, d.url]),
      [['prometheus', 'http://prometheus:9090']],
    );
    assert.equal(
      grafana.get('/etc/grafana/provisioning/datasources'),
      join(COMPOSE_DIR, 'grafana', 'datasources'),
    );

    const providers = yamlFile('grafana/dashboards/registry-auth.yml') as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    assert.equal(providers.apiVersion, 1);
    const [provider] = providers.providers;
    assert.equal(provider?.type, 'file');
    assert.equal(grafana.get(provider.options.path), join(REPO_ROOT, 'monitoring', 'dashboards'));
    assert.equal(
      grafana.get('/etc/grafana/provisioning/dashboards'),
      join(COMPOSE_DIR, 'grafana', 'dashboards'),
    );

    // Every uid Grafana will hold is unique: the provisioned data source's and the dashboard's.
    const all = [...datasources.datasources.map((d) => d.uid), dashboard.uid];
    assert.equal(new Set(all).size, all.length);
  });
});
