// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldLogin } from './login-fold.ts';

describe('foldLogin', () => {
  it('gives every form the directory matches as bob the same key', () => {
    for (const form of ['bob', ' bob', 'bob ', 'Bob  ', 'BOB', '\u00a0bob', 'ｂｏｂ', 'ＢＯＢ', '\tbob'])
      assert.equal(foldLogin(form), 'bob', JSON.stringify(form));
  });

  it('compares inner runs of spaces as one, and keeps different names apart', () => {
    assert.equal(foldLogin('Pat  O’Brien'), foldLogin('pat o’brien'));
    assert.notEqual(foldLogin('bob'), foldLogin('bobby'));
    assert.notEqual(foldLogin('b ob'), foldLogin('bob'));
  });

  it('keeps AD login forms whole (the preset reduces DOMAIN\\user afterwards)', () => {
    assert.equal(foldLogin('EXAMPLE\\Alice'), 'example\\alice');
    assert.equal(foldLogin(' Alice@Example.TEST '), 'alice@example.test');
  });
});
