// @ts-nocheck
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBasicAuth } from './basic-auth.ts';

const basic = (raw: string): string => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('parseBasicAuth', () => {
  it('decodes user-id and password, splitting at the first colon', () => {
    assert.deepEqual(parseBasicAuth(basic('alice:pa:ss')), { username: 'alice', password: 'pa:ss' });
  });

  it('accepts the scheme in any case and UTF-8 credentials (RFC 7617 §2.1)', () => {
    assert.deepEqual(parseBasicAuth(`bAsIc ${Buffer.from('jörg:пароль').toString('base64')}`), {
      username: 'jörg',
      password: 'пароль',
    });
  });

  it('keeps an empty password, so the caller can refuse it explicitly', () => {
    assert.deepEqual(parseBasicAuth(basic('alice:')), { username: 'alice', password: '' });
  });

  it('normalises the username to NFC so composed and decomposed forms are one user', () => {
    assert.equal(parseBasicAuth(basic('jo\u0308rg:x'))?.username, 'jörg');
    // No ASCII at all: Cyrillic е + combining diaeresis is ё.
    assert.equal(parseBasicAuth(basic('\u0435\u0308:x'))?.username, '\u0451');
  });

  it('keeps a leading byte order mark as part of the username, never strips it', () => {
    assert.equal(parseBasicAuth(basic('\ufeffalice:x'))?.username, '\ufeffalice');
  });

  it('accepts unpadded tokens (some clients strip "=") and more than one space after the scheme', () => {
    assert.deepEqual(parseBasicAuth('Basic YWxpY2U6eA'), { username: 'alice', password: 'x' });
    assert.deepEqual(parseBasicAuth('Basic   YWxpY2U6eA=='), { username: 'alice', password: 'x' });
  });

  it('accepts a header of exactly 8192 characters (room for a CI job token) and refuses one more', () => {
    const fill = (length: number) => `Basic ${Buffer.from(`alice:${'x'.repeat(length)}`).toString('base64')}`;
    let n = 6000;
    while (fill(n).length < 8192) n++;
    const exact =
      fill(n).length === 8192 ? fill(n) : `${fill(n - 1)}${' '.repeat(8192 - fill(n - 1).length)}`;
    assert.equal(exact.length, 8192);
    assert.equal(parseBasicAuth(exact)?.username, 'alice');
    assert.equal(parseBasicAuth(`${exact} `), undefined);
  });

  const malformed: [string, string | undefined][] = [
    ['missing header', undefined],
    ['empty', ''],
    ['other scheme', `Bearer ${Buffer.from('alice:x').toString('base64')}`],
    ['no token', 'Basic '],
    ['no colon', basic('alice')],
    ['empty username', basic(':password')],
    ['not base64', 'Basic !!!!'],
    ['junk after the token', `${basic('alice:x')} extra`],
    ['base64 with embedded junk', 'Basic YWxp*Y2U6eA=='],
    // Whole quanta, so only the alphabet check refuses it: Buffer.from would skip the '*' and read alice:x.
    ['base64 with embedded junk in whole quanta', 'Basic YWxp****Y2U6eA=='],
    ['bad padding', 'Basic YWxpY2U6eA='],
    ['an unpadded token that ends mid-byte', 'Basic YWxpY2U6eHh4Q'],
    ['the scheme not at the start', `x${basic('alice:x')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['NUL in username', basic('ali\u0000ce:x')],
    ['newline in username', basic('alice\n:x')],
    ['control character in password', basic('alice:a\u0007b')],
    ['oversized', basic(`alice:${'x'.repeat(7000)}`)],
  ];
  for (const [name, header] of malformed) {
    it(`rejects ${name}`, () => {
      assert.equal(parseBasicAuth(header), undefined);
    });
  }

  it('accepts a 4 KB password: a CI job token with many claims', () => {
    const token = `${'h'.repeat(100)}.${'p'.repeat(3500)}.${'s'.repeat(342)}`;
    assert.deepEqual(parseBasicAuth(basic(`oidc:${token}`)), { username: 'oidc', password: token });
  });

  // eslint-disable-next-line no-control-regex -- the property is about control characters
  const CONTROL = /[\u0000-\u001f\u007f]/;

  it('round-trips any username without colon or control characters', () => {
    const username = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => !s.includes(':') && !CONTROL.test(s) && s === s.normalize('NFC'));
    const password = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !CONTROL.test(s));
    fc.assert(
      fc.property(username, password, (u, p) => {
        assert.deepEqual(parseBasicAuth(basic(`${u}:${p}`)), { username: u, password: p });
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        parseBasicAuth(s);
        parseBasicAuth(`Basic ${s}`);
      }),
    );
  });
});
