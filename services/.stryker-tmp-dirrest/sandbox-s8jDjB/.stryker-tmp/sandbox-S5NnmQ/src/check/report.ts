// @ts-nocheck
// 
// What the configuration check found, line by line, and the one exit code that sums it up.
import type { Writable } from 'node:stream';

/**
 * Exit codes of `main.js --check`, documented in docs/configuration-check.md. When several apply, the
 * most fundamental wins: a configuration that does not load says nothing about the directory, an
 * unreachable directory nothing about the groups in it.
 */
export const EXIT = {
  /** Everything checked is in order. */
  ok: 0,
  /** It works, but something looks wrong (an unknown variable, TLS verification off, a server of several down). */
  warnings: 1,
  /** The configuration does not load: the same problems that stop the service at start-up. */
  invalidConfig: 2,
  /** No LDAP server could be reached (connection refused, timeout, TLS handshake): retry or fix the network. */
  unreachable: 3,
  /** The directory answered, and the configuration does not fit it: fix the named variable. */
  misconfigured: 4,
  /** --user: the directory refused that user's login (unknown user, wrong password, disabled account). */
  userRejected: 5,
  /** The command line is wrong (unknown option, a password given as an argument). */
  usage: 64,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const PRECEDENCE: readonly ExitCode[] = [
  EXIT.usage,
  EXIT.invalidConfig,
  EXIT.unreachable,
  EXIT.misconfigured,
  EXIT.userRejected,
  EXIT.warnings,
];

const LABEL = { ok: 'ok  ', info: 'info', warn: 'warn', fail: 'FAIL' } as const;

export class Report {
  readonly #out: Writable;
  readonly #codes = new Set<ExitCode>();
  #problems = 0;
  #warnings = 0;

  constructor(out: Writable) {
    this.#out = out;
  }

  section(title: string): void {
    this.#out.write(`\n${title}\n`);
  }

  ok(text: string): void {
    this.#line('ok', text);
  }

  info(text: string): void {
    this.#line('info', text);
  }

  warn(text: string): void {
    this.#warnings++;
    this.#codes.add(EXIT.warnings);
    this.#line('warn', text);
  }

  fail(text: string, code: Exclude<ExitCode, 0 | 1>): void {
    this.#problems++;
    this.#codes.add(code);
    this.#line('fail', text);
  }

  get exitCode(): ExitCode {
    return PRECEDENCE.find((code) => this.#codes.has(code)) ?? EXIT.ok;
  }

  /** The last line: counts and the exit code, so a log of the check reads on its own. */
  summary(): ExitCode {
    const code = this.exitCode;
    const counts = `${this.#problems} problem${this.#problems === 1 ? '' : 's'}, ${this.#warnings} warning${
      this.#warnings === 1 ? '' : 's'
    }`;
    this.#out.write(`\n${code === EXIT.ok ? 'all checks passed' : counts} (exit ${code})\n`);
    return code;
  }

  #line(kind: keyof typeof LABEL, text: string): void {
    const [first, ...rest] = text.split('\n');
    this.#out.write(`  ${LABEL[kind]}  ${first ?? ''}\n${rest.map((l) => `        ${l}\n`).join('')}`);
  }
}
