// Which CI job tokens are accepted, and with what reason the others are refused, against a real HTTPS
// issuer on loopback: the claims (iss, aud, exp, nbf, iat, lifetime) at and around their limits on the
// test's clock, the algorithm allow-list, and the authenticator above the verifier: its cache of verified
// tokens, the subject it names, what counts against a client address, and what it logs and counts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { epoch, gitlabJob, startOidcIssuer, unsignedToken } from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer, SigningKey } from '@registry-ldap-auth/stack/oidc-issuer';
import { createLoggers } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { TokenAuthenticator, decideToken, startTokenAuthenticator } from '../src/oidc/token-authenticator.ts';
import type { TokenDecision } from '../src/oidc/token-authenticator.ts';
import { TokenVerifier } from '../src/oidc/token-verifier.ts';
import type { Verification } from '../src/oidc/token-verifier.ts';
import type { Access } from '../src/registry-scope.ts';
import { LogCapture } from './support/log-capture.ts';
import { AUDIENCE, Clock, requestsOf, trust } from './support/oidc.ts';
import { waitFor } from './support/wait.ts';

let dir: string;
let issuer: OidcIssuer;
/** Not in the JWKS; used under other kids too, so no test waits for a key to be generated. */
let spare: SigningKey;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-tokens-'));
  issuer = await startOidcIssuer(dir);
  spare = await issuer.addKey({ kid: 'spare', publish: false });
});
after(async () => {
  await issuer.stop();
  await rm(dir, { recursive: true, force: true });
});

// `more` may set a claim to undefined: it is then left out of the token.
const claims = (clock: Clock, more: Record<string, unknown> = {}): JWTPayload => ({
  ...gitlabJob(issuer.url, AUDIENCE, {
    project: 'platform/app',
    branch: 'main',
    protected: true,
    now: clock.ms,
  }),
  ...more,
});

const outcome = (v: Verification): [string, string] => (v.ok ? ['ok', ''] : [v.reason, v.detail]);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('claims: each limit, and one second past it', () => {
  const clock = new Clock();
  let verifier: TokenVerifier;
  let now: number;
  before(async () => {
    verifier = new TokenVerifier([trust(issuer, { audience: [AUDIENCE, 'https://mirror.example.test'] })], {
      now: clock.now,
    });
    await verifier.prefetch();
    now = epoch(clock.ms);
  });
  const verify = async (more: Record<string, unknown>): Promise<[string, string]> =>
    outcome(await verifier.verify(await issuer.sign(claims(clock, more))));

  it('an in-date token for either configured audience is accepted, expiring at its exp', async () => {
    const token = await issuer.sign(claims(clock, { aud: 'https://mirror.example.test', exp: now + 100 }));
    const result = await verifier.verify(token);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.expiresAt, (now + 100) * 1000);
    assert.equal(result.issuer.name, 'gitlab');
    assert.equal(result.claims['project_path'], 'platform/app');
    assert.deepEqual(await verify({ aud: ['https://other.example.test', AUDIENCE] }), ['ok', '']);
  });

  it('aud: another audience, or none, is token_wrong_audience', async () => {
    assert.equal((await verify({ aud: 'https://other.example.test' }))[0], 'token_wrong_audience');
    assert.equal((await verify({ aud: undefined }))[0], 'token_wrong_audience');
  });

  it('exp: accepted until it is 60 s (clock_skew_seconds) past, token_expired from then', async () => {
    assert.deepEqual(await verify({ iat: now - 600, exp: now - 59 }), ['ok', '']);
    assert.deepEqual(await verify({ iat: now - 600, exp: now - 60 }), [
      'token_expired',
      '"exp" claim timestamp check failed',
    ]);
  });

  it('nbf: accepted up to 60 s ahead, token_not_yet_valid after; an nbf that is not a date is token_invalid', async () => {
    assert.deepEqual(await verify({ nbf: now + 60 }), ['ok', '']);
    assert.deepEqual(await verify({ nbf: now + 61 }), [
      'token_not_yet_valid',
      '"nbf" claim timestamp check failed',
    ]);
    assert.deepEqual(await verify({ nbf: 'soon' }), ['token_invalid', '"nbf" claim must be a number']);
  });

  it('iat: accepted up to 60 s ahead, token_not_yet_valid after', async () => {
    assert.deepEqual(await verify({ iat: now + 60, exp: now + 600 }), ['ok', '']);
    assert.deepEqual(await verify({ iat: now + 61, exp: now + 600 }), [
      'token_not_yet_valid',
      '"iat" lies in the future',
    ]);
  });

  it('exp and iat are required; exp − iat up to max_token_lifetime_seconds (7200)', async () => {
    assert.deepEqual(await verify({ exp: undefined }), ['token_invalid', 'missing required "exp" claim']);
    assert.deepEqual(await verify({ iat: undefined }), ['token_invalid', 'missing required "iat" claim']);
    assert.deepEqual(await verify({ iat: now, exp: now + 7200 }), ['ok', '']);
    assert.deepEqual(await verify({ iat: now, exp: now + 7201 }), [
      'token_lifetime_too_long',
      'valid for 7201 s',
    ]);
  });

  it('a refusal after the signature verified carries the claims; one before it does not', async () => {
    const expired = await verifier.verify(
      await issuer.sign(claims(clock, { iat: now - 600, exp: now - 300 })),
    );
    assert.ok(!expired.ok);
    assert.equal(expired.claims?.['project_path'], 'platform/app');
    const audience = await verifier.verify(
      await issuer.sign(claims(clock, { aud: 'https://x.example.test' })),
    );
    assert.ok(!audience.ok);
    assert.equal(audience.claims?.['project_path'], 'platform/app');
    const tooLong = await verifier.verify(await issuer.sign(claims(clock, { iat: now, exp: now + 9000 })));
    assert.ok(!tooLong.ok);
    assert.equal(tooLong.claims?.['project_path'], 'platform/app');
    const early = await verifier.verify(await issuer.sign(claims(clock, { iat: now + 120, exp: now + 600 })));
    assert.ok(!early.ok);
    assert.equal(early.claims?.['project_path'], 'platform/app');
    const foreign = await verifier.verify(
      await issuer.sign(claims(clock, { iss: 'https://evil.example.test' })),
    );
    assert.ok(!foreign.ok);
    assert.deepEqual([foreign.claims, foreign.issuer], [undefined, undefined]);
  });
});

describe('the token itself: shape, algorithm, issuer, before any key is fetched', () => {
  const clock = new Clock();
  let verifier: TokenVerifier;
  before(() => {
    verifier = new TokenVerifier([trust(issuer, { algorithms: ['RS256', 'ES256'] })], { now: clock.now });
  });
  const header = (h: Record<string, unknown>): string => `${b64(h)}.${b64(claims(clock))}.c2ln`;
  const refused = async (token: string): Promise<[string, string]> => outcome(await verifier.verify(token));

  it('not three base64url parts: token_invalid', async () => {
    const token = await issuer.sign(claims(clock));
    for (const bad of ['a.b', `${token}.x`, `=${token}`, `${token}=`, `a+b.c.d`, '', `${token}\n`]) {
      assert.deepEqual(
        await refused(bad),
        ['token_invalid', 'not a compact JWS (three base64url parts)'],
        bad,
      );
    }
  });

  it('a header or claims that are not JSON: token_invalid, with what jose found', async () => {
    assert.equal((await refused('abc.def.ghi'))[0], 'token_invalid');
    assert.deepEqual(await refused(`${b64({ alg: 'RS256' })}.abc.ghi`), [
      'token_invalid',
      'Failed to parse the decoded payload as JSON',
    ]);
  });

  it('no alg: token_invalid; alg none in any case: token_unsigned', async () => {
    assert.deepEqual(await refused(header({ typ: 'JWT' })), ['token_invalid', 'no "alg" in the header']);
    assert.deepEqual(await refused(header({ alg: 7 })), ['token_invalid', 'no "alg" in the header']);
    assert.deepEqual(await refused(unsignedToken(claims(clock))), ['token_unsigned', 'alg "none"']);
    assert.deepEqual(await refused(header({ alg: 'NoNe' })), ['token_unsigned', 'alg "none"']);
  });

  it('HMAC or unknown algorithms: token_algorithm_not_allowed, the alg named (16 characters at most)', async () => {
    assert.deepEqual(await refused(header({ alg: 'HS256' })), ['token_algorithm_not_allowed', 'alg "HS256"']);
    assert.deepEqual(await refused(header({ alg: 'RS256X'.repeat(5) })), [
      'token_algorithm_not_allowed',
      `alg ${JSON.stringify('RS256X'.repeat(5).slice(0, 16))}`,
    ]);
  });

  it("an asymmetric algorithm outside the issuer's list: token_algorithm_not_allowed, naming the issuer", async () => {
    assert.deepEqual(await refused(header({ alg: 'PS256' })), [
      'token_algorithm_not_allowed',
      'alg PS256 is not allowed for gitlab',
    ]);
  });

  it('no iss, or one not trusted: token_invalid / untrusted_issuer, the iss named (200 characters at most)', async () => {
    const start = requestsOf(issuer);
    assert.deepEqual(await refused(`${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}.c2ln`), [
      'token_invalid',
      'no "iss" claim',
    ]);
    const iss = `https://evil.example.test/${'a'.repeat(300)}`;
    assert.deepEqual(await refused(await issuer.sign(claims(clock, { iss }))), [
      'untrusted_issuer',
      `iss ${JSON.stringify(iss.slice(0, 200))}`,
    ]);
    assert.deepEqual(requestsOf(issuer), start, 'none of them made the verifier fetch keys');
  });
});

// The authenticator, as the decider uses it.
const push: readonly Access[] = [{ action: 'push', repository: 'platform/app' }];

function authenticator(clock: Clock, maxEntries = 100) {
  const log = new LogCapture();
  const metrics = createMetrics(() => 0);
  const hashed: string[] = [];
  const tokens = new TokenAuthenticator(
    { username: 'oidc', file: 'oidc.yml', issuers: [trust(issuer)] },
    {
      key: (token) => {
        hashed.push(token);
        return `h:${token.length}:${token.slice(-8)}`;
      },
      maxEntries,
      metrics,
      logger: createLoggers('info', log).logger,
      now: clock.now,
      keys: { cooldownMs: 0 }, // every unknown kid asks the issuer again
    },
  );
  return { tokens, log, metrics, hashed };
}

const decide = async (tokens: TokenAuthenticator, token: string, access = push): Promise<TokenDecision> =>
  await tokens.authenticate(token, access);

describe('the authenticator: decisions, its cache, its logs and metrics', () => {
  it('a verified token is answered from the cache until its exp, then verified again', async () => {
    const clock = new Clock();
    const { tokens, hashed } = authenticator(clock);
    const token = await issuer.sign(claims(clock, { exp: epoch(clock.ms) + 120 }));
    const first = await decide(tokens, token);
    assert.deepEqual(first, {
      reason: 'granted',
      source: 'token',
      identity: { username: 'gitlab:platform/app@refs/heads/main', dn: '', groups: [] },
    });
    clock.advance(120_000 - 1);
    const cached = tokens.authenticate(token, push);
    assert.ok(!(cached instanceof Promise), 'a cached decision is synchronous');
    assert.deepEqual([cached.reason, cached.source], ['granted', 'cache']);
    clock.advance(1); // at exp: within the clock skew, verified again rather than served from the cache
    assert.deepEqual(
      [(await decide(tokens, token)).source, (await decide(tokens, token)).source],
      ['token', 'token'],
    );
    assert.ok(hashed.every((t) => t === token));
  });

  it('the cache holds at most maxEntries tokens', async () => {
    const clock = new Clock();
    const { tokens } = authenticator(clock, 1);
    const [a, b] = [await issuer.sign(claims(clock)), await issuer.sign(claims(clock))];
    assert.equal((await decide(tokens, a)).source, 'token');
    assert.equal((await decide(tokens, a)).source, 'cache');
    assert.equal((await decide(tokens, b)).source, 'token');
    assert.equal((await decide(tokens, a)).source, 'token', 'a was evicted by b');
  });

  it('names the subject for no rule and for refusals whose signature verified; never for others', async () => {
    const clock = new Clock();
    const { tokens } = authenticator(clock);
    const now = epoch(clock.ms);
    const other = await issuer.sign({
      ...gitlabJob(issuer.url, AUDIENCE, {
        project: 'team/app',
        branch: 'main',
        protected: true,
        now: clock.ms,
      }),
    });
    assert.deepEqual(await decide(tokens, other), {
      reason: 'no_matching_rule',
      source: 'token',
      login: 'gitlab:team/app@refs/heads/main',
    });
    const pullOnly = await issuer.sign(claims(clock, { ref_protected: 'false' }));
    assert.deepEqual(await decide(tokens, pullOnly), {
      reason: 'not_granted',
      source: 'token',
      identity: { username: 'gitlab:platform/app@refs/heads/main', dn: '', groups: [] },
    });
    assert.deepEqual(
      await decide(tokens, await issuer.sign(claims(clock, { exp: now - 300, iat: now - 600 }))),
      {
        reason: 'token_expired',
        source: 'token',
        login: 'gitlab:platform/app@refs/heads/main',
        error: '"exp" claim timestamp check failed',
      },
    );
    assert.deepEqual(
      await decide(tokens, await issuer.sign(claims(clock, { iss: 'https://evil.example.test' }))),
      {
        reason: 'untrusted_issuer',
        source: 'token',
        error: 'iss "https://evil.example.test"',
      },
    );
    assert.deepEqual(await decide(tokens, 'x.y'), {
      reason: 'token_invalid',
      source: 'token',
      error: 'not a compact JWS (three base64url parts)',
    });
  });

  it('logs and counts each key fetch, success or not, with the key options given', async () => {
    const clock = new Clock();
    const { tokens, log, metrics } = authenticator(clock);
    await tokens.prefetch();
    await issuer.down();
    try {
      const unseen = { ...spare, kid: 'unseen-by-authenticator' };
      clock.advance(60_000);
      for (let i = 0; i < 2; i++) {
        const d = await decide(tokens, await issuer.sign(claims(clock), unseen));
        assert.equal(d.reason, 'issuer_unavailable');
      }
    } finally {
      await issuer.up();
    }
    const text = await metrics.registry.metrics();
    assert.match(text, /^registry_auth_oidc_key_fetches_total\{issuer="gitlab",outcome="success"\} 1$/m);
    assert.match(text, /^registry_auth_oidc_key_fetches_total\{issuer="gitlab",outcome="error"\} 2$/m);
    await waitFor('the three log lines', () => log.lines().length >= 3, 5000, 20);
    const fetched = log.lines().map(({ level, msg, issuer: named, error }) => ({ level, msg, named, error }));
    assert.deepEqual(fetched[0], {
      level: 'info',
      msg: 'OIDC issuer keys fetched',
      named: issuer.url,
      error: undefined,
    });
    assert.deepEqual(
      [fetched[1]?.level, fetched[1]?.msg, fetched[1]?.named],
      ['warn', 'OIDC issuer keys not fetched', issuer.url],
    );
    assert.match(String(fetched[1]?.error), /ECONNREFUSED/);
  });
});

describe('decideToken: what counts against the client address', () => {
  it('a 401 refusal counts, a 403 or a 503 does not; a cached decision is answered synchronously', async () => {
    const clock = new Clock();
    const { tokens } = authenticator(clock);
    let refused = 0;
    const context = { login: 'oidc', access: push, extra: 1 };
    const count = (): void => {
      refused++;
    };
    const invalid = await decideToken(tokens, 'x.y', context, count);
    assert.deepEqual([invalid.reason, invalid.extra, refused], ['token_invalid', 1, 1]);
    const token = await issuer.sign(claims(clock, { ref_protected: 'false' }));
    const denied = await decideToken(tokens, token, context, count);
    assert.deepEqual([denied.reason, refused], ['not_granted', 1]);
    const cached = decideToken(tokens, token, context, count);
    assert.ok(!(cached instanceof Promise));
    assert.deepEqual(
      [cached.reason, cached.source, cached.login, refused],
      ['not_granted', 'cache', 'oidc', 1],
    );
    await issuer.down();
    try {
      const unseen = { ...spare, kid: 'unseen-by-decide' };
      clock.advance(60_000);
      const down = await decideToken(tokens, await issuer.sign(claims(clock), unseen), context, count);
      assert.deepEqual([down.reason, refused], ['issuer_unavailable', 1]);
    } finally {
      await issuer.up();
    }
  });
});

describe('startTokenAuthenticator', () => {
  it('is undefined without OIDC_CONFIG_FILE', () => {
    const metrics = createMetrics(() => 0);
    const logger = createLoggers('error').logger;
    const tokens = startTokenAuthenticator(
      { oidc: undefined, cache: { maxEntries: 10 } as never },
      { key: () => 'k' },
      metrics,
      logger,
    );
    assert.equal(tokens, undefined);
  });

  it("fetches every issuer's keys at once, and keys its cache by the decision cache's HMAC of oidc and the token", async () => {
    const metrics = createMetrics(() => 0);
    const logger = createLoggers('error').logger;
    const keyed: [string, string][] = [];
    const start = requestsOf(issuer);
    const tokens = startTokenAuthenticator(
      {
        oidc: { username: 'ci', file: 'oidc.yml', issuers: [trust(issuer)] },
        cache: { maxEntries: 10 } as never,
      },
      {
        key: (username, password) => {
          keyed.push([username, password]);
          return `${username}:${password.length}`;
        },
      },
      metrics,
      logger,
    );
    assert.ok(tokens);
    assert.equal(tokens.username, 'ci');
    await waitFor('the keys fetched at start', () => requestsOf(issuer).jwks === start.jwks + 1, 5000, 20);
    const token = await issuer.sign(claims(new Clock()));
    assert.equal((await decide(tokens, token)).source, 'token');
    assert.equal((await decide(tokens, token)).source, 'cache');
    assert.deepEqual(keyed, [
      ['ci', token],
      ['ci', token],
    ]);
  });
});

describe('signatures', () => {
  it('a token signed by another key under a known kid is token_invalid', async () => {
    const clock = new Clock();
    const verifier = new TokenVerifier([trust(issuer)], { now: clock.now });
    const token = await issuer.sign(claims(clock), { ...spare, kid: 'key-1' });
    assert.deepEqual(outcome(await verifier.verify(token)), [
      'token_invalid',
      'signature verification failed',
    ]);
  });
});
