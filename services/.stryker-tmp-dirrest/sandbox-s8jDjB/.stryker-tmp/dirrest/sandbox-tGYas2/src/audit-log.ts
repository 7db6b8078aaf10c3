// @ts-nocheck
// 
// The audit log: one JSON line per decision, with a fixed schema (docs/interface.md, "Audit log"). It is
// written on the hot path, so it is serialised with one JSON.stringify of a flat record rather than through
// the general logger (measured: pino's per-line work cost a quarter of the cached decisions per second). It
// shares the operational logger's destination and honours LOG_LEVEL. Records are built field by field by the
// caller, so a password or an Authorization value has no way in.
import type { Logger } from 'pino';

export interface AuditRecord {
  readonly user: string | undefined;
  readonly action: string;
  readonly repository: string | undefined;
  readonly method: string | undefined;
  readonly result: string;
  readonly reason: string;
  readonly source: string;
  readonly duration_ms: number;
  readonly client_ip: string;
  readonly error?: string | undefined;
  /** On locked_out: `user` (the account is locked) or `address` (the client address is). */
  readonly lock?: 'user' | 'address' | undefined;
  /** Why a request was refused before any credential check. */
  readonly detail?: string | undefined;
  /** On denials of a verified user: the groups the decision saw (bounded by the caller). */
  readonly groups?: readonly string[] | undefined;
  /** How many more groups the user has than `groups` lists. */
  readonly groups_omitted?: number | undefined;
}

export interface AuditSink {
  write(line: string): unknown;
}

export class AuditLog {
  readonly #sink: AuditSink;
  readonly #info: boolean;
  readonly #error: boolean;
  #lastMs = 0;
  #lastIso = '';

  constructor(sink: AuditSink, logger: Pick<Logger, 'isLevelEnabled'>) {
    this.#sink = sink;
    this.#info = logger.isLevelEnabled('info');
    this.#error = logger.isLevelEnabled('error');
  }

  write(level: 'info' | 'error', record: AuditRecord): void {
    if (!(level === 'info' ? this.#info : this.#error)) return;
    // Every field named, not spread: a fixed shape that JSON.stringify serialises fastest.
    const line = JSON.stringify({
      time: this.#time(),
      level,
      msg: 'decision',
      user: record.user,
      action: record.action,
      repository: record.repository,
      method: record.method,
      result: record.result,
      reason: record.reason,
      source: record.source,
      duration_ms: record.duration_ms,
      client_ip: record.client_ip,
      error: record.error,
      lock: record.lock,
      detail: record.detail,
      groups: record.groups,
      groups_omitted: record.groups_omitted,
    });
    this.#sink.write(`${line}\n`);
  }

  /** ISO 8601, as the operational log writes it; many decisions share a millisecond under load. */
  #time(): string {
    const now = Date.now();
    if (now !== this.#lastMs) {
      this.#lastMs = now;
      this.#lastIso = new Date(now).toISOString();
    }
    return this.#lastIso;
  }
}
