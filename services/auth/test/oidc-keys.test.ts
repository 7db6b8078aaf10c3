// An issuer's keys as the sidecar fetches and keeps them, against a real HTTPS issuer on loopback: how
// often its discovery document and JWKS are fetched (counted on the issuer), how long keys are used, and
// what a token gets when the issuer is down, slow, or publishes documents of the wrong shape. The clock
// is the test's own (IssuerKeys' and TokenVerifier's `now`), so ages and cooldowns pass without waiting.
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { JWKS_PATH, gitlabJob, startOidcIssuer } from '@registry-ldap-auth/stack/oidc-issuer';
import type { OidcIssuer, SigningKey } from '@registry-ldap-auth/stack/oidc-issuer';
import { IssuerFetchError, getJson } from '../src/oidc/https-json.ts';
import { IssuerKeys, UnknownKeyError } from '../src/oidc/issuer-keys.ts';
import { TokenVerifier } from '../src/oidc/token-verifier.ts';
import type { Verification } from '../src/oidc/token-verifier.ts';
import type { KeyOptions } from '../src/oidc/token-verifier.ts';
import { AUDIENCE, Clock, requestsOf, trust } from './support/oidc.ts';
import { waitFor } from './support/wait.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let dir: string;
let issuer: OidcIssuer;
let first: SigningKey;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-keys-'));
  issuer = await startOidcIssuer(dir);
  first = await issuer.addKey({ kid: 'second', publish: false }); // for JWKS bodies written by hand
});
afterEach(async () => {
  issuer.misbehave('discovery', undefined);
  issuer.misbehave('jwks', undefined);
  await issuer.up();
});
after(async () => {
  await issuer.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A verifier for the issuer with its own key cache, on the test's clock; counts its fetches. */
function verifier(clock: Clock, keys: KeyOptions = {}) {
  const outcomes: string[] = [];
  const v = new TokenVerifier([trust(issuer)], {
    now: clock.now,
    keys,
    onKeyFetch: (_issuer, outcome, error) => outcomes.push(error === undefined ? outcome : error.message),
  });
  return { v, outcomes };
}

/** A key the JWKS does not hold: an unpublished key under a kid of its own (no key generated per test). */
const as = (kid: string): SigningKey => ({ ...first, kid });

/** A GitLab job's claims (platform/app, protected main), issued now on the test clock. */
const claimsAt = (clock: Clock) =>
  gitlabJob(issuer.url, AUDIENCE, {
    project: 'platform/app',
    branch: 'main',
    protected: true,
    now: clock.ms,
  });

const job = (clock: Clock, key?: SigningKey): Promise<string> => issuer.sign(claimsAt(clock), key);

/** A job token that names no kid, signed with `privateKey` under `alg`. */
const kidless = (clock: Clock, alg: string, privateKey: Parameters<SignJWT['sign']>[0]): Promise<string> =>
  new SignJWT(claimsAt(clock)).setProtectedHeader({ alg }).sign(privateKey);

/** The reason a token got, and the detail for the operator when refused. */
const outcome = (v: Verification): [string, string] => (v.ok ? ['ok', ''] : [v.reason, v.detail]);

/** Fetches made since `before` (discovery, JWKS). */
function since(before: { discovery: number; jwks: number }): [number, number] {
  const now = requestsOf(issuer);
  return [now.discovery - before.discovery, now.jwks - before.jwks];
}

describe('fetching: once, shared, on the test clock', () => {
  it('tokens arriving together before any key is held share one discovery and one JWKS fetch', async () => {
    const clock = new Clock();
    const { v, outcomes } = verifier(clock);
    const start = requestsOf(issuer);
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => job(clock)));
    const results = await Promise.all(tokens.map((t) => v.verify(t)));
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, true, true, true],
    );
    assert.deepEqual(since(start), [1, 1]);
    assert.deepEqual(outcomes, ['success']);
  });

  it('keys held are used without a fetch until they are 10 minutes old; then one is fetched, the token not waiting for it', async () => {
    const clock = new Clock();
    const { v, outcomes } = verifier(clock, { timeoutMs: 300 });
    await v.prefetch();
    const start = requestsOf(issuer);
    const t0 = clock.ms;
    for (const at of [MINUTE, 5 * MINUTE, 10 * MINUTE]) {
      clock.ms = t0 + at; // each well past the 10 s cooldown
      assert.deepEqual(outcome(await v.verify(await job(clock))), ['ok', '']);
    }
    // The issuer now hangs: a token that waited for the re-fetch would wait out its deadline.
    issuer.misbehave('discovery', 'hang');
    clock.advance(1);
    assert.deepEqual(outcome(await v.verify(await job(clock))), ['ok', '']);
    await waitFor('the re-fetch in the background', () => since(start)[0] === 1, 5000, 20);
    await waitFor('the re-fetch to fail at its deadline', () => outcomes.length === 2, 5000, 20);
    assert.deepEqual(
      outcomes,
      ['success', `${issuer.url}/.well-known/openid-configuration: no answer within 300 ms`],
      'one fetch at start, one when the keys were older than 10 minutes',
    );
    assert.deepEqual(since(start), [1, 0]);
  });
});

describe('a token naming a key not held: one re-fetch per cooldown', () => {
  it('fetches again for an unknown kid, at most once per 10 s, and at once when a rotation is published', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    await v.prefetch();
    const rogue = as('rogue');
    clock.advance(HOUR / 6 - 1); // keys not yet old (10 min less 1 ms), the start's fetch long past
    let start = requestsOf(issuer);
    assert.deepEqual(outcome(await v.verify(await job(clock, rogue))), [
      'token_unknown_key',
      'no key "rogue" in the JWKS',
    ]);
    assert.deepEqual(since(start), [1, 1], 'fetched again once');
    start = requestsOf(issuer);
    assert.equal(outcome(await v.verify(await job(clock, rogue)))[0], 'token_unknown_key');
    clock.advance(9_999);
    assert.equal(outcome(await v.verify(await job(clock, rogue)))[0], 'token_unknown_key');
    assert.deepEqual(since(start), [0, 0], 'not again within the cooldown, at the same or a later instant');
    clock.advance(1);
    const rotated = await issuer.addKey({ kid: 'rotated', alg: 'ES256' }); // EC: quick to generate
    try {
      assert.deepEqual(outcome(await v.verify(await job(clock, rotated))), ['ok', '']);
      assert.deepEqual(since(start), [1, 1], '10 s after the last fetch, the rotation is fetched');
    } finally {
      issuer.retireKey('rotated');
    }
  });

  it('a clock stepped back ends the cooldown instead of stretching it', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    await v.prefetch();
    const rogue = as('rogue-2');
    const start = requestsOf(issuer);
    clock.advance(-MINUTE); // NTP stepped the clock back a minute
    assert.equal(outcome(await v.verify(await job(clock, rogue)))[0], 'token_unknown_key');
    assert.deepEqual(since(start), [1, 1]);
  });

  it('names the kid (its first 64 characters), or says the token names none', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    const long = as(`k${'x'.repeat(99)}`);
    assert.deepEqual(outcome(await v.verify(await job(clock, long))), [
      'token_unknown_key',
      `no key "k${'x'.repeat(63)}" in the JWKS`,
    ]);
    // An ES256 token without a kid while the JWKS holds RSA keys only: nothing to try it with.
    const es = await issuer.addKey({ alg: 'ES256', publish: false });
    const token = await kidless(clock, 'ES256', es.privateKey);
    assert.deepEqual(outcome(await v.verify(token)), ['token_unknown_key', 'no key (no kid) in the JWKS']);
  });

  it('a token without a kid that several keys would fit is refused, without a re-fetch', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    issuer.misbehave('jwks', { body: JSON.stringify({ keys: [first.publicJwk, await publicOf('key-1')] }) });
    await v.prefetch();
    clock.advance(10_000); // a re-fetch would be allowed
    const start = requestsOf(issuer);
    const token = await kidless(clock, 'RS256', first.privateKey);
    assert.deepEqual(outcome(await v.verify(token)), [
      'token_invalid',
      'the token names no "kid" and several keys match',
    ]);
    assert.deepEqual(since(start), [0, 0]);
  });

  it('the same when the keys it fits appear only in the JWKS fetched for it', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    await v.prefetch(); // RSA keys only
    const [a, b] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256')]);
    issuer.misbehave('jwks', {
      body: JSON.stringify({ keys: [await exportJWK(a.publicKey), await exportJWK(b.publicKey)] }),
    });
    clock.advance(10_000);
    const token = await kidless(clock, 'ES256', a.privateKey);
    assert.deepEqual(outcome(await v.verify(token)), [
      'token_invalid',
      'the token names no "kid" and several keys match',
    ]);
  });
});

/** The published JWK of one of the issuer's keys, read from its JWKS. */
async function publicOf(kid: string): Promise<JWK> {
  const jwks = (await getJson(`${issuer.url}${JWKS_PATH}`, {
    ca: [issuer.caPem],
    timeoutMs: 5000,
    maxBytes: 1 << 20,
  })) as { keys: JWK[] };
  const key = jwks.keys.find((k) => k.kid === kid);
  assert.ok(key, kid);
  return key;
}

describe('the issuer down: keys held stay in use for 24 h, then fail closed', () => {
  it('accepts tokens of a held key up to 24 h after the last fetch, and answers issuer_unavailable after that', async () => {
    const clock = new Clock();
    const { v, outcomes } = verifier(clock);
    await v.prefetch();
    await issuer.down();
    clock.advance(24 * HOUR);
    assert.deepEqual(outcome(await v.verify(await job(clock))), ['ok', ''], 'at 24 h, still in use');
    await waitFor('the background re-fetch to fail', () => outcomes.length === 2, 5000, 20);
    clock.advance(1);
    const [reason, detail] = outcome(await v.verify(await job(clock)));
    assert.equal(reason, 'issuer_unavailable', 'a millisecond later, no longer');
    assert.match(detail, new RegExp(`^keys of ${issuer.url} unavailable: .*ECONNREFUSED`));
    await issuer.up();
    clock.advance(10_000);
    assert.deepEqual(outcome(await v.verify(await job(clock))), ['ok', ''], 'fetched again once it is back');
    const rogue = as('rogue-after-outage');
    assert.equal(
      outcome(await v.verify(await job(clock, rogue)))[0],
      'token_unknown_key',
      'within the cooldown after a good fetch, an unknown kid is the token, no longer the outage',
    );
  });

  it('a key never seen is issuer_unavailable while the issuer is down, and again within the cooldown', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    await v.prefetch();
    await issuer.down();
    const unseen = as('unseen');
    clock.advance(MINUTE);
    for (let i = 0; i < 2; i++) {
      const [reason, detail] = outcome(await v.verify(await job(clock, unseen)));
      assert.equal(reason, 'issuer_unavailable');
      assert.match(detail, /ECONNREFUSED/);
    }
  });

  it('before any fetch has succeeded, nothing is accepted', async () => {
    const clock = new Clock();
    const { v } = verifier(clock);
    await issuer.down();
    const [reason, detail] = outcome(await v.verify(await job(clock)));
    assert.equal(reason, 'issuer_unavailable');
    assert.match(detail, /ECONNREFUSED/);
  });
});

/** What one fetch of the issuer's keys reports when it answers `document` with `body`. */
async function fetchWith(
  document: 'discovery' | 'jwks',
  answer: Parameters<OidcIssuer['misbehave']>[1],
  options: { timeoutMs?: number } = {},
): Promise<string[]> {
  issuer.misbehave(document, answer);
  const errors: string[] = [];
  const keys = new IssuerKeys({
    issuer: issuer.url,
    ca: [issuer.caPem],
    ...options,
    onFetch: (o, error) => errors.push(error?.message ?? o),
  });
  await keys.prefetch();
  return errors;
}

const discovery = (fields: Record<string, unknown>): { body: string } => ({
  body: JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}${JWKS_PATH}`, ...fields }),
});

describe('documents of the wrong shape are a failed fetch (issuer_unavailable), never a crash', () => {
  const cases: [string, 'discovery' | 'jwks', () => Parameters<OidcIssuer['misbehave']>[1], string][] = [
    ['discovery not JSON', 'discovery', () => ({ body: '<html>login</html>' }), 'DISCOVERY: not JSON'],
    ['discovery an error status', 'discovery', () => ({ status: 500, body: '{}' }), 'DISCOVERY: HTTP 500'],
    ['discovery null', 'discovery', () => ({ body: 'null' }), 'discovery: not an object'],
    ['discovery a string', 'discovery', () => ({ body: '"issuer"' }), 'discovery: not an object'],
    [
      'discovery without an issuer',
      'discovery',
      () => discovery({ issuer: undefined }),
      'discovery names issuer undefined',
    ],
    [
      'discovery without jwks_uri',
      'discovery',
      () => discovery({ jwks_uri: 5 }),
      'discovery: jwks_uri is not an https:// URL',
    ],
    [
      'jwks_uri over http',
      'discovery',
      () => discovery({ jwks_uri: `http://127.0.0.1:1${JWKS_PATH}` }),
      'discovery: jwks_uri is not an https:// URL',
    ],
    ['JWKS not JSON', 'jwks', () => ({ body: '{"keys": [' }), 'JWKS_URI: not JSON'],
    ['JWKS null', 'jwks', () => ({ body: 'null' }), 'JWKS: no "keys" list'],
    ['JWKS without keys', 'jwks', () => ({ body: '{"key": []}' }), 'JWKS: no "keys" list'],
    ['JWKS keys not a list', 'jwks', () => ({ body: '{"keys": {"kty": "RSA"}}' }), 'JWKS: no "keys" list'],
  ];
  for (const [name, document, answer, expected] of cases) {
    it(name, async () => {
      const message = expected
        .replace('DISCOVERY', `${issuer.url}/.well-known/openid-configuration`)
        .replace('JWKS_URI', `${issuer.url}${JWKS_PATH}`);
      assert.deepEqual(await fetchWith(document, answer()), [message]);
    });
  }

  it('a redirect is not followed', async () => {
    const start = requestsOf(issuer);
    const errors = await fetchWith('discovery', {
      status: 302,
      headers: { Location: `${issuer.url}/moved/.well-known/openid-configuration` },
      body: '',
    });
    assert.deepEqual(errors, [`${issuer.url}/.well-known/openid-configuration: HTTP 302`]);
    assert.deepEqual(since(start), [1, 0]);
    assert.equal(
      issuer.requests.at(-1),
      '/.well-known/openid-configuration',
      'nothing fetched from Location',
    );
  });

  it('a JWKS of 512 KiB is read; one byte more is refused', async () => {
    const doc = (size: number): string => {
      const body = JSON.stringify({ keys: [first.publicJwk], pad: '' });
      return body.replace('"pad":""', `"pad":"${'x'.repeat(size - body.length)}"`);
    };
    assert.deepEqual(await fetchWith('jwks', { body: doc(512 * 1024) }), ['success']);
    assert.deepEqual(await fetchWith('jwks', { body: doc(512 * 1024 + 1) }), [
      `${issuer.url}${JWKS_PATH}: larger than 524288 bytes`,
    ]);
  });

  it('a JWKS that never ends is dropped after 512 KiB', async () => {
    const hangUps = issuer.hangUps;
    assert.deepEqual(await fetchWith('jwks', 'endless'), [
      `${issuer.url}${JWKS_PATH}: larger than 524288 bytes`,
    ]);
    await waitFor('the sidecar to close the connection', () => issuer.hangUps === hangUps + 1, 5000, 20);
  });

  it('a JWKS cut off mid-body fails at once, not at the deadline', async () => {
    const errors = await fetchWith('jwks', 'cut', { timeoutMs: 30_000 });
    assert.deepEqual(errors, [`${issuer.url}${JWKS_PATH}: aborted`]);
  });

  it('an issuer that accepts the request and never answers costs one deadline', async () => {
    assert.deepEqual(await fetchWith('jwks', 'hang', { timeoutMs: 300 }), [
      `${issuer.url}${JWKS_PATH}: no answer within 300 ms`,
    ]);
  });

  it('an issuer refusing connections is named as such, not as a timeout', async () => {
    await issuer.down();
    const [error] = await fetchWith('discovery', undefined);
    assert.match(
      error ?? '',
      /^https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: connect ECONNREFUSED/,
    );
  });

  it("without the issuer's CA, its certificate is not trusted", async () => {
    const errors: string[] = [];
    const keys = new IssuerKeys({
      issuer: issuer.url,
      ca: undefined,
      onFetch: (o, e) => errors.push(e?.message ?? o),
    });
    await keys.prefetch();
    assert.deepEqual(errors, [
      `${issuer.url}/.well-known/openid-configuration: unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca`,
    ]);
  });

  it('only https:// URLs are fetched', async () => {
    await assert.rejects(getJson(`http://127.0.0.1:1${JWKS_PATH}`, { timeoutMs: 1000, maxBytes: 1000 }), {
      name: 'IssuerFetchError',
      message: `http://127.0.0.1:1${JWKS_PATH}: not an https:// URL`,
    });
    assert.ok(new IssuerFetchError('u', 'w') instanceof Error);
  });

  it("an issuer with a trailing '/' is discovered at <issuer>/.well-known/openid-configuration", async () => {
    issuer.misbehave('discovery', discovery({ issuer: `${issuer.url}/` }));
    const keys = new IssuerKeys({ issuer: `${issuer.url}/`, ca: [issuer.caPem] });
    await keys.prefetch();
    assert.equal(keys.keyCount, 1);
    assert.equal(issuer.requests.at(-2), '/.well-known/openid-configuration');
  });
});

describe('the JWKS: only public signing keys are used', () => {
  it('a symmetric (oct) or private key in the JWKS is never a verification key', async () => {
    const secret = randomBytes(32);
    const oct: JWK = { kty: 'oct', kid: 'hs', alg: 'HS256', k: secret.toString('base64url') };
    const priv: JWK = { ...(await exportJWK(first.privateKey)), kid: 'private', alg: 'RS256' };
    issuer.misbehave('jwks', {
      body: JSON.stringify({ keys: [oct, priv, 'RSA', null, { kid: 'no-kty' }, await publicOf('key-1')] }),
    });
    const keys = new IssuerKeys({ issuer: issuer.url, ca: [issuer.caPem], cooldownMs: 0 });
    await keys.prefetch();
    assert.equal(keys.keyCount, 1, 'key-1 only');
    // jose itself refuses an HMAC algorithm for a JWKS; the verifier refuses HS* before either.
    await assert.rejects(keys.key({ alg: 'HS256', kid: 'hs' }), { name: 'JOSENotSupported' });
    await assert.rejects(keys.key({ alg: 'RS256', kid: 'private' }), UnknownKeyError);
    assert.ok(await keys.key({ alg: 'RS256', kid: 'key-1' }));
  });
});

describe('a key in the JWKS that cannot be used refuses its tokens (it used to answer 500 internal_error)', () => {
  it('a malformed key, or an RSA key under 2048 bits, is token_invalid; the other keys keep working', async () => {
    const clock = new Clock();
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakJwk = { ...(weak.publicKey.export({ format: 'jwk' }) as JWK), kid: 'weak', alg: 'RS256' };
    issuer.misbehave('jwks', {
      body: JSON.stringify({
        keys: [{ kty: 'RSA', kid: 'broken', e: 'AQAB' }, weakJwk, await publicOf('key-1')],
      }),
    });
    const { v } = verifier(clock);
    const claims = claimsAt(clock);
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64(claims)}`;
    const signed = `${input}.${createSign('RSA-SHA256').update(input).sign(weak.privateKey).toString('base64url')}`;
    assert.deepEqual(outcome(await v.verify(signed)), [
      'token_invalid',
      "the issuer's key cannot be used: RS256 requires key modulusLength to be 2048 bits or larger",
    ]);
    const broken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'broken' })
      .sign(first.privateKey);
    const [reason, detail] = outcome(await v.verify(broken));
    assert.equal(reason, 'token_invalid');
    assert.match(detail, /^the issuer's key cannot be used: /);
    assert.deepEqual(outcome(await v.verify(await job(clock))), ['ok', '']);
  });
});
