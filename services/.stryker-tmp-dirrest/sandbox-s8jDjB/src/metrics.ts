// @ts-nocheck
// Prometheus metrics (names are stable, listed in docs/interface.md), on a registry of their own rather than the global one.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DirectoryObserver, LdapOperation, OperationOutcome } from './directory/directory.ts';
import type { ServerEvent } from './directory/servers.ts';

export interface Metrics extends DirectoryObserver {
  serverState(event: ServerEvent): void;
  readonly registry: Registry;
  readonly decisions: Counter<'action' | 'result'>;
  readonly rejections: Counter<'reason'>;
  readonly decisionDuration: Histogram<'source'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheEntries: Gauge;
  readonly ldapUp: Gauge;
  readonly ldapServerUp: Gauge<'server'>;
  readonly lockouts: Counter<'key'>;
  /** CI job tokens: fetches of a trusted issuer's discovery document and JWKS (labels bounded by the rules file). */
  readonly oidcKeyFetches: Counter<'issuer' | 'outcome'>;
  /**
   * A counter increment for the hot path: a plain number, added to the counter (through `add`) when
   * the registry is read. prom-client hashes the labels on every inc(), even on a child.
   */
  tally(add: (n: number) => void): () => void;
}

// Sub-millisecond buckets: cache answers are in the tens of microseconds, directory ones in milliseconds.
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** `version` is the sidecar's, exported as registry_auth_build_info so dashboards can show what runs where. */
export function createMetrics(cacheSize: () => number, version = 'unknown'): Metrics {
  const tallies: { n: number; add: (n: number) => void }[] = [];
  // Every counter fed by tallies settles them all before it is read, whichever is read first.
  const settle = (): void => {
    for (const t of tallies) {
      if (t.n === 0) continue;
      const n = t.n;
      t.n = 0;
      t.add(n);
    }
  };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'registry_auth_build_info',
    help: 'Always 1; the labels say which version of the sidecar runs, on which Node.js',
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  }).set({ version, node_version: process.versions.node }, 1);
  const ldapDuration = new Histogram({
    name: 'registry_auth_ldap_operation_duration_seconds',
    help: 'LDAP operations by kind and outcome (success, rejected: the directory said no, error: it could not answer)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const ldapUp = new Gauge({
    name: 'registry_auth_ldap_up',
    help: '1 while the directory answers, 0 after an operation or health check failed to reach it',
    registers: [registry],
  });
  const ldapServerUp = new Gauge({
    name: 'registry_auth_ldap_server_up',
    help: 'Per LDAP_URL entry: 1 while the server is in use, 0 while it is skipped after failing to connect or answer (probed again every few seconds)',
    labelNames: ['server'] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'registry_auth_lockouts_total',
    help: 'Lockouts started, by what is locked: key="user" (an account) or key="address" (a client address)',
    labelNames: ['key'] as const,
    registers: [registry],
  });
  // Both series exist from the start at 0: Prometheus's increase() cannot see a series' first sample, so
  // a lockout that created its series would never raise the RegistryAuthLockouts alert.
  for (const key of ['user', 'address'] as const) lockouts.labels(key).inc(0);
  return {
    registry,
    decisions: new Counter({
      name: 'registry_auth_decisions_total',
      help: 'Decisions by registry action and result (allow, deny, challenge: no credentials yet, unauthenticated, locked, error)',
      labelNames: ['action', 'result'] as const,
      registers: [registry],
      collect: settle,
    }),
    rejections: new Counter({
      name: 'registry_auth_rejections_total',
      help: 'Decisions other than allow, by the specific reason (invalid_password, account_disabled, ...)',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect: settle,
    }),
    decisionDuration: new Histogram({
      name: 'registry_auth_decision_duration_seconds',
      help: 'Time to decide, by where the credential verdict came from (cache, directory, stale, none)',
      labelNames: ['source'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'registry_auth_cache_hits_total',
      help: 'Credential checks answered from the cache',
      registers: [registry],
      collect: settle,
    }),
    cacheMisses: new Counter({
      name: 'registry_auth_cache_misses_total',
      help: 'Credential checks that needed the directory',
      registers: [registry],
      collect: settle,
    }),
    cacheEntries: new Gauge({
      name: 'registry_auth_cache_entries',
      help: 'Entries in the credential cache',
      registers: [registry],
      collect() {
        this.set(cacheSize());
      },
    }),
    ldapUp,
    ldapServerUp,
    lockouts,
    oidcKeyFetches: new Counter({
      name: 'registry_auth_oidc_key_fetches_total',
      help: "Fetches of a trusted CI issuer's discovery document and JWKS, by issuer name and outcome (success, error)",
      labelNames: ['issuer', 'outcome'] as const,
      registers: [registry],
    }),
    tally(add) {
      const t = { n: 0, add };
      tallies.push(t);
      return () => {
        t.n++;
      };
    },
    operation(operation: LdapOperation, outcome: OperationOutcome, seconds: number) {
      ldapDuration.observe({ operation, outcome }, seconds);
      ldapUp.set(outcome === 'error' ? 0 : 1);
    },
    serverState({ server, up }: ServerEvent) {
      ldapServerUp.set({ server }, up ? 1 : 0);
    },
  };
}
