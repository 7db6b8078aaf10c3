import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS, isChallenge } from './reasons.ts';

describe('REASONS: the one table of statuses', () => {
  it('maps each result to the status CONTRACT.md gives it', () => {
    const statusOf = { allow: [200], unauthenticated: [401], locked: [401], deny: [403], error: [500, 503] };
    for (const [reason, spec] of Object.entries(REASONS)) {
      assert.ok(statusOf[spec.result].includes(spec.status), `${reason}: ${spec.result} → ${spec.status}`);
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

  it('pins the status of every job-token reason: an unreachable issuer is never a 401', () => {
    const pinned = {
      untrusted_issuer: 401,
      token_invalid: 401,
      token_unsigned: 401,
      token_algorithm_not_allowed: 401,
      token_unknown_key: 401,
      token_expired: 401,
      token_not_yet_valid: 401,
      token_lifetime_too_long: 401,
      token_wrong_audience: 401,
      no_matching_rule: 403,
      issuer_unavailable: 503,
    } as const;
    for (const [reason, status] of Object.entries(pinned)) {
      assert.equal(REASONS[reason as keyof typeof pinned].status, status, reason);
    }
  });

  it('challenges only 401s, and a directory outage is never a 401', () => {
    assert.equal(isChallenge('invalid_password'), true);
    assert.equal(isChallenge('locked_out'), true);
    assert.equal(isChallenge('not_granted'), false);
    assert.equal(REASONS.directory_unavailable.status, 503);
  });
});
