// @ts-nocheck
// 
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeLogin } from './presets.ts';

describe('normalizeLogin', () => {
  const ad: [string, string][] = [
    ['alice', 'alice'],
    ['EXAMPLE\\alice', 'alice'],
    ['example\\Alice', 'alice'],
    ['ALICE@EXAMPLE.TEST', 'alice@example.test'],
    // Only ASCII is folded: other case mappings are not AD's, and a miss only costs one bind.
    ['JÖRG', 'jÖrg'],
    // Not a down-level name: kept whole, so the search finds nothing rather than someone else.
    ['\\alice', '\\alice'],
    ['EXAMPLE\\', 'example\\'],
  ];
  for (const [login, expected] of ad) {
    it(`activedirectory: ${JSON.stringify(login)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeLogin('activedirectory', login), expected);
    });
  }

  it('leaves logins alone for the other presets (their matching rules are the server’s business)', () => {
    assert.equal(normalizeLogin('openldap', 'EXAMPLE\\Alice'), 'EXAMPLE\\Alice');
    assert.equal(normalizeLogin('freeipa', 'ALICE'), 'ALICE');
  });
});
