// @ts-nocheck
// 
// 
// Structured JSON logs on stdout. Operational messages go through pino, with redaction as a guard against
// a stray secret; decisions go through AuditLog (audit-log.ts) on the same destination.
import { pino } from 'pino';
import type { Logger } from 'pino';
import { AuditLog } from './audit-log.ts';
import type { AuditSink } from './audit-log.ts';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Loggers {
  readonly logger: Logger;
  readonly audit: AuditLog;
}

export function createLoggers(
  level: LogLevel,
  destination: pino.DestinationStream & AuditSink = pino.destination(1),
): Loggers {
  const logger = pino(
    {
      level,
      base: null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          '*.password',
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
  return { logger, audit: new AuditLog(destination, logger) };
}
