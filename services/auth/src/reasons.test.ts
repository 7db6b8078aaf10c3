import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REASONS, isChallenge } from './reasons.ts';

describe('REASONS: the one table of statuses', () => {
  it('maps each result to the status CONTRACT.md gives it', () => {
    const statusOf = {
      allow: [200],
      challenge: [401],
      unauthenticated: [401],
      locked: [401],
      deny: [403],
      error: [500, 503],
    };
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
  });
});
