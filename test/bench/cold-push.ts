// The LDAP cost of one cold push: a fresh sidecar (empty cache, fresh connection pool) behind a fresh nginx
// running the reference config, skopeo pushing a many-layer image with its blob-info cache cleared so every
// blob is really uploaded, and slapd's log read for the binds and searches the push caused.
import { setTimeout as sleep } from 'node:timers/promises';
import { startNginx } from '@registry-ldap-auth/stack/nginx';
import { buildOciImage } from '@registry-ldap-auth/stack/oci-image';
import { startSidecar } from '@registry-ldap-auth/stack/sidecar';
import type { Skopeo } from '@registry-ldap-auth/stack/skopeo';
import type { Slapd } from '@registry-ldap-auth/stack/slapd';
import { seed } from '@registry-ldap-auth/stack/slapd';
import { sidecarEnvFor } from '@registry-ldap-auth/stack/stack';
import { ldapOpsSince, logOffset } from './slapd-ops.ts';
import type { LdapOps, LdapSearch } from './slapd-ops.ts';

export interface ColdPushOptions {
  slapd: Slapd;
  registryPort: number;
  tls: { cert: string; key: string };
  skopeo: Skopeo;
  /** Where the image layout and the sidecar log go (removed by the caller). */
  dir: string;
  layers: number;
  layerBytes: number;
}

export interface ColdPushResult {
  exitCode: number | null;
  stderr: string;
  durationMs: number;
  /** nginx access log lines: one per client request. */
  httpRequests: number;
  /** `status ×count`, e.g. `202 ×40`. */
  statuses: string[];
  /** Decisions the sidecar made (one per auth_request subrequest), by source. */
  decisions: { total: number; bySource: string[] };
  /** LDAP operations between the start and the end of the push. */
  push: LdapOps;
  /** The sidecar's periodic health probe (a base search of the user base) during the push, if it fired. */
  healthSearches: LdapSearch[];
  /** LDAP operations of the fresh sidecar's start-up (its first health probe opens the pool). */
  startup: LdapOps;
}

const isHealthProbe = (s: LdapSearch): boolean =>
  s.scope === 0 && s.filter === '(objectClass=*)' && s.base === seed.peopleDn;

/** Sums a Prometheus text-format counter over all its series. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** `source ×count` from the decision-duration histogram (cache, directory, stale, none = no verdict needed). */
function decisionsBySource(text: string): string[] {
  const counts = text.matchAll(/^registry_auth_decision_duration_seconds_count\{source="(\w+)"\} (\d+)$/gm);
  return [...counts].map((m) => `${m[1] ?? '?'} ×${m[2] ?? '?'}`);
}

function countStatuses(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    // registry_auth log format: `... "$request" $status $body_bytes_sent ...`
    const status = /" (\d{3}) \d+ "/.exec(line)?.[1] ?? '???';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return [...counts].sort().map(([status, n]) => `${status} ×${n}`);
}

export async function measureColdPush(options: ColdPushOptions): Promise<ColdPushResult> {
  const image = await buildOciImage(`${options.dir}/cold-image`, {
    tag: 'cold',
    layerSizes: Array.from({ length: options.layers }, () => options.layerBytes),
  });
  const beforeStart = await logOffset(options.slapd.logFile);
  const sidecar = await startSidecar(sidecarEnvFor(options.slapd), { logDir: options.dir });
  const nginx = await startNginx({
    registryPort: options.registryPort,
    authPort: sidecar.port,
    tls: options.tls,
  }).catch(async (error: unknown) => {
    await sidecar.stop();
    throw error;
  });
  try {
    const beforePush = await logOffset(options.slapd.logFile);
    const startup = await ldapOpsSince(options.slapd.logFile, beforeStart);
    await options.skopeo.clearBlobInfoCache();
    const { alice } = seed.users;
    const result = await options.skopeo.push(
      image,
      `127.0.0.1:${nginx.port}/bench/cold:${image.tag}`,
      { username: alice.uid, password: alice.password },
      { timeoutMs: 60_000 },
    );
    // slapd writes a line before it answers, so the log is complete; the pause lets any operation the
    // sidecar started after answering (none are expected) land in the window too.
    await sleep(300);
    const ops = await ldapOpsSince(options.slapd.logFile, beforePush);
    const metrics = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
    const lines = await nginx.accessLogLines();
    return {
      exitCode: result.code,
      stderr: result.stderr,
      durationMs: result.durationMs,
      httpRequests: lines.length,
      statuses: countStatuses(lines),
      decisions: {
        total: metricSum(metrics, 'registry_auth_decisions_total'),
        bySource: decisionsBySource(metrics),
      },
      push: { binds: ops.binds, searches: ops.searches.filter((s) => !isHealthProbe(s)) },
      healthSearches: ops.searches.filter(isHealthProbe),
      startup,
    };
  } finally {
    await nginx.stop();
    await sidecar.stop();
  }
}
