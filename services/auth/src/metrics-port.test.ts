// The operator's port as a probe, a scraper and a person read it: /healthz, /readyz with its reason codes
// and its log lines (once per change, never per request), /metrics. The directory is the fake, with a
// health check that fails the way LdapDirectory's does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeDirectory } from '../test/support/fake-directory.ts';
import { fakeConfig, serveFake } from '../test/support/serve-fake.ts';
import { DirectoryUnavailableError } from './directory/errors.ts';
import type { UnavailableKind } from './directory/errors.ts';

/** The fake, whose health check fails with `failure` (the error LdapDirectory.checkHealth would throw). */
class HealthDirectory extends FakeDirectory {
  failure: Error | undefined;

  override async checkHealth(): Promise<void> {
    await super.checkHealth();
    if (this.failure !== undefined) throw this.failure;
  }
}

async function serve(env: Record<string, string> = {}) {
  const directory = new HealthDirectory({});
  const { metricsBase: base, log, close } = await serveFake(directory, { config: fakeConfig(env) });
  return {
    directory,
    get: (path: string) => fetch(`${base}${path}`),
    /** /readyz's status and body. */
    readyz: async (): Promise<[number, unknown]> => {
      const res = await fetch(`${base}/readyz`);
      return [res.status, await res.json()];
    },
    /** The readiness log lines so far. */
    readinessLines: () =>
      log
        .lines()
        .filter((l) => l['msg'] === 'not ready' || l['msg'] === 'ready: the directory answers')
        .map((l) => [l['level'], l['msg'], l['reason'], l['variable'], l['error']]),
    close,
  };
}

const unavailable = (message: string, kind: UnavailableKind, variable?: string) =>
  new DirectoryUnavailableError(message, { kind, ...(variable === undefined ? {} : { variable }) });

describe('/healthz', () => {
  it('answers 200 {"status":"ok"} while the process runs, the directory down or not, without asking it', async () => {
    const service = await serve();
    try {
      service.directory.available = false;
      const res = await service.get('/healthz');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
      assert.equal(service.directory.calls.checkHealth, 0);
      assert.equal(res.headers.get('x-powered-by'), null, 'does not say what it runs on');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      service.close();
    }
  });
});

describe('/readyz', () => {
  it('answers 200 {"status":"ready"} while the directory answers, and logs nothing while it stays so', async () => {
    const service = await serve();
    try {
      for (let i = 0; i < 2; i++) assert.deepEqual(await service.readyz(), [200, { status: 'ready' }]);
      assert.equal(service.directory.calls.checkHealth, 2, 'each probe asks the directory');
      assert.deepEqual(service.readinessLines(), []);
    } finally {
      service.close();
    }
  });

  it("answers 503 with each kind's reason code and variable, never the error text", async () => {
    const service = await serve();
    try {
      const cases: [DirectoryUnavailableError, string, string][] = [
        [
          unavailable('connect ECONNREFUSED 10.0.0.5:389', 'unreachable'),
          'directory_unreachable',
          'LDAP_URL',
        ],
        [
          unavailable("the directory rejected the service account's bind", 'bind_rejected'),
          'bind_rejected',
          'LDAP_BIND_PASSWORD_FILE',
        ],
        [unavailable('no service account', 'bind_rejected', 'LDAP_BIND_DN'), 'bind_rejected', 'LDAP_BIND_DN'],
        [
          unavailable('LDAP_GROUP_BASE_DN does not exist: ou=nope', 'base_dn_missing', 'LDAP_GROUP_BASE_DN'),
          'base_dn_missing',
          'LDAP_GROUP_BASE_DN',
        ],
        [unavailable('not a DN: x', 'base_dn_invalid'), 'base_dn_invalid', 'LDAP_USER_BASE_DN'],
        [
          unavailable('self-signed certificate', 'certificate_untrusted'),
          'certificate_untrusted',
          'LDAP_CA_FILE',
        ],
        [unavailable('resultCode 8', 'tls_required'), 'tls_required', 'LDAP_START_TLS'],
      ];
      for (const [failure, reason, variable] of cases) {
        service.directory.failure = failure;
        const res = await service.get('/readyz');
        assert.equal(res.status, 503, reason);
        const text = await res.text();
        assert.deepEqual(JSON.parse(text), { status: 'not_ready', reason, variable });
        assert.ok(!text.includes(failure.message), `${reason}: the error text stays in the log`);
      }
    } finally {
      service.close();
    }
  });

  it('logs "not ready" with the reason, variable and error once per change, and "ready" once on recovery', async () => {
    const service = await serve();
    const refused = unavailable('connect ECONNREFUSED 10.0.0.5:389', 'unreachable');
    const rejected = unavailable("the directory rejected the service account's bind", 'bind_rejected');
    const rejectedDn = unavailable('the directory rejected the bind of cn=other', 'bind_rejected');
    try {
      const steps: [Error | undefined, number][] = [
        [undefined, 200],
        [refused, 503],
        [refused, 503],
        [refused, 503],
        [rejected, 503],
        [rejected, 503],
        [rejectedDn, 503], // same reason, another error: news for the operator
        [undefined, 200],
        [undefined, 200],
        [refused, 503],
      ];
      for (const [failure, status] of steps) {
        service.directory.failure = failure;
        assert.equal((await service.readyz())[0], status);
      }
      assert.deepEqual(service.readinessLines(), [
        ['warn', 'not ready', 'directory_unreachable', 'LDAP_URL', refused.message],
        ['warn', 'not ready', 'bind_rejected', 'LDAP_BIND_PASSWORD_FILE', rejected.message],
        ['warn', 'not ready', 'bind_rejected', 'LDAP_BIND_PASSWORD_FILE', rejectedDn.message],
        ['info', 'ready: the directory answers', undefined, undefined, undefined],
        ['warn', 'not ready', 'directory_unreachable', 'LDAP_URL', refused.message],
      ]);
    } finally {
      service.close();
    }
  });

  it('a defect in the health check is directory_unreachable, its type and message in the log', async () => {
    const service = await serve();
    try {
      service.directory.failure = new TypeError('injected: no client');
      assert.deepEqual(await service.readyz(), [
        503,
        { status: 'not_ready', reason: 'directory_unreachable', variable: 'LDAP_URL' },
      ]);
      assert.deepEqual(service.readinessLines(), [
        ['warn', 'not ready', 'directory_unreachable', 'LDAP_URL', 'TypeError: injected: no client'],
      ]);
    } finally {
      service.close();
    }
  });

  it('a health check the directory does not answer is 503 directory_unreachable after DECISION_TIMEOUT_MS', async () => {
    const service = await serve({ DECISION_TIMEOUT_MS: '150' });
    const release = service.directory.hold();
    try {
      assert.deepEqual(await service.readyz(), [
        503,
        { status: 'not_ready', reason: 'directory_unreachable', variable: 'LDAP_URL' },
      ]);
      assert.deepEqual(service.readinessLines(), [
        [
          'warn',
          'not ready',
          'directory_unreachable',
          'LDAP_URL',
          'the readiness check took longer than 150 ms',
        ],
      ]);
    } finally {
      release();
      service.close();
    }
  });
});

describe('/metrics', () => {
  it("is served in Prometheus's text format", async () => {
    const service = await serve();
    try {
      const res = await service.get('/metrics');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      assert.match(text, /^# TYPE registry_auth_decisions_total counter$/m);
      assert.match(
        text,
        /^# TYPE registry_auth_oidc_key_fetches_total counter$/m,
        'on the registry from the start',
      );
    } finally {
      service.close();
    }
  });
});
