// CI job tokens against real issuers: two HTTPS OIDC issuers on loopback (discovery + JWKS, certificates
// from CAs made for the run, keys generated here) sign GitLab-shaped and GitHub-shaped tokens, and the
// sidecar's decision endpoint answers for them. The clock is the real one plus an offset the tests advance,
// so the JWKS cooldown can pass without waiting for it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import net from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  githubJob,
  gitlabJob,
  hmacWithPublicKey,
  startOidcIssuer,
  unsignedToken,
} from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import { createAuthListener } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { DecisionCache } from '../src/decision-cache.ts';
import { Decider } from '../src/decider.ts';
import { Lockout } from '../src/lockout.ts';
import { createLoggers } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { TokenAuthenticator } from '../src/oidc/token-authenticator.ts';
import { TokenVerifier } from '../src/oidc/token-verifier.ts';
import { Policy, rulesFromConfig } from '../src/policy.ts';
import { FakeDirectory, basic } from './support/fake-directory.ts';
import { LogCapture } from './support/log-capture.ts';

const AUDIENCE = 'https://registry.example.test';
const COOLDOWN_MS = 60_000;

let dir: string;
let gitlab: OidcIssuer;
let github: OidcIssuer;
let server: Server;
let base: string;
let directory: FakeDirectory;
let metrics: ReturnType<typeof createMetrics>;
let offset = 0;
const now = (): number => Date.now() + offset;
const output = new LogCapture();
const fetches = (issuer: OidcIssuer): number => issuer.requests.filter((p) => p.endsWith('/keys')).length;

function rulesYaml(): string {
  return `
issuers:
  - name: gitlab
    issuer: ${gitlab.url}
    audience: ${AUDIENCE}
    ca_file: ${gitlab.caFile}
    subject: "{project_path}@{ref_path}"
    max_token_lifetime_seconds: 7200
    rules:
      # protected branches of platform/* push their own project
      - claims: { namespace_path: platform, ref_protected: "true" }
        push: ["{project_path}"]
      # every other platform job (merge requests, feature branches) only pulls
      - claims: { namespace_path: platform }
        pull: ["platform/**"]
  - name: github
    issuer: ${github.url}
    audience: ${AUDIENCE}
    ca_file: ${github.caFile}
    algorithms: [RS256]
    subject: "{repository}@{ref}"
    rules:
      - claims: { repository: "org/*", ref: refs/heads/main, event_name: push }
        push: ["{repository}"]
`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-'));
  gitlab = await startOidcIssuer(join(dir, 'gitlab'));
  github = await startOidcIssuer(join(dir, 'github'));
  const rulesFile = join(dir, 'rules.yml');
  await writeFile(rulesFile, rulesYaml());
  const config = loadConfig({
    LDAP_URL: 'ldap://127.0.0.1:1',
    LDAP_USER_BASE_DN: 'dc=example,dc=test',
    AUTH_PUSH_GROUPS: 'registry-pushers',
    OIDC_CONFIG_FILE: rulesFile,
    LOCKOUT_ADDRESS_MAX_FAILURES: '3',
  });
  const oidc = config.oidc;
  assert.ok(oidc);
  const loggers = createLoggers('info', output);
  const cache = new DecisionCache({ ...config.cache, now });
  metrics = createMetrics(() => cache.size);
  const tokens = new TokenAuthenticator(oidc, {
    key: (token) => cache.key(oidc.username, token),
    maxEntries: 100,
    metrics,
    logger: loggers.logger,
    now,
    keys: { cooldownMs: COOLDOWN_MS },
  });
  await tokens.prefetch();
  directory = new FakeDirectory({
    alice: { password: 'alice-password', groups: ['registry-pushers'] },
  });
  const decider = new Decider({
    directory,
    cache,
    lockout: new Lockout({ ...config.lockout, now }),
    policy: new Policy(rulesFromConfig(config.policy)),
    tokens,
  });
  server = createServer(createAuthListener({ config, decider, directory, metrics, loggers }).listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.close();
  await Promise.all([gitlab.stop(), github.stop()]);
  await rm(dir, { recursive: true, force: true });
});

let address = 0;
interface Answer {
  status: number;
  reason: unknown;
  user: unknown;
  source: unknown;
  xAuthUser: string | null;
}

/** One auth subrequest as nginx sends it, from its own client address unless one is given. */
async function ask(
  method: string,
  uri: string,
  password: string,
  ip = `192.0.2.${++address}`,
): Promise<Answer> {
  const res = await fetch(`${base}/auth`, {
    headers: {
      'X-Original-Method': method,
      'X-Original-URI': uri,
      'X-Real-IP': ip,
      Authorization: basic('oidc', password),
    },
  });
  const audit = output
    .lines()
    .filter((l) => l['msg'] === 'decision')
    .at(-1);
  assert.ok(audit, 'an audit line per decision');
  return {
    status: res.status,
    reason: audit['reason'],
    user: audit['user'],
    source: audit['source'],
    xAuthUser: res.headers.get('x-auth-user'),
  };
}
const push = (repo: string, token: string, ip?: string): Promise<Answer> =>
  ask('PUT', `/v2/${repo}/manifests/v1`, token, ip);
const pull = (repo: string, token: string): Promise<Answer> => ask('GET', `/v2/${repo}/manifests/v1`, token);

const gitlabMain = (): Promise<string> =>
  gitlab.sign(
    gitlabJob(gitlab.url, AUDIENCE, { project: 'platform/app', branch: 'main', protected: true, now: now() }),
  );

describe('GitLab CI id_tokens', () => {
  it('a protected-branch job of platform/app pushes platform/app and nothing else', async () => {
    const token = await gitlabMain();
    const ok = await push('platform/app', token);
    assert.deepEqual(
      [ok.status, ok.reason, ok.user, ok.xAuthUser],
      [200, 'granted', 'gitlab:platform/app@refs/heads/main', 'gitlab:platform/app@refs/heads/main'],
    );
    assert.equal((await pull('platform/app', token)).status, 200);
    for (const other of ['platform/other', 'platform/app/sub', 'team/app']) {
      const refused = await push(other, token);
      assert.deepEqual([refused.status, refused.reason], [403, 'not_granted'], other);
    }
    assert.equal((await ask('GET', '/v2/_catalog', token)).status, 403);
  });

  it('a merge-request job is refused a push but may pull', async () => {
    const claims = gitlabJob(gitlab.url, AUDIENCE, {
      project: 'platform/app',
      branch: 'feature-x',
      protected: false,
      mergeRequest: 7,
      now: now(),
    });
    const token = await gitlab.sign(claims);
    const refused = await push('platform/app', token);
    assert.deepEqual(
      [refused.status, refused.reason, refused.user],
      [403, 'not_granted', 'gitlab:platform/app@refs/merge-requests/7/head'],
    );
    assert.equal((await pull('platform/lib', token)).status, 200);
  });

  it('a job of a namespace no rule names is refused: no rule, no access', async () => {
    const claims = gitlabJob(gitlab.url, AUDIENCE, {
      project: 'other/app',
      branch: 'main',
      protected: true,
      now: now(),
    });
    const answer = await ask('GET', '/v2/', await gitlab.sign(claims));
    assert.deepEqual([answer.status, answer.reason], [403, 'no_matching_rule']);
  });

  it('a verified token is answered from the cache until it expires, keyed without the token', async () => {
    const token = await gitlabMain();
    assert.equal((await push('platform/app', token)).source, 'token');
    assert.equal((await push('platform/app', token)).source, 'cache');
    offset += 3700_000; // past the token's exp and the clock skew; the clock only moves forward
    const expired = await push('platform/app', token);
    assert.deepEqual([expired.status, expired.reason, expired.source], [401, 'token_expired', 'token']);
    assert.ok(
      !output.text().includes(token) && !output.text().includes(token.split('.')[2] ?? '-'),
      'a token was logged',
    );
  });
});

describe('the directory', () => {
  it('is never asked about a token, valid or not', async () => {
    assert.equal((await push('platform/app', await gitlabMain())).status, 200);
    assert.equal((await push('platform/app', 'not.a.jwt')).status, 401);
    assert.deepEqual(directory.calls, { findUser: 0, verifyPassword: 0, resolveGroups: 0, checkHealth: 0 });
  });
});

describe('GitHub Actions tokens', () => {
  it('a push to main of org/app pushes org/app; a pull_request run of the same repository is refused', async () => {
    const main = await github.sign(
      githubJob(github.url, AUDIENCE, { repository: 'org/app', ref: 'refs/heads/main', now: now() }),
    );
    const ok = await push('org/app', main);
    assert.deepEqual([ok.status, ok.user], [200, 'github:org/app@refs/heads/main']);
    assert.equal((await push('org/other', main)).status, 403);
    const pr = await github.sign(
      githubJob(github.url, AUDIENCE, {
        repository: 'org/app',
        ref: 'refs/pull/3/merge',
        event: 'pull_request',
        now: now(),
      }),
    );
    assert.deepEqual((await push('org/app', pr)).reason, 'no_matching_rule');
  });
});

describe('forged, foreign and stale tokens are refused, each with its own reason', () => {
  const claims = () =>
    gitlabJob(gitlab.url, AUDIENCE, { project: 'platform/app', branch: 'main', protected: true, now: now() });

  it('expired', async () => {
    const token = await gitlab.sign(claims());
    const stale = await gitlab.sign({
      ...claims(),
      iat: Math.floor(now() / 1000) - 4000,
      exp: Math.floor(now() / 1000) - 300,
    });
    assert.equal((await push('platform/app', token)).status, 200, 'the same claims, in date, pass');
    const answer = await push('platform/app', stale);
    assert.deepEqual(
      [answer.status, answer.reason, answer.user],
      [401, 'token_expired', 'gitlab:platform/app@refs/heads/main'],
    );
  });

  it('for another audience', async () => {
    const answer = await push(
      'platform/app',
      await gitlab.sign({ ...claims(), aud: 'https://other.example.test' }),
    );
    assert.deepEqual([answer.status, answer.reason], [401, 'token_wrong_audience']);
  });

  it('from an issuer the rules file does not trust (signed with a trusted key, even)', async () => {
    const answer = await push(
      'platform/app',
      await gitlab.sign({ ...claims(), iss: 'https://evil.example.test' }),
    );
    assert.deepEqual([answer.status, answer.reason, answer.user], [401, 'untrusted_issuer', 'oidc']);
  });

  it('alg none', async () => {
    const answer = await push('platform/app', unsignedToken(claims()));
    assert.deepEqual([answer.status, answer.reason], [401, 'token_unsigned']);
  });

  it("HS256 signed with the issuer's public key as the secret", async () => {
    const [key] = await Promise.resolve([await gitlab.addKey({ kid: 'hs-victim' })]);
    assert.ok(key);
    const answer = await push('platform/app', hmacWithPublicKey(claims(), key));
    assert.deepEqual([answer.status, answer.reason], [401, 'token_algorithm_not_allowed']);
    gitlab.retireKey('hs-victim');
  });

  it('an algorithm the issuer may not use (ES256 for an RS256-only issuer)', async () => {
    const es = await github.addKey({ alg: 'ES256', publish: false });
    const token = await github.sign(
      githubJob(github.url, AUDIENCE, { repository: 'org/app', ref: 'refs/heads/main', now: now() }),
      es,
    );
    const answer = await push('org/app', token);
    assert.deepEqual([answer.status, answer.reason], [401, 'token_algorithm_not_allowed']);
  });

  it('signed by a key that is not in the JWKS', async () => {
    const rogue = await gitlab.addKey({ kid: 'rogue', publish: false });
    offset += COOLDOWN_MS + 1000; // the re-fetch is allowed, and still finds no such key
    const before = fetches(gitlab);
    const answer = await push('platform/app', await gitlab.sign(claims(), rogue));
    assert.deepEqual([answer.status, answer.reason], [401, 'token_unknown_key']);
    assert.equal(fetches(gitlab), before + 1, 'the JWKS was fetched again for the unknown kid');
    const again = await push('platform/app', await gitlab.sign(claims(), rogue));
    assert.equal(again.reason, 'token_unknown_key');
    assert.equal(fetches(gitlab), before + 1, 'no second fetch within the cooldown');
  });

  it('a valid signature under a known kid, on altered claims', async () => {
    const token = await gitlab.sign(claims());
    const [h, , s] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims(), project_path: 'platform/admin' })).toString(
      'base64url',
    );
    const answer = await push('platform/admin', `${h}.${payload}.${s}`);
    assert.deepEqual([answer.status, answer.reason], [401, 'token_invalid']);
  });

  it('valid for longer than max_token_lifetime_seconds', async () => {
    const iat = Math.floor(now() / 1000);
    const answer = await push('platform/app', await gitlab.sign({ ...claims(), iat, exp: iat + 7201 }));
    assert.deepEqual([answer.status, answer.reason], [401, 'token_lifetime_too_long']);
  });

  it('not yet valid', async () => {
    const nbf = Math.floor(now() / 1000) + 600;
    const answer = await push('platform/app', await gitlab.sign({ ...claims(), nbf }));
    assert.deepEqual([answer.status, answer.reason], [401, 'token_not_yet_valid']);
  });

  it('not a JWT at all', async () => {
    const answer = await push('platform/app', 'glpat-abcdefghijklmnop');
    assert.deepEqual([answer.status, answer.reason], [401, 'token_invalid']);
  });
});

describe('keys: rotation and outages', () => {
  it('a new kid is picked up without a restart', async () => {
    const next = await gitlab.addKey({ kid: 'key-2' });
    offset += COOLDOWN_MS + 1000;
    const token = await gitlab.sign(
      gitlabJob(gitlab.url, AUDIENCE, {
        project: 'platform/app',
        branch: 'main',
        protected: true,
        now: now(),
      }),
      next,
    );
    assert.equal((await push('platform/app', token)).status, 200);
  });

  it('the issuer going down does not stop tokens whose key is cached; an unknown key is then a 503', async () => {
    await gitlab.down();
    try {
      offset += COOLDOWN_MS + 1000;
      const fresh = await gitlabMain(); // never seen: verified with the cached key-1
      const ok = await push('platform/app', fresh);
      assert.deepEqual([ok.status, ok.source], [200, 'token']);
      const unseen = await gitlab.addKey({ kid: 'key-3' });
      const token = await gitlab.sign(
        gitlabJob(gitlab.url, AUDIENCE, {
          project: 'platform/app',
          branch: 'main',
          protected: true,
          now: now(),
        }),
        unseen,
      );
      const down = await push('platform/app', token);
      assert.deepEqual([down.status, down.reason], [503, 'issuer_unavailable']);
      const again = await push('platform/app', token);
      assert.deepEqual(
        [again.status, again.reason],
        [503, 'issuer_unavailable'],
        'within the cooldown: still 503, never 401',
      );
      const text = await metrics.registry.metrics();
      assert.match(text, /^registry_auth_oidc_key_fetches_total\{issuer="gitlab",outcome="error"\} 1$/m);
    } finally {
      await gitlab.up();
    }
    offset += COOLDOWN_MS + 1000;
    const token = await gitlab.sign(
      gitlabJob(gitlab.url, AUDIENCE, {
        project: 'platform/app',
        branch: 'main',
        protected: true,
        now: now(),
      }),
      await gitlab.addKey({ kid: 'key-4' }),
    );
    assert.equal((await push('platform/app', token)).status, 200, 'back up: the new key is fetched');
  });
});

describe('lockout', () => {
  it('invalid tokens count against the address; a verified token from that address still passes', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < 3; i++) assert.equal((await push('platform/app', 'not.a.jwt', ip)).status, 401);
    const password = await fetch(`${base}/auth`, {
      headers: {
        'X-Original-Method': 'GET',
        'X-Original-URI': '/v2/',
        'X-Real-IP': ip,
        Authorization: basic('alice', 'alice-password'),
      },
    });
    assert.equal(password.status, 401, 'the address is locked for passwords');
    assert.equal(
      (await push('platform/app', await gitlabMain(), ip)).status,
      200,
      'but not for verified tokens',
    );
    assert.equal(
      (await push('platform/app', await gitlabMain())).status,
      200,
      'the username oidc is never locked',
    );
  });
});

describe('an issuer that accepts connections and never answers', () => {
  it('costs one deadline and is issuer_unavailable (503), not a verdict on the token', async () => {
    const held: net.Socket[] = [];
    const hole = net.createServer((socket) => held.push(socket.on('error', () => undefined)));
    hole.listen(0, '127.0.0.1');
    await once(hole, 'listening');
    try {
      const url = `https://127.0.0.1:${(hole.address() as AddressInfo).port}`;
      const verifier = new TokenVerifier(
        [
          {
            name: 'silent',
            issuer: url,
            audiences: [AUDIENCE],
            ca: undefined,
            algorithms: ['RS256'],
            maxTokenLifetimeSeconds: 7200,
            clockSkewSeconds: 60,
            subject: '{sub}',
            rules: [],
          },
        ],
        { keys: { timeoutMs: 300 } },
      );
      const token = await gitlab.sign(
        gitlabJob(url, AUDIENCE, { project: 'platform/app', branch: 'main', protected: true }),
      );
      const result = await verifier.verify(token);
      if (result.ok) assert.fail('verified without keys');
      assert.equal(result.reason, 'issuer_unavailable');
      assert.match(result.detail, /no answer within 300 ms/);
    } finally {
      for (const socket of held) socket.destroy();
      hole.close();
    }
  });
});
