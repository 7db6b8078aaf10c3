// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditLog } from './audit-log.ts';
import type { AuditRecord } from './audit-log.ts';
import { LOG_LEVELS } from './logger.ts';
import type { LogLevel } from './logger.ts';

const RECORD: AuditRecord = {
  user: 'alice',
  action: 'pull',
  repository: 'team/app',
  method: 'GET',
  result: 'error',
  reason: 'directory_unavailable',
  source: 'directory',
  duration_ms: 12.5,
  client_ip: '203.0.113.7',
  error: 'connect ECONNREFUSED 127.0.0.1:636',
};

function auditAt(level: LogLevel): { audit: AuditLog; lines: string[] } {
  const lines: string[] = [];
  const rank = (l: LogLevel): number => LOG_LEVELS.indexOf(l);
  // pino's isLevelEnabled: a message is written when its level is at least as severe as the configured one.
  const logger = { isLevelEnabled: (l: string) => rank(l as LogLevel) <= rank(level) && level !== 'silent' };
  return { audit: new AuditLog({ write: (line: string) => lines.push(line) }, logger), lines };
}

describe('AuditLog', () => {
  it('writes one JSON line per decision with every field of the schema, the error included', () => {
    const { audit, lines } = auditAt('info');
    audit.write('error', RECORD);
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line).sort(), [
      'action',
      'client_ip',
      'duration_ms',
      'error',
      'level',
      'method',
      'msg',
      'reason',
      'repository',
      'result',
      'source',
      'time',
      'user',
    ]);
    assert.equal(line['error'], RECORD.error);
    assert.equal(line['level'], 'error');
    assert.equal(line['msg'], 'decision');
    assert.ok(!Number.isNaN(Date.parse(String(line['time']))));
  });

  it('honours LOG_LEVEL: info lines only at info and below, error lines until silent', () => {
    const written = (configured: LogLevel, level: 'info' | 'error'): number => {
      const { audit, lines } = auditAt(configured);
      audit.write(level, RECORD);
      return lines.length;
    };
    assert.equal(written('info', 'info'), 1);
    assert.equal(written('debug', 'info'), 1);
    assert.equal(written('warn', 'info'), 0);
    assert.equal(written('error', 'info'), 0);
    assert.equal(written('error', 'error'), 1);
    assert.equal(written('fatal', 'error'), 0);
    assert.equal(written('silent', 'error'), 0);
  });
});
