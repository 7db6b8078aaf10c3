// Structured JSON logs on stdout (pino), two loggers on one destination:
// - the audit log: one line per decision, built field by field from a Decision (app.ts), so no password
//   or Authorization value can reach it; it skips pino's redaction, which would cost more than the
//   whole decision (the hot path);
// - the operational log: everything else, with redaction as a guard against a stray secret.
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

export interface Loggers {
  readonly logger: Logger;
  readonly audit: Logger;
}

export function createLoggers(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination(1),
): Loggers {
  const options: pino.LoggerOptions = {
    level,
    base: null,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return {
    audit: pino(options, destination),
    logger: pino(
      {
        ...options,
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
    ),
  };
}
