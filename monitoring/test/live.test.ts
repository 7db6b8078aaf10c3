// The alert rules and the dashboard against the real thing: the sidecar deciding against a real slapd,
// Debian's Prometheus scraping it every second with monitoring/alerts.yml loaded (every `for:` shortened to
// 2 s). Real decisions, a real outage, every dashboard query evaluated through Prometheus's HTTP API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { freePort, waitUntil } from '@registry-ldap-auth/stack/process';
import { DASHBOARD_FILE, startPrometheus } from '@registry-ldap-auth/stack/prometheus';
import type { ActiveAlert, Prometheus } from '@registry-ldap-auth/stack/prometheus';
import { assertNoSecretsInLogs, basic } from '@registry-ldap-auth/stack/credentials';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Sidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';
import { dashboardPanels, grafanaToPromql } from './dashboard.ts';
import type { Dashboard } from './dashboard.ts';

const LOCKOUT_MAX_FAILURES = 3;

let slapd: Slapd;
let sidecar: Sidecar;
let prometheus: Prometheus;
/** The first LDAP_URL: nothing listens there, so every connection fails over to slapd. */
let deadServer = '';

before(async () => {
  slapd = await startSlapd();
  deadServer = `ldap://127.0.0.1:${await freePort()}`;
  sidecar = await startSidecar({
    ...sidecarEnvFor(slapd),
    LDAP_URL: `${deadServer},${slapd.url}`,
    LOCKOUT_MAX_FAILURES: String(LOCKOUT_MAX_FAILURES),
    // Every request here comes from loopback: only the per-user limit should lock anyone out.
    LOCKOUT_ADDRESS_MAX_FAILURES: '1000000',
    LDAP_CONNECT_TIMEOUT_MS: '1000',
    LDAP_TIMEOUT_MS: '2000',
  });
  prometheus = await startPrometheus({ targets: [`127.0.0.1:${sidecar.metricsPort}`], alertFor: '2s' });
  await waitUntil('Prometheus scrapes the sidecar', async () =>
    (await prometheus.query('up{job="registry-auth"} == 1')).length === 1 ? true : undefined,
  );
});
after(async () => {
  await assertNoSecretsInLogs(); // before the servers and their logs are removed
  await prometheus.stop();
  await sidecar.stop();
  await slapd.destroy();
});

/** One decision as nginx asks for it, from `clientIp` (trusted: the sidecar sees loopback as its proxy). */
async function ask(
  method: string,
  uri: string,
  authorization?: string,
  clientIp = '192.0.2.1',
): Promise<number> {
  const res = await fetch(`${sidecar.url}/auth`, {
    headers: {
      'X-Original-Method': method,
      'X-Original-URI': uri,
      'X-Real-IP': clientIp,
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
  });
  return res.status;
}
const as = (user: keyof typeof seed.users): string => basic(user, seed.users[user].password);

/** Prometheus's current value of `expr` (a single series), or undefined while it has none. */
async function value(expr: string): Promise<number | undefined> {
  const [sample] = await prometheus.query(expr);
  return sample === undefined ? undefined : Number(sample.value[1]);
}

/** Waits until Prometheus has scraped a sample of `expr` that is at least `atLeast`. */
async function scraped(expr: string, atLeast: number): Promise<number> {
  let last: number | undefined;
  return waitUntil(
    `${expr} >= ${atLeast} in Prometheus`,
    async () => {
      last = await value(expr);
      return last !== undefined && last >= atLeast ? last : undefined;
    },
    { describe: () => String(last) },
  );
}

const alertState = (alerts: ActiveAlert[], name: string): string | undefined =>
  alerts.find((a) => a.labels['alertname'] === name)?.state;

describe('a live Prometheus with the project rules', () => {
  it('sees allows, denies, wrong passwords, challenges and a lockout, and fires RegistryAuthLockouts', async () => {
    const statuses = [
      await ask('GET', '/v2/'), // the challenge
      await ask('GET', '/v2/', as('alice')),
      await ask('PUT', '/v2/team/app/manifests/v1', as('alice')),
      await ask('GET', '/v2/team/app/tags/list', as('bob')),
      await ask('PUT', '/v2/team/app/manifests/v1', as('bob')), // bob may only pull: 403
      await ask('GET', '/v2/', basic('alice', 'not-her-password')),
      await ask('GET', '/v2/', basic('nobody-here', 'x')),
    ];
    assert.deepEqual(statuses, [401, 200, 200, 200, 403, 401, 401]);
    // carol guesses until she is locked out; then even her right password is refused.
    for (let i = 0; i < LOCKOUT_MAX_FAILURES; i++) {
      assert.equal(await ask('GET', '/v2/', basic('carol', `guess-${i}`), '198.51.100.7'), 401);
    }
    assert.equal(await ask('GET', '/v2/', as('carol'), '198.51.100.7'), 401);

    const decisions = (result: string): string =>
      `sum(registry_auth_decisions_total{job="registry-auth",result="${result}"})`;
    assert.ok((await scraped(decisions('allow'), 3)) >= 3);
    await scraped(decisions('deny'), 1);
    await scraped(decisions('challenge'), 1);
    await scraped(decisions('unauthenticated'), 2 + LOCKOUT_MAX_FAILURES);
    await scraped(decisions('locked'), 1);
    await scraped('sum(registry_auth_rejections_total{reason="invalid_password"})', 1 + LOCKOUT_MAX_FAILURES);
    await scraped('sum(registry_auth_lockouts_total)', 1);
    // The challenge is not counted as a failed credential.
    assert.equal(await value(decisions('challenge')), 1);
    await waitUntil('RegistryAuthLockouts firing', async () =>
      alertState(await prometheus.alerts(), 'RegistryAuthLockouts') === 'firing' ? true : undefined,
    );
  });

  it('keeps the same registry_auth_* series after 1000 distinct users, repositories and addresses', async () => {
    const series = '{__name__=~"registry_auth_.+",job="registry-auth"}';
    const total = 'sum(registry_auth_decisions_total)';
    const N = 1000;
    const decide = async (i: number): Promise<void> => {
      const ip = `10.${i >> 8}.${i & 255}.9`;
      assert.equal(await ask('GET', `/v2/project-${i}/app-${i}/tags/list`, as('alice'), ip), 200);
      assert.equal(await ask('GET', `/v2/project-${i}/tags/list`, basic(`visitor-${i}`, 'pw'), ip), 401);
    };
    // One round first, so every kind of decision below has its series before they are counted.
    const warmUp = (await value(total)) ?? 0;
    await decide(0);
    const decided = await scraped(total, warmUp + 2);
    const listed = async (): Promise<string[]> =>
      (await prometheus.query(series)).map((s) => JSON.stringify(s.metric)).sort();
    const seriesBefore = await listed();
    for (let i = 1; i <= N; i++) await decide(i);
    await scraped(total, decided + 2 * N);
    assert.deepEqual(await listed(), seriesBefore);
    const names = await prometheus.query(series);
    const labelValues = names.flatMap((s) => Object.values(s.metric)).join(' ');
    assert.doesNotMatch(labelValues, /visitor-|project-|app-|10\.0\./);
  });

  it('fires RegistryAuthLdapServerDown for the dead LDAP_URL while failover to slapd works', async () => {
    const alert = await waitUntil('RegistryAuthLdapServerDown firing', async () =>
      (await prometheus.alerts()).find(
        (a) => a.labels['alertname'] === 'RegistryAuthLdapServerDown' && a.state === 'firing',
      ),
    );
    assert.equal(alert.labels['server'], deadServer);
    assert.equal(await value(`registry_auth_ldap_server_up{server="${slapd.url}"}`), 1);
    assert.equal(alertState(await prometheus.alerts(), 'RegistryAuthDirectoryDown'), undefined);
    assert.equal(await ask('GET', '/v2/', as('erin')), 200);
  });

  it('fires RegistryAuthDirectoryDown while slapd is stopped, and resolves it when slapd is back', async () => {
    const state = async (): Promise<string | undefined> =>
      alertState(await prometheus.alerts(), 'RegistryAuthDirectoryDown');
    assert.equal(await state(), undefined);

    await slapd.stop();
    // An uncached credential now fails closed (503), and the health check marks the directory down.
    assert.equal(await ask('GET', '/v2/', basic('dave', seed.users.dave.password)), 503);
    await waitUntil('/readyz says the directory is unreachable', async () =>
      (await fetch(`${sidecar.metricsUrl}/readyz`)).status === 503 ? true : undefined,
    );
    await waitUntil('RegistryAuthDirectoryDown firing', async () =>
      (await state()) === 'firing' ? true : undefined,
    );
    // With every server down it is this alert's page alone, not also the one-server-down warning.
    assert.equal(alertState(await prometheus.alerts(), 'RegistryAuthLdapServerDown'), undefined);

    await slapd.start();
    await waitUntil('/readyz says ready', async () =>
      (await fetch(`${sidecar.metricsUrl}/readyz`)).status === 200 ? true : undefined,
    );
    await waitUntil('RegistryAuthDirectoryDown resolved', async () =>
      (await state()) === undefined ? true : undefined,
    );
    assert.equal(await ask('GET', '/v2/', basic('dave', seed.users.dave.password)), 200);
  });

  it('answers every dashboard panel query with at least one series', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
    // Every metric a panel names is one Prometheus knows (a misspelt name would never be).
    const known = new Set(
      ((await (await fetch(`${prometheus.url}/api/v1/label/__name__/values`)).json()) as { data: string[] })
        .data,
    );
    const empty: string[] = [];
    let queries = 0;
    for (const panel of dashboardPanels(dashboard)) {
      for (const target of panel.targets) {
        const names = target.expr.match(/\b(?:registry_auth|process|nodejs)_[a-z0-9_]+/g) ?? [];
        for (const name of names) assert.ok(known.has(name), `${panel.title}: ${name} is not a metric`);
        queries++;
        const series = await prometheus.query(grafanaToPromql(target.expr));
        if (series.length === 0) empty.push(`${panel.title} [${target.refId}]: ${target.expr}`);
      }
    }
    assert.deepEqual(empty, []);
    assert.ok(queries >= 25, `${queries} queries evaluated`);
  });
});
