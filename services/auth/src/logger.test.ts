// What the operational log looks like to whoever reads or ships it, and the redaction that keeps a stray
// secret out of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogCapture } from '../test/support/log-capture.ts';
import { createLoggers } from './logger.ts';
import type { LogLevel } from './logger.ts';

function capture(level: LogLevel = 'info') {
  const log = new LogCapture();
  return { ...createLoggers(level, log), lines: () => log.lines() };
}

describe('createLoggers', () => {
  it('writes one JSON object per line: the level as a word, msg, an ISO 8601 time, no pid or hostname', () => {
    const { logger, lines } = capture();
    logger.warn({ server: 'ldap://dc1.example.test:389' }, 'LDAP server failed');
    assert.equal(lines().length, 1);
    const line = lines()[0] ?? {};
    assert.deepEqual(Object.keys(line).sort(), ['level', 'msg', 'server', 'time']);
    assert.deepEqual([line['level'], line['msg']], ['warn', 'LDAP server failed']);
    assert.equal(new Date(String(line['time'])).toISOString(), line['time']);
  });

  it('redacts password and authorization fields, at the top, one level down and in headers', () => {
    const { logger, lines } = capture();
    logger.error(
      {
        password: 'top-secret',
        authorization: 'Basic dG9wOnNlY3JldA==',
        request: {
          password: 'nested-secret',
          authorization: 'Basic bmVzdGVk',
          headers: { authorization: 'Basic aA==' },
        },
        headers: { authorization: 'Basic aGVhZGVy' },
        user: 'alice',
      },
      'something failed',
    );
    const text = JSON.stringify(lines());
    for (const secret of ['top-secret', 'dG9wOnNlY3JldA', 'nested-secret', 'bmVzdGVk', 'aA==', 'aGVhZGVy']) {
      assert.ok(!text.includes(secret), secret);
    }
    const line = lines()[0] ?? {};
    assert.deepEqual(line, {
      level: 'error',
      time: line['time'],
      password: '[redacted]',
      authorization: '[redacted]',
      request: {
        password: '[redacted]',
        authorization: '[redacted]',
        headers: { authorization: '[redacted]' },
      },
      headers: { authorization: '[redacted]' },
      user: 'alice',
      msg: 'something failed',
    });
  });

  it('honours the level for operational lines and the audit log alike, on the one destination', () => {
    const { logger, audit, lines } = capture('warn');
    logger.info('not shown');
    logger.warn('shown');
    const record = {
      user: 'alice',
      action: 'pull',
      repository: 'app',
      method: 'GET',
      result: 'allow',
      reason: 'granted',
      source: 'cache',
      duration_ms: 0.05,
      client_ip: '192.0.2.1',
    };
    audit.write('info', record);
    audit.write('error', { ...record, result: 'error', reason: 'internal_error' });
    assert.deepEqual(
      lines().map((l) => [l['level'], l['msg'], l['reason']]),
      [
        ['warn', 'shown', undefined],
        ['error', 'decision', 'internal_error'],
      ],
    );
  });
});
