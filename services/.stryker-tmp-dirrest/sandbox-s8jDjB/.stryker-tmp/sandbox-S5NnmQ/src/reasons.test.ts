// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS, isChallenge } from './reasons.ts';

describe('REASONS: the one table of statuses', () => {
  // Each reason's status and result, pinned one by one: a reason added or changed must be added here too.
  const PINNED: Record<string, readonly [number, string]> = {
    granted: [200, 'allow'],
    no_credentials: [401, 'challenge'],
    malformed_credentials: [401, 'unauthenticated'],
    empty_password: [401, 'unauthenticated'],
    unknown_user: [401, 'unauthenticated'],
    ambiguous_user: [401, 'unauthenticated'],
    invalid_password: [401, 'unauthenticated'],
    account_disabled: [401, 'unauthenticated'],
    account_expired: [401, 'unauthenticated'],
    password_must_change: [401, 'unauthenticated'],
    password_expired: [401, 'unauthenticated'],
    account_locked: [401, 'unauthenticated'],
    locked_out: [401, 'locked'],
    not_granted: [403, 'deny'],
    invalid_request: [403, 'deny'],
    form_body: [403, 'deny'],
    directory_unavailable: [503, 'error'],
    directory_misconfigured: [503, 'error'],
    proxy_misconfigured: [500, 'error'],
    internal_error: [500, 'error'],
    // CI job tokens (docs/oidc.md): an unreachable issuer is an outage, never a 401.
    untrusted_issuer: [401, 'unauthenticated'],
    token_invalid: [401, 'unauthenticated'],
    token_unsigned: [401, 'unauthenticated'],
    token_algorithm_not_allowed: [401, 'unauthenticated'],
    token_unknown_key: [401, 'unauthenticated'],
    token_expired: [401, 'unauthenticated'],
    token_not_yet_valid: [401, 'unauthenticated'],
    token_lifetime_too_long: [401, 'unauthenticated'],
    token_wrong_audience: [401, 'unauthenticated'],
    no_matching_rule: [403, 'deny'],
    issuer_unavailable: [503, 'error'],
  };

  it('gives every reason exactly its pinned status and result', () => {
    const actual = Object.fromEntries(
      Object.entries(REASONS).map(([reason, spec]) => [reason, [spec.status, spec.result]]),
    );
    assert.deepEqual(actual, PINNED);
  });

  it('describes every reason', () => {
    for (const [reason, spec] of Object.entries(REASONS)) {
      assert.ok(spec.description.length > 10, `${reason} is described`);
    }
  });

  it('answers 200 for exactly one reason', () => {
    assert.deepEqual(
      Object.entries(REASONS)
        .filter(([, s]) => s.status === 200)
        .map(([r]) => r),
      ['granted'],
    );
  });

  it('tells the first, credential-less request of a client apart from failed credentials', () => {
    assert.deepEqual(
      Object.entries(REASONS)
        .filter(([, s]) => s.result === 'challenge')
        .map(([r]) => r),
      ['no_credentials'],
    );
    assert.equal(REASONS.malformed_credentials.result, 'unauthenticated');
    assert.equal(REASONS.invalid_password.result, 'unauthenticated');
  });

  it('challenges only 401s, and a directory outage is never a 401', () => {
    assert.equal(isChallenge('invalid_password'), true);
    assert.equal(isChallenge('locked_out'), true);
    assert.equal(isChallenge('not_granted'), false);
    assert.equal(REASONS.directory_unavailable.status, 503);
    assert.equal(REASONS.directory_misconfigured.status, 503, 'a rejected service bind is not a 401 either');
  });
});
