import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Reader } from './env-reader.ts';

describe('Reader', () => {
  it('treats a value of spaces as unset, trims the rest, and remembers every name it read', () => {
    const r = new Reader({ A: '  ', B: ' b ', C: '' });
    assert.equal(r.raw('A'), undefined);
    assert.equal(r.raw('B'), 'b');
    assert.equal(r.string('C', 'fallback'), 'fallback');
    assert.equal(r.string('D', 'fallback'), 'fallback');
    assert.deepEqual([...r.names], ['A', 'B', 'C', 'D']);
    assert.deepEqual(r.problems, []);
  });

  it('names a missing required variable', () => {
    const r = new Reader({ SET: 'x' });
    assert.equal(r.required('SET'), 'x');
    assert.equal(r.required('UNSET'), '');
    assert.deepEqual(r.problems, ['UNSET is required']);
  });

  it('takes true, 1, yes and false, 0, no in any case, and refuses anything else naming it', () => {
    const spellings = {
      T1: 'true',
      T2: '1',
      T3: 'YES',
      T4: 'True',
      F1: 'false',
      F2: '0',
      F3: 'No',
      BAD: 'on',
    };
    const r = new Reader(spellings);
    for (const name of ['T1', 'T2', 'T3', 'T4']) assert.equal(r.bool(name, false), true, name);
    for (const name of ['F1', 'F2', 'F3']) assert.equal(r.bool(name, true), false, name);
    assert.equal(r.bool('UNSET', true), true);
    assert.equal(r.bool('BAD', true), true, 'the fallback');
    assert.deepEqual(r.problems, ['BAD must be true or false (got "on")']);
  });

  it('takes whole numbers only: no sign, no fraction, nothing before or after the digits', () => {
    const r = new Reader({
      OK: '042',
      A: '5x',
      B: 'x5',
      C: '-1',
      D: '1.5',
      E: '1e3',
      F: '99999999999999999999',
    });
    assert.equal(r.int('OK', 7, 0), 42);
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F']) assert.equal(r.int(name, 7, 0), 7, name);
    assert.deepEqual(
      r.problems.map((p) => p.split(' ')[0]),
      ['A', 'B', 'C', 'D', 'E', 'F'],
    );
    assert.match(r.problems[0] ?? '', /^A must be a whole number from 0 to \d+ \(got "5x"\)$/);
  });

  it('splits lists on commas, keeps a DN whole, and uses ; alone once it appears', () => {
    const r = new Reader({
      PLAIN: ' a , b,,c ',
      DN: 'cn=ops,ou=groups,dc=example,dc=test , devs',
      SPACED: 'cn=ops, ou=groups ,dc=test',
      ESCAPED: 'cn=a\\,b,dc=test,other',
      SEMI: 'cn=a,dc=test; cn=b,dc=test',
    });
    assert.deepEqual(r.list('PLAIN'), ['a', 'b', 'c']);
    assert.deepEqual(r.list('DN'), ['cn=ops,ou=groups,dc=example,dc=test', 'devs']);
    assert.deepEqual(r.list('SPACED'), ['cn=ops, ou=groups ,dc=test']);
    assert.deepEqual(r.list('ESCAPED'), ['cn=a\\,b,dc=test', 'other']);
    assert.deepEqual(r.list('SEMI'), ['cn=a,dc=test', 'cn=b,dc=test']);
    assert.deepEqual(r.list('UNSET'), []);
  });

  it('names the allowed values when a variable holds another', () => {
    const r = new Reader({ LEVEL: 'loud' });
    assert.equal(r.oneOf('LEVEL', ['info', 'warn'], 'info'), 'info');
    assert.deepEqual(r.problems, ['LEVEL must be one of info, warn (got "loud")']);
  });

  it('reads a secret from NAME or NAME_FILE (one trailing newline dropped, CRLF too), never both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-reader-'));
    const file = join(dir, 'secret');
    writeFileSync(file, 'from-file\r\n\n');
    const crlf = join(dir, 'crlf');
    writeFileSync(crlf, 'line\r\n');
    const r = new Reader({
      A: 'direct',
      B_FILE: file,
      C_FILE: crlf,
      D: 'x',
      D_FILE: file,
      E: '',
      F_FILE: join(dir, 'none'),
    });
    assert.equal(r.secret('A'), 'direct');
    assert.equal(r.secret('B'), 'from-file\r\n', 'only one trailing newline is dropped');
    assert.equal(r.secret('C'), 'line');
    assert.equal(r.secret('D'), undefined);
    assert.equal(r.secret('E'), undefined);
    assert.equal(r.secret('F'), undefined);
    assert.deepEqual(r.problems, [
      'set D or D_FILE, not both',
      `F_FILE: cannot read ${join(dir, 'none')} (ENOENT)`,
    ]);
    assert.ok(r.names.has('B') && r.names.has('B_FILE'));
  });
});
