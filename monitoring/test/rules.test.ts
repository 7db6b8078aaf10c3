// The alert rules as Prometheus reads them: promtool's syntax check and unit tests, plus what promtool does
// not check: every alert is documented, links to a runbook section that exists, and is unit-tested both
// firing and quiet.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { run } from '@registry-ldap-auth/stack/process';
import { ALERTS_FILE } from '@registry-ldap-auth/stack/prometheus';
import { githubAnchors } from './markdown.ts';

const MONITORING = join(import.meta.dirname, '..');
const TESTS_FILE = join(MONITORING, 'tests', 'alerts.test.yml');
const RUNBOOKS = join(MONITORING, '..', 'docs', 'monitoring.md');

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);

describe('monitoring/alerts.yml', () => {
  it('passes promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', ALERTS_FILE]);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('passes its promtool unit tests (monitoring/tests/alerts.test.yml)', async () => {
    const { stdout, stderr } = await run('promtool', ['test', 'rules', TESTS_FILE]);
    assert.match(stdout + stderr, /SUCCESS/);
  });

  it('covers the failure modes an on-call engineer needs to hear about', () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), [
      'RegistryAuthCacheHitRatioLow',
      'RegistryAuthCredentialsGoingStale',
      'RegistryAuthDirectoryDown',
      'RegistryAuthDirectorySlow',
      'RegistryAuthDown',
      'RegistryAuthFailingClosed',
      'RegistryAuthLdapServerDown',
      'RegistryAuthLockouts',
      'RegistryAuthNotScraped',
      'RegistryAuthPasswordGuessing',
    ]);
  });

  it('gives every alert a severity, a summary, a description and a runbook section that exists', () => {
    const anchors = githubAnchors(readFileSync(RUNBOOKS, 'utf8'));
    for (const { alert, labels, annotations } of alerts) {
      assert.ok(['critical', 'warning'].includes(labels?.['severity'] ?? ''), `${alert}: severity`);
      assert.ok((annotations?.['summary'] ?? '').length > 10, `${alert}: summary`);
      assert.ok((annotations?.['description'] ?? '').length > 40, `${alert}: description`);
      const runbook = annotations?.['runbook_url'] ?? '';
      assert.equal(runbook, `docs/monitoring.md#${alert.toLowerCase()}`, `${alert}: runbook_url`);
      assert.ok(anchors.has(alert.toLowerCase()), `docs/monitoring.md has a section ${alert}`);
    }
  });

  it("is listed alert by alert in the README's Monitoring table, linked to its runbook", () => {
    const readme = readFileSync(join(MONITORING, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Monitoring'));
    const listed = [...section.matchAll(/^\| \[(\w+)\]\(docs\/monitoring\.md#(\w+)\)/gm)];
    assert.deepEqual(
      listed.map((m) => [m[1], m[2]]),
      alerts.map((a) => [a.alert, a.alert.toLowerCase()]),
    );
  });

  it('unit-tests every alert both firing and quiet', () => {
    interface Case {
      alertname: string;
      exp_alerts?: unknown[];
    }
    const tests = (parse(readFileSync(TESTS_FILE, 'utf8')) as { tests: { alert_rule_test?: Case[] }[] })
      .tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} is shown firing`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} is shown quiet`,
      );
    }
  });
});
