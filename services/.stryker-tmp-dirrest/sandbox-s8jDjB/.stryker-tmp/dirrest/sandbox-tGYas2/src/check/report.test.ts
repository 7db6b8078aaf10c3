// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { EXIT, Report } from './report.ts';

function report(): { report: Report; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { report: new Report(out), text: () => text };
}

describe('Report', () => {
  it('exits 0 when nothing was wrong, whatever it printed', () => {
    const { report: r, text } = report();
    r.ok('fine');
    r.info('note');
    assert.equal(r.summary(), EXIT.ok);
    assert.match(text(), /all checks passed \(exit 0\)/);
  });

  it('exits 1 for warnings alone', () => {
    const { report: r } = report();
    r.warn('odd');
    assert.equal(r.exitCode, EXIT.warnings);
  });

  it('lets the most fundamental problem decide the exit code', () => {
    const { report: r, text } = report();
    r.warn('odd');
    r.fail('user refused', EXIT.userRejected);
    assert.equal(r.exitCode, EXIT.userRejected);
    r.fail('group missing', EXIT.misconfigured);
    assert.equal(r.exitCode, EXIT.misconfigured);
    r.fail('server down', EXIT.unreachable);
    assert.equal(r.summary(), EXIT.unreachable);
    assert.match(text(), /3 problems, 1 warning \(exit 3\)/);
  });

  it('indents continuation lines under their first line', () => {
    const { report: r, text } = report();
    r.fail('first\nsecond', EXIT.misconfigured);
    assert.equal(text(), '  FAIL  first\n        second\n');
  });
});
