// Destinations that keep what is written to them: the service's JSON log lines, or a check report's text.
import { Writable } from 'node:stream';
import { Report } from '../../src/check/report.ts';

export class LogCapture extends Writable {
  #text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#text += chunk.toString('utf8');
    done();
  }

  /** Everything written so far, as written. */
  text(): string {
    return this.#text;
  }

  /** The lines written so far, each parsed as the JSON object pino writes. */
  lines(): Record<string, unknown>[] {
    return this.#text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** A check report whose lines are collected as they are written. */
export function capturedReport(): { report: Report; text: () => string } {
  const out = new LogCapture();
  return { report: new Report(out), text: () => out.text() };
}
