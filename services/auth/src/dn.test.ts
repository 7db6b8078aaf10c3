import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnKey, isWithin, parseDn, sameDn } from './dn.ts';

describe('parseDn (RFC 4514)', () => {
  it('splits RDNs and multi-valued RDNs, unescaping values', () => {
    assert.deepEqual(parseDn("cn=O'Brien\\, Pat (QA)+uid=pob,ou=people,dc=example,dc=test"), [
      [
        { type: 'cn', value: "O'Brien, Pat (QA)" },
        { type: 'uid', value: 'pob' },
      ],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'example' }],
      [{ type: 'dc', value: 'test' }],
    ]);
  });

  it('reads hex escapes as UTF-8 bytes and every escapable character', () => {
    assert.deepEqual(parseDn('cn=J\\C3\\B6rg \\2B \\"x\\" \\<y\\> \\; \\\\ \\= \\#'), [
      [{ type: 'cn', value: 'Jörg + "x" <y> ; \\ = #' }],
    ]);
    assert.deepEqual(parseDn('cn=\\20lead\\20'), [[{ type: 'cn', value: ' lead ' }]]);
  });

  it('keeps characters outside ASCII, astral ones included', () => {
    assert.deepEqual(parseDn('cn=Grüße 🚀'), [[{ type: 'cn', value: 'Grüße 🚀' }]]);
  });

  it('drops unescaped spaces around separators and reads OIDs and long names as short names', () => {
    assert.deepEqual(parseDn(' CN = a ,  2.5.4.11=b ; domainComponent=c '), [
      [{ type: 'cn', value: 'a' }],
      [{ type: 'ou', value: 'b' }],
      [{ type: 'dc', value: 'c' }],
    ]);
  });

  it('reads a #hex value as BER, apart from strings', () => {
    assert.deepEqual(parseDn('1.3.6.1.4.1.1466.0=#04024869'), [
      [{ type: '1.3.6.1.4.1.1466.0', value: '04024869', ber: true }],
    ]);
    assert.deepEqual(parseDn('12.34=#04AbCd'), [[{ type: '12.34', value: '04abcd', ber: true }]]);
  });

  it('an `=` inside a value is part of it', () => {
    assert.deepEqual(parseDn('cn=a=b'), [[{ type: 'cn', value: 'a=b' }]]);
  });

  it('the empty string is the empty DN, and so are spaces alone', () => {
    assert.deepEqual(parseDn(''), []);
    assert.deepEqual(parseDn('  '), []);
  });

  it('refuses what is not a DN', () => {
    for (const text of [
      'registry-pushers',
      'cn',
      '=a',
      'cn=a,',
      'cn=a,,dc=b',
      'cn=a+',
      'c n=a',
      '-cn=a',
      'cn=a\\',
      'cn=a\\x',
      'cn=a\\4',
      'cn=a"b',
      'cn=<a>',
      'cn=\\FF',
      'cn=#0',
      'cn=#zz',
      // Each character RFC 4514 requires escaped, alone.
      'cn=a<b',
      'cn=a>b',
      'cn=a\u0000b',
      // A type must start the attribute; a BER value must start right after `=` and end at a separator.
      '_=a',
      'cn=#qq,cn=#ab',
      'cn=#04xdc=y',
    ]) {
      assert.equal(parseDn(text), undefined, text);
    }
  });
});

describe('sameDn (distinguishedNameMatch)', () => {
  it('ignores the case of types and values, the spelling of types and spaces around separators', () => {
    assert.ok(
      sameDn(
        'CN=Registry-Pushers, OU=Groups,DC=Example,DC=Test',
        'cn=registry-pushers,ou=groups,dc=example,dc=test',
      ),
    );
    assert.ok(sameDn('2.5.4.3=a,dc=b', 'commonName=A;DC=b'));
    assert.ok(sameDn('cn=a\\2C b,dc=c', 'cn=a\\, b,dc=c'));
    assert.ok(sameDn('cn=a+uid=b,dc=c', 'uid=b+cn=a,dc=c'));
  });

  it('knows every numeric and long name of the naming attributes (RFC 4519, RFC 4524)', () => {
    const names: [string, string, string][] = [
      ['cn', '2.5.4.3', 'commonName'],
      ['c', '2.5.4.6', 'countryName'],
      ['l', '2.5.4.7', 'localityName'],
      ['st', '2.5.4.8', 'stateOrProvinceName'],
      ['street', '2.5.4.9', 'streetAddress'],
      ['o', '2.5.4.10', 'organizationName'],
      ['ou', '2.5.4.11', 'organizationalUnitName'],
      ['dc', '0.9.2342.19200300.100.1.25', 'domainComponent'],
      ['uid', '0.9.2342.19200300.100.1.1', 'userId'],
    ];
    for (const [short, oid, long] of names) {
      assert.ok(sameDn(`${oid}=x,dc=test`, `${short}=X,dc=test`), oid);
      assert.ok(sameDn(`${long.toUpperCase()}=x,dc=test`, `${short}=x,dc=test`), long);
      // Each name stands for its own attribute, not another's.
      for (const [other] of names)
        if (other !== short) assert.ok(!sameDn(`${oid}=x`, `${other}=x`), `${oid} ${other}`);
    }
  });

  it('treats runs of spaces inside a value as one and drops them at its ends (RFC 4518)', () => {
    assert.ok(sameDn('cn=Ops  EMEA,dc=x', 'cn=ops emea,dc=x'));
    assert.ok(sameDn('cn=\\20a,dc=x', 'cn=a,dc=x'));
  });

  it('tells apart values that differ once unescaped: `\\, ` is not `\\,`', () => {
    assert.equal(sameDn('cn=Ops\\, EMEA,dc=x', 'cn=Ops\\,EMEA,dc=x'), false);
    assert.equal(sameDn('cn=a\\,b,dc=x', 'cn=a,b=,dc=x'), false);
    assert.equal(sameDn('cn=a+uid=b,dc=c', 'cn=a,uid=b,dc=c'), false);
    assert.equal(sameDn('cn=a,dc=c', 'cn=a,dc=c,dc=d'), false);
    assert.equal(sameDn('cn=#04024869', 'cn=\\#04024869'), false);
    assert.equal(sameDn('cn=#6162', 'cn=6162'), false, 'a BER value is not the string of its hex');
    assert.equal(sameDn('cn=#0401', 'cn=#0402'), false);
    assert.equal(sameDn('cn=#0A01', 'cn=#0a01'), true);
  });

  it('a malformed side never matches, not even itself', () => {
    assert.equal(sameDn('cn=a\\', 'cn=a\\'), false);
    assert.equal(dnKey('not a dn'), undefined);
  });
});

describe('isWithin: subtree membership by whole RDNs', () => {
  it('is true for the base itself and entries below it', () => {
    assert.ok(isWithin('ou=people,dc=example,dc=test', 'ou=people,dc=example,dc=test'));
    assert.ok(isWithin('uid=a,OU=People, dc=example,dc=test', 'ou=people,dc=example,dc=test'));
    assert.ok(isWithin('ou=people,dc=example,dc=test', ''));
  });

  it('is false for siblings, ancestors and look-alike suffixes', () => {
    assert.equal(isWithin('ou=groups,dc=example,dc=test', 'ou=people,dc=example,dc=test'), false);
    assert.equal(isWithin('dc=example,dc=test', 'ou=people,dc=example,dc=test'), false);
    assert.equal(isWithin('cn=x,dc=myexample,dc=test', 'dc=example,dc=test'), false);
    assert.equal(isWithin('cn=x,ou=a\\,dc=example,dc=test', 'dc=example,dc=test'), false);
  });

  it('is false when either side is not a DN', () => {
    assert.equal(isWithin('cn=a\\q,dc=test', 'dc=test'), false);
    assert.equal(isWithin('cn=a,dc=test', 'dc=test\\'), false);
    assert.equal(isWithin('cn=a\\', ''), false);
  });
});
